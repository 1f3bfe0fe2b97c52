"""Counselling stays with counsellors: the principal and the archive see that a session took place, never its text or
photos; a high-risk note alerts the principals once, without content, and offers the counsellor an emergency report."""
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.clock import CHINA, as_utc
from app.extensions import db
from app.models import Notification, Record
from app.notify.push import payload
from app.verify.evidence import EVIDENCE_KINDS

from . import imaging
from .builders import ingest_ok, item, local_iso, post, put_photo
from .conftest import login, page_csrf

TOPIC = "与同学冲突后的情绪疏导"
SUMMARY = "孩子说起父母离婚的事，晚上睡不着（保密）"
PLAN = "下周二再约一次，观察睡眠"
TEXTS = (TOPIC, SUMMARY, PLAN)


def _note(client, counsellor, child, risk=None, photo_seed=None) -> tuple[Record, str | None, dict]:
    """A counselling note sent by `counsellor` through the sync API (with a photo when `photo_seed`)."""
    token = login(client, counsellor.username)
    sha = None
    if photo_seed is not None:
        data = imaging.jpeg(seed=photo_seed)
        assert put_photo(client, token, data).status_code in (200, 201)
        sha = imaging.sha(data)
    fields = {"topic": TOPIC, "summary": SUMMARY, "plan": PLAN} | ({"risk": risk} if risk else {})
    rec = item("counselling", child, local_iso(timedelta(hours=-1)), fields, [sha] if sha else [])
    assert post(client, token, [rec]).get_json()["results"][0]["status"] == "created"
    client.delete("/api/v1/session")
    return db.session.scalar(select(Record).where(Record.client_id == rec["id"])), sha, rec


def _no_text(html: str) -> None:
    for text in TEXTS:
        assert text not in html


