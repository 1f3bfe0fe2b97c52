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
    # ROSTER_STAMPS off: these tests write through the ORM at revisions older than the roster_stamp table.
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "ROSTER_STAMPS": False})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        yield app
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


class Legacy:
    """Rows written into the tables as an older revision has them (reflected), so that newer model columns stay out."""

    def __init__(self):
        import itertools

        self._seq = itertools.count(1)

    def insert(self, table: str, **values):
        from datetime import datetime, timezone
        from types import SimpleNamespace

        import sqlalchemy as sa

        t = sa.Table(table, sa.MetaData(), autoload_with=db.session.connection())
        values.setdefault("created_at", datetime.now(timezone.utc))
        values = {k: v for k, v in values.items() if k in t.c}
        row_id = db.session.execute(t.insert().values(**values)).inserted_primary_key[0]
        db.session.commit()
        return SimpleNamespace(id=row_id, **values)

    def school(self):
        return self.insert("school", name=f"旧学校{next(self._seq)}", hotline="0856-0000000")

    def village(self, school):
        return self.insert("village", school_id=school.id, name=f"旧村{next(self._seq)}")

    def user(self, role, school):
        return self.insert("user", username=f"old{role}{next(self._seq)}", name="旧账号", password_hash="x", role=role,
                           school_id=school.id, active=True, session_version=0)

    def child(self, school, village, teacher):
        from datetime import datetime, timezone

        n = next(self._seq)
        child = self.insert("child", school_id=school.id, village_id=village.id, student_no=f"OLD{n:04d}", name=f"孩子{n}",
                            sex="female", class_name="三(1)班", boarding=False, parents_away="both",
                            updated_at=datetime.now(timezone.utc))
        self.insert("guardian", child_id=child.id, role="guardian", name=f"奶奶{n}")
        self.insert("pairing", teacher_id=teacher.id, child_id=child.id, responsible=True)
        return child


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
    main = db.session.scalar(select(User.school_id).where(User.username == "principal1"))
    assert db.session.scalar(select(func.count()).select_from(Child).where(Child.school_id == main)) == 40
    assert db.session.scalar(select(func.count()).select_from(Child)) == 40 + 16 + 12  # and the two smaller schools
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

    assert seed_demo_records() == 11  # with the parents' meeting and the open follow-up
    records = list(db.session.scalars(select(Record)))
    [handover] = [r for r in records if r.kind == "handover"]
    assert handover.confirm_state == "confirmed" and handover.fields["guardian_acknowledged"] is True
    codes = {f["code"] for r in records for f in r.flags}
    assert {"photo_reused", "no_photo", "far_from_village", "photo_time_far", "no_confirmation"} <= codes
    assert any(r.confirm_state == "confirmed" and r.score == 0 for r in records)
    contacts = {(r.fields["counterpart"], r.fields["direction"], r.fields["channel"]) for r in records if r.kind == "contact"}
    assert contacts == {("mother", "child_to_parents", "video"), ("guardian", "teacher_to_family", "phone")}
    # ... and a returned record with its correction deadline, told to its author.
    from app.models import Notification

    assert [r.fields["purpose"] for r in records if r.review_state == "returned"] and db.session.scalar(
        select(Notification.text).where(Notification.user_id == t1.id, Notification.kind == "returned")).count("前更正") == 1


