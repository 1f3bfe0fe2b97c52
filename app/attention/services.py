"""Needs attention (需关注): which children a record says need attention, why, since when, and who follows up.

The rule, per child and signal kind (home visit, talk, counselling note):
- a record raises a concern when a visit rates any area 需关注 or notes the guardian's worries, a talk records a low,
  anxious or upset mood, a counselling note a medium or high risk;
- the concern stands while no later record of the same kind raises none (a later visit rating every area fine and
  noting no worries, a calm talk, a note of no or low risk); "since" is its earliest concerning record after the
  last fine one, the source its latest;
- a follow-up of the child closed as done after that latest concerning record takes the child off the list.
Corrected originals do not count (their correction does); children who left the school are not listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import aliased

from ..access import can, child_ids_query
from ..clock import as_utc
from ..duties.services import Window
from ..extensions import db
from ..models import Child, FollowUp, Record, User

AREAS = {"study": _l("学习"), "life": _l("日常生活"), "psychology": _l("心理"), "safety": _l("安全")}
LOW_MOODS = {"low": _l("情绪低落"), "anxious": _l("情绪焦虑"), "upset": _l("情绪难过/激动")}
RISKS = {"medium": _l("心理风险：中"), "high": _l("心理风险：高")}
NO_WORRIES = ("无", "没有", "无。", "暂无")  # a guardian-concerns field filled with "none" is no concern
SIGNAL_KINDS = ("home_visit", "talk", "counselling")
CARE_LABELS = {"attention_children": _l("记录显示需关注的学生（人）"), "follow_ups_opened": _l("新建跟进事项"),
               "follow_ups_done": _l("完成的跟进事项"), "follow_ups_open": _l("期末未完成的跟进事项"),
               "follow_ups_overdue": _l("其中已过期限")}


def _text(r, name: str):
    return r.fields[name].as_string()


def concern_sql(r=Record):
    """SQL: record `r` raises a concern (see the module's rule); `r` is Record or an alias of it."""
    worries = _text(r, "guardian_concerns")
    return or_(
        and_(r.kind == "home_visit", or_(*[_text(r, f"{a}_rating") == "concern" for a in AREAS],
                                         and_(worries.is_not(None), worries != "", worries.not_in(NO_WORRIES)))),
        and_(r.kind == "talk", _text(r, "mood").in_(list(LOW_MOODS))),
        and_(r.kind == "counselling", _text(r, "risk").in_(list(RISKS))),
    )


def reasons(record: Record, reader: User) -> list[str]:
    """Why this record raises a concern, in words `reader` may read: a counselling note says only who follows up."""
    f = record.fields or {}
    if record.kind == "counselling":
        return [str(RISKS[f["risk"]])] if can(reader, "read_counselling") and f.get("risk") in RISKS \
            else [_("需心理辅导教师跟进")]
    if record.kind == "talk":
        return [str(LOW_MOODS[f["mood"]])] if f.get("mood") in LOW_MOODS else []
    out = [_("%(area)s需关注", area=label) for a, label in AREAS.items() if f.get(f"{a}_rating") == "concern"]
    worries = (f.get("guardian_concerns") or "").strip()
    if worries and worries not in NO_WORRIES:
        out.append(_("监护人反映问题"))
    return out


@dataclass
class Entry:
    """A child on the list for one signal kind."""

    child: Child
    kind: str
    since: datetime
    source: Record
    reasons: list[str]
    follow_ups: list[FollowUp] = field(default_factory=list)  # open ones: who and by when


def _counts(r) -> object:
    return and_(r.review_state != "corrected", r.kind.in_(SIGNAL_KINDS))


def current_concerns(school_id: int, child_ids, kinds=SIGNAL_KINDS) -> list[Record]:
    """The concerning records no later fine record of the same kind followed, of the children in `child_ids` (a
    subquery)."""
    later = aliased(Record)
    fine_later = select(later.id).where(
        later.child_id == Record.child_id, later.kind == Record.kind, later.occurred_at > Record.occurred_at,
        later.review_state != "corrected", not_(concern_sql(later))).exists()
    q = (select(Record).where(Record.school_id == school_id, _counts(Record), Record.kind.in_(kinds),
                              Record.child_id.in_(child_ids), concern_sql(Record), ~fine_later))
    return list(db.session.scalars(q))


def entries(user: User, child_id: int | None = None) -> list[Entry]:
    """The needs-attention list `user` sees (optionally one child's), the longest-standing first."""
    ids = child_ids_query(user).where(Child.left_on.is_(None))
    if child_id is not None:
        ids = ids.where(Child.id == child_id)
    # Teachers do not learn that a counselling session took place (app/access.py see_counselling).
    kinds = SIGNAL_KINDS if can(user, "see_counselling") else tuple(k for k in SIGNAL_KINDS if k != "counselling")
    groups: dict[tuple[int, str], list[Record]] = {}
    for r in current_concerns(user.school_id, ids, kinds):
        groups.setdefault((r.child_id, r.kind), []).append(r)
    if not groups:
        return []
    children = {cid for cid, _k in groups}
    follow_ups = db.session.scalars(select(FollowUp).where(FollowUp.child_id.in_(children),
                                                          FollowUp.status.in_(("open", "done")))).all()
    out = []
    for (cid, kind), rows in groups.items():
        latest = max(rows, key=lambda r: (as_utc(r.occurred_at), r.id))
        mine = [f for f in follow_ups if f.child_id == cid]
        if any(f.status == "done" and as_utc(f.closed_at) >= as_utc(latest.occurred_at) for f in mine):
            continue
        out.append(Entry(child=latest.child, kind=kind, since=min(as_utc(r.occurred_at) for r in rows), source=latest,
                         reasons=reasons(latest, user),
                         follow_ups=sorted((f for f in mine if f.status == "open"), key=lambda f: f.due_on)))
    return sorted(out, key=lambda e: (e.since, e.child.id))


def care_counts(school_ids: list[int], window: Window) -> dict[int, dict]:
    """Aggregates per school for a window of China dates: children a record said need attention, follow-ups opened,
    done, still open at its end and of those overdue (due by its last day). No child is named (the monthly report,
    the term record, the bureau's pages)."""
    lo, hi = window.bounds()
    out = {s: {"attention_children": 0, "follow_ups_opened": 0, "follow_ups_done": 0, "follow_ups_open": 0,
               "follow_ups_overdue": 0} for s in school_ids}
    if not school_ids:
        return out
    rows = db.session.execute(
        select(Record.school_id, func.count(func.distinct(Record.child_id)))
        .where(Record.school_id.in_(school_ids), _counts(Record), Record.occurred_at >= lo, Record.occurred_at < hi,
               concern_sql(Record))
        .group_by(Record.school_id))
    for s, n in rows:
        out[s]["attention_children"] = n
    made = Record.received_at
    fu = (select(FollowUp.school_id, FollowUp.status, FollowUp.closed_at, FollowUp.due_on, made)
          .join(Record, Record.id == FollowUp.record_id)
          .where(FollowUp.school_id.in_(school_ids), made < hi))
    for s, status, closed_at, due_on, at in db.session.execute(fu):
        at, closed_at = as_utc(at), as_utc(closed_at) if closed_at else None
        row = out[s]
        if at >= lo:
            row["follow_ups_opened"] += 1
        if status == "done" and closed_at and lo <= closed_at < hi:
            row["follow_ups_done"] += 1
        if status == "open" or (closed_at and closed_at >= hi):
            row["follow_ups_open"] += 1
            if due_on <= window.end:
                row["follow_ups_overdue"] += 1
    return out
