"""indexes for the upload quota and housekeeping: a user's uploads by time, confirmations by signature photo

Revision ID: 0009d
Revises: 0009c
Create Date: 2026-11-30 23:59:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009d'
down_revision = '0009c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index('ix_photo_uploader_uploaded', ['uploader_id', 'uploaded_at'], unique=False)
    with op.batch_alter_table('confirmation', schema=None) as batch_op:
        batch_op.create_index('ix_confirmation_photo', ['photo_id'], unique=False)


def downgrade():
    with op.batch_alter_table('confirmation', schema=None) as batch_op:
        batch_op.drop_index('ix_confirmation_photo')
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_uploader_uploaded')
