"""photo_reused flags name the other records as data: {"records": [ids], "detail": "+N"} instead of "#3, #5 +N"

Data only, no schema change: the flags column is JSON already. Rewrites the flags stored before this version so pages
and the re-flagging of earlier records read the ids from "records" and never parse a display string.

Revision ID: 0009a
Revises: 0008
Create Date: 2026-12-01 10:00:00

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009a'
down_revision = '0008'
branch_labels = None
depends_on = None

record = sa.table('record', sa.column('id', sa.Integer), sa.column('flags', sa.JSON))
_ID = re.compile(r"#(\d+)")


def _rewrite(convert) -> None:
    """Apply `convert` to every photo_reused flag of the records that have one."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(record.c.id, record.c.flags)
                        .where(sa.cast(record.c.flags, sa.Text).like('%photo_reused%'))).all()
    for rid, flags in rows:
        new = [convert(f) if isinstance(f, dict) and f.get('code') == 'photo_reused' else f for f in flags or []]
        if new != flags:
            bind.execute(record.update().where(record.c.id == rid).values(flags=new))


def _to_records(flag: dict) -> dict:
    if 'records' in flag:
        return flag
    detail = flag.get('detail') or ''
    ids = [int(x) for x in _ID.findall(detail)]
    return {**flag, 'detail': _ID.sub('', detail).replace(',', ' ').strip(), 'records': ids}


def _to_text(flag: dict) -> dict:
    if 'records' not in flag:
        return flag
    old = {k: v for k, v in flag.items() if k != 'records'}
    more = flag.get('detail') or ''
    old['detail'] = ', '.join(f'#{i}' for i in flag['records']) + (f' {more}' if more else '')
    return old


def upgrade():
    _rewrite(_to_records)


def downgrade():
    _rewrite(_to_text)
