"""Duty rules with filters and seasons: a record counts toward every rule it matches; term-time rules pause in the
holidays (no due item, no overdue, no reminder); the holiday handover is due before each holiday and the village
committee acknowledges it as it confirms visits."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.clock import CHINA
from app.duties import services as duty
from app.extensions import db
from app.models import DutyRule, Notification, Record
from app.notify.reminders import duty_reminders

from .builders import ingest_ok, item
from .conftest import login, page_csrf


def _rows(a, day: date, children=None) -> list[tuple]:
    return [(r["child"].id, r["rule"], r["status"]) for r in duty.duties_for(a["teacher"], children or [a["c1"]], day)]


def test_a_record_counts_toward_every_rule_it_matches(app, world):
    """Two talk rules side by side: every talk, and talks with a low or anxious child (a filter on an enum field)."""
    a = world["A"]
    db.session.add(DutyRule(school_id=a["school"].id, kind="talk", period="week", times=1, season="term",
                            filter={"mood": ["low", "anxious"]}, label="情绪低落时的谈心"))
    db.session.commit()
    own = next(r for r in duty.rules_for(a["school"].id) if r.key.startswith("r") and r.kind == "talk")
    day = date(2026, 11, 18)  # a Wednesday in the autumn term
    ingest_ok(a["teacher"], [item("talk", a["c1"], "2026-11-10T10:00:00+08:00", {"topic": "x", "mood": "low", "summary": "s"})])
    assert {r for _c, r, _s in _rows(a, day)} >= {"talk", own.key}  # nothing this week for either
    assert ("talk" not in [r for _c, r, s in _rows(a, day) if s == "overdue"]) and \
        (own.key not in [r for _c, r, s in _rows(a, day) if s == "overdue"])  # last week's low-mood talk counted twice
    ingest_ok(a["teacher"], [item("talk", a["c1"], "2026-11-17T10:00:00+08:00", {"topic": "x", "mood": "calm", "summary": "s"})])
    rules = [r for _c, r, _s in _rows(a, day)]
    assert "talk" not in rules and own.key in rules  # a calm talk: only the rule for every talk
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, day)[a["c1"].id]
    assert counts["talk"] == {"current": 1, "previous": 1} and counts[own.key] == {"current": 0, "previous": 1}
    cov = {r["key"]: r for r in duty.coverage(a["school"].id, day, "class")}
    assert cov["三(1)班"]["talk"] == 1 and cov["三(1)班"][own.key] == 0


def _contact(counterpart, direction, channel, when):
    return item("contact", None, when, {"counterpart": counterpart, "direction": direction, "channel": channel,
                                        "duration_min": 8, "summary": "s"})


def _send(teacher, child, *contacts):
    return ingest_ok(teacher, [dict(c, child_id=child.id) for c in contacts])


def test_two_contact_rules_side_by_side(app, world):
    """The weekly family call counts the child's calls (or videos) with the parents; the monthly report counts the
    teacher's own contacts with a parent. Each record counts where it matches, and only there."""
    a = world["A"]
    day = date(2026, 11, 18)
    _send(a["teacher"], a["c1"], _contact("mother", "child_to_parents", "video", "2026-11-16T18:00:00+08:00"))
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, day)[a["c1"].id]
    assert counts["family_call"]["current"] == 1 and "report_parents" not in counts
    assert "holiday_contact" not in counts  # out of season: not even counted
    rules = [r for _c, r, _s in _rows(a, day)]
    assert "family_call" not in rules and "report_parents" in rules
    _send(a["teacher"], a["c1"], _contact("both_parents", "teacher_to_family", "wechat", "2026-11-17T20:00:00+08:00"))
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, day)[a["c1"].id]
    assert counts["family_call"]["current"] == 1 and counts["report_parents"]["current"] == 1
    assert not {"family_call", "report_parents"} & {r for _c, r, _s in _rows(a, day)}


