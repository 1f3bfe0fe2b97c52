"""Alembic: an empty database upgrades to head, and the models match the migrations."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from app.config import sqlalchemy_url
from app.extensions import db


@pytest.fixture
def empty_app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    url = sqlalchemy_url(url) if url else f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        yield app
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_upgrade_empty_database_to_head_matches_models(empty_app):
    upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {"school", "village", "user", "child", "guardian", "pairing", "consent", "audit_entry"} <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_and_up_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert inspect(db.engine).get_table_names() in ([], ["alembic_version"])
    upgrade()
    assert "child" in inspect(db.engine).get_table_names()


def test_seed_demo_on_migrated_database(empty_app):
    from sqlalchemy import func, select

    from app.demo import is_empty, seed_demo
    from app.models import Child, Pairing, User

    upgrade()
    assert is_empty()
    seed_demo()
    assert not is_empty()
    assert db.session.scalar(select(func.count()).select_from(Child)) == 40
    names = set(db.session.scalars(select(User.username)))
    assert {"teacher1", "teacher2", "committee1", "principal1", "counsellor1"} <= names
    t1 = db.session.scalar(select(User).where(User.username == "teacher1"))
    assert t1.check_password("demo12345")
    assert db.session.scalar(select(func.count()).select_from(Pairing).where(Pairing.teacher_id == t1.id)) > 5
    # Every demo child has a consenting guardian and a responsible teacher.
    for child in db.session.scalars(select(Child)):
        assert child.active_consent is not None and child.responsible_teacher is not None
        assert child.entrusted_guardian is not None and child.parents()
    # A few days of records so the review queue, the committee's queue and every kind of flag have something to show.
    from app.demo import seed_demo_records
    from app.models import Record

    assert seed_demo_records() == 7
    records = list(db.session.scalars(select(Record)))
    codes = {f["code"] for r in records for f in r.flags}
    assert {"photo_reused", "no_photo", "far_from_village", "photo_time_far", "no_confirmation"} <= codes
    assert any(r.confirm_state == "confirmed" and r.score == 0 for r in records)
