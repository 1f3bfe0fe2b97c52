"""code attempts: committee codes a teacher typed per village and day, so the 6 digits cannot be guessed

Revision ID: 0009c
Revises: 0009b
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009c'
down_revision = '0009b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('code_attempt',
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_code_attempt_author_id_user')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_code_attempt_village_id_village')),
    sa.PrimaryKeyConstraint('author_id', 'village_id', 'day', name=op.f('pk_code_attempt'))
    )


def downgrade():
    op.drop_table('code_attempt')
