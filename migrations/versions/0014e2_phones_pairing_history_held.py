"""phones: devices with wipe orders and both clocks, the pairing history, records held for the principal (step 15)

Revision ID: 0014e2
Revises: 0014e1
Create Date: 2026-12-01 03:20:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0014e2'
down_revision = '0014e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=36), nullable=False),
        sa.Column('user_agent', sa.String(length=80), nullable=True),
        sa.Column('first_seen', UTCDateTime(), nullable=False),
        sa.Column('last_seen', UTCDateTime(), nullable=False),
        sa.Column('client_time', UTCDateTime(), nullable=True),
        sa.Column('clock_offset_s', sa.Integer(), nullable=True),
        sa.Column('wipe_reason', sa.String(length=12), nullable=True),
        sa.Column('wipe_ordered_at', UTCDateTime(), nullable=True),
        sa.Column('wipe_ordered_by_id', sa.Integer(), nullable=True),
        sa.Column('wiped_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.ForeignKeyConstraint(['wipe_ordered_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'client_id'),
    )
    op.create_table(
        'pairing_span',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['teacher_id'], ['user.id']),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pairing_span_teacher_child', 'pairing_span', ['teacher_id', 'child_id'])
    # Today's pairings open the history (since their creation: nothing older is known).
    op.execute("INSERT INTO pairing_span (teacher_id, child_id, started_at) SELECT teacher_id, child_id, created_at FROM pairing")
    op.create_table(
        'held_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=36), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.JSON(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('record_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['record_id'], ['record.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id'),
    )
    op.create_index('ix_held_record_school_outcome', 'held_record', ['school_id', 'outcome'])


def downgrade():
    op.drop_index('ix_held_record_school_outcome', table_name='held_record')
    op.drop_table('held_record')
    op.drop_index('ix_pairing_span_teacher_child', table_name='pairing_span')
    op.drop_table('pairing_span')
    op.drop_table('device')
