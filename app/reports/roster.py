"""The roster export (花名册): one row per child, the file and the contact card, in the import template's columns
first so that an exported roster can be imported again."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..children.importer import COLUMNS, PERSON_FIELDS, PERSONS
from ..extensions import db
from ..models import Child, ClassTeacher, Pairing, User
from ..models.people import LEAVE_REASONS, PARENTS_AWAY, SEXES
from .xlsx import append_row, workbook_bytes

# Columns beyond the import template: the contact card (the importer skips them).
EXTRA = [
    ("responsible_name", "包保责任人"), ("responsible_phone", "包保责任人电话"), ("paired", "结对教师"),
    ("school_hotline", "学校电话"),
]
HEADERS = [h for _k, h, _req in COLUMNS] + [h for _k, h in EXTRA]
KEYS = [k for k, _h, _req in COLUMNS] + [k for k, _h in EXTRA]
BATCH = 500


def _iso(d) -> str:
    return d.isoformat() if d else ""


def row_for(child: Child, class_teachers: dict[str, list[str]] | None = None) -> list[str]:
    """The roster row of one child (loaded with its guardians, pairings, village, consents and school);
    `class_teachers` maps a class to its class teachers' usernames."""
    people = {"guardian": child.entrusted_guardian, **{p.role: p for p in child.parents()}}
    consent = child.active_consent
    teacher = child.responsible_teacher
    v = {
        "student_no": child.student_no, "name": child.name, "sex": SEXES.get(child.sex, child.sex),
        "birth_date": _iso(child.birth_date), "grade": child.grade, "class_name": child.class_name,
        "boarding": "是" if child.boarding else "否", "village": child.village.name if child.village else "",
        "address": child.address, "parents_away": PARENTS_AWAY.get(child.parents_away, ""),
        **{k: getattr(child, k) for k in ("health", "special_needs", "personality", "interests", "study", "psychology",
                                          "living_situation")},
        "surveyed_on": _iso(child.surveyed_on), "left_on": _iso(child.left_on),
        "leave_reason": LEAVE_REASONS.get(child.leave_reason, child.leave_reason),
        "guardian_relationship": people["guardian"] and people["guardian"].relationship_,
        **{f"{role}_{k}": getattr(people.get(role), k, None) for role, _w in PERSONS
           for k in ["name"] + [f for f, _h, _n in PERSON_FIELDS]},
        "consented_on": _iso(consent.consented_on) if consent else "", "notice_version": consent and consent.notice_version,
        "teacher": teacher and teacher.username,
        "class_teacher": "、".join((class_teachers or {}).get(child.class_name, [])),
        "responsible_name": teacher and teacher.name, "responsible_phone": teacher and teacher.phone,
        "paired": "、".join(sorted(p.teacher.name for p in child.pairings)),
        "school_hotline": child.school.hotline,
    }
    return ["" if v[k] is None else str(v[k]) for k in KEYS]


def class_teacher_names(school_id: int) -> dict[str, list[str]]:
    """{class: its class teachers' usernames, sorted}: the roster's 班主任账号 column."""
    rows = db.session.execute(select(ClassTeacher.class_name, User.username).join(User, User.id == ClassTeacher.teacher_id)
                              .where(ClassTeacher.school_id == school_id).order_by(User.username))
    out: dict[str, list[str]] = {}
    for name, username in rows:
        out.setdefault(name, []).append(username)
    return out


def roster_xlsx(children: Select, school_id: int) -> tuple[bytes, int]:
    """The workbook for the children this SELECT (already scoped by app.access) yields, and how many rows it has.

    Written in streaming mode and read from the database in batches: a county's roster is tens of thousands of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    header = []
    for h in HEADERS:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    q = (children.options(selectinload(Child.guardians), selectinload(Child.consents), selectinload(Child.village),
                          selectinload(Child.school), selectinload(Child.pairings).selectinload(Pairing.teacher))
         .order_by(Child.class_name, Child.student_no).execution_options(yield_per=BATCH))
    n = 0
    class_teachers = class_teacher_names(school_id)
    for child in db.session.scalars(q):
        append_row(ws, row_for(child, class_teachers))
        n += 1
    return workbook_bytes(wb), n
