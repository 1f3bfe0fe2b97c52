"""Survey progress this term: surveyed / due by class and by the teacher the survey falls to, per school for the
bureau, and the reminders to teachers with children not yet surveyed.

The survey of a child falls to a class teacher of the child's class (ClassTeacher; the first by id when a class has
several), else to the child's responsible teacher (包保责任人). A child counts as surveyed when a survey record about
them, not returned, took place in the term. Between terms the figures are the last term's; reminders run in terms only.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from ..clock import today_local
from ..duties.services import COUNTING_STATES, Window, term_windows
from ..extensions import db
from ..models import Child, ClassTeacher, Pairing, Record, School, User

SURVEY = "survey"


def survey_term(school_id: int, today: date) -> tuple[str, Window] | None:
    """The term whose survey is counted: the current one, or between terms the one just ended."""
    current, previous = term_windows(school_id, today)
    return current or previous


def _assignee():
    """SQL: the teacher a child's survey falls to (class teacher, else responsible teacher)."""
    class_teacher = (select(func.min(ClassTeacher.teacher_id))
                     .where(ClassTeacher.school_id == Child.school_id, ClassTeacher.class_name == Child.class_name)
                     .scalar_subquery())
    responsible = (select(Pairing.teacher_id).where(Pairing.child_id == Child.id, Pairing.responsible)
                   .limit(1).scalar_subquery())
    return func.coalesce(class_teacher, responsible)


def _counting(w: Window) -> list:
    """WHERE conditions: survey records in the window that count (not returned)."""
    start, end = w.bounds()
    return [Record.kind == SURVEY, Record.occurred_at >= start, Record.occurred_at < end,
            Record.review_state.in_(COUNTING_STATES)]


def _surveyed(w: Window):
    return select(Record.id).where(Record.child_id == Child.id, *_counting(w)).exists()


def _active(school_id: int):
    return and_(Child.school_id == school_id, Child.left_on.is_(None))


def progress(school_id: int, today: date, by: str = "class") -> dict:
    """{"term": name or None, "rows": [{"key", "label", "children", "surveyed"}], "children", "surveyed"} for the
    school's active children, grouped by class or by the teacher each survey falls to."""
    term = survey_term(school_id, today)
    if term is None:
        return {"term": None, "rows": [], "children": 0, "surveyed": 0}
    key = Child.class_name if by == "class" else _assignee()
    done = func.sum(case((_surveyed(term[1]), 1), else_=0))
    rows = db.session.execute(select(key.label("key"), func.count().label("children"), done.label("surveyed"))
                              .where(_active(school_id)).group_by(key)).all()
    names = {}
    if by == "teacher":
        ids = [r.key for r in rows if r.key is not None]
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    out = [{"key": r.key, "children": r.children, "surveyed": int(r.surveyed or 0),
            "label": (names.get(r.key) if by == "teacher" else r.key) or (_("未指定教师") if by == "teacher" else _("未分班"))}
           for r in rows]
    out.sort(key=lambda r: (r["key"] is None, str(r["label"])))
    return {"term": term[0], "rows": out, "children": sum(r["children"] for r in out),
            "surveyed": sum(r["surveyed"] for r in out)}


def school_survey_counts(school_ids: list[int], today: date) -> list[dict]:
    """For the bureau: per school, its term's name, active children and how many are surveyed (aggregates only).
    One grouped query per school (each school keeps its own calendar)."""
    out = []
    for school_id in school_ids:
        p = progress(school_id, today, by="class")
        out.append({"school_id": school_id, "term": p["term"], "children": p["children"], "surveyed": p["surveyed"]})
    return out


def unsurveyed_by_teacher(school_id: int, today: date) -> dict[int, int]:
    """In term time: teacher id -> how many of the children whose survey falls to them are not surveyed yet."""
    current, _previous = term_windows(school_id, today)
    if current is None:
        return {}
    who = _assignee()
    rows = db.session.execute(select(who, func.count()).where(_active(school_id), ~_surveyed(current[1]), who.is_not(None))
                              .group_by(who)).all()
    return {teacher_id: n for teacher_id, n in rows}


def survey_reminders(now: datetime) -> int:
    """Once a week in term time, each teacher with unsurveyed children gets "N children to survey" (no names)."""
    from ..notify.services import notify

    today = today_local(now)
    week = today.isocalendar()
    made = 0
    for school_id in db.session.scalars(select(School.id)):
        for teacher_id, n in unsurveyed_by_teacher(school_id, today).items():
            text = _("本学期还有 %(n)d 名学生没有完成学期初摸底，请在手机上逐一填写摸底表。", n=n)
            if notify(teacher_id, f"survey:{week[0]}-{week[1]}", "survey_due", text, "/app/"):
                made += 1
    return made


def surveyed_ids(w: Window, child_ids: list[int]) -> set[int]:
    """Which of these children have a survey that counts in the window."""
    if not child_ids:
        return set()
    return set(db.session.scalars(select(Record.child_id).where(Record.child_id.in_(child_ids), *_counting(w)).distinct()))
