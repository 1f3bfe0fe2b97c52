"""Returns reach the author: the notification and its deadline, the correction form's defaults, the visit's evidence
kept by the correction, review states in lists, and late corrections on the principal's dashboard."""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import parse_local_time, today_local
from app.extensions import db
from app.models import Notification, Record
from app.notify import push
from app.verify import totp
from app.verify.services import secret_for

from .builders import CHINA, post, visit
from .conftest import login, page_csrf

REASON = "请写清见到的是谁，照片看不清"


@pytest.fixture
def A(world):
    return world["A"]


def _visit(client, A, **over) -> Record:
    token = login(client, A["teacher"].username)
    rec = visit(A["c1"], **over)
    assert post(client, token, [rec]).get_json()["results"][0]["status"] == "created"
    return db.session.scalar(select(Record).where(Record.client_id == rec["id"]))


def _return(client, A, rec: Record, reason=REASON):
    login(client, A["principal"].username)
    token = page_csrf(client.get("/review/").get_data(as_text=True))
    assert client.post(f"/review/{rec.id}/return", data={"csrf_token": token, "comment": reason}).status_code == 302


def _notes(user) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()


def test_return_notifies_the_author_once_with_the_deadline_and_a_generic_push(client, app, A):
    rec = _visit(client, A)
    before = {u: len(_notes(A[u])) for u in ("principal", "other_teacher", "committee", "counsellor")}
    _return(client, A, rec)
    notes = _notes(A["teacher"])
    assert len(notes) == 1
    due = today_local() + timedelta(days=app.config["CORRECTION_DAYS"])
    text = notes[0].text
    assert f"{due.month}月{due.day}日 前更正" in text and REASON in text and "家访" in text
    assert A["c1"].name not in text  # no child's name, even in the app
    assert notes[0].url.endswith(f"/records/returned#r{rec.id}")
    assert {u: len(_notes(A[u])) for u in before} == before  # nobody else is told
    # The push built from it carries a generic text and the id only: no reason, no name.
    body = json.loads(push.payload(notes[0]))
    assert set(body) == {"id", "title", "body"} and body["id"] == notes[0].id
    assert REASON not in json.dumps(body, ensure_ascii=False) and A["c1"].name not in body["body"]
    # The teacher's bell lists it with the reason.
    login(client, A["teacher"].username)
    listed = client.get("/api/v1/notifications").get_json()
    assert listed["unread"] == 1 and REASON in listed["notifications"][0]["text"]


def test_deadline_is_configurable_and_shown_on_both_sides(client, app, A):
    app.config["CORRECTION_DAYS"] = 3
    rec = _visit(client, A)
    _return(client, A, rec)
    due = (today_local() + timedelta(days=3)).isoformat()
    assert f'data-deadline="{due}"' in client.get(f"/records/{rec.id}").get_data(as_text=True)  # principal
    assert f'data-deadline="{due}"' in client.get("/review/?state=returned").get_data(as_text=True)
    login(client, A["teacher"].username)
    assert f'data-deadline="{due}"' in client.get(f"/records/{rec.id}").get_data(as_text=True)
    assert f'data-deadline="{due}"' in client.get("/records/returned").get_data(as_text=True)
    roster = client.get("/api/v1/roster").get_json()
    assert [(x["id"], x["deadline"], x["reason"]) for x in roster["returned"]] == [(rec.id, due, REASON)]


def test_correction_form_keeps_kind_child_time_and_fields_and_is_titled_as_a_correction(client, A):
    rec = _visit(client, A, occurred_at=(today_local() - timedelta(days=2)).isoformat() + "T09:15:00+08:00")
    _return(client, A, rec)
    login(client, A["teacher"].username)
    html = client.get(f"/records/new/home_visit?corrects={rec.id}").get_data(as_text=True)  # no ?child=: still kept
    day = (today_local() - timedelta(days=2)).isoformat()
    assert f'name="occurred_at" id="occurred_at" value="{day}T09:15"' in html  # the visit's time, not now
    assert re.search(rf'<option value="{A["c1"].id}" selected', html)
    assert "了解假期学习情况" in html and "家门口有水塘" in html
    title = re.search(r'<h1 id="correction-title">([^<]*)</h1>', html).group(1)
    assert title.startswith("更正：家访记录") and A["c1"].name in title
    assert "<title>更正：家访记录" in html
    assert REASON in html and "data-deadline" in html
    assert client.get(f"/records/new/talk?corrects={rec.id}").status_code == 404  # the kind is the original's


