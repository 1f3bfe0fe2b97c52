"""The term record's care beyond the duties: the group activities the teacher held and who signed in, each child's
attendance, and the follow-ups the teacher was given or made. Every query starts in app.access (the reader's scope);
what a follow-up about counselling says never appears (the record is printed and exported)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from ..access import activities_query, follow_ups_query, may_read_follow_up, records_query
from ..duties.services import Window
from ..extensions import db
from ..models import ACTIVITY_KIND, Activity, ActivityPhoto, FollowUp, Record, User


def _came(who: str):
    """A count of the attendance records in which the child (who="child") or their guardian came."""
    return func.sum(case((Record.fields[who].as_string() == "yes", 1), else_=0))


def activities_held(viewer: User, teacher: User, term: Window) -> list[dict]:
    """The activities `teacher` held in the term, oldest first, each with how many children and guardians signed in
    and its photos (a paper sign-in sheet among them when marked)."""
    start, end = term.bounds()
    acts = db.session.scalars(activities_query(viewer).where(
        Activity.author_id == teacher.id, Activity.occurred_at >= start, Activity.occurred_at < end)
        .order_by(Activity.occurred_at, Activity.id)).all()
    if not acts:
        return []
    ids = [a.id for a in acts]
    came = {aid: (int(c or 0), int(g or 0)) for aid, c, g in db.session.execute(
        select(Record.activity_id, _came("child"), _came("guardian"))
        .where(Record.activity_id.in_(ids), Record.kind == ACTIVITY_KIND).group_by(Record.activity_id))}
    photos = dict(db.session.execute(select(ActivityPhoto.activity_id, func.count())
                                     .where(ActivityPhoto.activity_id.in_(ids)).group_by(ActivityPhoto.activity_id)).all())
    return [{"id": a.id, "occurred_at": a.occurred_at, "type": a.type, "title": a.title, "place": a.place or "",
             "children": came.get(a.id, (0, 0))[0], "guardians": came.get(a.id, (0, 0))[1],
             "signin_sheet": a.signin_sheet, "photos": photos.get(a.id, 0)} for a in acts]


def attendance_of(viewer: User, child_ids: list[int], term: Window) -> dict[int, dict[str, int]]:
    """{child id: {"child": activities the child came to, "guardian": those their guardian came to}} in the term,
    whoever held them."""
    if not child_ids:
        return {}
    start, end = term.bounds()
    rows = db.session.execute(records_query(viewer).with_only_columns(Record.child_id, _came("child"), _came("guardian"))
                              .where(Record.kind == ACTIVITY_KIND, Record.child_id.in_(child_ids),
                                     Record.occurred_at >= start, Record.occurred_at < end)
                              .group_by(Record.child_id))
    return {cid: {"child": int(c or 0), "guardian": int(g or 0)} for cid, c, g in rows}


def follow_ups_of(viewer: User, teacher: User, term: Window, today: date) -> list[dict]:
    """The follow-ups given to or made by `teacher` that were open at some time in the term (made before its end, and
    still open or closed after its start), earliest due first; what they say and their outcome only when a printed
    page may show them."""
    start, end = term.bounds()
    rows = db.session.scalars(
        follow_ups_query(viewer).join(Record, Record.id == FollowUp.record_id)
        .where(or_(FollowUp.assignee_id == teacher.id, Record.author_id == teacher.id), Record.received_at < end,
               or_(FollowUp.status == "open", FollowUp.closed_at >= start))
        .options(selectinload(FollowUp.child), selectinload(FollowUp.record).selectinload(Record.author),
                 selectinload(FollowUp.source), selectinload(FollowUp.assignee))
        .order_by(FollowUp.due_on, FollowUp.id)).all()
    out = []
    for fu in rows:
        readable = may_read_follow_up(viewer, fu, printed=True)
        out.append({"id": fu.id, "class_name": fu.child.class_name or "", "child_name": fu.child.name,
                    "what": fu.what if readable else None, "outcome": fu.outcome if readable else None,
                    "assignee": fu.assignee.name, "made_by": fu.record.author.name if fu.record.author else "",
                    "due_on": fu.due_on, "status": fu.status, "closed_at": fu.closed_at,
                    "overdue": fu.status == "open" and fu.due_on < today})
    return out