def test_duty_tally_is_filled_from_the_records_already_stored(empty_app):
    """0008 creates the duty tally and fills it from the records stored before it existed."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import select

    from app.models import DutyTally, Record
    from tests.conftest import Builders

    upgrade()
    build = Builders()
    school = build.school()
    village = build.village(school)
    teacher = build.user("teacher", school)
    kids = [build.child(school, village, teacher) for _ in range(3)]
    times = [datetime(2026, 11, d, 2, tzinfo=timezone.utc) for d in (2, 9, 16)]
    for child, when, state in zip(kids, times, ("received", "approved", "returned")):
        for kind in ("talk", "home_visit", "counselling"):
            db.session.add(Record(client_id=str(uuid.uuid4()), kind=kind, child_id=child.id, author_id=teacher.id,
                                  school_id=school.id, occurred_at=when, fields={}, review_state=state))
    db.session.commit()
    kept = {r.child_id: (r.home_visit_at, r.talk_at, r.contact_at) for r in db.session.scalars(select(DutyTally))}
    assert kept[kids[0].id] == (times[0], times[0], None) and kept[kids[1].id] == (times[1], times[1], None)
    assert kept.get(kids[2].id, (None, None, None)) == (None, None, None)  # returned: does not count

    db.session.rollback()  # end the reading transaction: on PostgreSQL it holds a lock that DROP TABLE would wait for
    downgrade(revision="0007")
    assert "duty_tally" not in inspect(db.engine).get_table_names()
    upgrade()
    db.session.expire_all()
    again = {r.child_id: (r.home_visit_at, r.talk_at, r.contact_at) for r in db.session.scalars(select(DutyTally))}
    assert {k: v for k, v in again.items() if any(v)} == {k: v for k, v in kept.items() if any(v)}


def test_photo_reused_flags_name_their_records_as_data(empty_app):
    """0009a turns the ids once written into photo_reused's detail ("#3, #5 +2") into a "records" list, and back."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import select

    from app.models import Record
    from tests.conftest import Builders

    upgrade()
    build = Builders()
    school = build.school()
    village = build.village(school)
    teacher = build.user("teacher", school)
    child = build.child(school, village, teacher)
    when = datetime(2026, 11, 2, 2, tzinfo=timezone.utc)
    old = {"many": [{"code": "photo_reused", "detail": "#3, #5, #8, #13, #21 +2"}, {"code": "no_photo", "detail": ""}],
           "one": [{"code": "photo_reused", "detail": "#3"}], "none": [{"code": "written_late", "detail": "30 h"}]}
    ids = {}
    for name, flags in old.items():
        r = Record(client_id=str(uuid.uuid4()), kind="home_visit", child_id=child.id, author_id=teacher.id,
                   school_id=school.id, occurred_at=when, fields={}, flags=flags)
        db.session.add(r)
        db.session.flush()
        ids[name] = r.id
    db.session.commit()

    def stored():
        db.session.rollback()
        db.session.expire_all()
        return {name: db.session.scalar(select(Record.flags).where(Record.id == rid)) for name, rid in ids.items()}

    # the rows were written in the old form at head: step back before 0009a (a no-op on them) and forward through it
    db.session.rollback()  # PostgreSQL: a reading transaction would hold a lock the migration waits for
    downgrade(revision="0008")
    assert stored() == old
    db.session.rollback()
    upgrade()
    assert stored() == {
        "many": [{"code": "photo_reused", "detail": "+2", "records": [3, 5, 8, 13, 21]}, {"code": "no_photo", "detail": ""}],
        "one": [{"code": "photo_reused", "detail": "", "records": [3]}], "none": old["none"]}
    db.session.rollback()
    downgrade(revision="0008")
    assert stored() == old


def test_duty_rules_become_keyed_rules_with_seasons_and_back(empty_app):
    """0010b (after 0010a made calls contacts): each stored rule (one per kind) becomes the policy default it stood
    for, kept as the school set it; the downgrade keeps those and drops what one rule per kind cannot hold."""
    from sqlalchemy import text


    upgrade(revision="0009d")
    school = Legacy().school()
    db.session.commit()
    with db.engine.begin() as conn:
        for kind, period, times, active in (("home_visit", "term", 1, True), ("talk", "week", 2, True),
                                            ("parent_call", "month", 1, False)):
            conn.execute(text("INSERT INTO duty_rule (school_id, kind, period, times, active) VALUES (:s, :k, :p, :t, :a)"),
                         {"s": school.id, "k": kind, "p": period, "t": times, "a": active})
    db.session.rollback()
    upgrade(revision="0010b")
    from app.duties.services import rules_for

    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT key, kind, period, times, season, active FROM duty_rule ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("home_visit", "home_visit", "term", 1, "term", True),
                                        ("talk", "talk", "week", 2, "term", True),
                                        ("report_parents", "contact", "month", 1, "term", False)]
    upgrade()  # the models read columns later revisions added (a rule's owner, its categories)
    rules = {r.key: r for r in rules_for(school.id)}
    assert rules["talk"].times == 2 and "report_parents" not in rules and "family_call" in rules
    with db.engine.begin() as conn:  # a school's own rule and a second talk rule: several per kind now
        conn.execute(text("INSERT INTO duty_rule (school_id, kind, period, times, season, filter, active) "
                          "VALUES (:s, 'talk', 'fortnight', 1, 'all_year', '{}', true)"), {"s": school.id})
    db.session.rollback()
    downgrade(revision="0009d")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, period, times, active FROM duty_rule ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("home_visit", "term", 1, True), ("talk", "week", 2, True),
                                        ("parent_call", "month", 1, False)]
