"""The monthly report sent to the county bureau: news items, states, deadline, frozen aggregates, access to its photos."""
from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Incident, MonthlySubmission, Notification, Photo
from app.reports.monthly import monthly_report, parse_month
from app.reports.submission import (SubmissionError, add_news, county_table, deadline, decide, draft_for,
                                    frozen_report, is_late, snapshot, submit)

from . import imaging
from .builders import ingest_ok, visit
from .conftest import login, page_csrf

CHINA = timezone(timedelta(hours=8))
OCT = date(2026, 10, 1)
DUE = deadline(OCT)  # the end of 5 November, China time


def _news(sub, user, n=2):
    for i in range(n):
        add_news(sub, user, f"家访活动{i}", "本月组织教师走访留守儿童家庭。", [])


def _texts(user) -> list[str]:
    return list(db.session.scalars(select(Notification.text).where(Notification.user_id == user.id)))


def test_deadline_is_the_fifth_of_the_next_month():
    assert DUE == datetime(2026, 11, 6, 0, 0, tzinfo=CHINA)
    assert deadline(date(2026, 12, 1)) == datetime(2027, 1, 6, tzinfo=CHINA)


def test_states_draft_submitted_returned_resubmitted_received(app, world):
    a, bureau = world["A"], world["bureau"]
    sub = draft_for(a["school"].id, OCT)
    assert sub.state == "draft"
    _news(sub, a["principal"], 1)
    with pytest.raises(SubmissionError) as e:  # 信息每月不少于2条
        submit(sub, a["principal"], now=DUE - timedelta(days=2))
    assert e.value.field == "news" and sub.state == "draft"
    _news(sub, a["principal"], 1)
    with pytest.raises(SubmissionError):  # October is not over yet
        submit(sub, a["principal"], now=datetime(2026, 10, 31, 20, tzinfo=CHINA))
    submit(sub, a["principal"], now=DUE - timedelta(days=2))
    db.session.commit()
    assert sub.state == "submitted" and not is_late(sub) and sub.snapshot is not None
    assert any("学校A" in t and "2026-10" in t for t in _texts(bureau))
    assert _texts(world["far_bureau"]) == []
    with pytest.raises(SubmissionError):  # sent: no more edits until returned
        add_news(sub, a["principal"], "再加一条", "内容", [])
    with pytest.raises(SubmissionError) as e:  # a return needs a comment
        decide(sub, bureau, False, "  ")
    assert e.value.field == "comment"
    decide(sub, bureau, False, "第二条信息缺少照片", now=DUE - timedelta(days=1))
    db.session.commit()
    assert sub.state == "returned" and sub.comment == "第二条信息缺少照片"
    assert any("退回" in t for t in _texts(a["principal"]))
    first = sub.first_submitted_at
    add_news(sub, a["principal"], "补充信息", "补充了照片说明。", [])
    submit(sub, a["principal"], now=DUE + timedelta(days=3))  # resubmitted after the deadline: still on time
    db.session.commit()
    assert sub.state == "resubmitted" and sub.first_submitted_at == first and not is_late(sub)
    decide(sub, bureau, True, None, now=DUE + timedelta(days=4))
    db.session.commit()
    assert sub.state == "received" and sub.comment is None and sub.decided_by_id == bureau.id
    assert any("接收" in t for t in _texts(a["principal"]))
    with pytest.raises(SubmissionError):
        decide(sub, bureau, False, "again")


def test_late_and_missing_on_the_bureau_table(app, world):
    a, b, bureau = world["A"], world["B"], world["bureau"]
    sub = draft_for(a["school"].id, OCT)
    _news(sub, a["principal"])
    submit(sub, a["principal"], now=DUE + timedelta(hours=1))
    draft_for(b["school"].id, OCT)  # B has a draft only: still missing
    db.session.commit()
    assert is_late(sub)
    before = {r["school"].name: r["months"][0]["key"] for r in county_table(bureau, [OCT], now=DUE - timedelta(hours=1))}
    assert before == {"学校A": "submitted", "学校B": "not_due"}
    after = {r["school"].name: (r["months"][0]["key"], r["months"][0]["late"])
             for r in county_table(bureau, [OCT], now=DUE + timedelta(days=1))}
    assert after == {"学校A": ("submitted", True), "学校B": ("missing", True)}
    assert county_table(world["far_bureau"], [OCT]) == []


def test_snapshot_is_frozen_and_names_no_child(app, world):
    a = world["A"]
    month = parse_month(None)  # last month: complete, so it can be submitted now
    when = datetime.combine(month + timedelta(days=9), datetime.min.time(), CHINA) + timedelta(hours=10)
    db.session.add(Incident(client_id=str(uuid.uuid4()), school_id=a["school"].id, child_id=a["c1"].id,
                            reported_by_id=a["teacher"].id, occurred_at=when, reported_at=when, category="injury",
                            description=f"{a['c1'].name}课间摔倒"))
    db.session.commit()
    sub = draft_for(a["school"].id, month)
    _news(sub, a["principal"])
    submit(sub, a["principal"])
    db.session.commit()
    text = json.dumps(sub.snapshot, ensure_ascii=False)
    inc_id = db.session.scalar(select(Incident.id))
    assert a["c1"].name not in text and "child" not in text and "课间摔倒" not in text
    assert [set(i) & {"id", "child_id"} for i in sub.snapshot["incidents"]] == [set()]
    assert sub.snapshot["incidents"][0]["no"] == 1 and sub.snapshot["incidents"][0]["category"] == "injury"
    assert sub.snapshot["total"]["incidents"] == 1 and inc_id
    # A file corrected later (a child's enrolment moved into that month) changes the live report, not what the
    # bureau received.
    a["c2"].enrolled_on = month + timedelta(days=3)
    db.session.commit()
    assert monthly_report(a["school"].id, month)["total"]["new"] == sub.snapshot["total"]["new"] + 1
    frozen = frozen_report(sub)
    assert frozen["total"] == sub.snapshot["total"] and frozen["month"].start == month
    assert snapshot(a["school"].id, month)["total"]["new"] == frozen["total"]["new"] + 1


