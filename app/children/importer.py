"""Roster import (花名册) from .xlsx or .csv: read the sheet, check each row, create or update files.

Rows are keyed by the student number: importing the same sheet again updates the files instead of
duplicating them. Each bad row is reported with its row number and the reason; good rows are imported.
A file that cannot be read at all changes nothing.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import tabular
from ..audit import audit
from ..extensions import db
from ..models import Child, Guardian, User, Village
from ..models.people import LEAVE_REASONS, PARENTS_AWAY, SEXES
from ..tabular import RowError, UnreadableFile  # noqa: F401  (callers catch it from here)
from .class_teachers import add_class_teacher
from .services import FileError, create_child, leave_child, save_guardian, set_pairings, update_child

# (key, header in the template, required). The headers are Chinese: the sheet is filled in by schools. Every field of
# the file is a column, so that an exported roster imports again unchanged.
PERSON_FIELDS = [("phone", "电话", 32), ("age", "年龄", None), ("health", "健康状况", 120), ("occupation", "职业", 64),
                 ("work_place", "务工地", 120), ("employer", "工作单位", 120), ("employer_address", "单位地址", 200),
                 ("employer_phone", "单位电话", 32), ("address", "住址", 200)]
PERSONS = [("guardian", "监护人"), ("father", "父亲"), ("mother", "母亲")]
COLUMNS = [
    ("student_no", "学号", True),
    ("name", "姓名", True),
    ("sex", "性别", True),
    ("birth_date", "出生日期", False),
    ("grade", "年级", False),
    ("class_name", "班级", False),
    ("boarding", "是否寄宿", False),
    ("village", "所在村", False),
    ("address", "家庭住址", False),
    ("parents_away", "父母外出情况", False),
    ("health", "健康状况", False),
    ("special_needs", "特殊需要", False),
    ("personality", "性格", False),
    ("interests", "兴趣、特长", False),
    ("study", "学习情况", False),
    ("psychology", "思想、心理状况", False),
    ("living_situation", "生活状况", False),
    ("surveyed_on", "本学期摸底日期", False),
    ("left_on", "离校日期", False),
    ("leave_reason", "离校原因", False),
    ("guardian_name", "监护人姓名", True),
    ("guardian_relationship", "监护人与孩子关系", False),
    *[(f"{role}_{k}", f"{word}{h}", False) for role, word in PERSONS for k, h, _n in
      ([("name", "姓名", 0)] if role != "guardian" else []) + PERSON_FIELDS],
    ("consented_on", "监护人同意日期", True),
    ("notice_version", "告知书版本", True),
    ("teacher", "责任教师账号", False),
    ("class_teacher", "班主任账号", False),
]
# A cell may hold the Chinese word, the code, or a common other spelling.
SEX = {**{word: code for code, word in SEXES.items()}, **{code: code for code in SEXES}, "m": "male", "f": "female"}
AWAY = {**{word: code for code, word in PARENTS_AWAY.items()}, **{code: code for code in PARENTS_AWAY},
        "双方外出": "both", "父母外出": "both"}
LEAVE = {**{word: code for code, word in LEAVE_REASONS.items()}, **{code: code for code in LEAVE_REASONS}}
YES = {"是", "y", "yes", "1", "true", "寄宿"}
NO = {"否", "n", "no", "0", "false", "走读", ""}
SEPARATORS = re.compile(r"[、,，;；\s]+")
EXAMPLE = {"student_no": "20260101", "name": "张小明", "sex": "男", "birth_date": "2016-03-05", "grade": "四年级",
           "class_name": "4(1)班", "boarding": "否", "village": "青山村", "address": "青山村三组 12 号",
           "parents_away": "父母均外出", "health": "良好", "living_situation": "与爷爷同住，爷爷做饭",
           "guardian_name": "张大爷", "guardian_relationship": "祖父", "guardian_phone": "13800000000",
           "guardian_age": "66", "guardian_health": "高血压", "father_name": "张建国", "father_phone": "13900000001",
           "father_work_place": "广东东莞", "father_employer": "东莞某电子厂", "mother_name": "李梅",
           "mother_phone": "13900000002", "mother_work_place": "浙江义乌", "consented_on": "2026-09-01",
           "notice_version": "2026-1", "teacher": "teacher1", "class_teacher": "teacher1"}


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def template_xlsx() -> bytes:
    """The template to download: the headers only (an example row there would be imported as a child), and a notes
    sheet with the example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..reports.xlsx import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    append_row(ws, [h + ("*" if req else "") for _k, h, req in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i in range(1, len(COLUMNS) + 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = 14
    notes = wb.create_sheet("填写说明")
    for line in (
        "带 * 的列必填；从第 2 行起每行一个孩子。下面是一行示例（在本说明页，不会被导入）。",
        "学号是每个孩子的唯一编号：再次导入同一学号会更新档案，不会重复建档；空着的格子保留档案里已有的内容。",
        "性别填 男 或 女；是否寄宿填 是 或 否；日期写成 2026-09-01。",
        "父母外出情况填 父母均外出、父亲外出、母亲外出 或 均未外出。",
        "离校日期和离校原因要一起填；离校原因填 转学、辍学、父母返乡、毕业 或 其他。",
        "所在村须是学校已有的村名；责任教师账号和班主任账号填教师的登录账号（几位班主任用顿号隔开）。",
        "监护人同意日期和告知书版本必填：没有监护人同意不能建档。",
    ):
        append_row(notes, [line])
    append_row(notes, [])
    append_row(notes, [h for _k, h, _req in COLUMNS])
    append_row(notes, [EXAMPLE.get(k, "") for k, _h, _req in COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_rows(filename: str, data: bytes, max_rows: int) -> list[tuple[int, dict]]:
    """Parse a roster into (row number, {key: text}) pairs; UnreadableFile when it cannot be read."""
    return tabular.read_rows(filename, data, max_rows, COLUMNS)


def _date(v: str, label: str) -> date | None:
    if not v:
        return None
    v = v.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "")
    try:
        d = date.fromisoformat("-".join(p.zfill(2) for p in v.split("-")))
    except ValueError:
        raise FileError(_("%(label)s“%(value)s”不是有效日期（例如 2026-09-01）。", label=label, value=v)) from None
    if not (1900 <= d.year <= 2100):
        raise FileError(_("%(label)s“%(value)s”不是有效日期（例如 2026-09-01）。", label=label, value=v))
    return d


def _int(v: str, label: str) -> int | None:
    if not v:
        return None
    try:
        n = int(float(v))
    except ValueError:
        raise FileError(_("%(label)s必须是数字。", label=label)) from None
    if not 0 <= n <= 130:
        raise FileError(_("%(label)s必须是数字。", label=label))
    return n


def _limit(v: str, n: int, label: str) -> str | None:
    if len(v) > n:
        raise FileError(_("%(label)s太长（最多 %(n)d 字）。", label=label, n=n))
    return v or None


class _Problems(list):
    """Every problem of a row, so the report lists them all, not only the first."""

    def take(self, check, *args):
        """check(*args), or None with its complaint noted."""
        try:
            return check(*args)
        except FileError as e:
            self.append(str(e))
            return None


class Importer:
    """Applies rows to one school, as one principal."""

    def __init__(self, school_id: int, by: User):
        self.school_id = school_id
        self.by = by
        self.villages = {v.name: v.id for v in db.session.scalars(select(Village).where(Village.school_id == school_id))}
        self.teachers = {
            u.username: u.id for u in db.session.scalars(
                select(User).where(User.school_id == school_id, User.role == "teacher", User.active)
            )
        }

    def run(self, rows: list[tuple[int, dict]]) -> Result:
        result = Result()
        seen: dict[str, int] = {}
        for n, values in rows:
            no = values.get("student_no", "")
            if no and no in seen:
                result.errors.append(RowError(n, _("学号 %(no)s 与第 %(row)d 行重复。", no=no, row=seen[no])))
                continue
            if no:
                seen[no] = n
            try:
                with db.session.begin_nested():  # a bad row is undone alone
                    created = self._row(values)
            except FileError as e:
                result.errors.append(RowError(n, str(e)))
                continue
            if created:
                result.created += 1
            else:
                result.updated += 1
        audit("import", "child", None, user=self.by)
        db.session.commit()
        return result

    def _row(self, v: dict) -> bool:
        problems = _Problems()
        for key, header, req in COLUMNS:
            if req and not v.get(key):
                problems.append(_("“%(col)s”必填。", col=header))
        sex = SEX.get(v.get("sex", "").lower())
        if sex is None and v.get("sex"):
            problems.append(_("性别应填“男”或“女”。"))
        away = AWAY.get(v.get("parents_away", "").lower() or "both")
        if away is None:
            problems.append(_("父母外出情况应填：父母均外出、父亲外出、母亲外出或均未外出。"))
        boarding = v.get("boarding", "").lower()
        if boarding not in YES | NO:
            problems.append(_("是否寄宿应填“是”或“否”。"))
        village_id = None
        if v.get("village"):
            village_id = self.villages.get(v["village"])
            if village_id is None:
                problems.append(_("本校没有名为“%(name)s”的村。", name=v["village"]))
        teacher_id = None
        if v.get("teacher"):
            teacher_id = self.teachers.get(v["teacher"])
            if teacher_id is None:
                problems.append(_("本校没有账号为“%(name)s”的教师。", name=v["teacher"]))
        class_teacher_ids = []
        for name in SEPARATORS.split(v.get("class_teacher", "")):
            if name and self.teachers.get(name) is None:
                problems.append(_("本校没有账号为“%(name)s”的教师。", name=name))
            elif name:
                class_teacher_ids.append(self.teachers[name])
        leave_reason = LEAVE.get(v.get("leave_reason", "").lower()) if v.get("leave_reason") else None
        if v.get("leave_reason") and leave_reason is None:
            problems.append(_("离校原因应填：转学、辍学、父母返乡、毕业或其他。"))
        left_on = problems.take(_date, v.get("left_on", ""), _("离校日期"))
        if bool(v.get("left_on")) != bool(v.get("leave_reason")):
            problems.append(_("离校日期和离校原因要一起填。"))
        text = lambda key, n, label: problems.take(_limit, v.get(key, ""), n, label)  # noqa: E731
        child_data = {
            "student_no": text("student_no", 32, _("学号")), "name": text("name", 64, _("姓名")),
            "sex": sex, "birth_date": problems.take(_date, v.get("birth_date", ""), _("出生日期")),
            "grade": text("grade", 16, _("年级")), "class_name": text("class_name", 32, _("班级")),
            "boarding": boarding in YES, "village_id": village_id,
            "address": text("address", 200, _("家庭住址")), "parents_away": away,
            **{k: text(k, 2000, h) for k, h in (("health", "健康状况"), ("special_needs", "特殊需要"), ("personality", "性格"),
                                                ("interests", "兴趣、特长"), ("study", "学习情况"),
                                                ("psychology", "思想、心理状况"), ("living_situation", "生活状况"))},
            "surveyed_on": problems.take(_date, v.get("surveyed_on", ""), _("本学期摸底日期")),
        }
        people = {}
        for role, word in PERSONS:
            if not v.get(f"{role}_name"):
                continue
            person = {"role": role, "name": text(f"{role}_name", 64, f"{word}姓名"),
                      "relationship_": (text("guardian_relationship", 32, _("监护人与孩子关系")) if role == "guardian"
                                        else _("父亲") if role == "father" else _("母亲"))}
            for k, h, n in PERSON_FIELDS:
                person[k] = (problems.take(_int, v.get(f"{role}_{k}", ""), f"{word}{h}") if n is None
                             else text(f"{role}_{k}", n, f"{word}{h}"))
            people[role] = person
        consent = {"consented_on": problems.take(_date, v.get("consented_on", ""), _("监护人同意日期")),
                   "notice_version": text("notice_version", 32, _("告知书版本"))}
        if problems:
            raise FileError("；".join(problems))
        child = db.session.scalar(
            select(Child).where(Child.school_id == self.school_id, Child.student_no == child_data["student_no"])
        )
        created = child is None
        if created:
            child = create_child(self.school_id, child_data, people.pop("guardian"), consent, self.by)
        else:
            # A blank cell keeps what the file already holds (the principal may have completed it online).
            update_child(child, {k: val for k, val in child_data.items() if val is not None}, self.by, "import")
        for role, data in people.items():
            self._upsert_guardian(child, role, data)
        if teacher_id:
            others = [p.teacher_id for p in child.pairings]
            set_pairings(child, others + [teacher_id], teacher_id, self.by)
        if class_teacher_ids and not child.class_name:
            raise FileError(_("填写班主任账号时须填写班级。"))
        for tid in class_teacher_ids:
            add_class_teacher(self.school_id, child.class_name, tid)
        if left_on and child.left_on is None:
            leave_child(child, left_on, leave_reason, self.by, "import")
        elif left_on:
            update_child(child, {"left_on": left_on, "leave_reason": leave_reason}, self.by, "import")
        return created

    def _upsert_guardian(self, child: Child, role: str, data: dict) -> Guardian:
        """The guardian (or parent) of this role with this name is updated; a new one is added."""
        match = next((g for g in child.guardians if g.role == role and g.name == data["name"]), None)
        if match is None and role in ("father", "mother"):
            match = next((g for g in child.guardians if g.role == role), None)
        return save_guardian(child, {k: val for k, val in data.items() if val is not None}, self.by, match, "import")


def import_file(school_id: int, by: User, filename: str, data: bytes, max_rows: int = 5000) -> Result:
    """Read and import a roster; UnreadableFile leaves the database untouched."""
    rows = read_rows(filename, data, max_rows)
    return Importer(school_id, by).run(rows)

