"""Follow-ups: made by `follow_up` records (the records' pipeline, offline too), then given, moved and closed here."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..access import can, content_query, follow_ups_query, may_close_follow_up
from ..clock import utcnow
from ..extensions import db
from ..models import FollowUp, Record, User

STAFF_ROLES = ("teacher", "principal", "counsellor")
STATUS_LABELS = {"open": _l("进行中"), "done": _l("已完成"), "cancelled": _l("已取消")}
OUTCOME_MAX = 1000


class FollowUpError(ValueError):
    """A change to a follow-up that cannot be made; the message is for the user."""


def source_error(author: User, source_id: int, child_id: int) -> str | None:
    """Why a follow-up record may not name this source record (None when it may): one the author reads, same child."""
    ok = db.session.scalar(content_query(author).with_only_columns(Record.id).where(
        Record.id == source_id, Record.child_id == child_id, Record.kind != "follow_up"))
    return None if ok else _("跟进的记录不存在，或不是这个学生的记录。")


def from_records(records: list[Record]) -> None:
    """Open a follow-up for each new follow_up record, given to its author until the principal gives it to another."""
    for r in records:
        if r.kind != "follow_up":
            continue
        db.session.add(FollowUp(
            school_id=r.school_id, child_id=r.child_id, record_id=r.id, source_id=(r.fields or {}).get("source_id"),
            assignee_id=r.author_id, due_on=date.fromisoformat(r.fields["due_on"]), status="open"))


def staff_choices(school_id: int) -> list[User]:
    """Who a follow-up can be given to: the school's active teachers, principals and counsellors."""
    return list(db.session.scalars(select(User).where(User.school_id == school_id, User.active,
                                                      User.role.in_(STAFF_ROLES)).order_by(User.name)))


def close(user: User, fu: FollowUp, status: str, outcome: str) -> None:
    """Close a follow-up as done (with its outcome) or cancelled."""
    if not may_close_follow_up(user, fu):
        raise FollowUpError(_("只有负责人、创建人或校长可以关闭这项跟进。"))
    if fu.status != "open":
        raise FollowUpError(_("这项跟进已经关闭。"))
    outcome = (outcome or "").strip()
    if status not in ("done", "cancelled"):
        raise FollowUpError(_("请选择“已完成”或“取消”。"))
    if not outcome:
        raise FollowUpError(_("请写明跟进结果。"))
    if len(outcome) > OUTCOME_MAX:
        raise FollowUpError(_("太长（最多 %(n)d 字）。", n=OUTCOME_MAX))
    fu.status, fu.outcome, fu.closed_at, fu.closed_by_id = status, outcome, utcnow(), user.id


def assign(user: User, fu: FollowUp, assignee_id: int | None, due_on: date | None) -> None:
    """The principal gives an open follow-up to another staff member of the school and/or moves its date."""
    if not can(user, "assign_follow_ups"):
        raise FollowUpError(_("只有校长可以指派跟进。"))
    if fu.status != "open":
        raise FollowUpError(_("这项跟进已经关闭。"))
    if assignee_id is not None:
        if assignee_id not in {u.id for u in staff_choices(fu.school_id)}:
            raise FollowUpError(_("请选择本校的教职工。"))
        fu.assignee_id = assignee_id
    if due_on is not None:
        fu.due_on = due_on


def open_for(user: User, limit: int | None = None) -> list[FollowUp]:
    """`user`'s own open follow-ups, the earliest due first: their to-do list."""
    q = follow_ups_query(user).where(FollowUp.assignee_id == user.id, FollowUp.status == "open")
    return list(db.session.scalars(q.order_by(FollowUp.due_on, FollowUp.id).limit(limit)))


def of_child(user: User, child_id: int) -> list[FollowUp]:
    """A child's follow-ups `user` sees: open ones first (earliest due), then closed ones (latest first)."""
    rows = db.session.scalars(follow_ups_query(user).where(FollowUp.child_id == child_id)
                              .order_by(FollowUp.due_on.desc(), FollowUp.id.desc())).all()
    return sorted(rows, key=lambda f: (f.status != "open", f.due_on if f.status == "open" else date.max))
