"""The morning peak's cheaper paths (step 16) answer as before: statements built once, windows kept per process."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.duties import services as duty
from app.extensions import db
from app.models import DutyTally, Record, Term

from .builders import ingest_ok, item, only_rules


def _talk(child, when: str) -> dict:
    return item("talk", child, when)


def test_rule_windows_follow_a_change_of_the_schools_terms(app, build):
    """The windows are kept per calendar: a school entering its own terms gets windows from them at once."""
    school = build.school()
    talk = next(r for r in duty.DEFAULT_RULES if r.key == "talk")  # weekly, in term time only
    first, last = date(2026, 8, 24), date(2026, 9, 13)
    starts = lambda: [w.start for w, _prev in duty.rule_windows(talk, first, last, school.id)]  # noqa: E731
    assert starts() == [date(2026, 9, 1), date(2026, 9, 7)]  # the default autumn term begins on 9/1, a Tuesday
    db.session.add_all([Term(school_id=school.id, name="春季", starts_on=date(2026, 3, 2), ends_on=date(2026, 7, 3)),
                        Term(school_id=school.id, name="秋季", starts_on=date(2026, 8, 24), ends_on=date(2027, 1, 15))])
    db.session.commit()
    assert starts() == [date(2026, 8, 24), date(2026, 8, 31), date(2026, 9, 7)]
    other = build.school()  # still on the default calendar: the first school's windows are not its
    assert [w.start for w, _prev in duty.rule_windows(talk, first, last, other.id)] == [date(2026, 9, 1),
                                                                                         date(2026, 9, 7)]


def test_tally_merge_moves_each_child_forward_only(app, build, world):
    """The merge is one prebuilt statement for the batch's children: each row moves to the later time, never back."""
    a = world["A"]
    c1, c2 = a["c1"], build.child(a["school"], a["v2"], a["teacher"])
    ingest_ok(a["teacher"], [_talk(c1, "2026-11-20T10:00:00+08:00"), _talk(c2, "2026-11-10T10:00:00+08:00")])
    # One batch: an older talk for c1 (the tally keeps 11-20) and a newer one for c2 (the tally moves to 11-18).
    ingest_ok(a["teacher"], [_talk(c1, "2026-11-17T10:00:00+08:00"), _talk(c2, "2026-11-18T10:00:00+08:00"),
                             _talk(c2, "2026-11-12T10:00:00+08:00")])
    db.session.expire_all()
    assert db.session.get(DutyTally, c1.id).talk_at.isoformat() == "2026-11-20T02:00:00+00:00"
    assert db.session.get(DutyTally, c2.id).talk_at.isoformat() == "2026-11-18T02:00:00+00:00"
    assert db.session.get(DutyTally, c2.id).home_visit_at is None  # a kind not in the batch stays as it was


def test_counts_for_keeps_each_schools_rules_apart(app, world):
    """The counts' statement is kept per set of rules: two schools with different rules each get their own counts,
    and a list of ids answers as the SELECT of them does."""
    a, b = world["A"], world["B"]
    only_rules(b["school"].id, [("talk", "month", 2)])
    db.session.commit()
    ingest_ok(a["teacher"], [_talk(a["c1"], "2026-11-17T10:00:00+08:00")])
    ingest_ok(b["teacher"], [_talk(b["c1"], "2026-11-17T10:00:00+08:00"), _talk(b["c1"], "2026-11-03T10:00:00+08:00")])
    today = date(2026, 11, 18)
    counts_a = duty.counts_for([a["c1"].id], a["school"].id, today)
    counts_b = duty.counts_for([b["c1"].id], b["school"].id, today)
    assert counts_a == {a["c1"].id: {"talk": {"current": 1, "previous": 0}}}  # the default weekly talk
    (key_b,) = counts_b[b["c1"].id]
    assert key_b != "talk" and counts_b[b["c1"].id][key_b] == {"current": 2, "previous": 0}  # B's monthly rule
    assert duty.counts_for(select(Record.child_id).where(Record.school_id == b["school"].id), b["school"].id,
                           today) == counts_b
    assert duty.counts_for([], a["school"].id, today) == {}
