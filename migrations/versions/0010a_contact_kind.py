"""one record kind for every contact with the family: parent_call records and duty rules become contact

parent_call's fields map to contact's: parent father/mother/both -> counterpart father/mother/both_parents; direction
teacher_to_parent -> teacher_to_family, child_to_parent -> child_to_parents; channel phone; duration_min and summary
kept (any other key too). The duty tally's parent_call_at becomes contact_at.

Set-based, one UPDATE per table (a city holds hundreds of thousands of calls). The downgrade turns back into
parent_call every contact the old kind can say (a parent, a call by phone, with its duration, teacher or child
calling); the others (a guardian, a message, a letter, a call from the family...) stay kind contact, untouched, so that
nothing is lost or falsified, and upgrading again leaves them as they are. The old code does not know that kind.

Revision ID: 0010a
Revises: 0009d
Create Date: 2026-12-02 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010a'
down_revision = '0009d'
branch_labels = None
depends_on = None

# A copy of app/records/kinds.py's OLD_PARENTS / OLD_DIRECTIONS: a migration must not change when the app does.
PARENTS = {'father': 'father', 'mother': 'mother', 'both': 'both_parents'}
DIRECTIONS = {'teacher_to_parent': 'teacher_to_family', 'child_to_parent': 'child_to_parents'}
COUNTING = "('received', 'approved')"


def _case(expr: str, mapping: dict) -> str:
    """SQL: `expr` mapped through `mapping`, any other value kept as it is (NULL when missing)."""
    whens = ' '.join(f"WHEN '{a}' THEN '{b}'" for a, b in mapping.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


def _get(name: str) -> str:
    """SQL: the text of a top-level key of record.fields, on this database."""
    return f"(fields->>'{name}')" if op.get_bind().dialect.name == 'postgresql' else f"json_extract(fields, '$.{name}')"


def _rewrite(old_kind: str, new_kind: str, drop: list[str], put: dict[str, str], where: str = '') -> None:
    """UPDATE record: kind old -> new, remove the keys `drop`, then set `put` ({key: SQL value}; a NULL value sets
    nothing), for the records of `old_kind` matching `where`."""
    if op.get_bind().dialect.name == 'postgresql':
        pairs = ', '.join(f"'{k}', {v}" for k, v in put.items())
        removed = 'fields::jsonb' + ''.join(f" - '{k}'" for k in drop)
        value = f"(({removed}) || jsonb_strip_nulls(jsonb_build_object({pairs})))::json"
    else:
        pairs = ', '.join(f"'{k}', {v}" for k, v in put.items())
        removed = f"json_remove(fields, {', '.join(repr('$.' + k) for k in drop)})"
        value = f"json_patch({removed}, json_object({pairs}))"  # json_patch: a NULL in the patch sets nothing
    op.execute(f"UPDATE record SET kind = '{new_kind}', fields = {value} WHERE kind = '{old_kind}'{where}")


def _tally(column: str, kind: str) -> None:
    """Recompute one duty-tally column from the records (the downgrade leaves some contacts as they are)."""
    op.execute(f"UPDATE duty_tally SET {column} = (SELECT MAX(occurred_at) FROM record WHERE record.child_id = "
               f"duty_tally.child_id AND record.kind = '{kind}' AND record.review_state IN {COUNTING})")


def upgrade():
    _rewrite('parent_call', 'contact', ['parent'], {
        'counterpart': _case(_get('parent'), PARENTS), 'direction': _case(_get('direction'), DIRECTIONS),
        'channel': "'phone'"})
    op.execute("UPDATE duty_rule SET kind = 'contact' WHERE kind = 'parent_call'")
    with op.batch_alter_table('duty_tally', schema=None) as batch_op:
        batch_op.alter_column('parent_call_at', new_column_name='contact_at')
    _tally('contact_at', 'contact')


def downgrade():
    back_parents = {b: a for a, b in PARENTS.items()}
    back_directions = {b: a for a, b in DIRECTIONS.items()}
    listed = lambda values: ', '.join(f"'{v}'" for v in values)  # noqa: E731
    _rewrite('contact', 'parent_call', ['counterpart', 'channel'], {
        'parent': _case(_get('counterpart'), back_parents), 'direction': _case(_get('direction'), back_directions)},
        where=f" AND {_get('counterpart')} IN ({listed(back_parents)}) AND {_get('direction')} IN "
              f"({listed(back_directions)}) AND {_get('channel')} = 'phone' AND {_get('duration_min')} IS NOT NULL")
    op.execute("UPDATE duty_rule SET kind = 'parent_call' WHERE kind = 'contact'")
    with op.batch_alter_table('duty_tally', schema=None) as batch_op:
        batch_op.alter_column('contact_at', new_column_name='parent_call_at')
    _tally('parent_call_at', 'parent_call')
