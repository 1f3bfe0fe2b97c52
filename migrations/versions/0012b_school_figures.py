"""the bureau's county page reads each school's figures from a snapshot (school_figures), refreshed when stale

Revision ID: 0012b
Revises: 0013n
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0012b'
down_revision = '0013n'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'school_figures',
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('on_day', sa.Date(), nullable=False),
        sa.Column('computed_at', UTCDateTime(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
    )


def downgrade():
    op.drop_table('school_figures')
