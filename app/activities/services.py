"""Group activities: taking one in (the phone sends it through the records API), its attendance, counts per term.

An activity is one Activity row (what, when, where, photos) plus one Record of kind "activity" per child who took part
(fields: type, title, child yes/no, guardian yes/no). The records make the duty rules (a guardian-training rule counts
a child whose guardian came), the record scopes and the term record work per child without knowing about activities."""
from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import distinct, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..access import child_ids_query
from ..extensions import db
from ..models import ACTIVITY_KIND, Activity, ActivityPhoto, AuditEntry, Child, Record, User
from ..records.kinds import ACTIVITY, ACTIVITY_TYPES, GUARDIAN_TYPES
from ..web import db_id

MAX_ATTENDANCE = 500  # a whole school's parents' meeting
TYPE_LABELS = dict(ACTIVITY_TYPES)
_NS = uuid.UUID("6f1d4a52-3c1e-4b8e-9d0a-2a1f0c3e7b11")  # names each attendance record after its activity and child


def is_group(item) -> bool:
    """The item the phone sent is a group activity (not a record about one child)."""
    return isinstance(item, dict) and item.get("kind") == ACTIVITY.name


def wanted_children(item) -> set[int]:
    """The child ids an activity's attendance names (for the batch's one visibility query)."""
    rows = (item.get("fields") or {}).get("attendance") if isinstance(item.get("fields"), dict) else None
    if not isinstance(rows, list):
        return set()
    return {db_id(r.get("child_id")) for r in rows if isinstance(r, dict)} - {None}


def clean_attendance(fields, visible: set[int]) -> tuple[list[dict], str | None]:
    """[{child_id, child, guardian}] from what the phone sent, one per child; or the reason it is refused.

    Only children the author may see can be ticked; the guardian counts only where guardians take part (GUARDIAN_TYPES)."""
    rows = fields.get("attendance") if isinstance(fields, dict) else None
    if rows in (None, []):
        return [], None
    if not isinstance(rows, list) or len(rows) > MAX_ATTENDANCE or not all(isinstance(r, dict) for r in rows):
        return [], _("出席名单应为不超过 %(n)d 项的列表。", n=MAX_ATTENDANCE)
    guardians = fields.get("type") in GUARDIAN_TYPES
    out: dict[int, dict] = {}
    for r in rows:
        cid = db_id(r.get("child_id"))
        if cid is None or cid not in visible:
            return [], _("出席名单里有您不能查看的学生（编号 %(id)s），只能勾选您结对或本班的学生。", id=str(r.get("child_id"))[:20])
        child, guardian = r.get("child") is True, guardians and r.get("guardian") is True
        prev = out.get(cid, {"child_id": cid, "child": False, "guardian": False})
        out[cid] = {"child_id": cid, "child": prev["child"] or child, "guardian": prev["guardian"] or guardian}
    return [r for r in out.values() if r["child"] or r["guardian"]], None


def check(values: dict, fields, visible: set[int]) -> dict:
    """Errors of an activity beyond its fields' own (added to `values`: its clean attendance)."""
    errors = {}
    attendance, why = clean_attendance(fields, visible)
    if why:
        errors["fields.attendance"] = why
    elif not attendance and not (values["fields"].get("signin_sheet") and values["photos"]):
        errors["fields.attendance"] = _("请勾选出席的学生或监护人，或拍下纸质签到表。")
    values["attendance"] = attendance
    return errors


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def store(author: User, cid: str, v: dict, own_photos: dict[str, int], now, source: str) -> dict:
    """Insert the activity, its photos and one attendance record per child; the answer for the phone."""
    f = v["fields"]
    loc = v["location"] or (None, None, None)
    try:
        with db.session.begin_nested():
            act = Activity(client_id=cid, school_id=author.school_id, author_id=author.id, type=f["type"],
                           title=f["title"], place=f.get("place"), summary=f["summary"], opinions=f.get("opinions") or None,
                           signin_sheet=bool(f.get("signin_sheet")), occurred_at=v["occurred_at"], received_at=now)
            db.session.add(act)
            db.session.flush()
            if v["photos"]:
                db.session.execute(insert(ActivityPhoto), [{"activity_id": act.id, "photo_id": own_photos[sha], "position": i}
                                                          for i, sha in enumerate(v["photos"])])
            if v["attendance"]:
                db.session.add_all([Record(
                    client_id=str(uuid.uuid5(_NS, f"{cid}:{a['child_id']}")), kind=ACTIVITY_KIND, child_id=a["child_id"],
                    author_id=author.id, school_id=author.school_id, occurred_at=v["occurred_at"], received_at=now,
                    fields={"type": f["type"], "title": f["title"], "child": _yes(a["child"]), "guardian": _yes(a["guardian"])},
                    lat=loc[0], lon=loc[1], accuracy_m=loc[2], client_meta=v["client_meta"], source=source,
                    activity_id=act.id) for a in v["attendance"]])
            db.session.add(AuditEntry(at=now, user_id=author.id, school_id=author.school_id, action="create",
                                      object_type="activity", object_id=str(act.id)))
        return {"id": cid, "status": "created"}
    except IntegrityError:
        # The unique client id: the same activity stored a moment ago by a concurrent post.
        owner = db.session.scalar(select(Activity.author_id).where(Activity.client_id == cid))
        return {"id": cid, "status": "duplicate"} if owner == author.id else \
            {"id": cid, "status": "rejected", "errors": {"id": _("此 id 已被另一条记录使用。")}}