def _record_photo(a) -> Photo:
    """A photo on one of the teacher's visits this month, which the principal may see and choose."""
    from app.photos.services import save_upload

    data = imaging.jpeg(seed=7)
    save_upload(a["teacher"], imaging.sha(data), data)
    ingest_ok(a["teacher"], [visit(a["c1"], photos=[imaging.sha(data)])])
    db.session.commit()
    return db.session.scalar(select(Photo).where(Photo.sha256 == imaging.sha(data)))


def test_pages_submit_and_bureau_receives_with_photo_access(app, client, world):
    a, b = world["A"], world["B"]
    month = parse_month(None)
    m = f"{month:%Y-%m}"
    picked = _record_photo(a)
    login(client, "principala")
    page = client.get(f"/reports/submission?month={m}")
    assert page.status_code == 200 and "草稿" in page.get_data(as_text=True)
    token = page_csrf(page.get_data(as_text=True))
    upload = imaging.jpeg(seed=9)
    # The current month is offered for choosing; a photo of another school's record cannot be slipped in.
    r = client.post(f"/reports/submission?month={m}", data={"csrf_token": token, "what": "add", "title": "家访周",
                                                               "body": "全体教师走访。", "photo": [str(picked.id)],
                                                               "upload": (io.BytesIO(upload), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    b_photo = _record_photo(b)
    r = client.post(f"/reports/submission?month={m}", data={"csrf_token": token, "what": "add", "title": "偷用",
                                                               "body": "x", "photo": [str(b_photo.id)]})
    assert r.status_code == 400 and "无权使用" in r.get_data(as_text=True)
    r = client.post(f"/reports/submission?month={m}", data={"csrf_token": token, "what": "submit"})
    assert r.status_code == 400 and "至少报送 2 条" in r.get_data(as_text=True)
    client.post(f"/reports/submission?month={m}", data={"csrf_token": token, "what": "add", "title": "亲情电话",
                                                         "body": "每周一次。"})
    r = client.post(f"/reports/submission?month={m}", data={"csrf_token": token, "what": "submit"})
    assert r.status_code == 302
    sub = db.session.scalar(select(MonthlySubmission).where(MonthlySubmission.school_id == a["school"].id))
    assert sub.state == "submitted" and [len(n.photos) for n in sub.news] == [2, 0]
    urls = [f"/reports/news-photos/{p.id}/thumb" for p in sub.news[0].photos]
    assert all(client.get(u).status_code == 200 for u in urls)

    # The county's bureau: the table, the report with its news and photos, and its decision.
    login(client, "bureaua")
    table = client.get("/bureau/reports/").get_data(as_text=True)
    assert "已报送" in table and "学校B" in table
    page = client.get(f"/bureau/reports/{sub.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "家访周" in html and urls[0] in html and a["c1"].name not in html
    assert all(client.get(u).status_code == 200 for u in urls)
    assert client.get(f"/photos/{picked.sha256}/thumb").status_code == 404  # not the record's own photo route
    r = client.post(f"/bureau/reports/{sub.id}", data={"csrf_token": page_csrf(html), "what": "receive"})
    assert r.status_code == 302
    db.session.refresh(sub)
    assert sub.state == "received"
    assert client.get("/reports/submission").status_code == 404  # a school page: the county's staff get 404

    # Nobody else: another county's bureau, another school's principal, a teacher of the school.
    for username in ("bureaufar", "principalb", "teachera"):
        login(client, username)
        assert [client.get(u).status_code for u in urls] == [404, 404], username
    assert client.get(f"/bureau/reports/{sub.id}").status_code == 403  # teachera: not a bureau page for them
    assert client.get("/reports/submission").status_code == 403
    login(client, "bureaufar")
    assert client.get(f"/bureau/reports/{sub.id}").status_code == 404
    login(client, "counsellora")
    assert client.get("/reports/submission").status_code == 403


def test_bureau_never_sees_a_draft(app, client, world):
    sub = draft_for(world["A"]["school"].id, OCT)
    _news(sub, world["A"]["principal"])
    db.session.commit()
    login(client, "bureaua")
    assert client.get(f"/bureau/reports/{sub.id}").status_code == 404


def test_housekeeping_keeps_news_photos(app, world):
    from app.photos.quota import housekeep
    from app.photos.services import save_upload

    p = world["A"]["principal"]
    data = imaging.jpeg(seed=11)
    photo = save_upload(p, imaging.sha(data), data).photo
    add_news(draft_for(world["A"]["school"].id, OCT), p, "标题", "内容", [photo])
    db.session.commit()
    housekeep(datetime.now(timezone.utc) + timedelta(days=30))
    assert db.session.get(Photo, photo.id) is not None


def test_demo_bureau1_sees_a_submitted_report(app, client):
    from app.demo import seed_demo, seed_demo_submission

    seed_demo()
    sub = seed_demo_submission()
    assert sub.state == "submitted" and not is_late(sub) and len(sub.news) == 2
    login(client, "bureau1", "demo12345")
    table = client.get("/bureau/reports/").get_data(as_text=True)
    assert "红岩乡中心小学" in table and "已报送" in table and "石门乡小学" in table
    html = client.get(f"/bureau/reports/{sub.id}").get_data(as_text=True)
    assert "家访月活动" in html and "亲情电话" in html
    assert client.get(f"/reports/news-photos/{sub.news[0].photos[0].id}/full").status_code == 200
