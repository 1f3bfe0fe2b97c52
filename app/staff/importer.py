"""Bulk staff import from the xlsx/csv template: rows keyed by username (a repeated import updates, never resets a
password); new accounts get one-time passwords, shown once; each bad row lists every problem it has."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import tabular
from ..access import accounts_query
from ..audit import audit
from ..extensions import db
from ..models import School, User
from ..tabular import RowError
from .services import account_problems, clean, create_account, role_from_text, update_account

COLUMNS = [
    ("username", "用户名", True),
    ("name", "姓名", True),
    ("role", "角色", True),
    ("phone", "手机", False),
    ("village", "村", False),
]
# The template's sample row: recognised by its username (not a valid one) and skipped, never an account.
EXAMPLE = ["示例-zhanglaoshi", "张老师", "教师", "13800000000", ""]
NOTES = (
    "带 * 的列必填；第 2 行是示例，不会被导入。",
    "用户名是登录账号（小写字母、数字或 _ . -）：再次导入同一用户名会更新姓名、角色、手机和村，不会重置密码。",
    "角色填 教师、心理辅导教师 或 村委会成员；村委会成员须在“村”一列填本校已有的村名。",
    "新账号的一次性密码只在导入结果页显示一次，首次登录后必须修改。",
)


@dataclass
class Result:
    created: list[tuple[int, User, str]] = field(default_factory=list)  # (row, account, one-time password)
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    example_skipped: bool = False


def template_xlsx() -> bytes:
    """The staff template to download."""
    return tabular.template_xlsx("教职工", COLUMNS, EXAMPLE, NOTES)


def import_file(actor: User, school: School, filename: str, data: bytes, max_rows: int) -> Result:
    """Read and apply a staff sheet to `school` as `actor`; UnreadableFile leaves the database untouched."""
    rows = tabular.read_rows(filename, data, max_rows, COLUMNS)
    result = Result()
    seen: dict[str, int] = {}
    for n, values in rows:
        if values.get("username") == EXAMPLE[0]:
            result.example_skipped = True
            continue
        row = clean({**values, "role": role_from_text(values.get("role", "")) or values.get("role", "")})
        if row["username"] in seen:
            result.errors.append(RowError(n, _("用户名 %(u)s 与第 %(row)d 行重复。", u=row["username"], row=seen[row["username"]])))
            continue
        seen[row["username"]] = n
        _apply_row(actor, school, n, row, result)
    audit("import", "user", None, user=actor)
    db.session.commit()
    return result


def _apply_row(actor: User, school: School, n: int, row: dict, result: Result) -> None:
    account = db.session.scalar(select(User).where(func.lower(User.username) == row["username"]))
    if account is None:
        problems = account_problems(actor, school, row)
    elif db.session.scalar(accounts_query(actor).where(User.id == account.id)) is None:
        # Someone else's account (another school, a principal...): the same words as a taken name, nothing more.
        problems = [_("用户名“%(u)s”已被使用。", u=row["username"])] + account_problems(actor, school, row, account)
    else:
        problems = account_problems(actor, school, row, account)
    if problems:
        result.errors.append(RowError(n, " ".join(problems)))
        return
    if account is None:
        made, password = create_account(actor, school, row)
        result.created.append((n, made, password))
    elif update_account(actor, account, row):
        result.updated += 1
    else:
        result.unchanged += 1
