"""A parent's or guardian's registration photo (父母登记表有照片) and the parents' employer's phone (单位电话): two
nullable columns of guardian, and an index on the child's and the guardian's photo column.

Schema only; existing entries have neither. Downgrade drops both (and the values written since; the photos themselves
stay in the store and become unlinked uploads, removed by the housekeeping in time).

Revision ID: 0015f
Revises: 0015a
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015f'
down_revision = '0015a'
branch_labels = None
depends_on = None


def upgrade():
    # The quota check of every photo upload asks whether a file uses the photo: the child's and the guardians'.
    with op.batch_alter_table('child') as batch_op:
        batch_op.create_index(batch_op.f('ix_child_photo_sha256'), ['photo_sha256'])
    with op.batch_alter_table('guardian') as batch_op:
        batch_op.add_column(sa.Column('employer_phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('photo_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_guardian_photo_sha256'), ['photo_sha256'])


def downgrade():
    with op.batch_alter_table('guardian') as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardian_photo_sha256'))
        batch_op.drop_column('photo_sha256')
        batch_op.drop_column('employer_phone')
    with op.batch_alter_table('child') as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_photo_sha256'))
