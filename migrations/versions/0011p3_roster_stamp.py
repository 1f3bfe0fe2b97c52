"""roster stamp: a version counter per school, raised with every change a roster shows, so the sync API answers
If-None-Match without building the roster

Revision ID: 0011p3
Revises: 0011a
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011p3'
down_revision = '0011a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'roster_stamp',
        sa.Column('school_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('school_id', name=op.f('pk_roster_stamp')),
    )


def downgrade():
    op.drop_table('roster_stamp')
