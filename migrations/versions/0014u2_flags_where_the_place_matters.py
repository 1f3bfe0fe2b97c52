"""Stored flags follow the rules of issue 19: no distance flag on talks and contacts (held at school, or a call), and a
disputed visit no longer also carries "not confirmed by the committee".

Data only: the flags column is JSON; the score drops by the removed flags' weights (far_from_village 25,
no_confirmation 10, as app/verify/evidence.py weighed them). Downgrade keeps the rows as they are (the old rules would
add the flags back the next time a record is re-checked).

Revision ID: 0014u2
Revises: 0014e2
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014u2'
down_revision = '0014e2'
branch_labels = None
depends_on = None

record = sa.table('record', sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('confirm_state', sa.String),
                  sa.column('flags', sa.JSON), sa.column('score', sa.Integer))
WEIGHTS = {'far_from_village': 25, 'no_confirmation': 10}


def _dropped(kind: str, confirm_state: str, flags: list) -> set:
    codes = {f.get('code') for f in flags if isinstance(f, dict)}
    out = set()
    if kind != 'home_visit' and 'far_from_village' in codes:
        out.add('far_from_village')
    if kind == 'home_visit' and 'disputed' in codes and 'no_confirmation' in codes:
        out.add('no_confirmation')
    return out


def upgrade():
    bind = op.get_bind()
    text = sa.cast(record.c.flags, sa.Text)
    rows = bind.execute(sa.select(record.c.id, record.c.kind, record.c.confirm_state, record.c.flags, record.c.score)
                        .where(sa.or_(text.like('%far_from_village%'), text.like('%disputed%')))).all()
    for rid, kind, state, flags, score in rows:
        drop = _dropped(kind, state, flags or [])
        if drop:
            new = [f for f in flags if not (isinstance(f, dict) and f.get('code') in drop)]
            bind.execute(record.update().where(record.c.id == rid).values(
                flags=new, score=max(0, (score or 0) - sum(WEIGHTS[c] for c in drop))))


def downgrade():
    pass
