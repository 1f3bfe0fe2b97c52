"""The start-of-term survey: proposals from a survey record, the principal's per-field decisions with history,
the two kinds of conflict, new children proposed from the field, access, progress and reminders."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.children.services import update_child
from app.clock import today_local, utcnow
from app.extensions import db
from app.models import Child, ChildProposal, ClassTeacher, FileChange, Notification, Pairing, SurveyChange, Term
from app.surveys.progress import progress, school_survey_counts, survey_reminders
from app.surveys.services import file_values

from . import imaging
from .builders import local_iso, post, put_photo
from .conftest import login, page_csrf


@pytest.fixture
def term(world):
    """A term around today for both schools, so the tests do not hang on the calendar."""
    today = today_local()
    for key in ("A", "B"):
        db.session.add(Term(school_id=world[key]["school"].id, name="本学期", starts_on=today - timedelta(days=20),
                            ends_on=today + timedelta(days=60)))
    db.session.commit()
    return today


def survey(child, changes: dict, photos=()) -> dict:
    """A survey as the phone sends it: every field with its base (the file as the roster had it), `changes` applied."""
    base = file_values(child)
    fields = {k: v for k, v in base.items() if v is not None}
    fields.update({f"base.{k}": v for k, v in base.items() if v is not None})
    fields.update(changes)
    fields = {k: v for k, v in fields.items() if v is not None}
    return {"id": str(uuid.uuid4()), "kind": "survey", "child_id": child.id, "occurred_at": local_iso(),
            "fields": fields, "photos": list(photos)}


def send(client, user, items) -> list[dict]:
    token = login(client, user.username)
    r = post(client, token, items)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["results"]


def pending(child_id) -> dict[str, SurveyChange]:
    return {c.field: c for c in db.session.scalars(select(SurveyChange).where(SurveyChange.child_id == child_id,
                                                                              SurveyChange.state == "pending"))}


def principal_post(client, world, url, **data):
    login(client, world["A"]["principal"].username)
    token = page_csrf(client.get("/surveys/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_a_survey_becomes_one_proposal_per_changed_field(client, world, term):
    a = world["A"]
    c1 = a["c1"]
    res = send(client, a["teacher"], [survey(c1, {"living_situation": "奶奶做饭，晚上自己写作业",
                                                  "father.name": "张父", "father.work_place": "广东东莞",
                                                  "guardian.phone": "13911112222"})])
    assert res[0]["status"] == "created"
    got = pending(c1.id)
    assert set(got) == {"living_situation", "father.name", "father.work_place", "guardian.phone"}  # unchanged: none
    assert got["guardian.phone"].base == "13900000000" and got["guardian.phone"].new == "13911112222"
    assert got["living_situation"].base is None
    db.session.expire_all()
    assert db.session.get(Child, c1.id).surveyed_on == term
    assert db.session.get(Child, c1.id).living_situation is None  # nothing is written before the principal decides


def test_apply_and_reject_per_field_write_history_with_source_survey(client, world, term):
    a = world["A"]
    c1 = a["c1"]
    send(client, a["teacher"], [survey(c1, {"living_situation": "和奶奶住", "father.name": "张父",
                                            "father.work_place": "广东东莞", "guardian.phone": "13911112222"})])
    got = pending(c1.id)
    rid = got["living_situation"].record_id
    r = principal_post(client, world, f"/surveys/changes/{got['living_situation'].id}/apply", seen="")
    assert r.status_code == 302
    r = principal_post(client, world, f"/surveys/changes/{got['guardian.phone'].id}/reject")
    assert r.status_code == 302
    r = principal_post(client, world, f"/surveys/changes/{got['father.work_place'].id}/apply", seen="")
    db.session.expire_all()
    child = db.session.get(Child, c1.id)
    assert child.living_situation == "和奶奶住"
    assert child.entrusted_guardian.phone == "13900000000"  # rejected: the file keeps its value
    father = next(g for g in child.guardians if g.role == "father")
    assert (father.name, father.work_place) == ("张父", "广东东莞")  # a new entry, named by the same survey
    hist = db.session.scalars(select(FileChange).where(FileChange.child_id == c1.id, FileChange.source == "survey",
                                                       FileChange.source_id == rid)).all()
    fields = {h.field: (h.old, h.new) for h in hist}
    assert fields["living_situation"] == (None, "和奶奶住")
    assert fields[f"guardian:{father.id}"] == (None, "张父")
    assert all(h.user_id == a["principal"].id for h in hist if h.field != "surveyed_on")
    states = {c.field: c.state for c in db.session.scalars(select(SurveyChange).where(SurveyChange.record_id == rid))}
    assert states == {"living_situation": "applied", "guardian.phone": "rejected", "father.work_place": "applied",
                      "father.name": "pending"}
    # Deciding twice is refused, the file stays.
    principal_post(client, world, f"/surveys/changes/{got['guardian.phone'].id}/apply", seen="13900000000")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).entrusted_guardian.phone == "13900000000"


def test_a_file_changed_since_the_phone_saw_it_is_a_conflict(client, world, term):
    a = world["A"]
    c1 = a["c1"]
    item = survey(c1, {"health": "有哮喘"})  # the phone saw health empty
    update_child(db.session.get(Child, c1.id), {"health": "体弱，常感冒"}, a["principal"])  # the office, meanwhile
    db.session.commit()
    send(client, a["teacher"], [item])
    change = pending(c1.id)["health"]
    login(client, a["principal"].username)
    html = client.get("/surveys/").get_data(as_text=True)
    assert f'id="change-{change.id}"' in html and "conflict-moved" in html
    # "Apply all" leaves a conflict alone; applying it with what the page showed is an explicit decision.
    r = principal_post(client, world, f"/surveys/record/{change.record_id}/apply")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Child, c1.id).health == "体弱，常感冒" and db.session.get(SurveyChange, change.id).state == "pending"
    # A page that showed an older file value cannot write over a newer one.
    principal_post(client, world, f"/surveys/changes/{change.id}/apply", seen="")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).health == "体弱，常感冒"
    principal_post(client, world, f"/surveys/changes/{change.id}/apply", seen="体弱，常感冒")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).health == "有哮喘"


def test_two_proposals_for_one_field_are_a_conflict_and_applying_one_decides(client, world, term):
    a = world["A"]
    c1 = a["c1"]
    db.session.add(Pairing(teacher_id=a["other_teacher"].id, child_id=c1.id))
    db.session.commit()
    one, two = survey(c1, {"study": "数学进步"}), survey(c1, {"study": "语文落后"})
    send(client, a["teacher"], [one])
    send(client, a["other_teacher"], [two])
    changes = db.session.scalars(select(SurveyChange).where(SurveyChange.child_id == c1.id)).all()
    assert len(changes) == 2
    login(client, a["principal"].username)
    html = client.get("/surveys/").get_data(as_text=True)
    assert html.count("conflict-twin") == 2
    r = principal_post(client, world, f"/surveys/record/{changes[0].record_id}/apply")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).study is None  # apply-all never picks between two
    principal_post(client, world, f"/surveys/changes/{changes[1].id}/apply", seen="")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).study == "语文落后"
    assert {c.id: c.state for c in db.session.scalars(select(SurveyChange).where(SurveyChange.child_id == c1.id))} == \
        {changes[0].id: "superseded", changes[1].id: "applied"}
    assert r.status_code == 302


def test_the_survey_photo_becomes_the_child_photo(client, world, term):
    a = world["A"]
    c1 = a["c1"]
    token = login(client, a["teacher"].username)
    data = imaging.jpeg(41)
    assert put_photo(client, token, data).status_code == 201
    item = survey(c1, {}, photos=[imaging.sha(data)])
    r = post(client, token, [item])
    assert r.get_json()["results"][0]["status"] == "created"
    change = pending(c1.id)["photo"]
    login(client, a["principal"].username)
    html = client.get("/surveys/").get_data(as_text=True)
    assert f"/photos/{change.new}/thumb" in html
    assert client.get(f"/photos/{change.new}/thumb").status_code == 200
    principal_post(client, world, f"/surveys/changes/{change.id}/apply", seen="")
    db.session.expire_all()
    assert db.session.get(Child, c1.id).photo_sha256 == change.new
    assert db.session.scalar(select(FileChange.new).where(FileChange.field == "photo_sha256")) == change.new


def test_new_child_proposed_from_the_field_then_created_with_consent(client, world, term):
    a = world["A"]
    item = {"id": str(uuid.uuid4()), "kind": "new_child", "child_id": None, "occurred_at": local_iso(),
            "fields": {"name": "李小花", "sex": "female", "class_name": "二(1)班", "village_id": a["v1"].id,
                       "parents_away": "both", "guardian_name": "李奶奶", "guardian_relationship": "奶奶",
                       "guardian_phone": "13700000000", "consented_on": "2026-09-03", "notice_version": "v2"}}
    assert send(client, a["teacher"], [item])[0]["status"] == "created"
    assert send(client, a["teacher"], [item])[0]["status"] == "duplicate"  # an offline resend
    bad = dict(item, id=str(uuid.uuid4()), fields=dict(item["fields"], village_id=world["B"]["v1"].id, consented_on="昨天"))
    res = send(client, a["teacher"], [bad])[0]
    assert res["status"] == "rejected" and set(res["errors"]) == {"fields.village_id", "fields.consented_on"}
    p = db.session.scalar(select(ChildProposal))
    # The principal of another school does not see it.
    login(client, world["B"]["principal"].username)
    token = page_csrf(client.get("/surveys/").get_data(as_text=True))
    assert client.post(f"/surveys/new-children/{p.id}/create", data={"csrf_token": token, "student_no": "X1"}).status_code == 404
    r = principal_post(client, world, f"/surveys/new-children/{p.id}/create", student_no="S90001")
    assert r.status_code == 302
    db.session.expire_all()
    child = db.session.scalar(select(Child).where(Child.student_no == "S90001"))
    assert (child.name, child.class_name, child.village_id) == ("李小花", "二(1)班", a["v1"].id)
    consent = child.active_consent
    assert consent.notice_version == "v2" and consent.consented_on.isoformat() == "2026-09-03"
    assert consent.guardian.name == "李奶奶" and consent.recorded_by_id == a["principal"].id
    assert child.responsible_teacher.id == a["teacher"].id
    assert db.session.get(ChildProposal, p.id).state == "applied"


def test_access(client, world, term):
    a, b = world["A"], world["B"]
    # A teacher cannot survey a child they may not see (another teacher's, another school's).
    res = send(client, a["teacher"], [survey(a["c2"], {"health": "x"}), survey(b["c1"], {"health": "x"})])
    assert [r["status"] for r in res] == ["rejected", "rejected"] and all("child_id" in r["errors"] for r in res)
    # Nor may a principal or counsellor write one (the capability is the teacher's).
    res = send(client, a["principal"], [survey(a["c1"], {"health": "x"})])
    assert res[0]["status"] == "rejected" and "kind" in res[0]["errors"]
    send(client, a["teacher"], [survey(a["c1"], {"health": "好"})])
    change = pending(a["c1"].id)["health"]
    login(client, a["teacher"].username)
    assert client.get("/surveys/").status_code == 403
    login(client, b["principal"].username)
    token = page_csrf(client.get("/surveys/").get_data(as_text=True))
    assert f"change-{change.id}" not in client.get("/surveys/").get_data(as_text=True)
    for url in (f"/surveys/changes/{change.id}/apply", f"/surveys/record/{change.record_id}/apply"):
        assert client.post(url, data={"csrf_token": token, "seen": ""}).status_code == 404
    db.session.expire_all()
    assert db.session.get(SurveyChange, change.id).state == "pending"


def test_roster_carries_file_values_to_those_who_survey(client, world, term):
    a = world["A"]
    login(client, a["teacher"].username)
    kids = client.get("/api/v1/roster").get_json()
    child = next(c for c in kids["children"] if c["id"] == a["c1"].id)
    assert child["file"]["guardian.phone"] == "13900000000" and child["surveyed"] is False
    assert {v["name"] for v in kids["survey"]["villages"]} == {"A1村", "A2村"} and kids["survey"]["term"] == "本学期"
    login(client, a["committee"].username)
    kids = client.get("/api/v1/roster").get_json()
    assert kids["children"] and all("file" not in c for c in kids["children"]) and "survey" not in kids


def test_progress_by_class_and_teacher_and_per_school(client, world, term, build):
    a = world["A"]
    extra = build.child(a["school"], a["v1"], a["teacher"], class_name="四(2)班")
    # Class 三(1)班 has a class teacher: its surveys fall to them, not to the responsible teachers.
    db.session.add(ClassTeacher(school_id=a["school"].id, class_name="三(1)班", teacher_id=a["other_teacher"].id))
    db.session.commit()
    send(client, a["teacher"], [survey(a["c1"], {"health": "好"})])
    by_class = {r["label"]: (r["children"], r["surveyed"]) for r in progress(a["school"].id, term, "class")["rows"]}
    assert by_class == {"三(1)班": (2, 1), "四(2)班": (1, 0)}
    by_teacher = {r["key"]: (r["children"], r["surveyed"]) for r in progress(a["school"].id, term, "teacher")["rows"]}
    assert by_teacher == {a["other_teacher"].id: (2, 1), a["teacher"].id: (1, 0)}
    counts = school_survey_counts([a["school"].id, world["B"]["school"].id], term)
    assert [(c["children"], c["surveyed"]) for c in counts] == [(3, 1), (2, 0)]
    login(client, a["principal"].username)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="survey-progress"' in html and "1 / 3" in html
    assert extra.id


def test_reminders_go_to_teachers_with_unsurveyed_children_once_a_week(client, world, term):
    a = world["A"]
    send(client, a["teacher"], [survey(a["c1"], {"health": "好"})])
    now = utcnow()
    made = survey_reminders(now)
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(Notification.kind == "survey_due")).all()
    # Teacher A surveyed their child; the other teachers of both schools have one each to do.
    assert {n.user_id for n in notes} == {a["other_teacher"].id, world["B"]["teacher"].id, world["B"]["other_teacher"].id}
    assert made == 3 and all("1 名学生" in n.text and "孩子" not in n.text for n in notes)
    assert survey_reminders(now) == 0


def test_a_survey_id_beyond_the_database_s_range_is_404_not_500(client, world):
    """The survey pages' ids use the app's id converter (1..2^31-1): PostgreSQL raised on 99999999999 (an int column)."""
    from .conftest import login, page_csrf

    login(client, world["A"]["principal"].username)
    token = page_csrf(client.get("/surveys/").get_data(as_text=True))
    for url in ("/surveys/changes/99999999999/apply", "/surveys/record/99999999999/apply",
                "/surveys/new-children/99999999999/create"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
