"""a duty rule's owner: the children's paired (responsible) teachers, or the class teachers of their classes

Revision ID: 0012c
Revises: 0012v
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012c'
down_revision = '0012v'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('duty_rule') as batch:
        batch.add_column(sa.Column('owner', sa.String(length=16), nullable=False, server_default='responsible'))


def downgrade():
    with op.batch_alter_table('duty_rule') as batch:
        batch.drop_column('owner')
