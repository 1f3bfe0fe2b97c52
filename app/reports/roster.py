"""The roster export (花名册): one row per child, the file and the contact card, in the import template's columns
first so that an exported roster can be imported again."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from ..children.importer import COLUMNS
from ..extensions import db
from ..models import Child, Pairing
from ..models.people import PARENTS_AWAY, SEXES
from .xlsx import append_row, workbook_bytes

# Columns beyond the import template: the rest of the file and of the contact card (the importer skips them).
EXTRA = [
    ("personality", "性格"), ("interests", "兴趣、特长"), ("study", "学习情况"), ("psychology", "思想、心理状况"),
    ("surveyed_on", "本学期摸底日期"), ("left_on", "离校日期"),
    ("father_employer", "父亲工作单位"), ("mother_employer", "母亲工作单位"),
    ("responsible_name", "包保责任人"), ("responsible_phone", "包保责任人电话"), ("paired", "结对教师"),
    ("school_hotline", "学校电话"),
]
HEADERS = [h for _k, h, _req in COLUMNS] + [h for _k, h in EXTRA]
KEYS = [k for k, _h, _req in COLUMNS] + [k for k, _h in EXTRA]
BATCH = 500


def _iso(d) -> str:
    return d.isoformat() if d else ""


def row_for(child: Child) -> list[str]:
    """The roster row of one child (loaded with its guardians, pairings, village, consents and school)."""
    g = child.entrusted_guardian
    parents = {p.role: p for p in child.parents()}
    father, mother = parents.get("father"), parents.get("mother")
    consent = child.active_consent
    teacher = child.responsible_teacher
    v = {
        "student_no": child.student_no, "name": child.name, "sex": SEXES.get(child.sex, child.sex),
        "birth_date": _iso(child.birth_date), "grade": child.grade, "class_name": child.class_name,
        "boarding": "是" if child.boarding else "否", "village": child.village.name if child.village else "",
        "address": child.address, "parents_away": PARENTS_AWAY.get(child.parents_away, ""), "health": child.health,
        "special_needs": child.special_needs,
        "guardian_name": g and g.name, "guardian_relationship": g and g.relationship_, "guardian_phone": g and g.phone,
        "guardian_age": g and g.age, "guardian_health": g and g.health,
        "father_name": father and father.name, "father_phone": father and father.phone,
        "father_work_place": father and father.work_place,
        "mother_name": mother and mother.name, "mother_phone": mother and mother.phone,
        "mother_work_place": mother and mother.work_place,
        "consented_on": _iso(consent.consented_on) if consent else "", "notice_version": consent and consent.notice_version,
        "teacher": teacher and teacher.username,
        "personality": child.personality, "interests": child.interests, "study": child.study,
        "psychology": child.psychology, "surveyed_on": _iso(child.surveyed_on), "left_on": _iso(child.left_on),
        "father_employer": father and father.employer, "mother_employer": mother and mother.employer,
        "responsible_name": teacher and teacher.name, "responsible_phone": teacher and teacher.phone,
        "paired": "、".join(sorted(p.teacher.name for p in child.pairings)),
        "school_hotline": child.school.hotline,
    }
    return ["" if v[k] is None else str(v[k]) for k in KEYS]


def roster_xlsx(children: Select) -> tuple[bytes, int]:
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
    for child in db.session.scalars(q):
        append_row(ws, row_for(child))
        n += 1
    return workbook_bytes(wb), n
