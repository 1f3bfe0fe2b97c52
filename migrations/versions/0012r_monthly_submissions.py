"""the monthly report sent upward: a school's submission per month (frozen aggregates, state, the bureau's decision)
and its news items with their photos

Revision ID: 0012r
Revises: 0011p3
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0012r'
down_revision = '0011p3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'monthly_submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=True),
        sa.Column('first_submitted_at', UTCDateTime(), nullable=True),
        sa.Column('submitted_at', UTCDateTime(), nullable=True),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'], name='fk_monthly_submission_school_id_school'),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name='fk_monthly_submission_submitted_by_id_user'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name='fk_monthly_submission_decided_by_id_user'),
        sa.PrimaryKeyConstraint('id', name='pk_monthly_submission'),
        sa.UniqueConstraint('school_id', 'month', name='uq_monthly_submission_school_id_month'),
    )
    op.create_table(
        'news_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['monthly_submission.id'], ondelete='CASCADE',
                                name='fk_news_item_submission_id_monthly_submission'),
        sa.PrimaryKeyConstraint('id', name='pk_news_item'),
    )
    op.create_index('ix_news_item_submission_id', 'news_item', ['submission_id'])
    op.create_table(
        'news_photo',
        sa.Column('news_item_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['news_item_id'], ['news_item.id'], ondelete='CASCADE',
                                name='fk_news_photo_news_item_id_news_item'),
        sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name='fk_news_photo_photo_id_photo'),
        sa.PrimaryKeyConstraint('news_item_id', 'photo_id', name='pk_news_photo'),
    )
    op.create_index('ix_news_photo_photo_id', 'news_photo', ['photo_id'])


def downgrade():
    op.drop_index('ix_news_photo_photo_id', table_name='news_photo')
    op.drop_table('news_photo')
    op.drop_index('ix_news_item_submission_id', table_name='news_item')
    op.drop_table('news_item')
    op.drop_table('monthly_submission')
