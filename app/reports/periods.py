"""Duty periods inside a month or a term, and "done in every period" counted in SQL, grouped by child."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select

from ..duties.services import COUNTING_STATES, Window, window
from ..models import Record


def month_window(month: date) -> Window:
    """The calendar month starting on `month` (a first day)."""
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return Window(month, nxt - timedelta(days=1))


def periods_in_month(period: str, month: Window, school_id: int) -> list[Window]:
    """The periods a month is judged on: weeks whose Sunday falls in it, the month itself, or the quarter / term
    containing its last day counted up to that day ("so far"); [] in the holidays for a term duty."""
    if period == "week":
        out, day = [], window("week", month.start, school_id).end
        if day < month.start:
            day += timedelta(days=7)
        while day <= month.end:
            out.append(Window(day - timedelta(days=6), day))
            day += timedelta(days=7)
        return out
    if period == "month":
        return [month]
    w = window(period, month.end, school_id)
    if w is None and period == "term":  # a term that ended during the month still counts for it
        w = window(period, month.end, school_id, previous=True)
        if w is not None and w.end < month.start:
            w = None
    return [Window(w.start, min(w.end, month.end))] if w else []


def periods_in_term(period: str, term: Window, until: date, school_id: int) -> list[Window]:
    """The rule's periods from the term's start to `until` (the current one included), clipped to the term."""
    if period == "term":
        return [term]
    out, day = [], term.start
    last = min(until, term.end)
    while day <= last:
        w = window(period, day, school_id)
        out.append(Window(max(w.start, term.start), min(w.end, term.end)))
        day = w.end + timedelta(days=1)
    return out


def periods_met(school_id: int, kind: str, windows: list[Window], times: int, author_id: int | None = None) -> Select:
    """SELECT child_id, met: per child, in how many of `windows` it has at least `times` counting records of `kind`."""
    bounds = [w.bounds() for w in windows]
    bucket = case(*[(and_(Record.occurred_at >= a, Record.occurred_at < b), i) for i, (a, b) in enumerate(bounds)],
                  else_=None).label("bucket")
    conds = [Record.school_id == school_id, Record.kind == kind, Record.review_state.in_(COUNTING_STATES),
             Record.occurred_at >= min(a for a, _b in bounds), Record.occurred_at < max(b for _a, b in bounds)]
    if author_id is not None:
        conds.append(Record.author_id == author_id)
    rows = select(Record.child_id, bucket).where(*conds).subquery()
    per = (select(rows.c.child_id).where(rows.c.bucket.is_not(None))
           .group_by(rows.c.child_id, rows.c.bucket).having(func.count() >= times).subquery())
    return select(per.c.child_id, func.count().label("met")).group_by(per.c.child_id)


def done_in_every(school_id: int, kind: str, windows: list[Window], times: int) -> Select:
    """SELECT child_id of the children with the duty done in every one of `windows`."""
    met = periods_met(school_id, kind, windows, times).subquery()
    return select(met.c.child_id).where(met.c.met == len(windows))
