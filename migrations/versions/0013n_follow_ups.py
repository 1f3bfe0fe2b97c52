"""follow-ups: who does what for a child by when, made by a follow_up record (step 13)

Revision ID: 0013n
Revises: 0013k
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0013n'
down_revision = '0013k'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'follow_up',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=True),
        sa.Column('assignee_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), server_default='open', nullable=False),
        sa.Column('outcome', sa.String(length=1000), nullable=True),
        sa.Column('closed_at', UTCDateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['record_id'], ['record.id']),
        sa.ForeignKeyConstraint(['source_id'], ['record.id']),
        sa.ForeignKeyConstraint(['assignee_id'], ['user.id']),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('record_id'),
    )
    op.create_index('ix_follow_up_school_status_due', 'follow_up', ['school_id', 'status', 'due_on'])
    op.create_index('ix_follow_up_child_status', 'follow_up', ['child_id', 'status', 'closed_at'])
    op.create_index('ix_follow_up_assignee_status', 'follow_up', ['assignee_id', 'status', 'due_on'])


def downgrade():
    op.drop_index('ix_follow_up_assignee_status', table_name='follow_up')
    op.drop_index('ix_follow_up_child_status', table_name='follow_up')
    op.drop_index('ix_follow_up_school_status_due', table_name='follow_up')
    op.drop_table('follow_up')
    # Older code knows no follow_up record: they go with the table (they were follow-ups, nothing else).
    for table in ('record_photo', 'review_event', 'confirmation'):
        op.execute(f"DELETE FROM {table} WHERE record_id IN (SELECT id FROM record WHERE kind = 'follow_up')")
    op.execute("DELETE FROM record WHERE kind = 'follow_up'")
