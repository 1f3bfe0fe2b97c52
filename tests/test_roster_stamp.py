"""The roster's ETag comes from a version stamp: every kind of change a roster shows must change it, and
If-None-Match is answered without building the roster."""
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, update

from app.children.services import save_guardian, set_pairings, update_child
from app.extensions import db
from app.models import ChildCategory, ClassTeacher, DutyRule, Guardian, Term, User
from app.sync import routes as sync_routes
from app.verify.services import approve, return_for_correction

from .builders import ingest_ok, visit
from .conftest import login


@pytest.fixture
def a(client, world):
    login(client, world["A"]["teacher"].username)
    return world["A"]


def _etag(client, **headers):
    r = client.get("/api/v1/roster", headers=headers)
    assert r.status_code == 200
    return r.headers["ETag"].strip('"')


def _record(w):
    return ingest_ok(w["teacher"], [visit(w["c1"])])[0]


CHANGES = {
    "child renamed": lambda w, b: update_child(w["c1"], {"name": "新名字"}, None),
    "child leaves": lambda w, b: setattr(w["c1"], "left_on", date(2026, 11, 1)),
    "new child paired": lambda w, b: b.child(w["school"], w["v1"], w["teacher"]),
    "guardian phone": lambda w, b: save_guardian(w["c1"], {"role": "guardian", "name": "奶奶", "relationship_": "奶奶",
                                                          "phone": "13911111111"}, None, w["c1"].guardians[0]),
    "guardian removed": lambda w, b: db.session.delete(w["c1"].guardians[-1]),
    "guardian added": lambda w, b: db.session.add(Guardian(child_id=w["c1"].id, role="father", name="父亲",
                                                           relationship_="父亲", phone="13700000000")),
    "pairing changed": lambda w, b: set_pairings(w["c1"], [w["teacher"].id, w["other_teacher"].id],
                                                 w["other_teacher"].id, None),
    "responsible teacher's phone": lambda w, b: setattr(w["teacher"], "phone", "13822222222"),
    "village renamed": lambda w, b: setattr(w["v1"], "name", "新村"),
    "school hotline": lambda w, b: setattr(w["school"], "hotline", "0856-1111111"),
    "record": lambda w, b: _record(w),
    "approved": lambda w, b: approve(_record_committed(w), w["principal"]),
    "returned": lambda w, b: return_for_correction(_record_committed(w), w["principal"], "补充照片"),
    "duty rule added": lambda w, b: db.session.add(DutyRule(school_id=w["school"].id, kind="talk", period="week", times=2)),
    "term added (holidays move)": lambda w, b: db.session.add(Term(school_id=w["school"].id, name="秋季学期",
                                                                   starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 15))),
    "the user's role": lambda w, b: setattr(w["teacher"], "role", "counsellor"),
    "bulk delete of duty rules": lambda w, b: db.session.execute(delete(DutyRule).where(DutyRule.school_id == w["school"].id)),
    "bulk update of users": lambda w, b: db.session.execute(update(User).where(User.id == w["teacher"].id).values(name="王老师")),
    # A class teacher sees the whole class: being made one changes which children the roster holds.
    "made class teacher": lambda w, b: db.session.add(ClassTeacher(school_id=w["school"].id, class_name="三(1)班",
                                                                   teacher_id=w["teacher"].id)),
    # A rule for some categories applies to a child once the child is in one.
    "child put in a category": lambda w, b: db.session.add(ChildCategory(child_id=w["c1"].id, school_id=w["school"].id,
                                                                         category="single_parent")),
    # The roster lists the caller's open follow-ups: closing one changes it.
    "follow-up closed": lambda w, b: _close_follow_up(w),
}


def _open_follow_up(w):
    from .builders import item, local_iso

    ingest_ok(w["teacher"], [item("follow_up", w["c1"], local_iso(), fields={"what": "再访", "due_on": "2030-01-01"})])


def _close_follow_up(w):
    from app.models import FollowUp

    fu = db.session.scalar(db.select(FollowUp).where(FollowUp.status == "open"))
    fu.status, fu.outcome = "done", "已家访"


def _record_committed(w):
    rec = _record(w)
    db.session.commit()
    return rec


@pytest.mark.parametrize("change", CHANGES)
def test_every_kind_of_change_changes_the_etag(client, a, build, change):
    if change == "bulk delete of duty rules":  # something to delete
        db.session.add(DutyRule(school_id=a["school"].id, kind="talk", period="week", times=2))
    if change == "guardian removed":  # one no consent refers to
        CHANGES["guardian added"](a, build)
    if change == "follow-up closed":  # one to close
        _open_follow_up(a)
    db.session.commit()
    before = _etag(client)
    CHANGES[change](a, build)
    db.session.commit()
    after = client.get("/api/v1/roster", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"].strip('"') != before


def test_the_day_and_the_language_change_the_etag(client, a, monkeypatch):
    before = _etag(client)
    client.set_cookie("lang", "en")
    assert _etag(client) != before
    client.delete_cookie("lang")
    assert _etag(client) == before
    monkeypatch.setattr(sync_routes, "today_local", lambda: date.today() + timedelta(days=1))
    assert _etag(client) != before


def test_changes_no_roster_shows_keep_it(client, a, world):
    before = _etag(client)
    world["B"]["c1"].name = "别校孩子"  # another school
    world["A"]["teacher"].set_password("another-pass-123")  # login secrets
    db.session.commit()
    ingest_ok(world["B"]["teacher"], [visit(world["B"]["c1"])])
    db.session.commit()
    assert client.get("/api/v1/roster", headers={"If-None-Match": before}).status_code == 304


def test_not_modified_without_building_the_roster(client, a, monkeypatch):
    etag = _etag(client)

    def boom(user):
        raise AssertionError("built the roster")

    monkeypatch.setattr(sync_routes, "roster_for", boom)
    r = client.get("/api/v1/roster", headers={"If-None-Match": f'"{etag}"'})
    assert r.status_code == 304 and r.headers["ETag"].strip('"') == etag


def test_a_change_while_the_roster_is_built_is_never_labelled_current(client, a, monkeypatch):
    """The stamp is read before the roster: a change committed after the body was built must not carry its ETag."""
    build_roster = sync_routes.roster_for

    def change_after_building(user):
        body = build_roster(user)
        child = db.session.get(type(a["c1"]), a["c1"].id)
        child.name = "改名"
        db.session.commit()
        return body

    monkeypatch.setattr(sync_routes, "roster_for", change_after_building)
    old = client.get("/api/v1/roster")
    monkeypatch.setattr(sync_routes, "roster_for", build_roster)
    r = client.get("/api/v1/roster", headers={"If-None-Match": old.headers["ETag"]})
    assert old.get_json()["children"][0]["name"] != "改名"
    assert r.status_code == 200 and r.get_json()["children"][0]["name"] == "改名"


def test_a_rolled_back_change_leaves_no_pending_raise(app, client, a):
    before = _etag(client)
    a["c1"].name = "未保存"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert client.get("/api/v1/roster", headers={"If-None-Match": before}).status_code == 304
