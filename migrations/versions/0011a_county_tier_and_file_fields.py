"""the county tier (a county and its bureau above the schools; bureau accounts; forced password change) and the
file's new parts (living situation, leave reason, class teachers, file history)

Existing schools move into one county, named "本县" until the bureau administrator renames it.

Revision ID: 0011a
Revises: 0010b
Create Date: 2026-12-01 11:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = '0011a'
down_revision = '0010b'
branch_labels = None
depends_on = None


def _foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to alter it (batch mode): school and user are referenced everywhere, so the rebuild's
    DROP TABLE needs foreign-key enforcement off meanwhile (outside a transaction, as SQLite requires)."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(False)
    op.create_table(
        'county',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('bureau_name', sa.String(length=120), nullable=True),
        sa.Column('bureau_phone', sa.String(length=40), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_id', sa.Integer(), nullable=True))
    conn = op.get_bind()
    if conn.execute(sa.text('SELECT count(*) FROM school')).scalar():
        county = sa.table('county', sa.column('id', sa.Integer), sa.column('name', sa.String),
                          sa.column('bureau_name', sa.String), sa.column('created_at', UTCDateTime()))
        from datetime import datetime, timezone

        op.execute(county.insert().values(name='本县', bureau_name='县教育局', created_at=datetime.now(timezone.utc)))
        county_id = conn.execute(sa.text("SELECT id FROM county WHERE name = '本县'")).scalar()
        op.execute(sa.text('UPDATE school SET county_id = :c').bindparams(c=county_id))
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.alter_column('county_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_school_county_id', ['county_id'], unique=False)
        batch_op.create_foreign_key('fk_school_county_id_county', 'county', ['county_id'], ['id'])

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_user_county_id', ['county_id'], unique=False)
        batch_op.create_foreign_key('fk_user_county_id_county', 'county', ['county_id'], ['id'])

    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('living_situation', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('leave_reason', sa.String(length=16), nullable=True))

    op.create_table(
        'class_teacher',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('class_name', sa.String(length=32), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['teacher_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('school_id', 'class_name', 'teacher_id'),
    )
    op.create_index('ix_class_teacher_school_id', 'class_teacher', ['school_id'], unique=False)
    op.create_index('ix_class_teacher_teacher_id', 'class_teacher', ['teacher_id'], unique=False)

    op.create_table(
        'file_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=False),
        sa.Column('old', sa.Text(), nullable=True),
        sa.Column('new', sa.Text(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.ForeignKeyConstraint(['school_id'], ['school.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_file_change_child_at', 'file_change', ['child_id', 'at'], unique=False)
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    op.drop_index('ix_file_change_child_at', table_name='file_change')
    op.drop_table('file_change')
    op.drop_index('ix_class_teacher_teacher_id', table_name='class_teacher')
    op.drop_index('ix_class_teacher_school_id', table_name='class_teacher')
    op.drop_table('class_teacher')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_column('leave_reason')
        batch_op.drop_column('living_situation')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_user_county_id_county', type_='foreignkey')
        batch_op.drop_index('ix_user_county_id')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('county_id')
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_constraint('fk_school_county_id_county', type_='foreignkey')
        batch_op.drop_index('ix_school_county_id')
        batch_op.drop_column('county_id')
    op.drop_table('county')
    _foreign_keys(True)