def test_the_guardian_call_is_counted_by_the_guardian_rule(app, world):
    """A phone call with the entrusted guardian is no report to the parents and no meeting; a school's own rule for
    contact with the guardian counts it; meeting the guardian in person counts for the quarterly meeting."""
    a = world["A"]
    db.session.add(DutyRule(school_id=a["school"].id, kind="contact", period="month", times=1, season="all_year",
                            filter={"counterpart": ["guardian"]}, label="联系监护人"))
    db.session.commit()
    guardian_rule = next(r.key for r in duty.rules_for(a["school"].id) if r.label == "联系监护人")
    day = date(2026, 11, 18)
    _send(a["teacher"], a["c1"], _contact("guardian", "teacher_to_family", "phone", "2026-11-10T19:00:00+08:00"))
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, day)[a["c1"].id]
    assert counts == {guardian_rule: {"current": 1, "previous": 0}}
    rules = {r for _c, r, _s in _rows(a, day)}
    assert guardian_rule not in rules and {"report_parents", "guardian_meeting"} <= rules
    _send(a["teacher"], a["c1"], _contact("guardian", "family_to_teacher", "in_person", "2026-11-12T16:30:00+08:00"))
    counts = duty.counts_for(select(db.literal(a["c1"].id)), a["school"].id, day)[a["c1"].id]
    assert counts["guardian_meeting"]["current"] == 1 and counts[guardian_rule]["current"] == 2
    assert "guardian_meeting" not in {r for _c, r, _s in _rows(a, day)}
    cov = {r["key"]: r for r in duty.coverage(a["school"].id, day, "class")}["三(1)班"]
    assert cov["guardian_meeting"] == 1 and cov[guardian_rule] == 1 and cov["report_parents"] == 0


def test_a_summer_day_has_no_term_duty_no_overdue_and_no_reminder(app, world):
    """12 August 2026 (summer holiday, default calendar): talks, calls and visits pause; only the holiday contact is
    asked for, and with a contact in the previous fortnight it is due, not overdue — so no reminder is made."""
    a = world["A"]
    holiday = date(2026, 8, 12)
    for teacher, child in ((a["teacher"], a["c1"]), (a["other_teacher"], a["c2"])):
        # A holiday contact in the previous fortnight, and the quarterly guardian meeting (all year) last quarter.
        _send(teacher, child, _contact("mother", "teacher_to_family", "phone", "2026-08-01T10:00:00+08:00"),
              _contact("guardian", "teacher_to_family", "in_person", "2026-06-15T16:00:00+08:00"))
    assert _rows(a, holiday) == [(a["c1"].id, "holiday_contact", "due"), (a["c1"].id, "guardian_meeting", "due")]
    assert duty.overdue_children(a["school"].id, holiday) == (0, [])
    duty_reminders(datetime(2026, 8, 12, 9, 0, tzinfo=CHINA))
    reminded = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "duties_overdue")))
    assert not reminded & {a["teacher"].id, a["other_teacher"].id}
    # School B made no holiday contact and met no guardian: those all-year and holiday rules are overdue there, and
    # none of the term-time ones.
    b = world["B"]
    assert {k for r in duty.overdue_children(b["school"].id, holiday)[1] for k in r["rules"]} == {
        "holiday_contact", "guardian_meeting"}
    assert b["teacher"].id in reminded
    # The same children in term time: the first week of autumn is due, not overdue (the week before was holiday).
    first_week = _rows(a, date(2026, 9, 2))
    assert ("talk" in [r for _c, r, _s in first_week]) and all(s == "due" for _c, r, s in first_week if r == "talk")
    # Two weeks into the term a missed talk is overdue, and reminded.
    assert (a["c1"].id, "talk", "overdue") in _rows(a, date(2026, 9, 16))
    assert duty_reminders(datetime(2026, 9, 16, 9, 0, tzinfo=CHINA)) >= 1


def test_the_holiday_handover_is_due_before_the_holiday_and_the_committee_acknowledges_it(client, world):
    a = world["A"]
    before = date(2026, 7, 3)  # in the last two weeks of the spring term
    assert (a["c1"].id, "handover", "due") in _rows(a, before)
    assert "handover" not in [r for _c, r, _s in _rows(a, date(2026, 6, 1))]  # too early
    [rec] = ingest_ok(a["teacher"], [item("handover", a["c1"], "2026-07-02T16:00:00+08:00")])
    assert "handover" not in [r for _c, r, _s in _rows(a, before)]
    assert rec.confirm_state == "none"
    login(client, a["committee"].username)
    html = client.get("/confirm/").get_data(as_text=True)
    assert f'id="r{rec.id}"' in html and "假期交接" in html and "不去河边玩水" in html
    r = client.post(f"/confirm/{rec.id}", data={"csrf_token": page_csrf(html), "action": "confirm"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Record, rec.id).confirm_state == "confirmed"
    # Talks stay none of the committee's business.
    [talk] = ingest_ok(a["teacher"], [item("talk", a["c1"], "2026-07-02T17:00:00+08:00")])
    assert client.get(f"/records/{talk.id}").status_code == 404
