"""children's categories (分类) with a designated contact, duty rules for categories, and each child's plan (一人一策)

Revision ID: 0013k
Revises: 0013g
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0013k'
down_revision = '0013g'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'care_category',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('name', sa.String(length=30), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('school_id', 'name'),
    )
    op.create_index('ix_care_category_school_id', 'care_category', ['school_id'])
    op.create_table(
        'child_category',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), sa.ForeignKey('child.id', ondelete='CASCADE'), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('category', sa.String(length=24), nullable=False),
        sa.Column('contact_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.Column('added_by_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.Column('added_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id', 'category'),
    )
    op.create_index('ix_child_category_school_category', 'child_category', ['school_id', 'category'])
    op.create_table(
        'care_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), sa.ForeignKey('child.id', ondelete='CASCADE'), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('school.id'), nullable=False),
        sa.Column('goals', sa.Text(), nullable=False),
        sa.Column('measures', sa.Text(), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=True),
        sa.Column('author_id', sa.Integer(), sa.ForeignKey('user.id'), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_care_plan_school_id', 'care_plan', ['school_id'])
    op.create_index('ix_care_plan_child_at', 'care_plan', ['child_id', 'at'])
    with op.batch_alter_table('duty_rule') as batch:
        batch.add_column(sa.Column('categories', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('duty_rule') as batch:
        batch.drop_column('categories')
    op.drop_index('ix_care_plan_child_at', table_name='care_plan')
    op.drop_index('ix_care_plan_school_id', table_name='care_plan')
    op.drop_table('care_plan')
    op.drop_index('ix_child_category_school_category', table_name='child_category')
    op.drop_table('child_category')
    op.drop_index('ix_care_category_school_id', table_name='care_category')
    op.drop_table('care_category')
