"""duty rules with filters and seasons: several rules per kind, each with a filter on the record's fields, a season
(term time, all year, holidays) and a key naming the policy default it replaces

Revision ID: 0010b
Revises: 0010a
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010b'
down_revision = '0010a'
branch_labels = None
depends_on = None

# The rules a school could store before: one per kind. Each becomes the policy default of the same duty, kept as the
# school set it (period, times, switched off), now paused in the holidays like the policy's. A stored call rule was
# "calls per month" counting every call; it becomes the monthly report to the parents, still counting every call.
OLD_KEYS = {'home_visit': 'home_visit', 'talk': 'talk', 'parent_call': 'report_parents', 'contact': 'report_parents'}


def upgrade():
    with op.batch_alter_table('duty_rule', schema=None) as batch_op:
        batch_op.drop_constraint('uq_duty_rule_school_id_kind', type_='unique')
        batch_op.add_column(sa.Column('key', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('season', sa.String(length=8), server_default='term', nullable=False))
        batch_op.add_column(sa.Column('filter', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('label', sa.String(length=60), nullable=True))
        batch_op.alter_column('period', existing_type=sa.String(length=8), type_=sa.String(length=16),
                              existing_nullable=False)
    rule = sa.table('duty_rule', sa.column('kind', sa.String), sa.column('key', sa.String))
    for kind, key in OLD_KEYS.items():
        op.execute(rule.update().where(rule.c.kind == kind).values(key=key))
    with op.batch_alter_table('duty_rule', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_duty_rule_school_id_key', ['school_id', 'key'])
        batch_op.create_index('ix_duty_rule_school_id', ['school_id'], unique=False)


def downgrade():
    # One rule per kind again: a school's own rules, and rules of periods the old code does not know, are dropped.
    rule = sa.table('duty_rule', sa.column('key', sa.String), sa.column('period', sa.String))
    op.execute(rule.delete().where(sa.or_(rule.c.key.is_(None), rule.c.key.not_in(['home_visit', 'talk', 'report_parents']),
                                          rule.c.period.not_in(['week', 'month', 'quarter', 'term']))))
    with op.batch_alter_table('duty_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_rule_school_id')
        batch_op.drop_constraint('uq_duty_rule_school_id_key', type_='unique')
        batch_op.alter_column('period', existing_type=sa.String(length=16), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.drop_column('label')
        batch_op.drop_column('filter')
        batch_op.drop_column('season')
        batch_op.drop_column('key')
        batch_op.create_unique_constraint('uq_duty_rule_school_id_kind', ['school_id', 'kind'])
