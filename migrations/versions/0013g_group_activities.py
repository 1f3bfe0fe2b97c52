"""group activities (活动): the activity, its photos and sign-in sheets; a child's attendance is a record naming it

Revision ID: 0013g
Revises: 0012c
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0013g'
down_revision = '0012c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=36), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=24), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('signin_sheet', sa.Boolean(), nullable=False),
        sa.Column('occurred_at', UTCDateTime(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id'),
    )
    op.create_index('ix_activity_school_at', 'activity', ['school_id', 'occurred_at'])
    op.create_index('ix_activity_author_at', 'activity', ['author_id', 'occurred_at'])
    op.create_table(
        'activity_photo',
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id']),
        sa.ForeignKeyConstraint(['photo_id'], ['photo.id']),
        sa.PrimaryKeyConstraint('activity_id', 'photo_id'),
    )
    op.create_index('ix_activity_photo_photo_id', 'activity_photo', ['photo_id'])
    # A new nullable column with a foreign key: batch mode, so SQLite rebuilds the table (PostgreSQL alters it).
    with op.batch_alter_table('record') as batch:
        batch.add_column(sa.Column('activity_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_record_activity_id', 'activity', ['activity_id'], ['id'])
        batch.create_index('ix_record_activity_id', ['activity_id'])


def downgrade():
    with op.batch_alter_table('record') as batch:
        batch.drop_index('ix_record_activity_id')
        batch.drop_constraint('fk_record_activity_id', type_='foreignkey')
        batch.drop_column('activity_id')
    op.drop_index('ix_activity_photo_photo_id', table_name='activity_photo')
    op.drop_table('activity_photo')
    op.drop_index('ix_activity_author_at', table_name='activity')
    op.drop_index('ix_activity_school_at', table_name='activity')
    op.drop_table('activity')
