"""A teacher's term record for appraisal (10 % of the annual appraisal): their children, their own visits, talks and
calls against the duty rules, the review and confirmation states of every record, the activities held and the
follow-ups. Counted in SQL per child. The teacher is judged as the due lists hand out the duties: on the rules that
are theirs (a class teacher's rule on their classes' children, a paired teacher's on their paired children: owns()),
each child on the rules that are for it (a rule for some categories, only their children), and only children still
left-behind (left_behind(), as the dashboard)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select

from ..access import taught_classes
from ..duties.services import COUNTING_STATES, Window, left_behind, owns, rule_json, rules_for, term_windows
from ..extensions import db
from ..models import RULE_KINDS, Child, Pairing, Record, RecordPhoto, User
from .periods import periods_in_term, periods_met
from .term_care import activities_held, attendance_of, follow_ups_of


def choose_term(school_id: int, which: str, today: date) -> tuple[str, Window] | None:
    """The current term (?term=current, the default; the last one in the holidays) or the previous one."""
    current, previous = term_windows(school_id, today)
    if which == "previous":
        if current is None:  # in the holidays "previous" is the one before the last term
            before = term_windows(school_id, previous[1].start - date.resolution) if previous else (None, None)
            return before[1]
        return previous
    return current or previous


def _owed(teacher: User, rule, ids: list[int]) -> set[int]:
    """The children of `ids` on whom the rule's duty is `teacher`'s and who it is for (as the due lists hand it out)."""
    return set(db.session.scalars(select(Child.id).where(Child.id.in_(ids), owns(teacher, rule.owner),
                                                         rule.children()))) if ids else set()


def term_record(viewer: User, teacher: User, term: tuple[str, Window], today: date) -> dict:
    """The teacher's children (paired, or owed a rule of theirs) with their duties met per rule (None: the rule is not
    the teacher's on that child, or not for it), the totals by state, every record of the term, the activities held
    and the follow-ups, as `viewer` may see them."""
    name, w = term
    school_id = teacher.school_id
    until = min(today, w.end)
    school_rules = rules_for(school_id)
    children = db.session.execute(
        select(Child, Pairing.responsible, Child.class_name.in_(taught_classes(teacher)))
        .outerjoin(Pairing, and_(Pairing.child_id == Child.id, Pairing.teacher_id == teacher.id))
        .where(Child.school_id == school_id, left_behind(), or_(Child.left_on.is_(None), Child.left_on >= w.start),
               or_(*[owns(teacher, o) for o in sorted({"responsible", *(r.owner for r in school_rules)})]))
        .order_by(Child.class_name, Child.student_no)).all()
    ids = [c.id for c, _r, _t in children]
    start, end = w.bounds()
    mine = (Record.school_id == school_id, Record.author_id == teacher.id, Record.kind.in_(RULE_KINDS),
            Record.occurred_at >= start, Record.occurred_at < end)
    counts: dict[tuple[int, str], int] = {
        (cid, kind): n for cid, kind, n in db.session.execute(
            select(Record.child_id, Record.kind, func.count()).where(*mine, Record.review_state.in_(COUNTING_STATES))
            .group_by(Record.child_id, Record.kind))}
    rules = []
    met: dict[tuple[int, str], int] = {}
    owed: dict[str, set[int]] = {}
    for r in school_rules:
        windows = periods_in_term(r, w, until, school_id)
        owed[r.key] = _owed(teacher, r, ids)
        rules.append(rule_json(r) | {"due": len(windows), "owed": len(owed[r.key])})
        if windows and owed[r.key]:
            q = periods_met(school_id, r, windows, author_id=teacher.id).subquery()
            for cid, n in db.session.execute(select(q.c.child_id, q.c.met).where(q.c.child_id.in_(owed[r.key]))):
                met[(cid, r.key)] = n
    came = attendance_of(viewer, ids, w)
    rows = [{"child": c, "responsible": bool(resp), "class_teacher": bool(taught),
             "counts": {k: counts.get((c.id, k), 0) for k in RULE_KINDS},
             "met": {r["key"]: met.get((c.id, r["key"]), 0) if c.id in owed[r["key"]] else None for r in rules},
             "activities": came.get(c.id, {"child": 0, "guardian": 0})} for c, resp, taught in children]
    states = {(kind, st): n for kind, st, n in db.session.execute(
        select(Record.kind, Record.review_state, func.count()).where(*mine).group_by(Record.kind, Record.review_state))}
    confirms = dict(db.session.execute(
        select(Record.confirm_state, func.count()).where(*mine, Record.kind == "home_visit",
                                                         Record.review_state != "corrected")
        .group_by(Record.confirm_state)).all())
    photos = select(func.count(RecordPhoto.photo_id)).where(RecordPhoto.record_id == Record.id).scalar_subquery()
    records = db.session.execute(
        select(Record.id, Record.kind, Record.occurred_at, Record.review_state, Record.confirm_state,
               Child.class_name, Child.name.label("child_name"),
               photos.label("photos"))
        .join(Child, Child.id == Record.child_id).where(*mine).order_by(Record.occurred_at, Record.id)).mappings().all()
    totals = {
        "due": {r["key"]: r["due"] * r["owed"] for r in rules},
        "met": {r["key"]: sum(x["met"][r["key"]] or 0 for x in rows) for r in rules},
        "counts": {k: sum(x["counts"][k] for x in rows) for k in RULE_KINDS},
    }
    return {"teacher": teacher, "term_name": name, "term": w, "until": until, "rules": rules, "rows": rows,
            "totals": totals, "states": states, "confirms": confirms, "records": records,
            "activities": activities_held(viewer, teacher, w), "follow_ups": follow_ups_of(viewer, teacher, w, today)}


def school_teachers(school_id: int) -> list[User]:
    """The school's teachers, for the principal to choose from."""
    return db.session.scalars(select(User).where(User.school_id == school_id, User.role == "teacher")
                              .order_by(User.name, User.id)).all()

