"""Duty periods inside a month or a term, and "done in every period" counted in SQL, grouped by child."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select

from ..duties.services import Rule, Window, counting, rule_windows
from ..models import Record


def month_window(month: date) -> Window:
    """The calendar month starting on `month` (a first day)."""
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return Window(month, nxt - timedelta(days=1))


def periods_in_month(rule: Rule, month: Window, school_id: int) -> list[Window]:
    """The rule's windows a month is judged on: weeks and fortnights that end in it; for longer periods the window
    containing its last day (or ended during it) counted up to that day ("so far"); [] when the rule was out of season
    all month."""
    ws = [w for w, _prev in rule_windows(rule, month.start, month.end, school_id)]
    if rule.period in ("week", "fortnight"):
        return [w for w in ws if w.end in month]
    ws = [w for w in ws if w.start <= month.end]
    return [Window(ws[-1].start, min(ws[-1].end, month.end))] if ws else []


def periods_in_term(rule: Rule, term: Window, until: date, school_id: int) -> list[Window]:
    """The rule's windows from the term's start to `until` (the current one included), clipped to the term."""
    last = min(until, term.end)
    if last < term.start:
        return []
    return [Window(max(w.start, term.start), min(w.end, term.end))
            for w, _prev in rule_windows(rule, term.start, last, school_id) if w.end >= term.start and w.start <= last]


def periods_met(school_id: int, rule: Rule, windows: list[Window], author_id: int | None = None) -> Select:
    """SELECT child_id, met: per child, in how many of `windows` it has at least `times` records matching the rule."""
    bounds = [w.bounds() for w in windows]
    bucket = case(*[(and_(Record.occurred_at >= a, Record.occurred_at < b), i) for i, (a, b) in enumerate(bounds)],
                  else_=None).label("bucket")
    span = Window(min(w.start for w in windows), max(w.end for w in windows))
    conds = counting(rule, span, school_id)
    if author_id is not None:
        conds.append(Record.author_id == author_id)
    rows = select(Record.child_id, bucket).where(*conds).subquery()
    per = (select(rows.c.child_id).where(rows.c.bucket.is_not(None))
           .group_by(rows.c.child_id, rows.c.bucket).having(func.count() >= rule.times).subquery())
    return select(per.c.child_id, func.count().label("met")).group_by(per.c.child_id)


def done_in_every(school_id: int, rule: Rule, windows: list[Window]) -> Select:
    """SELECT child_id of the children with the rule done in every one of `windows`."""
    met = periods_met(school_id, rule, windows).subquery()
    return select(met.c.child_id).where(met.c.met == len(windows))