def test_principal_sees_date_child_and_counsellor_but_no_text_or_photo(client, world):
    a = world["A"]
    rec, sha, _ = _note(client, a["counsellor"], a["c1"], photo_seed=11)
    login(client, a["principal"].username)

    html = client.get(f"/records/{rec.id}").get_data(as_text=True)
    _no_text(html)
    assert a["c1"].name in html and a["counsellor"].name in html and "心理辅导" in html
    assert as_utc(rec.occurred_at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M") in html  # the date
    assert 'id="content-withheld"' in html and sha not in html
    for variant in ("thumb", "full"):
        assert client.get(f"/photos/{sha}/{variant}").status_code == 404

    for url in (f"/children/{a['c1'].id}/records", f"/children/{a['c1'].id}/records?kind=counselling"):
        html = client.get(url).get_data(as_text=True)
        assert f"/records/{rec.id}" in html  # the session is listed
        _no_text(html)
        assert sha not in html and "内容保密" in html

    html = client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    assert f"record-{rec.id}" in html and a["counsellor"].name in html  # the session's row
    _no_text(html)
    assert sha not in html

    for url in ("/review/", "/records/returned", "/api/v1/roster", "/reports/roster.xlsx", "/reports/monthly",
                "/audit/", "/notifications/", "/api/v1/notifications"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        if not url.endswith(".xlsx"):
            _no_text(resp.get_data(as_text=True))
    assert "counselling" not in EVIDENCE_KINDS  # never in the review queue


def test_counsellors_of_the_school_read_it_and_the_archive_never_prints_it(client, world, build):
    a = world["A"]
    rec, sha, _ = _note(client, a["counsellor"], a["c1"], photo_seed=13)
    colleague = build.user("counsellor", a["school"], username="counsellor_colleague")
    login(client, colleague.username)
    html = client.get(f"/records/{rec.id}").get_data(as_text=True)
    assert all(t in html for t in TEXTS) and sha in html
    assert client.get(f"/photos/{sha}/thumb").status_code == 200
    assert SUMMARY[:20] in client.get(f"/children/{a['c1'].id}/records").get_data(as_text=True)
    # The printed archive is passed around: even a counsellor's copy lists the session without its text.
    html = client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    assert f"record-{rec.id}" in html
    _no_text(html)
    assert sha not in html
    client.delete("/api/v1/session")

    login(client, world["B"]["counsellor"].username)
    assert client.get(f"/records/{rec.id}").status_code == 404
    assert client.get(f"/photos/{sha}/thumb").status_code == 404


@pytest.mark.parametrize("who", ["teacher", "committee", "admin"])
def test_teachers_committee_and_admin_see_nothing_of_it(client, world, who):
    a = world["A"]
    rec, sha, _ = _note(client, a["counsellor"], a["c1"], photo_seed=14)
    login(client, a[who].username)
    assert client.get(f"/records/{rec.id}").status_code == 404
    assert client.get(f"/photos/{sha}/thumb").status_code == 404
    if who != "admin":
        for url in (f"/children/{a['c1'].id}/records", f"/reports/children/{a['c1'].id}/archive"):
            html = client.get(url).get_data(as_text=True)
            assert f"/records/{rec.id}" not in html and f"record-{rec.id}" not in html, url
            _no_text(html)


def _alerts(user=None) -> list[Notification]:
    q = select(Notification).where(Notification.kind == "counselling")
    if user is not None:
        q = q.where(Notification.user_id == user.id)
    return db.session.scalars(q).all()


def test_high_risk_alerts_every_principal_once_without_content(client, world, build):
    a = world["A"]
    second = build.user("principal", a["school"], username="principal_deputy")
    rec, _sha, sent = _note(client, a["counsellor"], a["c1"], risk="high")
    assert rec.fields["risk"] == "high"
    alerts = _alerts()
    assert sorted(n.user_id for n in alerts) == sorted([a["principal"].id, second.id])
    for n in alerts:
        assert "高风险" in n.text and n.url == f"/records/{rec.id}"
        for secret in (*TEXTS, a["c1"].name):
            assert secret not in n.text and secret not in payload(n)

    # The principal's API and page carry the same content-free text; the link opens the metadata page.
    login(client, a["principal"].username)
    body = str(client.get("/api/v1/notifications").get_json())
    assert "高风险" in body
    for secret in TEXTS:
        assert secret not in body
    html = client.get(f"/records/{rec.id}").get_data(as_text=True)
    assert 'id="high-risk"' in html and a["counsellor"].name in html
    _no_text(html)
    client.delete("/api/v1/session")

    # The phone resends the same note (its answer was lost): stored once, alerted once.
    token = login(client, a["counsellor"].username)
    assert post(client, token, [sent]).get_json()["results"][0]["status"] == "duplicate"
    assert len(_alerts()) == 2
    assert not _alerts(world["B"]["principal"]) and not _alerts(a["counsellor"])


@pytest.mark.parametrize("risk", [None, "none", "low", "medium"])
def test_no_alert_below_high(client, world, risk):
    a = world["A"]
    rec, _sha, _ = _note(client, a["counsellor"], a["c1"], risk=risk)
    assert rec.fields["risk"] == (risk or "none")  # optional, default none
    assert _alerts() == []
    login(client, a["counsellor"].username)
    assert 'id="open-emergency"' not in client.get(f"/records/{rec.id}").get_data(as_text=True)


def test_risk_must_be_a_known_level(client, world):
    a = world["A"]
    token = login(client, a["counsellor"].username)
    rec = item("counselling", a["c1"], local_iso(timedelta(hours=-1)), {"topic": "x", "summary": "y", "risk": "extreme"})
    res = post(client, token, [rec]).get_json()["results"][0]
    assert res["status"] == "rejected" and "fields.risk" in res["errors"]


def test_counsellor_saving_a_high_risk_note_is_offered_an_emergency(client, world):
    a = world["A"]
    login(client, a["counsellor"].username)
    page = client.get(f"/records/new/counselling?child={a['c1'].id}").get_data(as_text=True)
    assert re.search(r'name="risk" value="none" checked', page)  # the default is preselected
    form = {"csrf_token": page_csrf(page), "client_id": "6f1c1c9e-1b0a-4c59-9a57-3c1d1f6b8a21", "child_id": a["c1"].id,
            "occurred_at": local_iso(timedelta(hours=-1))[:16], "topic": TOPIC, "summary": SUMMARY, "risk": "high"}
    r = client.post("/records/new/counselling", data=form)
    rec = db.session.scalar(select(Record).where(Record.client_id == form["client_id"]))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/records/{rec.id}")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已提醒校长" in html and 'id="open-emergency"' in html
    link = re.search(r'id="open-emergency" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link == f"/incidents/new?child={a['c1'].id}&category=crisis"
    emergency = client.get(link).get_data(as_text=True)
    assert re.search(r'value="crisis" checked', emergency) and "心理危机" in emergency
    assert re.search(rf'<option value="{a["c1"].id}" selected', emergency)
    assert len(_alerts(a["principal"])) == 1


def test_principal_exports_carry_no_counselling_text(client, world):
    a = world["A"]
    ingest_ok(a["counsellor"], [item("counselling", a["c1"], local_iso(timedelta(hours=-1)),
                                     {"topic": TOPIC, "summary": SUMMARY, "plan": PLAN})])
    db.session.commit()
    login(client, a["principal"].username)
    for url in ("/reports/roster.xlsx", "/reports/monthly.xlsx", f"/reports/term-record.xlsx?teacher={a['teacher'].id}"):
        r = client.get(url)
        if r.status_code == 404:  # no term configured in this world
            continue
        assert r.status_code == 200, url
        wb = load_workbook(io.BytesIO(r.data))
        text = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None)
        _no_text(text)
    assert db.session.scalar(select(func.count()).select_from(Record).where(Record.kind == "counselling")) == 1
