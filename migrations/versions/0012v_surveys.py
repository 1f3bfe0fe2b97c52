"""the start-of-term survey: proposed changes to files (survey_change) and new children proposed from the field

Revision ID: 0012v
Revises: 0012r
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0012v'
down_revision = '0012r'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'survey_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('base', sa.Text(), nullable=True),
        sa.Column('new', sa.Text(), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['record_id'], ['record.id']),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_survey_change_record_id', 'survey_change', ['record_id'], unique=False)
    op.create_index('ix_survey_change_school_state', 'survey_change', ['school_id', 'state'], unique=False)
    op.create_index('ix_survey_change_child_field', 'survey_change', ['child_id', 'field', 'state'], unique=False)
    op.create_table(
        'child_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=36), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id'),
    )
    op.create_index('ix_child_proposal_school_id', 'child_proposal', ['school_id'], unique=False)


def downgrade():
    op.drop_index('ix_child_proposal_school_id', table_name='child_proposal')
    op.drop_table('child_proposal')
    op.drop_index('ix_survey_change_child_field', table_name='survey_change')
    op.drop_index('ix_survey_change_school_state', table_name='survey_change')
    op.drop_index('ix_survey_change_record_id', table_name='survey_change')
    op.drop_table('survey_change')
