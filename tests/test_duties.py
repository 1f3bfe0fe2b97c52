"""Duties: periods and terms with fixed dates in Asia/Shanghai, what counts, the teacher's list, the dashboard."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.duties import services as duty
from app.duties.services import Window, window
from app.extensions import db
from app.models import DutyRule, Record, Term

from .builders import ingest_ok, item
from .conftest import login, page_csrf


def _talk(child, when: str) -> dict:
    return item("talk", child, when)


# --- periods ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period,today,current,previous", [
    ("week", date(2027, 1, 1), (date(2026, 12, 28), date(2027, 1, 3)), (date(2026, 12, 21), date(2026, 12, 27))),
    ("week", date(2026, 11, 16), (date(2026, 11, 16), date(2026, 11, 22)), (date(2026, 11, 9), date(2026, 11, 15))),
    ("month", date(2026, 3, 31), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 1), date(2026, 2, 28))),
    ("month", date(2026, 1, 5), (date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 12, 1), date(2025, 12, 31))),
    ("quarter", date(2026, 2, 10), (date(2026, 1, 1), date(2026, 3, 31)), (date(2025, 10, 1), date(2025, 12, 31))),
    ("quarter", date(2026, 12, 31), (date(2026, 10, 1), date(2026, 12, 31)), (date(2026, 7, 1), date(2026, 9, 30))),
])
def test_calendar_periods(app, build, period, today, current, previous):
    school = build.school()
    assert window(period, today, school.id) == Window(*current)
    assert window(period, today, school.id, previous=True) == Window(*previous)


def test_term_windows_default_and_stored(app, build):
    school = build.school()
    # defaults: spring 2/20–7/10, autumn 9/1–1/20; the summer holiday has no current term
    assert window("term", date(2026, 10, 8), school.id) == Window(date(2026, 9, 1), date(2027, 1, 20))
    assert window("term", date(2026, 10, 8), school.id, previous=True) == Window(date(2026, 2, 20), date(2026, 7, 10))
    assert window("term", date(2026, 8, 15), school.id) is None
    assert window("term", date(2027, 1, 20), school.id).end == date(2027, 1, 20)  # last day still inside
    assert window("term", date(2027, 1, 21), school.id) is None
    db.session.add_all([Term(school_id=school.id, name="秋季", starts_on=date(2026, 8, 31), ends_on=date(2027, 1, 15)),
                        Term(school_id=school.id, name="春季", starts_on=date(2026, 3, 2), ends_on=date(2026, 7, 3))])
    db.session.commit()
    assert window("term", date(2026, 8, 31), school.id) == Window(date(2026, 8, 31), date(2027, 1, 15))
    assert window("term", date(2026, 8, 31), school.id, previous=True) == Window(date(2026, 3, 2), date(2026, 7, 3))


def test_week_boundary_is_china_midnight(app, world):
    """Sunday 23:30 in China (15:30 UTC) belongs to that week; Monday 00:30 in China (Sunday 16:30 UTC) to the next."""
    a = world["A"]
    ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-15T23:30:00+08:00"), _talk(a["c1"], "2026-11-15T16:30:00Z")])
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, date(2026, 11, 16))
    assert counts[a["c1"].id]["talk"] == {"current": 1, "previous": 1}  # keyed by rule: the default talk rule


def test_returned_records_do_not_count_until_corrected(app, world):
    a = world["A"]
    [rec] = ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-17T10:00:00+08:00")])
    today = date(2026, 11, 18)
    rule = next(r for r in duty.plan(a["school"].id, today) if r["kind"] == "talk")
    status = lambda: duty.status(rule, duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, today)  # noqa: E731
                                 .get(a["c1"].id, {}).get("talk"))
    assert status() == "done"
    rec.review_state = "returned"
    db.session.commit()
    assert status() == "overdue"  # nothing in the previous week either
    fix = _talk(a["c1"], "2026-11-17T10:00:00+08:00")
    fix["corrects_id"] = rec.id
    ingest_ok(a["teacher"], [fix])
    assert status() == "done" and db.session.get(Record, rec.id).review_state == "corrected"


def test_status_rules():
    rule = {"times": 2, "current": {"start": "x"}, "previous": {"start": "y"}}
    assert duty.status(rule, {"current": 2, "previous": 0}) == "done"
    assert duty.status(rule, {"current": 1, "previous": 2}) == "due"
    assert duty.status(rule, {"current": 1, "previous": 1}) == "overdue"
    assert duty.status({"times": 1, "current": None, "previous": {"s": 1}}, {"previous": 1}) == "none"  # holidays
    assert duty.status({"times": 1, "current": None, "previous": {"s": 1}}, {}) == "none"  # nothing owed out of season


def _rules(school_id):
    return [(r.key, r.kind, r.period, r.times, r.season, r.filters) for r in duty.rules_for(school_id)]


def test_rules_are_editable_and_validated(client, world):
    a = world["A"]
    sid = a["school"].id
    assert [(k, p, s) for k, _kind, p, _t, s, _f in _rules(sid)] == [
        ("home_visit", "term", "term"), ("talk", "week", "term"), ("family_call", "week", "term"),
        ("report_parents", "month", "term"), ("guardian_meeting", "quarter", "all_year"),
        ("holiday_contact", "fortnight", "holiday"),
        ("handover", "before_holiday", "term")]
    login(client, a["principal"].username)
    token = page_csrf(client.get("/duties/settings").get_data(as_text=True))
    base = {"csrf_token": token, "what": "save_rule", "key": "talk", "kind": "talk", "period": "week", "times": "2",
            "season": "term", "label": ""}
    assert client.post("/duties/settings", data=base).status_code == 302
    assert ("talk", "talk", "week", 2, "term", {}) in _rules(sid)
    # A second talk rule of its own, with a filter on an enum field: low or anxious children get a talk all year.
    add = dict(base, what="add_rule", period="week", times="1", season="all_year", label="情绪低落的孩子")
    add["filter-mood"] = ["low", "anxious"]
    assert client.post("/duties/settings", data=add).status_code == 302
    defaults = {d.key for d in duty.DEFAULT_RULES}
    own = [r for r in _rules(sid) if r[0] not in defaults]
    assert [(k, p, s, f) for _key, k, p, _t, s, f in own] == [("talk", "week", "all_year", {"mood": ["anxious", "low"]})]
    # Bad input: clear Chinese errors, nothing saved.
    for bad, message in (({"times": "0"}, "次数应在 1 到 30 之间"), ({"period": "daily"}, "请选择频率"),
                         ({"season": "winter"}, "请选择适用时间"), ({"period": "term", "season": "all_year"}, "只能在学期中"),
                         ({"filter-mood": ["sleepy"]}, "筛选条件无效"), ({"kind": "counselling"}, "请选择记录类型"),
                         ({"key": "r999999"}, "找不到这条规则")):
        r = client.post("/duties/settings", data=dict(base, **bad))
        assert r.status_code == 400 and message in r.get_data(as_text=True), bad
    assert db.session.scalar(select(DutyRule.times).where(DutyRule.key == "talk")) == 2
    # Switch a default off and back on; remove the school's own rule.
    assert client.post("/duties/settings", data={"csrf_token": token, "what": "remove_rule", "key": "report_parents"}).status_code == 302
    assert "report_parents" not in [r[0] for r in _rules(sid)]
    assert "已停用" in client.get("/duties/settings").get_data(as_text=True)
    assert client.post("/duties/settings", data={"csrf_token": token, "what": "restore_rule", "key": "report_parents"}).status_code == 302
    assert "report_parents" in [r[0] for r in _rules(sid)]
    assert client.post("/duties/settings", data={"csrf_token": token, "what": "remove_rule", "key": own[0][0]}).status_code == 302
    assert not [r for r in _rules(sid) if r[0] not in defaults]
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "add_term", "name": "秋季",
                                              "starts_on": "2026-09-01", "ends_on": "2027-01-15"})
    assert r.status_code == 302
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "add_term", "name": "重叠",
                                              "starts_on": "2026-12-01", "ends_on": "2027-02-01"})
    assert r.status_code == 400 and "重叠" in r.get_data(as_text=True)
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "add_term", "name": "倒",
                                              "starts_on": "2027-07-01", "ends_on": "2027-03-01"})
    assert r.status_code == 400 and "结束日期应在开始日期之后" in r.get_data(as_text=True)
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "add_term", "name": "x", "starts_on": "明天"})
    assert r.status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(Term)) == 1
    for who in ("teacher", "committee", "counsellor", "admin"):
        login(client, a[who].username)
        assert client.get("/duties/settings").status_code == 403
        assert client.get("/dashboard/").status_code == 403


def test_teacher_list_overdue_first_and_cleared_by_a_record(client, world):
    a = world["A"]
    login(client, a["teacher"].username)
    html = client.get("/duties/").get_data(as_text=True)
    assert a["c1"].name in html and a["c2"].name not in html  # only their own children
    if duty.windows_on(duty.DEFAULT_RULES[1], clock.today_local() - timedelta(days=7), a["school"].id)[0]:
        assert html.count('class="duty overdue"') >= 2  # in term time: no talk last week, no call last week
    today = clock.today_local()
    talk = _talk(a["c1"], f"{today.isoformat()}T00:05:00+08:00")
    ingest_ok(a["teacher"], [talk])
    rows = duty.duties_for(a["teacher"], [a["c1"]], today)
    assert "talk" not in {r["kind"] for r in rows}
    assert [r["status"] for r in rows] == sorted((r["status"] for r in rows), key=lambda s: s != "overdue")
    roster = client.get("/api/v1/roster").get_json()
    d = roster["duties"]
    assert [r["key"] for r in d["rules"]] == [r.key for r in duty.DEFAULT_RULES]
    talk_rule = next(r for r in d["rules"] if r["key"] == "talk")
    if talk_rule["current"]:
        assert d["counts"][str(a["c1"].id)]["talk"]["current"] == 1
    assert d["today"] == today.isoformat()
    login(client, a["committee"].username)
    assert client.get("/api/v1/roster").get_json()["duties"] is None


def test_dashboard_coverage_and_overdue_in_sql(client, build, world):
    a = world["A"]
    extra = build.child(a["school"], a["v1"], a["teacher"], class_name="三(2)班")
    today = clock.today_local()
    ingest_ok(a["teacher"], [_talk(a["c1"], f"{today.isoformat()}T00:05:00+08:00")])
    by_class = {r["label"]: r for r in duty.coverage(a["school"].id, today, "class")}
    assert by_class["三(1)班"]["children"] == 2 and by_class["三(1)班"]["talk"] == 1
    assert by_class["三(2)班"]["children"] == 1 and by_class["三(2)班"]["talk"] == 0
    by_teacher = {r["key"]: r for r in duty.coverage(a["school"].id, today, "teacher")}
    assert by_teacher[a["teacher"].id]["children"] == 2 and by_teacher[a["teacher"].id]["talk"] == 1
    assert by_teacher[a["other_teacher"].id]["children"] == 1
    by_village = {r["label"]: r["children"] for r in duty.coverage(a["school"].id, today, "village")}
    assert by_village == {"A1村": 2, "A2村": 1}
    total, rows = duty.overdue_children(a["school"].id, today)
    assert total == 3 and {r["id"] for r in rows} == {a["c1"].id, a["c2"].id, extra.id}
    c1 = next(r for r in rows if r["id"] == a["c1"].id)
    assert "talk" not in c1["rules"]
    weeks = duty.trend(a["school"].id, today)
    assert len(weeks) == 12 and weeks[-1]["talk"] == 1 and sum(w["talk"] for w in weeks) == 1
    login(client, a["principal"].username)
    html = client.get("/dashboard/?by=village").get_data(as_text=True)
    assert "A1村" in html and "<svg" in html and world["B"]["c1"].name not in html
    assert client.get("/dashboard/?by=nonsense").status_code == 200
    # The bars show their value under the CSP (no style= attribute): 1 of 2 children talked to in 三(1)班 is half a bar.
    html = client.get("/dashboard/?by=class").get_data(as_text=True)
    assert 'class="pct-50"' in html and 'class="pct-0"' in html and "style=" not in html


def test_no_template_uses_a_style_attribute():
    """style-src 'self' blocks every style= attribute (the dashboard's bars once all drew full width)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "templates"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html") if re.search(r"\sstyle\s*=", p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("today", [date(2026, 11, 23), date(2026, 11, 29), date(2026, 8, 15), date(2026, 9, 1)])
def test_city_views_agree_with_the_schools_own(app, build, world, today):
    """The bureau's city queries (the duty tally, and records only for the odd ones) give what each school's own
    dashboard gives; the tally is each child's latest counting record of each kind, also after review decisions."""
    import random
    from datetime import datetime, time, timedelta

    rng = random.Random(today.toordinal())
    kids = []
    for name in ("A", "B"):
        w = world[name]
        kids += [(w["c1"], w["teacher"]), (w["c2"], w["other_teacher"])]
        for i in range(6):
            kids.append((build.child(w["school"], w["v1"], w["teacher"], class_name=f"{i % 2 + 1}班"), w["teacher"]))
    left = kids[3][0]
    left.left_on = today - timedelta(days=3)  # left the school: counted nowhere, though it has records
    start = today - timedelta(days=70)
    for child, teacher in kids:
        for _ in range(rng.randrange(0, 12)):
            day = start + timedelta(days=rng.randrange((today - start).days + 1))
            db.session.add(Record(client_id=str(uuid.uuid4()), kind=rng.choice(duty.DUTY_KINDS), child_id=child.id,
                                  author_id=teacher.id, school_id=child.school_id, fields={},
                                  occurred_at=datetime.combine(day, time(rng.randrange(24)), clock.CHINA),
                                  review_state=rng.choice(("received", "approved", "returned", "corrected"))))
    # A record from the first minutes of the next week (a phone clock a little ahead), not in this week.
    next_week = today + timedelta(days=7 - today.weekday())
    db.session.add(Record(client_id=str(uuid.uuid4()), kind="talk", child_id=kids[0][0].id, author_id=kids[0][1].id,
                          school_id=kids[0][0].school_id, fields={}, review_state="received",
                          occurred_at=datetime.combine(next_week, time(0, 5), clock.CHINA)))
    db.session.commit()
    # Review decisions after the fact: the tally must step back when a child's latest record stops counting.
    stored = list(db.session.scalars(select(Record).order_by(Record.occurred_at.desc())))
    for r in stored[:40:3]:
        r.review_state = "returned" if r.review_state in duty.COUNTING_STATES else "approved"
    db.session.commit()
    from app.models import DutyTally

    latest: dict = {}
    for r in db.session.scalars(select(Record).where(Record.review_state.in_(duty.COUNTING_STATES))):
        key = (r.child_id, r.kind)
        latest[key] = max(latest.get(key, r.occurred_at), r.occurred_at)
    for t in db.session.scalars(select(DutyTally)):
        assert (t.home_visit_at, t.talk_at, t.contact_at) == tuple(latest.get((t.child_id, k)) for k in duty.DUTY_KINDS)
    assert {c for c, _k in latest} <= set(db.session.scalars(select(DutyTally.child_id)))
    expected_cov, expected_overdue = [], 0
    for school_id in sorted({c.school_id for c, _t in kids}):
        rows = duty.coverage(school_id, today, "class", rules=duty.CITY_RULES)
        cov = {"school_id": school_id, "children": sum(r["children"] for r in rows)}
        for kind in duty.DUTY_KINDS:
            if rows[0][kind] is not None:
                cov[kind] = sum(r[kind] for r in rows)
        expected_cov.append(cov)
        expected_overdue += duty.overdue_children(school_id, today, rules=duty.CITY_RULES)[0]
    assert duty.city_coverage(today) == expected_cov
    assert duty.city_overdue_count(today) == expected_overdue
    if today.month == 8:  # the summer holiday: every duty of the city's rules paused
        assert expected_overdue == 0 and all(set(c) == {"school_id", "children"} for c in expected_cov)
    else:
        assert expected_overdue > 0 and any(c.get("talk") or c.get("contact") for c in expected_cov)


def test_rebuild_tallies_repairs_a_tally_written_around_the_app(app, build, world, runner):
    """Core writes skip the flush hook (a bulk load, a hand edit): `flask rebuild-tallies` puts the tally right."""
    from sqlalchemy import update

    from app.models import DutyTally

    a = world["A"]
    ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-17T10:00:00+08:00"), _talk(a["c1"], "2026-11-20T10:00:00+08:00")])
    first = db.session.get(DutyTally, a["c1"].id).talk_at
    assert first.isoformat() == "2026-11-20T02:00:00+00:00"
    db.session.execute(update(Record).where(Record.occurred_at == first).values(review_state="returned"))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(DutyTally, a["c1"].id).talk_at == first  # the hand edit went around the hook
    out = runner.invoke(args=["rebuild-tallies"])
    assert out.exit_code == 0 and "duty tally rebuilt" in out.output
    db.session.expire_all()
    assert db.session.get(DutyTally, a["c1"].id).talk_at.isoformat() == "2026-11-17T02:00:00+00:00"


def test_review_return_racing_a_new_record_of_the_same_child_keeps_the_newer_time(app, world):
    """PostgreSQL, READ COMMITTED: a review return recomputes the child's tally row while another transaction has just
    written a newer record of that child and not yet committed. The recompute must wait and then see it, not write
    the older time over the newer one once the other commits."""
    import threading
    import time
    from datetime import datetime, timezone

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.models import DutyTally

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite lets one writer in at a time")
    a = world["A"]
    (t1,) = ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-17T10:00:00+08:00")])
    t1_id, child_id, school_id, author_id = t1.id, a["c1"].id, a["school"].id, a["teacher"].id
    db.session.commit()

    newer = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    other = Session(db.engine)  # the phone's sync: new record flushed (the tally row is now locked), not committed
    other.add(Record(client_id=str(uuid.uuid4()), kind="talk", child_id=child_id, author_id=author_id,
                     school_id=school_id, occurred_at=newer, fields={"topic": "学习", "mood": "calm", "summary": "聊了"}))
    other.flush()

    errors = []

    def principal_returns_t1():
        try:
            with app.app_context():
                db.session.get(Record, t1_id).review_state = "returned"
                db.session.commit()
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    th = threading.Thread(target=principal_returns_t1)
    th.start()
    waited = False
    try:
        with db.engine.connect() as watch:  # wait until the review's transaction is blocked on the tally row
            deadline = time.monotonic() + 60  # generous: a loaded CI machine can take seconds to get there
            while not waited and time.monotonic() < deadline:
                waited = bool(watch.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                                "AND datname = current_database()")))
                # pg_stat_activity is a snapshot kept until the transaction ends: without this, a first look taken
                # before the review started waiting was all the loop ever saw (the test failed only under load).
                watch.rollback()
                time.sleep(0.05)
    finally:
        # Always end the other transaction, or its locks would hang the test's teardown for ever.
        other.commit()
        other.close()
        th.join(60)
    assert waited, ("the review never waited for the other transaction", errors)
    assert not th.is_alive() and not errors, errors
    db.session.expire_all()
    assert db.session.get(DutyTally, child_id).talk_at == newer


def test_counts_for_is_one_query_whatever_the_rules_and_counts_each_window(app, world):
    """The roster's counts: one grouped query (it was one per rule and window), each window counted on its own."""
    from sqlalchemy import event

    a = world["A"]
    ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-17T10:00:00+08:00"), _talk(a["c1"], "2026-11-18T10:00:00+08:00"),
                             _talk(a["c1"], "2026-11-10T10:00:00+08:00"), _talk(a["c1"], "2026-11-01T10:00:00+08:00")])
    today = date(2026, 11, 18)
    assert len([w for r in duty.rules_for(a["school"].id) for w in duty.windows_on(r, today, a["school"].id) if w]) > 2
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        counts = duty.counts_for(select(Record.child_id).distinct(), a["school"].id, today)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert len([s for s in statements if "count" in s.lower()]) == 1
    assert counts[a["c1"].id]["talk"] == {"current": 2, "previous": 1}  # the talk of 11-01 is in neither week
