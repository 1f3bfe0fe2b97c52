"""Needs attention (需关注) and follow-ups: the list's rule, scope, counselling secrecy, closing, reminders, reports."""
from datetime import timedelta

from sqlalchemy import select

from app.attention.services import care_counts, entries
from app.clock import today_local, utcnow
from app.duties.services import Window
from app.extensions import db
from app.followups.services import close
from app.models import FollowUp, Notification

from .builders import FIELDS, ingest_ok, item, local_iso, post
from .conftest import login, page_csrf

FINE_VISIT = FIELDS["home_visit"] | {f"{a}_rating": "good" for a in ("study", "life", "psychology", "safety")}
FINE_VISIT.pop("guardian_concerns", None)


def _visit(user, child, hours_ago, **fields):
    [rec] = ingest_ok(user, [item("home_visit", child, local_iso(timedelta(hours=-hours_ago)), FINE_VISIT | fields)])
    return rec


def _follow_up(user, child, due_on, source=None):
    fields = {"what": "每周给奶奶打电话", "due_on": due_on} | ({"source_id": source.id} if source else {})
    [rec] = ingest_ok(user, [item("follow_up", child, local_iso(), fields)])
    return db.session.scalar(select(FollowUp).where(FollowUp.record_id == rec.id))


def test_concern_puts_child_on_list_and_closed_follow_up_takes_it_off(world):
    a = world["A"]
    assert entries(a["principal"]) == []
    src = _visit(a["teacher"], a["c1"], 5, safety_rating="concern")
    [e] = entries(a["principal"])
    assert (e.child.id, e.kind, e.source.id) == (a["c1"].id, "home_visit", src.id)
    assert "安全需关注" in e.reasons and e.follow_ups == []
    fu = _follow_up(a["teacher"], a["c1"], today_local().isoformat(), source=src)
    [e] = entries(a["principal"])
    assert [f.id for f in e.follow_ups] == [fu.id] and fu.assignee_id == a["teacher"].id
    close(a["teacher"], fu, "done", "已安排奶奶接送")
    db.session.commit()
    assert entries(a["principal"]) == []


def test_cancelled_follow_up_keeps_the_child_on_the_list(world):
    a = world["A"]
    _visit(a["teacher"], a["c1"], 5, study_rating="concern")
    fu = _follow_up(a["teacher"], a["c1"], today_local().isoformat())
    close(a["teacher"], fu, "cancelled", "重复了")
    db.session.commit()
    assert len(entries(a["principal"])) == 1


def test_later_all_fine_record_of_the_kind_takes_it_off_and_since_is_the_first_concern(world):
    a = world["A"]
    first = _visit(a["teacher"], a["c1"], 30, psychology_rating="concern")
    second = _visit(a["teacher"], a["c1"], 20, guardian_concerns="奶奶说孩子晚上不睡觉")
    [e] = entries(a["teacher"])
    assert e.source.id == second.id and e.since == first.occurred_at.replace(tzinfo=e.since.tzinfo)
    assert e.reasons == ["监护人反映问题"]
    # A fine talk is another kind: the visit's concern stands.
    ingest_ok(a["teacher"], [item("talk", a["c1"], local_iso(timedelta(hours=-10)), {"topic": "学习", "mood": "calm", "summary": "好"})])
    assert len(entries(a["teacher"])) == 1
    _visit(a["teacher"], a["c1"], 5, guardian_concerns="无")
    assert entries(a["teacher"]) == []


def test_low_mood_talk(world):
    a = world["A"]
    ingest_ok(a["teacher"], [item("talk", a["c1"], local_iso(timedelta(hours=-1)), {"topic": "想妈妈", "mood": "anxious", "summary": "哭了"})])
    [e] = entries(a["teacher"])
    assert e.kind == "talk" and e.reasons == ["情绪焦虑"]


def test_counselling_risk_reaches_the_principal_without_content(client, world):
    a = world["A"]
    fields = {"topic": "秘密话题XYZ", "summary": "谈话内容ABC", "risk": "medium"}
    [note] = ingest_ok(a["counsellor"], [item("counselling", a["c1"], local_iso(timedelta(hours=-1)), fields)])
    [e] = entries(a["counsellor"])
    assert e.reasons == ["心理风险：中"]
    [e] = entries(a["principal"])
    assert e.reasons == ["需心理辅导教师跟进"]
    # A teacher does not learn that a session took place.
    assert entries(a["teacher"]) == []
    login(client, a["principal"].username)
    html = client.get("/attention/").get_data(as_text=True)
    assert "需心理辅导教师跟进" in html and f"/records/{note.id}" in html
    assert "XYZ" not in html and "ABC" not in html and "风险：中" not in html


def test_scope_teacher_sees_only_their_children_and_other_school_404(client, world):
    a, b = world["A"], world["B"]
    _visit(a["teacher"], a["c1"], 3, safety_rating="concern")
    _visit(a["other_teacher"], a["c2"], 3, safety_rating="concern")
    _visit(b["teacher"], b["c1"], 3, safety_rating="concern")
    assert {e.child.id for e in entries(a["teacher"])} == {a["c1"].id}
    assert {e.child.id for e in entries(a["principal"])} == {a["c1"].id, a["c2"].id}
    login(client, a["teacher"].username)
    html = client.get("/attention/").get_data(as_text=True)
    assert a["c1"].name in html and a["c2"].name not in html and b["c1"].name not in html
    fub = _follow_up(b["teacher"], b["c1"], today_local().isoformat())
    login(client, a["principal"].username)
    assert client.get(f"/follow-ups/{fub.id}").status_code == 404
    # A follow-up may not name a record of another child as its source.
    token = login(client, a["teacher"].username)
    other = _visit(a["other_teacher"], a["c2"], 2)
    r = post(client, token, [item("follow_up", a["c1"], local_iso(), {"what": "x", "due_on": "2030-01-01", "source_id": other.id})])
    assert r.get_json()["results"][0]["status"] == "rejected"
    assert "fields.source_id" in r.get_json()["results"][0]["errors"]


