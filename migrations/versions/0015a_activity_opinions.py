"""Activities keep the parents' opinion book (家长意见记录簿) of a meeting: a nullable text column.

Schema only; existing activities have none. Downgrade drops the column (and the opinions written since).

Revision ID: 0015a
Revises: 0014u2
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015a'
down_revision = '0014u2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activity') as batch_op:
        batch_op.add_column(sa.Column('opinions', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('activity') as batch_op:
        batch_op.drop_column('opinions')
