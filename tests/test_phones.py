"""Data on the phone, server side: devices and wipe orders, the pairing history, held records, both clocks."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.children.services import set_pairings
from app.clock import utcnow
from app.extensions import db
from app.models import Device, HeldRecord, PairingSpan, Record

from .builders import local_iso, post, visit
from .conftest import login, page_csrf

DEV = str(uuid.uuid4())


def _headers(token, device=DEV, clock=None):
    h = {"X-CSRFToken": token, "X-Device-Id": device}
    if clock:
        h["X-Client-Time"] = clock
    return h


def _backdate_pairings(days=30):
    db.session.execute(update(PairingSpan).values(started_at=utcnow() - timedelta(days=days)))
    db.session.commit()


# --- devices ------------------------------------------------------------------------------------------

def test_every_api_answer_carries_server_time_and_the_device_is_recorded(client, world):
    token = login(client, world["A"]["teacher"].username)
    ahead = local_iso(timedelta(hours=3))
    r = client.get("/api/v1/roster", headers=_headers(token, clock=ahead))
    assert r.status_code == 200 and "X-Server-Time" in r.headers
    assert r.get_json()["limits"]["photos_per_record"] == 20
    assert "X-Server-Time" in client.get("/api/v1/nope").headers  # errors too
    d = db.session.scalar(select(Device))
    assert d.user_id == world["A"]["teacher"].id and d.client_id == DEV
    assert 3 * 3600 - 60 < d.clock_offset_s < 3 * 3600 + 60  # both clocks kept
    assert d.client_time is not None and d.last_seen is not None
    assert "X-Wipe" not in r.headers


def test_device_id_must_be_a_uuid(client, world):
    token = login(client, world["A"]["teacher"].username)
    assert client.get("/api/v1/roster", headers=_headers(token, device="x" * 300)).status_code == 200
    assert db.session.scalar(select(Device)) is None


def test_phone_reported_lost_sends_then_wipes(client, world):
    teacher = world["A"]["teacher"]
    token = login(client, teacher.username)
    client.get("/api/v1/session", headers=_headers(token))
    device = db.session.scalar(select(Device))
    page = client.get("/account/phones")
    assert page.status_code == 200 and "报告丢失" in page.get_data(as_text=True)
    csrf = page_csrf(page.get_data(as_text=True))
    assert client.post(f"/account/phones/{device.id}/lost", data={"csrf_token": csrf}).status_code == 302
    # The next contact: still accepted (what the phone holds reaches the school), with the order.
    rec = visit(world["A"]["c1"])
    _backdate_pairings()
    r = client.post("/api/v1/records", json={"records": [rec]}, headers=_headers(token))
    assert r.get_json()["results"][0]["status"] == "created" and r.headers["X-Wipe"] == "lost"
    # Confirmed: the session ends with it.
    assert client.post("/api/v1/device/wiped", headers=_headers(token)).status_code == 204
    db.session.expire_all()
    assert db.session.get(Device, device.id).wiped_at is not None
    assert client.get("/api/v1/roster", headers=_headers(token)).status_code == 401


def test_principal_reports_a_teachers_phone_but_not_another_schools(client, world):
    other = world["B"]["teacher"]
    login(client, other.username)
    client.get("/api/v1/session", headers={"X-Device-Id": DEV})
    login(client, world["A"]["teacher"].username)
    client.get("/api/v1/session", headers={"X-Device-Id": DEV})
    mine, theirs = (db.session.scalar(select(Device).where(Device.user_id == u.id)) for u in (world["A"]["teacher"], other))
    login(client, world["A"]["principal"].username)
    page = client.get("/account/phones").get_data(as_text=True)
    assert f'data-device="{mine.id}"' in page and f'data-device="{theirs.id}"' not in page
    csrf = page_csrf(page)
    assert client.post(f"/account/phones/{theirs.id}/lost", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/account/phones/{mine.id}/lost", data={"csrf_token": csrf}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Device, mine.id).wipe_reason == "lost" and db.session.get(Device, theirs.id).wipe_reason is None
    # A teacher cannot report a colleague's phone.
    login(client, world["A"]["other_teacher"].username)
    csrf = page_csrf(client.get("/account/phones").get_data(as_text=True))
    assert client.post(f"/account/phones/{theirs.id}/lost", data={"csrf_token": csrf}).status_code == 404


def test_session_ended_elsewhere_is_told_apart_from_expiry(app, world):
    a, b = app.test_client(), app.test_client()
    login(a, world["A"]["teacher"].username)
    login(b, world["A"]["teacher"].username)
    assert b.delete("/api/v1/session").status_code in (200, 204)  # logout on the other phone ends every session
    r = a.get("/api/v1/roster")
    assert r.status_code == 401 and r.get_json()["error"] == "session_ended"
    assert app.test_client().get("/api/v1/roster").get_json()["error"] == "unauthorized"


# --- pairing history and held records -----------------------------------------------------------------

def test_pairing_history_follows_the_pairings(world):
    c1, t, other = world["A"]["c1"], world["A"]["teacher"], world["A"]["other_teacher"]
    set_pairings(c1, [other.id], other.id, None)
    db.session.commit()
    spans = db.session.execute(select(PairingSpan.teacher_id, PairingSpan.ended_at).where(PairingSpan.child_id == c1.id)).all()
    assert {(tid, end is None) for tid, end in spans} == {(t.id, False), (other.id, True)}


def test_repaired_child_accepted_when_paired_at_the_visit_else_held(client, world):
    c1, t, other = world["A"]["c1"], world["A"]["teacher"], world["A"]["other_teacher"]
    _backdate_pairings()
    set_pairings(c1, [other.id], other.id, None)  # re-paired an hour ago, after the visit was recorded offline
    db.session.execute(update(PairingSpan).where(PairingSpan.teacher_id == t.id).values(ended_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    token = login(client, t.username)
    before = visit(c1)  # two hours ago: the teacher was paired then
    after = visit(c1, occurred_at=local_iso(timedelta(minutes=-10)))  # after the re-pairing
    stranger = visit(world["A"]["c2"])  # never paired: refused as before
    res = post(client, token, [before, after, stranger]).get_json()["results"]
    assert [r["status"] for r in res] == ["created", "held", "rejected"]
    assert "校长" in res[1]["message"]
    assert db.session.scalar(select(Record.author_id).where(Record.client_id == before["id"])) == t.id
    assert db.session.scalar(select(Record).where(Record.client_id == after["id"])) is None
    # A resend is answered the same way, and stored once.
    assert post(client, token, [after]).get_json()["results"][0]["status"] == "held"
    assert len(db.session.scalars(select(HeldRecord)).all()) == 1


def test_principal_accepts_or_discards_held_records(client, world):
    c1, t, other = world["A"]["c1"], world["A"]["teacher"], world["A"]["other_teacher"]
    set_pairings(c1, [other.id], other.id, None)
    db.session.commit()
    token = login(client, t.username)
    first, second = visit(c1), visit(c1)
    post(client, token, [first, second])
    held = {h.client_id: h.id for h in db.session.scalars(select(HeldRecord))}
    assert set(held) == {first["id"], second["id"]}
    # Only the school's principal sees and decides them.
    assert client.get("/records/held/").status_code == 403
    login(client, world["B"]["principal"].username)
    csrf = page_csrf(client.get("/records/held/").get_data(as_text=True))
    assert client.post(f"/records/held/{held[first['id']]}/accept", data={"csrf_token": csrf}).status_code == 404
    login(client, world["A"]["principal"].username)
    page = client.get("/records/held/").get_data(as_text=True)
    assert c1.name in page and t.name in page
    csrf = page_csrf(page)
    client.post(f"/records/held/{held[first['id']]}/accept", data={"csrf_token": csrf})
    client.post(f"/records/held/{held[second['id']]}/discard", data={"csrf_token": csrf})
    rec = db.session.scalar(select(Record).where(Record.client_id == first["id"]))
    assert rec is not None and rec.author_id == t.id and rec.child_id == c1.id
    assert db.session.scalar(select(Record).where(Record.client_id == second["id"])) is None
    outcomes = {h.client_id: (h.outcome, h.record_id) for h in db.session.scalars(select(HeldRecord))}
    assert outcomes == {first["id"]: ("accepted", rec.id), second["id"]: ("discarded", None)}
    assert c1.name not in client.get("/records/held/").get_data(as_text=True)
    # The author's phone resending the accepted one is told duplicate.
    login(client, t.username)
    token = login(client, t.username)
    assert post(client, token, [first]).get_json()["results"][0]["status"] == "duplicate"


# --- clocks -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ahead, says_clock", [(timedelta(days=1), True), (timedelta(minutes=1), False)])
def test_future_record_rejection_names_the_phone_clock(client, world, ahead, says_clock):
    token = login(client, world["A"]["teacher"].username)
    _backdate_pairings()
    rec = visit(world["A"]["c1"], occurred_at=local_iso(timedelta(hours=2) + ahead),
                client={"saved_at": local_iso(ahead), "sent_at": local_iso(ahead)})
    res = post(client, token, [rec]).get_json()["results"][0]
    assert res["status"] == "rejected"
    assert ("手机时钟比北京时间快" in res["errors"]["occurred_at"]) is says_clock


def test_the_login_page_says_why_a_wiped_phone_is_there(client):
    """The wiped phone goes to /login?wiped=lost: the reason is in the address, since a flash kept in the session was
    lost when a request of the phone still in flight wrote its own session cookie last (seen under load in Chromium)."""
    page = client.get("/login?wiped=lost").get_data(as_text=True)
    assert "这部手机已报告丢失" in page
    assert "这部手机已报告丢失" not in client.get("/login").get_data(as_text=True)