def _coded_visit(client, A) -> tuple[Record, dict]:
    """A visit confirmed by the committee member's code typed at the visit."""
    secret = secret_for(A["committee"])
    db.session.commit()
    base = visit(A["c1"])
    base["fields"]["confirm_code"] = totp.code_at(secret, parse_local_time(base["occurred_at"]).timestamp())
    token = login(client, A["teacher"].username)
    assert post(client, token, [base]).get_json()["results"][0]["status"] == "created"
    original = db.session.scalar(select(Record).where(Record.client_id == base["id"]))
    assert original.confirm_state == "confirmed"
    return original, base


def test_correction_keeps_the_code_confirmation_as_the_visits_evidence(client, A):
    original, _base = _coded_visit(client, A)
    _return(client, A, original)
    login(client, A["teacher"].username)
    html = client.get(f"/records/new/home_visit?corrects={original.id}").get_data(as_text=True)
    assert 'data-inherited="confirm_code"' in html and 'name="confirm_code"' not in html
    roster = client.get("/api/v1/roster").get_json()
    sent = roster["returned"][0]
    assert "confirm_code" not in sent["fields"] and sent["confirm_state"] == "confirmed"
    # The phone's correction, as it sends it: the original's fields without the code, corrects_id = the original.
    token = login(client, A["teacher"].username)
    item = {"id": str(uuid.uuid4()), "kind": "home_visit", "child_id": A["c1"].id, "occurred_at": sent["occurred_at"],
            "fields": sent["fields"], "corrects_id": original.id}
    assert post(client, token, [item]).get_json()["results"][0]["status"] == "created"
    corr = db.session.scalar(select(Record).where(Record.client_id == item["id"]))
    codes = {f["code"] for f in corr.flags}
    assert corr.confirm_state == "confirmed" and not {"no_confirmation", "code_replayed", "signature_only"} & codes
    assert "已更正" in client.get(f"/records/{original.id}").get_data(as_text=True)


def test_correction_repeating_the_original_code_is_not_a_replay(client, A):
    original, base = _coded_visit(client, A)
    _return(client, A, original)
    token = login(client, A["teacher"].username)
    again = visit(A["c1"], occurred_at=base["occurred_at"], corrects_id=original.id)
    again["fields"]["confirm_code"] = base["fields"]["confirm_code"]
    assert post(client, token, [again]).get_json()["results"][0]["status"] == "created"
    corr = db.session.scalar(select(Record).where(Record.client_id == again["id"]))
    assert corr.confirm_state == "confirmed" and not {"code_replayed", "no_confirmation"} & {f["code"] for f in corr.flags}


def test_lists_show_review_states(client, A):
    kept = _visit(client, A)
    returned = _visit(client, A)
    _return(client, A, returned)
    login(client, A["principal"].username)
    token = page_csrf(client.get("/review/").get_data(as_text=True))
    client.post(f"/review/{kept.id}/approve", data={"csrf_token": token})
    token = login(client, A["teacher"].username)
    corr = visit(A["c1"], corrects_id=returned.id)
    post(client, token, [corr])
    for url in ("/records/mine", f"/children/{A['c1'].id}/records"):
        html = client.get(url).get_data(as_text=True)
        states = re.findall(r'data-review="(\w+)">([^<]+)<', html)
        assert sorted(set(states)) == [("approved", "已通过"), ("corrected", "已更正"), ("received", "待审核")], url
    reviews = {c["id"]: c["reviews"] for c in client.get("/api/v1/roster").get_json()["children"]}[A["c1"].id]
    assert sorted((r["review_state"], r["label"]) for r in reviews) == [
        ("approved", "已通过"), ("corrected", "已更正"), ("received", "待审核")]


def test_late_corrections_on_the_dashboard_after_the_deadline(client, app, A, monkeypatch):
    late = _visit(client, A)
    fixed = _visit(client, A)
    _return(client, A, late)
    _return(client, A, fixed)
    token = login(client, A["teacher"].username)
    post(client, token, [visit(A["c1"], corrects_id=fixed.id)])
    login(client, A["principal"].username)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "逾期未更正（0 条）" in html  # within the deadline
    days = app.config["CORRECTION_DAYS"]
    monkeypatch.setattr("app.duties.routes.today_local", lambda: today_local() + timedelta(days=days))
    assert "逾期未更正（0 条）" in client.get("/dashboard/").get_data(as_text=True)  # the last day still counts
    monkeypatch.setattr("app.duties.routes.today_local", lambda: today_local() + timedelta(days=days + 1))
    html = client.get("/dashboard/").get_data(as_text=True)
    section = html[html.index('id="late-corrections"'):]
    assert "逾期未更正（1 条）" in section and REASON in section
    assert re.findall(r'data-record="(\d+)"', section) == [str(late.id)]