def existing(client_ids: list[str]) -> dict[str, int]:
    """{client id: author id} of the activities already stored under these ids."""
    if not client_ids:
        return {}
    return dict(db.session.execute(select(Activity.client_id, Activity.author_id).where(Activity.client_id.in_(client_ids))).all())


def attendance(viewer: User, activity: Activity) -> tuple[list[dict], int]:
    """Who took part: the children `viewer` may see by name (with whether child and guardian came), and how many
    others took part (counted, never named)."""
    rows = db.session.execute(
        select(Record.child_id, Record.fields, Child.name, Child.class_name).join(Child, Child.id == Record.child_id)
        .where(Record.activity_id == activity.id, Record.kind == ACTIVITY_KIND)).all()
    seen = set(db.session.scalars(child_ids_query(viewer).where(Child.id.in_([r.child_id for r in rows])))) if rows else set()
    named = [{"child_id": r.child_id, "name": r.name, "class_name": r.class_name,
              "child": (r.fields or {}).get("child") == "yes", "guardian": (r.fields or {}).get("guardian") == "yes"}
             for r in rows if r.child_id in seen]
    named.sort(key=lambda r: (r["class_name"] or "", r["name"]))
    return named, len(rows) - len(named)


def _in(window) -> list:
    start, end = window.bounds()
    return [Activity.occurred_at >= start, Activity.occurred_at < end]


def term_counts(school_id: int, window) -> list[dict]:
    """Per activity type in the window (a term or a month, app/duties Window): activities held, and how many children
    took part and how many children's guardians came, each child counted once however many activities they joined."""
    start, end = window.bounds()
    held = dict(db.session.execute(select(Activity.type, func.count()).where(Activity.school_id == school_id, *_in(window))
                                   .group_by(Activity.type)).all())
    reached = {}
    for who in ("child", "guardian"):
        # Grouped by the label: PostgreSQL sees two bound JSON keys as two different expressions.
        kind = Record.fields["type"].as_string().label("type")
        reached[who] = dict(db.session.execute(
            select(kind, func.count(distinct(Record.child_id)))
            .where(Record.school_id == school_id, Record.kind == ACTIVITY_KIND, Record.occurred_at >= start,
                   Record.occurred_at < end, Record.fields[who].as_string() == "yes")
            .group_by(kind)).all())
    return [{"type": t, "label": label, "activities": held.get(t, 0), "children": reached["child"].get(t, 0),
             "guardians": reached["guardian"].get(t, 0)} for t, label in ACTIVITY_TYPES]


def school_counts(school_ids: list[int], window) -> dict[int, dict[str, int]]:
    """For the bureau's pages: per school, activities held in the window and children who took part (once each)."""
    if not school_ids:
        return {}
    start, end = window.bounds()
    held = dict(db.session.execute(select(Activity.school_id, func.count()).where(Activity.school_id.in_(school_ids), *_in(window))
                                   .group_by(Activity.school_id)).all())
    reached = dict(db.session.execute(
        select(Record.school_id, func.count(distinct(Record.child_id)))
        .where(Record.school_id.in_(school_ids), Record.kind == ACTIVITY_KIND, Record.occurred_at >= start, Record.occurred_at < end)
        .group_by(Record.school_id)).all())
    return {s: {"activities": held.get(s, 0), "children": reached.get(s, 0)} for s in school_ids}


def month_news(school_id: int, window) -> list[dict]:
    """The window's activities as news items for the monthly report: type, title, summary, when, photo hashes (no
    child's name)."""
    acts = db.session.scalars(select(Activity).where(Activity.school_id == school_id, *_in(window))
                              .order_by(Activity.occurred_at)).all()
    return [{"id": a.id, "type": a.type, "type_label": str(TYPE_LABELS.get(a.type, a.type)), "title": a.title,
             "summary": a.summary, "occurred_at": a.occurred_at, "photos": [p.photo.sha256 for p in a.photos]} for a in acts]
