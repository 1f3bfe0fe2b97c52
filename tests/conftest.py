"""Fixtures: a fresh app and database per test, builders for data, and logging in as a role."""
from __future__ import annotations

import itertools
import os
import re
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text

from app import create_app
from app.config import sqlalchemy_url
from app.children.services import create_child, set_pairings
from app.extensions import db as _db
from app.models import County, School, User, Village

PASSWORD = "test-pass-123"
_seq = itertools.count(1)


def _database_url(tmp_path) -> str:
    # TEST_DATABASE_URL points the suite at PostgreSQL; the default is a SQLite file per test.
    url = os.environ.get("TEST_DATABASE_URL")
    return sqlalchemy_url(url) if url else f"sqlite:///{tmp_path / 'test.db'}"


class FreshContextClient(FlaskClient):
    """Runs every request in its own app context, as in production.

    The test itself holds an app context for builders and queries; without this, requests would
    share its `g` (Flask-Login's cached user, Flask-WTF's cached token) and its database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(path: Path):
    """An app whose database, uploads and instance folder (keys a test makes: VAPID, secret) all live under `path`."""
    with pytest.MonkeyPatch.context() as mp:  # JIAFANG_INSTANCE is read by create_app() only
        mp.setenv("JIAFANG_INSTANCE", str(path / "instance"))
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": _database_url(path),
                "UPLOAD_DIR": str(path / "uploads"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the real cost is tested in test_auth
                "LOGIN_ADDRESS_DELAY_MAX": 0.01,  # many failed logins stay fast; test_sessions checks the real delays
            }
        )
    app.test_client_class = FreshContextClient
    return app


@contextmanager
def fresh_database(app):
    """Inside an app context: empty tables for the body, then drop them (SQLite) and close the connections."""
    with app.app_context():
        _fresh_tables()
        yield app
        _db.session.remove()
        if _db.engine.dialect.name != "postgresql":  # PostgreSQL: the next test empties the tables
            _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    with fresh_database(make_app(tmp_path)) as app:
        yield app


_pg_tables_made: set[str] = set()


def _fresh_tables() -> None:
    """Empty tables for the test. SQLite: a new file, so create them.

    PostgreSQL (one database for the whole run): the first test drops and creates the tables; later ones delete every
    row and restart the sequences, about 0.05 s instead of 0.4 s for dropping and creating 20 tables. When tables are
    missing (test_migrations drops them all), they are dropped and created again.
    """
    engine = _db.engine
    if engine.dialect.name != "postgresql":
        _db.drop_all()
        _db.create_all()
        return
    url = engine.url.render_as_string(hide_password=False)
    if url in _pg_tables_made and set(_db.metadata.tables) <= set(inspect(engine).get_table_names()):
        with engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
            seqs = conn.scalars(text("SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
                                     "FROM information_schema.sequences")).all()
            for seq in seqs:
                conn.exec_driver_sql(f"ALTER SEQUENCE {seq} RESTART")
        return
    _db.drop_all()
    _db.create_all()
    _pg_tables_made.add(url)


class Snapshot:
    """Every row, and on PostgreSQL every sequence, as they are when taken; restore() puts exactly that back.

    Lets many cases share one built world (tests/test_access.py): each case starts from the same rows and ids,
    whatever the cases before it wrote (logins, audit entries), at a fraction of the cost of building it again.
    """

    def __init__(self):
        with _db.engine.connect() as conn:
            self.rows = {t: [dict(r._mapping) for r in conn.execute(t.select())] for t in _db.metadata.sorted_tables}
            self.sequences = {}
            if conn.dialect.name == "postgresql":
                for seq in conn.scalars(text("SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
                                             "FROM information_schema.sequences")):
                    self.sequences[seq] = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()

    def restore(self) -> None:
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
            for table, rows in self.rows.items():
                if rows:
                    conn.execute(table.insert(), rows)
            for seq, (last_value, is_called) in self.sequences.items():
                conn.execute(text("SELECT setval(:seq, :value, :called)"),
                             {"seq": seq, "value": last_value, "called": is_called})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Builders:
    """Small data builders (gen_user-style) that commit what they make."""

    def county(self, name=None) -> County:
        c = County(name=name or f"县{next(_seq)}", bureau_name="县教育局", bureau_phone="0856-1111111")
        _db.session.add(c)
        _db.session.commit()
        return c

    def school(self, name=None, county=None) -> School:
        if county is None:  # every school is in a county: the tests' schools share one unless told otherwise
            county = _db.session.scalar(select(County).order_by(County.id).limit(1)) or self.county("测试县")
        s = School(name=name or f"学校{next(_seq)}", hotline="0856-0000000", county_id=county.id)
        _db.session.add(s)
        _db.session.commit()
        return s

    def village(self, school, name=None, lat=None, lon=None) -> Village:
        v = Village(school_id=school.id, name=name or f"村{next(_seq)}", lat=lat, lon=lon)
        _db.session.add(v)
        _db.session.commit()
        return v

    def user(self, role, school, village=None, username=None, password=PASSWORD, county=None) -> User:
        u = User(username=username or f"{role}{next(_seq)}", name=f"{role}-用户", role=role,
                 school_id=school.id if school is not None else None, county_id=county.id if county is not None else None,
                 village_id=village.id if village else None, phone="13800000000")
        u.set_password(password)
        _db.session.add(u)
        _db.session.commit()
        return u

    def child(self, school, village=None, teacher=None, name=None, **fields):
        n = next(_seq)
        data = {"student_no": fields.pop("student_no", f"S{n:05d}"), "name": name or f"孩子{n}", "sex": "female",
                "class_name": fields.pop("class_name", "三(1)班"), "grade": "三年级", "village_id": village.id if village else None,
                "birth_date": date(2017, 3, 4)}
        data.update(fields)
        guardian = {"role": "guardian", "name": f"奶奶{n}", "relationship_": "奶奶", "phone": "13900000000"}
        child = create_child(school.id, data, guardian, {"consented_on": date(2026, 9, 1), "notice_version": "t1"}, None)
        if teacher is not None:
            set_pairings(child, [teacher.id], teacher.id, None)
        _db.session.commit()
        return child


@pytest.fixture
def build(app):
    return Builders()


@pytest.fixture
def world(build):
    return build_world(build)


def build_world(build) -> dict:
    """Two schools; school A has villages A1, A2 with one child each and every role; school B mirrors it."""
    w = {}
    for key in ("A", "B"):
        school = build.school(f"学校{key}")
        v1, v2 = build.village(school, f"{key}1村"), build.village(school, f"{key}2村")
        teacher = build.user("teacher", school, username=f"teacher{key.lower()}")
        other_teacher = build.user("teacher", school, username=f"teacher{key.lower()}x")
        w[key] = {
            "school": school, "v1": v1, "v2": v2, "teacher": teacher, "other_teacher": other_teacher,
            "committee": build.user("committee", school, village=v1, username=f"committee{key.lower()}"),
            "principal": build.user("principal", school, username=f"principal{key.lower()}"),
            "counsellor": build.user("counsellor", school, username=f"counsellor{key.lower()}"),
            "admin": build.user("admin", school, username=f"admin{key.lower()}"),
            # c1: village 1, paired with teacher; c2: village 2, paired with the other teacher.
            "c1": build.child(school, v1, teacher),
            "c2": build.child(school, v2, other_teacher),
        }
    # The county above both schools, its bureau staff, and a bureau of another county (sees neither school).
    w["county"] = w["A"]["school"].county
    w["bureau"] = build.user("bureau", None, username="bureaua", county=w["county"])
    w["bureau_admin"] = build.user("bureau_admin", None, username="bureauadmina", county=w["county"])
    w["far_bureau"] = build.user("bureau", None, username="bureaufar", county=build.county("远方县"))
    return w


def login(client, username, password=PASSWORD) -> str:
    """Log in through the session API; return the CSRF token for X-CSRFToken."""
    r = client.post("/api/v1/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["csrf_token"]


@pytest.fixture
def login_as(client):
    def _login(user) -> str:
        return login(client, user.username)

    return _login


def page_csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)
