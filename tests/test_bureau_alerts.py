"""Emergencies reach the county bureau: an alert (school, category, time; no child's name) in the app, in the push
payload and by SMS to the bureau's duty phone; the bureau's acknowledgement logs the notice and stops its clock."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.incidents.bureau import acknowledge
from app.incidents.services import IncidentError, clocks, escalate, log_notice, report
from app.models import Incident, IncidentNotice, Notification
from app.notify.push import payload
from app.notify.sms import Escalation, LogSender

from .conftest import login, page_csrf

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)


def _report(user, child, now=T0):
    inc, _created = report(user, {"id": str(uuid.uuid4()), "child_id": child.id, "occurred_at": T0.isoformat(),
                                  "category": "missing", "description": f"{child.name}放学后未回家"}, now=now)
    db.session.commit()
    return inc


def _alerts(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == "bureau_alert")))


def test_bureau_alerted_at_report_time_without_the_child(app, world):
    a = world["A"]
    inc = _report(a["teacher"], a["c1"], now=T0 + timedelta(minutes=3))
    [alert] = _alerts(world["bureau"])
    assert "学校A" in alert.text and "走失" in alert.text and "11-20 09:00" in alert.text
    assert a["c1"].name not in alert.text and "放学后" not in alert.text
    push = payload(alert)
    assert a["c1"].name not in push and json.loads(push)["id"] == alert.id
    # Only the county's bureau staff who acknowledge emergencies: not another county, not the bureau administrator.
    assert _alerts(world["far_bureau"]) == [] and _alerts(world["bureau_admin"]) == []
    escalate(T0 + timedelta(minutes=10))  # once: the cron run makes no second alert
    assert len(_alerts(world["bureau"])) == 1 and inc.id


def test_escalate_alerts_and_texts_the_bureau_phone_once(app, world):
    a = world["A"]
    # An incident stored without an alert (reported before the county had bureau accounts).
    db.session.add(Incident(client_id=str(uuid.uuid4()), school_id=a["school"].id, child_id=a["c1"].id,
                            reported_by_id=a["teacher"].id, occurred_at=T0, reported_at=T0, category="injury",
                            description=f"{a['c1'].name}摔伤"))
    db.session.commit()
    sms = LogSender()
    out = escalate(T0 + timedelta(minutes=5), Escalation(sms))
    assert out["bureau"] == 1 and len(_alerts(world["bureau"])) == 1
    [(phone, text)] = sms.sent
    assert phone == world["county"].bureau_phone and "学校A" in text and a["c1"].name not in text
    escalate(T0 + timedelta(minutes=10), Escalation(sms))
    assert len(sms.sent) == 1


def test_acknowledgement_logs_the_notice_and_stops_the_clock(app, client, world):
    a = world["A"]
    inc = _report(a["teacher"], a["c1"], now=T0 + timedelta(minutes=3))
    login(client, "bureaua")
    page = client.get("/bureau/emergencies")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "学校A" in html and "走失" in html
    assert a["c1"].name not in html and "放学后" not in html
    r = client.post(f"/bureau/emergencies/{inc.id}/ack", data={"csrf_token": page_csrf(html)})
    assert r.status_code == 302
    [notice] = db.session.scalars(select(IncidentNotice).where(IncidentNotice.incident_id == inc.id)).all()
    assert (notice.target, notice.by_id, notice.method) == ("bureau", world["bureau"].id, "app")
    db.session.refresh(inc)
    late = {c["target"]: c["state"] for c in clocks(inc, T0 + timedelta(hours=3))}
    assert late["bureau"] in ("done", "done_late") and late["guardian"] == "late"
    assert f"incident:{inc.id}:bureau_ack" in set(db.session.scalars(
        select(Notification.key).where(Notification.user_id == a["principal"].id)))
    # The bureau clock escalates no more; a second acknowledgement adds nothing.
    escalate(datetime.now(timezone.utc) + timedelta(hours=3))
    assert not db.session.scalar(select(Notification.id).where(Notification.key == f"incident:{inc.id}:bureau:late"))
    client.post(f"/bureau/emergencies/{inc.id}/ack", data={"csrf_token": page_csrf(html)})
    assert db.session.query(IncidentNotice).count() == 1
    assert "确认收到" in client.get("/bureau/emergencies").get_data(as_text=True)


def test_acknowledgement_access(app, client, world):
    a = world["A"]
    inc = _report(a["teacher"], a["c1"], now=T0 + timedelta(minutes=3))
    login(client, "bureaufar")
    html = client.get("/bureau/emergencies").get_data(as_text=True)
    assert "学校A" not in html
    assert client.post(f"/bureau/emergencies/{inc.id}/ack", data={"csrf_token": page_csrf(html)}).status_code == 404
    login(client, "principala")
    assert client.get("/bureau/emergencies").status_code == 403
    token = login(client, "teachera")
    assert client.post(f"/bureau/emergencies/{inc.id}/ack", headers={"X-CSRFToken": token}).status_code == 403
    # A school cannot log the bureau's own acknowledgement; the bureau only through it.
    with pytest.raises(IncidentError):
        log_notice(inc, a["principal"], "bureau", "app", None, None, now=T0 + timedelta(minutes=30))
    with pytest.raises(IncidentError):
        log_notice(inc, world["bureau"], "bureau", "phone", None, None, now=T0 + timedelta(minutes=30))
    assert db.session.query(IncidentNotice).count() == 0
    acknowledge(inc, world["bureau"], now=T0 + timedelta(minutes=30))
    with pytest.raises(IncidentError):
        acknowledge(inc, world["bureau"], now=T0 + timedelta(minutes=31))
