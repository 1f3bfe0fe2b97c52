"""Builders the test files share: sync API items, calls to the sync API, records stored directly, racing requests.

The database builders that need the app (schools, users, children, the two-school world) are in conftest.py.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Record
from app.records.services import ingest

from . import imaging
from .conftest import login

CHINA = timezone(timedelta(hours=8))

# Valid fields for each kind the sync API takes (a test overrides what it looks at).
FIELDS = {
    "home_visit": {"purpose": "了解学习", "met_person": "奶奶", "told_guardian": "表现良好", "study_rating": "good",
                   "life_rating": "good", "psychology_rating": "good", "safety_rating": "good"},
    "talk": {"topic": "学习", "mood": "calm", "summary": "聊了学习"},
    "contact": {"counterpart": "both_parents", "direction": "teacher_to_family", "channel": "phone", "duration_min": 10,
                "summary": "报平安"},
    "counselling": {"topic": "情绪", "summary": "聊了情绪"},
    "handover": {"caretaker": "奶奶", "place": "村里家中", "reach": "奶奶电话 13800000000", "safety": "不去河边玩水",
                 "guardian_acknowledged": True, "guardian_name": "王奶奶"},
}


def local_iso(delta=timedelta()) -> str:
    """Now plus `delta` in China time, as the phone sends it (seconds, with +08:00)."""
    return (datetime.now(CHINA) + delta).isoformat(timespec="seconds")


def item(kind: str, child, occurred_at: str, fields=None, photos=()) -> dict:
    """One record as the phone sends it, with a new client id; `fields` default to FIELDS[kind]."""
    return {"id": str(uuid.uuid4()), "kind": kind, "child_id": getattr(child, "id", child), "occurred_at": occurred_at,
            "fields": dict(FIELDS[kind] if fields is None else fields), "photos": list(photos)}


def visit(child, photos=(), **over) -> dict:
    """A complete home visit two hours ago, with a location; `over` replaces top-level keys."""
    rec = {
        "id": str(uuid.uuid4()), "kind": "home_visit", "child_id": child.id, "occurred_at": local_iso(timedelta(hours=-2)),
        "fields": {"purpose": "了解假期学习情况", "guardian_present": True, "met_person": "奶奶", "met_relationship": "祖母",
                   "told_guardian": "在校表现良好", "study_rating": "good", "life_rating": "fair", "psychology_rating": "good",
                   "safety_rating": "concern", "safety_note": "家门口有水塘", "follow_up": "每周电话", "next_visit_plan": "下月"},
        "photos": list(photos), "location": {"lat": 24.33, "lon": 109.42, "accuracy_m": 25},
    }
    rec.update(over)
    return rec


def ingest_ok(user, items: list[dict]) -> list[Record]:
    """Store items as `user` through the sync rules (no HTTP), insist each was created; return the Records."""
    res = ingest(user, items)
    assert all(r["status"] == "created" for r in res), res
    return [db.session.scalar(select(Record).where(Record.client_id == i["id"])) for i in items]


def put_photo(client, token, data, name=None, ctype="image/jpeg"):
    return client.put(f"/api/v1/photos/{name or imaging.sha(data)}", data=data, content_type=ctype, headers={"X-CSRFToken": token})


def post(client, token, records):
    """POST /api/v1/records with these items."""
    return client.post("/api/v1/records", json={"records": records}, headers={"X-CSRFToken": token})


def race(app, username, call, n=6) -> list[tuple[int, dict]]:
    """Log n clients in as `username`, then let them all `call(client, token)` at once; return (status, JSON) pairs."""
    clients = [app.test_client() for _ in range(n)]
    tokens = [login(c, username) for c in clients]
    barrier = threading.Barrier(n)
    answers, errors = [], []

    def worker(c, tok):
        barrier.wait()
        try:
            r = call(c, tok)
            answers.append((r.status_code, r.get_json()))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=ct) for ct in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return answers


def only_rules(school_id: int, specs) -> None:
    """Switch the policy's default rules off and give the school these of its own: (kind, period, times[, season]);
    calendar periods run all year unless told, as they did when each kind had one rule."""
    from app.duties.services import DEFAULT_RULES
    from app.extensions import db
    from app.models import DutyRule

    for d in DEFAULT_RULES:
        db.session.add(DutyRule(school_id=school_id, key=d.key, kind=d.kind, period=d.period, times=d.times,
                                season=d.season, filter=d.filters, active=False))
    for kind, period, times, *season in specs:
        db.session.add(DutyRule(school_id=school_id, kind=kind, period=period, times=times,
                                season=season[0] if season else ("term" if period == "term" else "all_year")))
    db.session.flush()