def test_parent_calls_become_contacts_and_back(empty_app):
    """0010a turns parent_call records, duty rules and the tally column into contact, field by field, and back; a
    contact the old kind cannot say stays as it is through a downgrade and the next upgrade."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import select, text

    from sqlalchemy import column as sa_column
    from sqlalchemy import insert as sa_insert
    from sqlalchemy import table as sa_table

    from app.models import DutyRule, DutyTally, Record
    from app.models.base import UTCDateTime

    upgrade(revision="0009d")
    build = Legacy()
    school = build.school()
    village = build.village(school)
    teacher = build.user("teacher", school)
    kids = [build.child(school, village, teacher) for _ in range(3)]
    when = [datetime(2026, 11, d, 2, tzinfo=timezone.utc) for d in (2, 9, 16, 23)]
    old = {  # name: (child, time, review state, old fields)
        "father": (0, 0, "received", {"direction": "teacher_to_parent", "parent": "father", "duration_min": 5, "summary": "报平安"}),
        "mother": (0, 1, "approved", {"direction": "child_to_parent", "parent": "mother", "duration_min": 0, "summary": "想妈妈"}),
        "both": (1, 2, "received", {"direction": "teacher_to_parent", "parent": "both", "duration_min": 600, "summary": "期中"}),
        "returned": (2, 3, "returned", {"direction": "child_to_parent", "parent": "both", "duration_min": 7, "summary": "退回"}),
    }
    def old_record(**values) -> int:
        """A record in 0009d's table: only these columns (and the defaults), none a later migration added."""
        return db.session.execute(sa_insert(Record.__table__).values(**values)).inserted_primary_key[0]

    ids = {}
    for name, (k, t, state, fields) in old.items():
        ids[name] = old_record(client_id=str(uuid.uuid4()), kind="parent_call", child_id=kids[k].id, author_id=teacher.id,
                               school_id=school.id, occurred_at=when[t], fields=fields, review_state=state)
    old_record(client_id=str(uuid.uuid4()), kind="talk", child_id=kids[2].id, author_id=teacher.id,
               school_id=school.id, occurred_at=when[0], fields={"topic": "学习", "mood": "calm", "summary": "x"},
               review_state="returned")  # not counted: the ORM's tally hook, written for the new column, stays out
    db.session.commit()
    for kind, period, times in (("parent_call", "quarter", 2), ("talk", "week", 1)):  # 0009d's table: no ORM model for it
        db.session.execute(text("INSERT INTO duty_rule (school_id, kind, period, times, active) VALUES (:s, :k, :p, :t, :a)"),
                           {"s": school.id, "k": kind, "p": period, "t": times, "a": True})
    db.session.commit()
    # The tally as 0009d's code kept it (its column was parent_call_at then).
    db.session.execute(text("DELETE FROM duty_tally"))
    db.session.execute(text("INSERT INTO duty_tally (child_id, talk_at, parent_call_at) VALUES (:a, NULL, :t1), "
                            "(:b, NULL, :t2), (:c, :t0, NULL)"),
                       {"a": kids[0].id, "b": kids[1].id, "c": kids[2].id, "t0": when[0], "t1": when[1], "t2": when[2]})
    db.session.commit()

    def stored():
        db.session.rollback()  # PostgreSQL: a reading transaction would hold a lock the migration waits for
        db.session.expire_all()
        rows = db.session.execute(select(Record.id, Record.kind, Record.fields, Record.review_state)
                                  .where(Record.id.in_(ids.values()))).all()
        by_id = {r.id: (r.kind, r.fields, r.review_state) for r in rows}
        out = {name: by_id[rid] for name, rid in ids.items()}
        db.session.rollback()
        return out

    def rules():
        out = sorted(db.session.execute(select(DutyRule.kind, DutyRule.period, DutyRule.times)).all())
        db.session.rollback()
        return out

    def tally(column):
        cols = [sa_column(c, UTCDateTime()) for c in ("home_visit_at", "talk_at", column)]  # the table of either version
        t = sa_table("duty_tally", sa_column("child_id"), *cols)
        out = {r[0]: tuple(r[1:]) for r in db.session.execute(select(t.c.child_id, *cols)).all()}
        db.session.rollback()
        return out

    db.session.rollback()
    upgrade()
    contact = {
        "father": ("contact", {"counterpart": "father", "direction": "teacher_to_family", "channel": "phone",
                               "duration_min": 5, "summary": "报平安"}, "received"),
        "mother": ("contact", {"counterpart": "mother", "direction": "child_to_parents", "channel": "phone",
                               "duration_min": 0, "summary": "想妈妈"}, "approved"),
        "both": ("contact", {"counterpart": "both_parents", "direction": "teacher_to_family", "channel": "phone",
                             "duration_min": 600, "summary": "期中"}, "received"),
        "returned": ("contact", {"counterpart": "both_parents", "direction": "child_to_parents", "channel": "phone",
                                 "duration_min": 7, "summary": "退回"}, "returned"),
    }
    assert stored() == contact
    assert rules() == [("contact", "quarter", 2), ("talk", "week", 1)]
    assert {r.child_id: (r.talk_at, r.contact_at) for r in db.session.scalars(select(DutyTally))} == {
        kids[0].id: (None, when[1]), kids[1].id: (None, when[2]), kids[2].id: (when[0], None)}  # returned: not counted

    # New contacts the old kind cannot say: a guardian, a video call, a letter without a duration, the family calling.
    new = {
        "guardian": {"counterpart": "guardian", "direction": "teacher_to_family", "channel": "phone", "duration_min": 3, "summary": "奶奶"},
        "video": {"counterpart": "mother", "direction": "child_to_parents", "channel": "video", "duration_min": 9, "summary": "视频"},
        "letter": {"counterpart": "father", "direction": "child_to_parents", "channel": "phone", "summary": "无时长"},
        "hotline": {"counterpart": "father", "direction": "family_to_teacher", "channel": "phone", "duration_min": 4, "summary": "来电"},
    }
    for name, fields in new.items():
        r = Record(client_id=str(uuid.uuid4()), kind="contact", child_id=kids[2].id, author_id=teacher.id,
                   school_id=school.id, occurred_at=when[3], fields=fields)
        db.session.add(r)
        db.session.flush()
        ids[name] = r.id
    db.session.commit()
    assert tally("contact_at")[kids[2].id][2] == when[3]  # kept by the flush hook

    db.session.rollback()
    downgrade(revision="0009d")
    back = stored()
    assert {n: back[n] for n in old} == {n: ("parent_call", f, s) for n, (_k, _t, s, f) in old.items()}
    assert {n: back[n] for n in new} == {n: ("contact", f, "received") for n, f in new.items()}
    assert rules() == [("parent_call", "quarter", 2), ("talk", "week", 1)]
    assert {cid: row[2] for cid, row in tally("parent_call_at").items()} == {
        kids[0].id: when[1], kids[1].id: when[2], kids[2].id: None}  # recomputed: the guardian's call is no parent_call

    db.session.rollback()
    upgrade()
    again = stored()
    assert {n: again[n] for n in old} == contact
    assert {n: again[n] for n in new} == {n: ("contact", f, "received") for n, f in new.items()}
    assert {cid: row[2] for cid, row in tally("contact_at").items()} == {
        kids[0].id: when[1], kids[1].id: when[2], kids[2].id: when[3]}


