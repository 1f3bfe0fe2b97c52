"""Staff accounts: the rules for creating, editing, deactivating, reactivating and resetting them, used by the pages
and the import alike. Every change is audited (ids only: never a password, one-time or not)."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..access import account_roles
from ..audit import audit
from ..auth.passwords import one_time_password
from ..auth.services import end_all_sessions
from ..extensions import db
from ..models import County, School, User, Village

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,30}$")
FIELDS = ("username", "name", "phone", "role", "village")


class AccountError(Exception):
    """A change that cannot be made; the message (every problem, in the user's language) is for the user."""


def role_label(role: str) -> str:
    """The role's Chinese word."""
    return {"teacher": _("教师"), "counsellor": _("心理辅导教师"), "committee": _("村委会成员"), "principal": _("校长"),
            "admin": _("学校管理员"), "bureau": _("教育局工作人员"), "bureau_admin": _("教育局管理员")}.get(role, role)


def role_from_text(text: str) -> str:
    """A role from a cell: its code or its Chinese word ("" when it is neither)."""
    text = (text or "").strip()
    from ..models import ROLES

    for role in ROLES:
        if text.lower() == role or text == role_label(role):
            return role
    return ""


def clean(data: dict) -> dict:
    """The account fields of a form or a row, trimmed; the username lowercased."""
    out = {k: str(data.get(k) or "").strip() for k in FIELDS}
    out["username"] = out["username"].lower()
    return out


def account_problems(actor: User, school: School | None, data: dict, account: User | None = None) -> list[str]:
    """Every problem of these account fields (clean()ed), for a new account (`account` None) or an existing one."""
    problems = []
    if account is None:
        if not USERNAME.match(data["username"]):
            problems.append(_("用户名须为 3 到 64 位小写字母、数字或 _ . -，以字母或数字开头。"))
        elif db.session.scalar(select(User.id).where(func.lower(User.username) == data["username"])):
            problems.append(_("用户名“%(u)s”已被使用。", u=data["username"]))
    if not data["name"]:
        problems.append(_("姓名必填。"))
    elif len(data["name"]) > 64:
        problems.append(_("姓名太长（最多 64 字）。"))
    if data["phone"] and not PHONE.match(data["phone"]):
        problems.append(_("手机号“%(p)s”格式不对。", p=data["phone"]))
    roles = account_roles(actor, school)
    if data["role"] not in roles:
        problems.append(_("角色应为：%(roles)s。", roles="、".join(role_label(r) for r in roles)))
    if data["role"] == "committee":
        if not data["village"]:
            problems.append(_("村委会成员须填所在村。"))
        elif _village(school, data["village"]) is None:
            problems.append(_("本校没有名为“%(name)s”的村。", name=data["village"]))
    return problems


def _village(school: School | None, name: str) -> Village | None:
    if school is None or not name:
        return None
    return db.session.scalar(select(Village).where(Village.school_id == school.id, Village.name == name))


def _apply(account: User, school: School | None, data: dict) -> None:
    account.name = data["name"]
    account.phone = data["phone"] or None
    account.role = data["role"]
    account.village_id = _village(school, data["village"]).id if data["role"] == "committee" else None


def create_account(actor: User, school: School | None, data: dict) -> tuple[User, str]:
    """A new account of `school` (None: of the actor's county bureau) with a one-time password, returned once."""
    data = clean(data)
    problems = account_problems(actor, school, data)
    if problems:
        raise AccountError(" ".join(problems))
    account = User(username=data["username"], school_id=school.id if school else None,
                   county_id=None if school else actor.county_id, must_change_password=True)
    _apply(account, school, data)
    password = one_time_password()
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    audit("account_created", "user", account.id, user=actor)
    return account, password


def update_account(actor: User, account: User, data: dict) -> bool:
    """Change an account's name, phone, role or village (the username stays); True when something changed."""
    data = clean({**data, "username": account.username})
    problems = account_problems(actor, account.school, data, account)
    if problems:
        raise AccountError(" ".join(problems))
    before = (account.name, account.phone, account.role, account.village_id)
    _apply(account, account.school, data)
    changed = before != (account.name, account.phone, account.role, account.village_id)
    if changed:
        if before[2] != account.role:  # a session's menus and rights were made for the old role
            end_all_sessions(account)
        audit("account_updated", "user", account.id, user=actor)
    return changed


def deactivate(actor: User, account: User) -> None:
    """Close the account: it cannot log in, every session it has ends now, and its phone wipes at next contact."""
    account.active = False
    end_all_sessions(account)
    audit("account_deactivated", "user", account.id, user=actor)


def reactivate(actor: User, account: User) -> None:
    """Open a closed account again (with the password it had)."""
    account.active = True
    audit("account_reactivated", "user", account.id, user=actor)


def reset_password(actor: User, account: User) -> str:
    """Give the account a one-time password (returned once) that must be changed at the next login; end its sessions."""
    password = one_time_password()
    account.set_password(password)
    account.must_change_password = True
    end_all_sessions(account)
    audit("password_reset", "user", account.id, user=actor)
    return password


def school_problems(data: dict) -> list[str]:
    """Every problem of a school's name and hotline."""
    problems = []
    if not data.get("name"):
        problems.append(_("学校名称必填。"))
    elif len(data["name"]) > 120:
        problems.append(_("学校名称太长（最多 120 字）。"))
    if data.get("hotline") and not PHONE.match(data["hotline"]):
        problems.append(_("电话“%(p)s”格式不对。", p=data["hotline"]))
    return problems


def save_school(actor: User, data: dict, school: School | None = None) -> School:
    """Create a school in the actor's county, or rename it / change its hotline."""
    data = {k: str(data.get(k) or "").strip() for k in ("name", "hotline")}
    problems = school_problems(data)
    if problems:
        raise AccountError(" ".join(problems))
    created = school is None
    if created:
        school = School(county_id=actor.county_id)
        db.session.add(school)
    school.name, school.hotline = data["name"], data["hotline"] or None
    db.session.flush()
    audit("school_created" if created else "school_updated", "school", school.id, user=actor)
    return school


def save_county(actor: User, county: County, data: dict) -> None:
    """Change the county's name, its bureau's name and the bureau's duty phone."""
    data = {k: str(data.get(k) or "").strip() for k in ("name", "bureau_name", "bureau_phone")}
    problems = []
    if not data["name"]:
        problems.append(_("县（区）名称必填。"))
    elif db.session.scalar(select(County.id).where(County.name == data["name"], County.id != county.id)):
        problems.append(_("已有名为“%(name)s”的县（区）。", name=data["name"]))
    if any(len(v) > 120 for v in data.values()):
        problems.append(_("名称太长（最多 120 字）。"))
    if data["bureau_phone"] and not PHONE.match(data["bureau_phone"]):
        problems.append(_("电话“%(p)s”格式不对。", p=data["bureau_phone"]))
    if problems:
        raise AccountError(" ".join(problems))
    county.name, county.bureau_name, county.bureau_phone = data["name"], data["bureau_name"] or None, data["bureau_phone"] or None
    audit("county_updated", "county", county.id, user=actor)
