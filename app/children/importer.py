"""Roster import (花名册) from .xlsx or .csv: read the sheet, check each row, create or update files.

Rows are keyed by the student number: importing the same sheet again updates the files instead of
duplicating them. Each bad row is reported with its row number and the reason; good rows are imported.
A file that cannot be read at all changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import tabular
from ..audit import audit
from ..extensions import db
from ..models import Child, Guardian, User, Village
from ..models.people import PARENTS_AWAY, SEXES
from ..tabular import RowError, UnreadableFile  # noqa: F401  (callers catch it from here)
from .services import FileError, create_child, save_guardian, set_pairings, update_child

# (key, header in the template, required). The headers are Chinese: the sheet is filled in by schools.
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
    ("guardian_name", "监护人姓名", True),
    ("guardian_relationship", "监护人与孩子关系", False),
    ("guardian_phone", "监护人电话", False),
    ("guardian_age", "监护人年龄", False),
    ("guardian_health", "监护人健康状况", False),
    ("father_name", "父亲姓名", False),
    ("father_phone", "父亲电话", False),
    ("father_work_place", "父亲务工地", False),
    ("mother_name", "母亲姓名", False),
    ("mother_phone", "母亲电话", False),
    ("mother_work_place", "母亲务工地", False),
    ("consented_on", "监护人同意日期", True),
    ("notice_version", "告知书版本", True),
    ("teacher", "责任教师账号", False),
]
# A cell may hold the Chinese word, the code, or a common other spelling.
SEX = {**{word: code for code, word in SEXES.items()}, **{code: code for code in SEXES}, "m": "male", "f": "female"}
AWAY = {**{word: code for code, word in PARENTS_AWAY.items()}, **{code: code for code in PARENTS_AWAY},
        "双方外出": "both", "父母外出": "both"}
YES = {"是", "y", "yes", "1", "true", "寄宿"}
NO = {"否", "n", "no", "0", "false", "走读", ""}
EXAMPLE = ["20260101", "张小明", "男", "2016-03-05", "四年级", "4(1)班", "否", "青山村", "青山村三组 12 号",
           "父母均外出", "良好", "", "张大爷", "祖父", "13800000000", "66", "高血压", "张建国", "13900000001",
           "广东东莞", "李梅", "13900000002", "浙江义乌", "2026-09-01", "2026-1", "teacher1"]


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def template_xlsx() -> bytes:
    """The template to download: headers, one example row, and a notes sheet."""
    return tabular.template_xlsx("花名册", COLUMNS, EXAMPLE, (
        "带 * 的列必填；第 2 行是示例，导入前请删除。",
        "学号是每个孩子的唯一编号：再次导入同一学号会更新档案，不会重复建档。",
        "性别填 男 或 女；是否寄宿填 是 或 否；日期写成 2026-09-01。",
        "父母外出情况填 父母均外出、父亲外出、母亲外出 或 均未外出。",
        "所在村须是学校已有的村名；责任教师账号填教师的登录账号。",
        "监护人同意日期和告知书版本必填：没有监护人同意不能建档。",
    ))


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
        for key, header, req in COLUMNS:
            if req and not v.get(key):
                raise FileError(_("“%(col)s”必填。", col=header))
        sex = SEX.get(v["sex"].lower())
        if sex is None:
            raise FileError(_("性别应填“男”或“女”。"))
        away = AWAY.get(v.get("parents_away", "").lower() or "both")
        if away is None:
            raise FileError(_("父母外出情况应填：父母均外出、父亲外出、母亲外出或均未外出。"))
        boarding = v.get("boarding", "").lower()
        if boarding not in YES | NO:
            raise FileError(_("是否寄宿应填“是”或“否”。"))
        village_id = None
        if v.get("village"):
            village_id = self.villages.get(v["village"])
            if village_id is None:
                raise FileError(_("本校没有名为“%(name)s”的村。", name=v["village"]))
        teacher_id = None
        if v.get("teacher"):
            teacher_id = self.teachers.get(v["teacher"])
            if teacher_id is None:
                raise FileError(_("本校没有账号为“%(name)s”的教师。", name=v["teacher"]))
        child_data = {
            "student_no": _limit(v["student_no"], 32, _("学号")), "name": _limit(v["name"], 64, _("姓名")),
            "sex": sex, "birth_date": _date(v.get("birth_date", ""), _("出生日期")),
            "grade": _limit(v.get("grade", ""), 16, _("年级")), "class_name": _limit(v.get("class_name", ""), 32, _("班级")),
            "boarding": boarding in YES, "village_id": village_id,
            "address": _limit(v.get("address", ""), 200, _("家庭住址")), "parents_away": away,
            "health": v.get("health") or None, "special_needs": v.get("special_needs") or None,
        }
        guardian = {
            "role": "guardian", "name": _limit(v["guardian_name"], 64, _("监护人姓名")),
            "relationship_": _limit(v.get("guardian_relationship", ""), 32, _("监护人与孩子关系")),
            "phone": _limit(v.get("guardian_phone", ""), 32, _("监护人电话")),
            "age": _int(v.get("guardian_age", ""), _("监护人年龄")),
            "health": _limit(v.get("guardian_health", ""), 120, _("监护人健康状况")),
        }
        consent = {"consented_on": _date(v["consented_on"], _("监护人同意日期")),
                   "notice_version": _limit(v["notice_version"], 32, _("告知书版本"))}
        parents = []
        for role, prefix in (("father", "father"), ("mother", "mother")):
            if v.get(f"{prefix}_name"):
                parents.append((role, {
                    "role": role, "name": _limit(v[f"{prefix}_name"], 64, _("姓名")),
                    "relationship_": _("父亲") if role == "father" else _("母亲"),
                    "phone": _limit(v.get(f"{prefix}_phone", ""), 32, _("电话")),
                    "work_place": _limit(v.get(f"{prefix}_work_place", ""), 120, _("务工地")),
                }))
        child = db.session.scalar(
            select(Child).where(Child.school_id == self.school_id, Child.student_no == child_data["student_no"])
        )
        created = child is None
        if created:
            child = create_child(self.school_id, child_data, guardian, consent, self.by)
        else:
            # A blank cell keeps what the file already holds (the principal may have completed it online).
            update_child(child, {k: val for k, val in child_data.items() if val is not None}, self.by)
            self._upsert_guardian(child, "guardian", guardian)
        for role, data in parents:
            self._upsert_guardian(child, role, data)
        if teacher_id:
            others = [p.teacher_id for p in child.pairings]
            set_pairings(child, others + [teacher_id], teacher_id, self.by)
        return created

    def _upsert_guardian(self, child: Child, role: str, data: dict) -> Guardian:
        """The guardian (or parent) of this role with this name is updated; a new one is added."""
        match = next((g for g in child.guardians if g.role == role and g.name == data["name"]), None)
        if match is None and role in ("father", "mother"):
            match = next((g for g in child.guardians if g.role == role), None)
        return save_guardian(child, {k: val for k, val in data.items() if val is not None}, self.by, match)


def import_file(school_id: int, by: User, filename: str, data: bytes, max_rows: int = 5000) -> Result:
    """Read and import a roster; UnreadableFile leaves the database untouched."""
    rows = read_rows(filename, data, max_rows)
    return Importer(school_id, by).run(rows)

