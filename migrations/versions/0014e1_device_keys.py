"""device keys: the server's half of a phone's encrypted outbox (step 15)

Revision ID: 0014e1
Revises: 0012b
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0014e1'
down_revision = '0012b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'device_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('released_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'device_id'),
    )


def downgrade():
    op.drop_table('device_key')
