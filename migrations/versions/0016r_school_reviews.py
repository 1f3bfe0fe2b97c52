"""the county bureau's appraisals (年度综合目标考核, per school year) and special inspections (专项督查, per term) of
its schools: one row per school, kind and period

Schema only: a new table. Downgrade drops it with the reviews recorded since.

Revision ID: 0016r
Revises: 0015f
Create Date: 2026-12-01 07:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0016r'
down_revision = '0015f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'school_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('rectify_by', sa.Date(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'], name='fk_school_review_school_id_school'),
        sa.ForeignKeyConstraint(['county_id'], ['county.id'], name='fk_school_review_county_id_county'),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name='fk_school_review_author_id_user'),
        sa.PrimaryKeyConstraint('id', name='pk_school_review'),
        sa.UniqueConstraint('school_id', 'kind', 'period', name='uq_school_review_school_id_kind_period'),
    )
    op.create_index('ix_school_review_county_id', 'school_review', ['county_id'])


def downgrade():
    op.drop_index('ix_school_review_county_id', table_name='school_review')
    op.drop_table('school_review')