def test_bad_due_date_is_rejected(client, world):
    token = login(client, world["A"]["teacher"].username)
    r = post(client, token, [item("follow_up", world["A"]["c1"], local_iso(), {"what": "x", "due_on": "2030-02-30"})])
    [res] = r.get_json()["results"]
    assert res["status"] == "rejected" and "fields.due_on" in res["errors"]


def test_close_on_the_page_needs_an_outcome_and_the_right_person(client, world):
    a = world["A"]
    fu = _follow_up(a["teacher"], a["c1"], "2030-01-01")
    login(client, a["counsellor"].username)
    html = client.get(f"/follow-ups/{fu.id}").get_data(as_text=True)
    r = client.post(f"/follow-ups/{fu.id}", data={"csrf_token": page_csrf(html), "action": "close", "status": "done", "outcome": "好"})
    assert r.status_code == 302
    db.session.refresh(fu)
    assert fu.status == "open"  # the counsellor neither made it nor was given it
    login(client, a["teacher"].username)
    html = client.get(f"/follow-ups/{fu.id}").get_data(as_text=True)
    client.post(f"/follow-ups/{fu.id}", data={"csrf_token": page_csrf(html), "action": "close", "status": "done", "outcome": ""})
    db.session.refresh(fu)
    assert fu.status == "open"
    client.post(f"/follow-ups/{fu.id}", data={"csrf_token": page_csrf(html), "action": "close", "status": "done", "outcome": "已联系"})
    db.session.refresh(fu)
    assert (fu.status, fu.outcome, fu.closed_by_id) == ("done", "已联系", a["teacher"].id)
    html = client.get(f"/children/{a['c1'].id}").get_data(as_text=True)
    assert f"/follow-ups/{fu.id}" in html and "已完成" in html


def test_principal_assigns_to_school_staff_only(client, world):
    a, b = world["A"], world["B"]
    fu = _follow_up(a["teacher"], a["c1"], "2030-01-01")
    login(client, a["principal"].username)
    html = client.get(f"/follow-ups/{fu.id}").get_data(as_text=True)
    client.post(f"/follow-ups/{fu.id}", data={"csrf_token": page_csrf(html), "action": "assign", "assignee_id": b["teacher"].id})
    db.session.refresh(fu)
    assert fu.assignee_id == a["teacher"].id
    client.post(f"/follow-ups/{fu.id}", data={"csrf_token": page_csrf(html), "action": "assign",
                                              "assignee_id": a["counsellor"].id, "due_on": "2030-02-01"})
    db.session.refresh(fu)
    assert fu.assignee_id == a["counsellor"].id and fu.due_on.isoformat() == "2030-02-01"


def test_overdue_follow_up_in_reminders_home_and_roster(client, runner, world):
    a = world["A"]
    yesterday = (today_local() - timedelta(days=1)).isoformat()
    fu = _follow_up(a["teacher"], a["c1"], yesterday)
    _follow_up(a["teacher"], a["c1"], "2030-01-01")
    out = runner.invoke(args=["send-reminders", "--now", utcnow().isoformat()])
    assert out.exit_code == 0, out.output
    runner.invoke(args=["send-reminders", "--now", utcnow().isoformat()])
    notes = db.session.scalars(select(Notification).where(Notification.user_id == a["teacher"].id,
                                                          Notification.kind == "follow_ups_overdue")).all()
    assert len(notes) == 1 and "1 项" in notes[0].text and a["c1"].name not in notes[0].text
    login(client, a["teacher"].username)
    html = client.get("/").get_data(as_text=True)
    assert f'data-follow-up="{fu.id}"' in html and "逾期" in html
    roster = client.get("/api/v1/roster").get_json()
    assert [f["due_on"] for f in roster["follow_ups"]] == [yesterday, "2030-01-01"]


def test_care_counts_for_a_window(world):
    a, b = world["A"], world["B"]
    _visit(a["teacher"], a["c1"], 3, safety_rating="concern")
    _visit(a["teacher"], a["c1"], 2, life_rating="concern")
    _visit(a["other_teacher"], a["c2"], 2)
    fu = _follow_up(a["teacher"], a["c1"], (today_local() - timedelta(days=1)).isoformat())
    done = _follow_up(a["teacher"], a["c1"], "2030-01-01")
    close(a["teacher"], done, "done", "好")
    db.session.commit()
    today = today_local()
    counts = care_counts([a["school"].id, b["school"].id], Window(today - timedelta(days=3), today))
    assert counts[a["school"].id] == {"attention_children": 1, "follow_ups_opened": 2, "follow_ups_done": 1,
                                      "follow_ups_open": 1, "follow_ups_overdue": 1}
    assert counts[b["school"].id]["attention_children"] == 0
    earlier = care_counts([a["school"].id], Window(today - timedelta(days=30), today - timedelta(days=10)))
    assert earlier[a["school"].id]["follow_ups_opened"] == 0 and fu.status == "open"
