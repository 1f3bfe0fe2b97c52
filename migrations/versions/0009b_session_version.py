"""session version per user: logging out, a new password or deactivation ends every copy of a session

Revision ID: 0009b
Revises: 0008
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009b'
down_revision = '0009a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would copy and drop the user table, which SQLite's foreign keys
    # refuse once records and children point at users.
    op.drop_column('user', 'session_version')