def test_existing_schools_move_into_one_county_and_back(empty_app):
    """0011a puts every school stored before it into one county (renamed later by the bureau administrator); staff
    accounts keep their school and need no new password; a downgrade drops the county tier again."""
    from sqlalchemy import text

    upgrade(revision="0010b")
    old = Legacy()
    schools = [old.school(), old.school()]
    teacher = old.user("teacher", schools[1])
    upgrade(revision="0011a")
    with db.engine.connect() as conn:
        counties = conn.execute(text("SELECT id, name FROM county")).all()
        assert [c.name for c in counties] == ["本县"]
        placed = dict(conn.execute(text("SELECT id, county_id FROM school")).all())
        assert placed == {schools[0].id: counties[0].id, schools[1].id: counties[0].id}
        row = conn.execute(text("SELECT school_id, county_id, must_change_password FROM \"user\" WHERE id = :i"),
                           {"i": teacher.id}).one()
        assert (row.school_id, row.county_id, bool(row.must_change_password)) == (schools[1].id, None, False)
    downgrade(revision="0010b")
    tables = inspect(db.engine).get_table_names()
    assert "county" not in tables and "file_change" not in tables and "class_teacher" not in tables
    assert "county_id" not in {c["name"] for c in inspect(db.engine).get_columns("school")}
    upgrade()


