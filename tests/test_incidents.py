"""Emergencies: reporting (page, API, offline ids), three clocks with frozen time, escalation, send-reminders."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.incidents.services import clocks, close, escalate, log_notice, report
from app.models import Incident, Notification
from app.notify.sms import Escalation, LogSender

from .conftest import login, page_csrf

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)  # frozen: every call below passes `now`


def _report(user, child, now=T0, **over):
    data = {"id": str(uuid.uuid4()), "child_id": child.id, "occurred_at": T0.isoformat(), "category": "injury",
            "description": "课间摔倒，右手腕肿痛，已送卫生院。"}
    data.update(over)
    inc, created = report(user, data, now=now)
    db.session.commit()
    return inc


def _keys(user) -> set[str]:
    return set(db.session.scalars(select(Notification.key).where(Notification.user_id == user.id)))


def _states(inc, now) -> dict:
    db.session.refresh(inc)
    return {c["target"]: c["state"] for c in clocks(inc, now)}


def test_three_clocks_with_frozen_time(world):
    a = world["A"]
    inc = _report(a["teacher"], a["c1"], now=T0 + timedelta(minutes=2))
    assert _states(inc, T0 + timedelta(minutes=19)) == {"guardian": "running", "parents": "running", "bureau": "running"}
    assert _states(inc, T0 + timedelta(minutes=21))["guardian"] == "soon"
    assert _states(inc, T0 + timedelta(minutes=30))["guardian"] == "late"
    log_notice(inc, a["teacher"], "guardian", "phone", (T0 + timedelta(minutes=25)).isoformat(), "奶奶已赶到卫生院",
               now=T0 + timedelta(minutes=40))
    log_notice(inc, a["teacher"], "parents", "phone", (T0 + timedelta(minutes=70)).isoformat(), None,
               now=T0 + timedelta(minutes=71))
    db.session.commit()
    st = _states(inc, T0 + timedelta(minutes=115))
    assert st == {"guardian": "done", "parents": "done_late", "bureau": "soon"}
    left = {c["target"]: c["left"] for c in clocks(inc, T0 + timedelta(minutes=115))}
    assert left["bureau"] == timedelta(minutes=5) and left["guardian"] == timedelta(0)


def test_escalation_at_each_deadline_once(world):
    a = world["A"]
    sms = LogSender()
    inc = _report(a["teacher"], a["c1"], now=T0 + timedelta(minutes=1))
    assert _keys(a["principal"]) == {f"incident:{inc.id}:new"} and f"incident:{inc.id}:new" in _keys(a["teacher"])
    timeline = [(19, set(), set()), (21, {"guardian:soon"}, set()), (30, set(), {"guardian:late"}),
                (51, {"parents:soon"}, set()), (60, set(), {"parents:late"}), (111, {"bureau:soon"}, set()),
                (120, set(), {"bureau:late"})]
    seen_t, seen_p = _keys(a["teacher"]), _keys(a["principal"])
    for minute, soon, late in timeline:
        for _ in range(2):  # twice: nothing twice
            escalate(T0 + timedelta(minutes=minute), Escalation(sms))
            db.session.commit()
        new_t, new_p = _keys(a["teacher"]) - seen_t, _keys(a["principal"]) - seen_p
        want = {f"incident:{inc.id}:{k}" for k in soon | late}
        assert new_t == want, minute
        assert new_p == {f"incident:{inc.id}:{k}" for k in late}, minute  # the principal hears when time is up
        seen_t, seen_p = seen_t | new_t, seen_p | new_p
    assert len(sms.sent) == 3 and all(f"#{inc.id}" in text and a["c1"].name not in text for _p, text in sms.sent)
    texts = db.session.scalars(select(Notification.text)).all()
    assert texts and not any(a["c1"].name in t for t in texts)  # reminders say which incident, not which child


def test_notice_logged_in_time_stops_the_clock(world):
    a = world["A"]
    inc = _report(a["teacher"], a["c1"])
    log_notice(inc, a["teacher"], "guardian", "in_person", None, None, now=T0 + timedelta(minutes=10))
    db.session.commit()
    escalate(T0 + timedelta(minutes=52))
    db.session.commit()
    keys = _keys(a["principal"])
    assert f"incident:{inc.id}:guardian:late" not in keys and f"incident:{inc.id}:parents:soon" not in keys
    assert f"incident:{inc.id}:parents:soon" in _keys(a["teacher"])


def test_close_needs_every_notice_or_a_reason_and_keeps_the_timeline(world):
    from app.incidents.services import IncidentError

    a = world["A"]
    inc = _report(a["teacher"], a["c1"])
    log_notice(inc, a["teacher"], "guardian", "phone", None, None, now=T0 + timedelta(minutes=5))
    db.session.commit()
    db.session.refresh(inc)
    with pytest.raises(IncidentError) as e:
        close(inc, a["principal"], "", now=T0 + timedelta(hours=3))
    assert "父母" in e.value.message and "教育局" in e.value.message
    close(inc, a["principal"], "家长电话停机，已由村委会转告；教育局已书面报告", now=T0 + timedelta(hours=3))
    db.session.commit()
    db.session.refresh(inc)
    assert inc.closed_at is not None and len(inc.notices) == 1
    assert _states(inc, T0 + timedelta(hours=5)) == {"guardian": "done", "parents": "skipped", "bureau": "skipped"}
    before = db.session.scalar(select(func.count()).select_from(Notification))
    escalate(T0 + timedelta(hours=5))
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    with pytest.raises(IncidentError):
        log_notice(inc, a["teacher"], "parents", "phone", None, None, now=T0 + timedelta(hours=6))


def test_api_report_is_idempotent_and_validated(client, world):
    a = world["A"]
    token = login(client, a["teacher"].username)
    now = datetime.now(CHINA)
    body = {"id": str(uuid.uuid4()), "child_id": a["c1"].id, "occurred_at": (now - timedelta(minutes=5)).isoformat(),
            "category": "missing", "description": "放学后未回家"}
    r1 = client.post("/api/v1/incidents", json=body, headers={"X-CSRFToken": token})
    r2 = client.post("/api/v1/incidents", json=body, headers={"X-CSRFToken": token})
    assert (r1.status_code, r1.get_json()["status"]) == (201, "created")
    assert (r2.status_code, r2.get_json()["status"]) == (200, "duplicate")
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
    bad = [dict(body, id=str(uuid.uuid4()), child_id=a["c2"].id),  # not their child
           dict(body, id=str(uuid.uuid4()), child_id=world["B"]["c1"].id),
           dict(body, id=str(uuid.uuid4()), occurred_at=(now + timedelta(hours=1)).isoformat()),
           dict(body, id=str(uuid.uuid4()), category="fire?"),
           dict(body, id=str(uuid.uuid4()), description="  "),
           dict(body, id="short")]
    for b in bad:
        r = client.post("/api/v1/incidents", json=b, headers={"X-CSRFToken": token})
        assert r.status_code == 422 and r.get_json()["message"], b
    assert client.post("/api/v1/incidents", data="x", headers={"X-CSRFToken": token}).status_code == 400
    assert client.post("/api/v1/incidents", json=body).status_code in (400, 403)  # no CSRF header
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 1
    login(client, a["committee"].username)
    r = client.post("/api/v1/incidents", json=dict(body, id=str(uuid.uuid4())),
                    headers={"X-CSRFToken": login(client, a["committee"].username)})
    assert r.status_code == 422


def test_pages_and_scope(client, build, world):
    a = world["A"]
    login(client, a["teacher"].username)
    html = client.get(f"/incidents/new?child={a['c1'].id}").get_data(as_text=True)
    form = {"csrf_token": page_csrf(html), "client_id": str(uuid.uuid4()), "child_id": a["c1"].id, "category": "illness",
            "occurred_at": datetime.now(CHINA).strftime("%Y-%m-%dT%H:%M"), "description": ""}
    r = client.post("/incidents/new", data=form)
    assert r.status_code == 400 and "请简要写明发生了什么" in r.get_data(as_text=True)
    form["description"] = "发高烧"
    r = client.post("/incidents/new", data=form)
    assert r.status_code == 302
    inc = db.session.scalar(select(Incident))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert page.count('class="clock ') == 3 and "还剩" in page
    r = client.post(f"/incidents/{inc.id}", data={"csrf_token": page_csrf(page), "what": "notice", "target": "guardian",
                                                  "method": "phone"})
    assert r.status_code == 302 and "已按时通知" in client.get(f"/incidents/{inc.id}").get_data(as_text=True)
    r = client.post(f"/incidents/{inc.id}", data={"csrf_token": page_csrf(page), "what": "notice", "target": "x", "method": "phone"})
    assert r.status_code == 400 and "请选择通知了谁" in r.get_data(as_text=True)
    for who, status in ((a["principal"], 200), (a["counsellor"], 200), (a["other_teacher"], 404),
                        (world["B"]["principal"], 404), (a["committee"], 403), (a["admin"], 403)):
        login(client, who.username)
        assert client.get(f"/incidents/{inc.id}").status_code == status, who.username


def test_send_reminders_twice_sends_once(app, runner, world):
    a = world["A"]
    _report(a["teacher"], a["c1"], now=T0)
    now = (T0 + timedelta(minutes=31)).isoformat()
    out1 = runner.invoke(args=["send-reminders", "--now", now])
    out2 = runner.invoke(args=["send-reminders", "--now", now])
    assert out1.exit_code == 0 and "incident_late=1" in out1.output and "duties=4" in out1.output  # two teachers per school, two schools, out1.output
    assert "incident_late=0" in out2.output and "duties=0" in out2.output
    duty = db.session.scalar(select(Notification).where(Notification.user_id == a["teacher"].id,
                                                        Notification.kind == "duties_overdue"))
    assert duty.url == "/duties/" and a["c1"].name not in duty.text
    assert runner.invoke(args=["send-reminders", "--now", "2026-11-20T09:00"]).exit_code != 0  # needs a zone
