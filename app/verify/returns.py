"""Returns that reach the author: the correction deadline, the author's notification, what the phone is sent about
returned records and review states, and the corrections past their deadline on the principal's dashboard.

The deadline is not stored: it is the China date of the (latest) return plus CORRECTION_DAYS, so both sides read the
same date from the same ReviewEvent.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access import records_query
from ..clock import as_utc, today_local
from ..extensions import db
from ..models import Record, ReviewEvent, User
from ..notify.services import notify
from . import evidence
from .labels import REVIEW_LABELS

REASON_IN_NOTE = 200  # characters of the reason kept in the in-app notification (its text holds 300)
PHONE_REVIEWS_PER_CHILD = 5  # the caller's latest records per child whose review state the phone's child page shows
# The phone refills a correction from these fields; the committee's code and the signature are the visit's evidence,
# inherited by the correction (services.inherit_evidence), never typed again.
EVIDENCE_FIELDS = ("confirm_code", "signature")


def correction_days() -> int:
    return int(current_app.config.get("CORRECTION_DAYS", 7))


def deadline_of(returned_at) -> date:
    """The last day (China date, inclusive) to correct a record returned at `returned_at`."""
    return today_local(as_utc(returned_at)) + timedelta(days=correction_days())


def month_day(d: date) -> str:
    """A deadline as the teacher reads it: 12月7日."""
    return _("%(m)d月%(d)d日", m=d.month, d=d.day)


def latest_returns(record_ids: list[int]) -> dict[int, ReviewEvent]:
    """The latest return of each record, one query."""
    out: dict[int, ReviewEvent] = {}
    if record_ids:
        for ev in db.session.scalars(select(ReviewEvent).where(
                ReviewEvent.record_id.in_(record_ids), ReviewEvent.action == "return")
                .order_by(ReviewEvent.at, ReviewEvent.id)):
            out[ev.record_id] = ev
    return out


def notify_author(record: Record, event: ReviewEvent) -> None:
    """Tell the author in the app (bell) with the reason and deadline; the push built from it is generic."""
    from ..records.kinds import KINDS  # app.records imports this module

    due = deadline_of(event.at)
    reason = event.comment or ""
    if len(reason) > REASON_IN_NOTE:
        reason = reason[:REASON_IN_NOTE - 1] + "…"
    # No child's name: the text shows in the bell list, and names stay off anything a lock screen might show.
    text = _("您的一条%(kind)s记录被退回，请在 %(date)s 前更正。原因：%(reason)s",
             kind=KINDS[record.kind].label, date=month_day(due), reason=reason)
    # A plain path: returns are also made outside requests (demo data, scripts), where url_for has no server name.
    notify(record.author_id, f"returned:{record.id}", "returned", text, f"/records/returned#r{record.id}")


def returned_rows(user: User) -> list[tuple[Record, ReviewEvent | None, date | None]]:
    """The user's own records waiting for a correction, oldest deadline first, with their return and deadline."""
    rows = db.session.scalars(records_query(user).where(
        Record.author_id == user.id, Record.review_state == "returned").order_by(Record.occurred_at.desc())).all()
    events = latest_returns([r.id for r in rows])
    out = [(r, events.get(r.id), deadline_of(events[r.id].at) if r.id in events else None) for r in rows]
    return sorted(out, key=lambda x: x[2] or date.max)


def phone_returned(user: User) -> list[dict]:
    """The returned records as the phone keeps them offline: enough to show the reason and refill a correction."""
    out = []
    for r, ev, due in returned_rows(user):
        out.append({
            "id": r.id, "kind": r.kind, "child_id": r.child_id, "occurred_at": as_utc(r.occurred_at).isoformat(),
            "fields": {k: v for k, v in (r.fields or {}).items() if k not in EVIDENCE_FIELDS},
            "confirm_state": r.confirm_state, "reason": ev.comment if ev else "",
            "returned_at": as_utc(ev.at).isoformat() if ev else None, "deadline": due.isoformat() if due else None,
        })
    return out


def phone_reviews(user: User, child_ids: list[int]) -> dict[int, list[dict]]:
    """The caller's latest reviewed-kind records per child, with their review state (the app's child page)."""
    if not child_ids:
        return {}
    ranked = select(Record.id, Record.child_id, Record.kind, Record.occurred_at, Record.review_state,
                    func.row_number().over(partition_by=Record.child_id,
                                           order_by=(Record.occurred_at.desc(), Record.id.desc())).label("n")).where(
        Record.author_id == user.id, Record.school_id == user.school_id, Record.child_id.in_(child_ids),
        Record.kind.in_(evidence.EVIDENCE_KINDS)).subquery()
    out: dict[int, list[dict]] = {}
    for rid, child_id, kind, at, state in db.session.execute(
            select(ranked.c.id, ranked.c.child_id, ranked.c.kind, ranked.c.occurred_at, ranked.c.review_state)
            .where(ranked.c.n <= PHONE_REVIEWS_PER_CHILD).order_by(ranked.c.child_id, ranked.c.n)):
        out.setdefault(child_id, []).append({"id": rid, "kind": kind, "occurred_at": as_utc(at).isoformat(),
                                             "review_state": state, "label": str(REVIEW_LABELS[state])})
    return out


def overdue_corrections(school_id: int, today: date, limit: int | None = 50) -> tuple[int, list[dict]]:
    """Returned records of the school with no correction after their deadline: (count, the oldest deadlines first).

    Late in SQL (the latest return before the first day whose deadline has passed), and only the rows shown are
    loaded: loading every returned record with its author and child made the dashboard 0.5 s at a 3,000-child school."""
    from datetime import datetime, time

    from ..clock import CHINA

    # deadline_of(at) < today  <=>  the return's China date < today - CORRECTION_DAYS
    cutoff = datetime.combine(today - timedelta(days=correction_days()), time.min, CHINA)
    returned = select(Record.id).where(Record.school_id == school_id, Record.review_state == "returned")
    last = (select(ReviewEvent.record_id, func.max(ReviewEvent.at).label("at"))
            .where(ReviewEvent.action == "return", ReviewEvent.record_id.in_(returned))
            .group_by(ReviewEvent.record_id).subquery())
    q = select(Record).join(last, last.c.record_id == Record.id).where(last.c.at < cutoff)
    total = db.session.scalar(q.with_only_columns(func.count()).order_by(None)) or 0
    shown = q.order_by(last.c.at, Record.id).options(selectinload(Record.author), selectinload(Record.child))
    rows = db.session.scalars(shown if limit is None else shown.limit(limit)).all()
    events = latest_returns([r.id for r in rows])
    late = [{"record": r, "deadline": deadline_of(events[r.id].at), "reason": events[r.id].comment} for r in rows]
    late.sort(key=lambda x: (x["deadline"], x["record"].id))
    return total, late