def test_duty_rules_get_the_paired_teachers_as_owner_and_back(empty_app):
    """0012c: every stored rule is owned by the children's paired teachers, as before; the downgrade drops the owner."""
    from sqlalchemy import inspect, text

    upgrade(revision="0011a")
    with db.engine.begin() as conn:
        school_id = conn.execute(text("SELECT min(id) FROM school")).scalar()
        if school_id is None:
            county = conn.execute(text("INSERT INTO county (name, created_at) VALUES ('县', CURRENT_TIMESTAMP) RETURNING id")).scalar()
            school_id = conn.execute(text("INSERT INTO school (county_id, name, created_at) VALUES (:c, '校', CURRENT_TIMESTAMP) "
                                          "RETURNING id"), {"c": county}).scalar()
        conn.execute(text("INSERT INTO duty_rule (school_id, key, kind, period, times, season, filter, active) "
                          "VALUES (:s, 'home_visit', 'home_visit', 'term', 1, 'term', '{}', true)"), {"s": school_id})
    upgrade(revision="0012c")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT owner FROM duty_rule")).scalars().all() == ["responsible"]
    downgrade(revision="0011a")
    assert "owner" not in {c["name"] for c in inspect(db.engine).get_columns("duty_rule")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM duty_rule")).scalars().all() == ["home_visit"]


def test_flags_where_the_place_matters_and_one_dispute_flag(empty_app):
    """0014u2 drops the distance flag of talks and contacts and "not confirmed" beside a dispute, lowering the score."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import select

    from app.models import Record
    from tests.conftest import Builders

    upgrade()
    build = Builders()
    school = build.school()
    village = build.village(school)
    teacher = build.user("teacher", school)
    child = build.child(school, village, teacher)
    when = datetime(2026, 11, 2, 2, tzinfo=timezone.utc)
    far, nc, disputed = ({"code": c, "detail": d} for c, d in (("far_from_village", "5.0 km"), ("no_confirmation", ""),
                                                                ("disputed", "")))
    old = {"talk": ("talk", [far], 25), "visit": ("home_visit", [far, nc], 35), "disputed": ("home_visit", [disputed, nc], 70)}
    ids = {}
    for name, (kind, flags, score) in old.items():
        r = Record(client_id=str(uuid.uuid4()), kind=kind, child_id=child.id, author_id=teacher.id, school_id=school.id,
                   occurred_at=when, fields={}, flags=flags, score=score)
        db.session.add(r)
        db.session.flush()
        ids[name] = r.id
    db.session.commit()
    db.session.rollback()
    downgrade(revision="0013n")
    db.session.rollback()
    upgrade()
    db.session.rollback()
    db.session.expire_all()
    got = {n: tuple(db.session.execute(select(Record.flags, Record.score).where(Record.id == i)).one()) for n, i in ids.items()}
    assert got == {"talk": ([], 0), "visit": ([far, nc], 35), "disputed": ([disputed], 60)}


def test_school_reviews_table_up_and_down(empty_app):
    """0016r adds school_review (one row per school, kind and period) and drops it again; the rows before stay."""
    from datetime import date, datetime, timezone

    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    upgrade(revision="0015f")
    legacy = Legacy()
    county = legacy.insert("county", name="旧县")
    school = legacy.insert("school", name="旧学校", hotline="0856-0000000", county_id=county.id)
    author = legacy.insert("user", username="oldbureau", name="旧账号", password_hash="x", role="bureau",
                           county_id=county.id, active=True, session_version=0)
    assert not inspect(db.engine).has_table("school_review")
    upgrade()
    row = dict(school_id=school.id, county_id=county.id, kind="inspection", period="2026-2027-1", outcome="rectify",
               findings="", rectify_by=date(2026, 12, 31), author_id=author.id, updated_at=datetime.now(timezone.utc))
    legacy.insert("school_review", **row)
    with pytest.raises(IntegrityError):  # one per school, kind and period
        legacy.insert("school_review", **row)
    db.session.rollback()
    downgrade(revision="0015f")
    db.session.rollback()
    assert not inspect(db.engine).has_table("school_review")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM school")).scalar() == 1
    upgrade()
    assert inspect(db.engine).has_table("school_review")
