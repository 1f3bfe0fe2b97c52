"""The rules of categories and plans: which categories a school has, who is in them and who keeps in contact, and
each child's plan kept as versions. Used by the pages, the duty rules' settings and the teacher's to-do."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..children.history import record_changes
from ..extensions import db
from ..models import BUILTIN_CATEGORIES, CareCategory, CarePlan, Child, ChildCategory, User

CONTACT_ROLES = ("teacher", "principal", "counsellor")  # staff who can be the designated contact
NAME_MAX, TEXT_MAX = 30, 2000
REVIEW_SOON = timedelta(days=7)  # a plan's review shows in the to-do a week ahead
REVIEW_MAX = timedelta(days=730)


class CareError(ValueError):
    """A rule of categories or plans was broken; the message is shown to the user."""


def categories_for(school_id: int, active_only: bool = True) -> dict[str, str]:
    """{key: name in the current language} of the school's categories: the policy's, then its own."""
    own = db.session.scalars(select(CareCategory).where(CareCategory.school_id == school_id)
                             .order_by(CareCategory.name)).all()
    return {k: _(v) for k, v in BUILTIN_CATEGORIES.items()} | {
        c.key: c.name for c in own if c.active or not active_only}


def own_categories(school_id: int) -> list[CareCategory]:
    """The categories the school added, switched off ones too."""
    return db.session.scalars(select(CareCategory).where(CareCategory.school_id == school_id)
                              .order_by(CareCategory.name)).all()


def add_category(school_id: int, name: str) -> CareCategory:
    """A category of the school's own (or one switched off before, back on)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise CareError(_("分类名称必填，最多 %(n)d 字。", n=NAME_MAX))
    if name in {_(v) for v in BUILTIN_CATEGORIES.values()} | set(BUILTIN_CATEGORIES.values()):
        raise CareError(_("这是政策规定的分类，已经有了。"))
    row = db.session.scalar(select(CareCategory).where(CareCategory.school_id == school_id, CareCategory.name == name))
    if row is None:
        row = CareCategory(school_id=school_id, name=name, active=True)
        db.session.add(row)
    row.active = True
    return row


def switch_category(school_id: int, category_id: int | None, active: bool) -> None:
    """Switch one of the school's own categories off (children keep it on file) or back on."""
    row = db.session.scalar(select(CareCategory).where(CareCategory.id == category_id,
                                                       CareCategory.school_id == school_id))
    if row is None:
        raise CareError(_("找不到这个分类，请刷新页面。"))
    row.active = active


def contacts_for(school_id: int) -> list[User]:
    """The school's active staff who can be a designated contact."""
    return db.session.scalars(select(User).where(User.school_id == school_id, User.role.in_(CONTACT_ROLES), User.active)
                              .order_by(User.name, User.id)).all()


def child_categories(child: Child) -> list[ChildCategory]:
    """The child's categories, in the school's order of categories."""
    rows = db.session.scalars(select(ChildCategory).where(ChildCategory.child_id == child.id)).all()
    order = list(categories_for(child.school_id, active_only=False))
    return sorted(rows, key=lambda r: order.index(r.category) if r.category in order else len(order))


def categories_of(child_ids: list[int]) -> dict[int, list[ChildCategory]]:
    """{child id: its categories} for a list of children (one query), for lists."""
    out: dict[int, list[ChildCategory]] = {}
    if child_ids:
        for row in db.session.scalars(select(ChildCategory).where(ChildCategory.child_id.in_(child_ids))
                                      .order_by(ChildCategory.id)):
            out.setdefault(row.child_id, []).append(row)
    return out


def set_categories(child: Child, wanted: dict[str, int | None], by: User) -> None:
    """The child's categories become `wanted` ({key: designated contact's user id or None}); each change is kept in
    the file's history."""
    known = categories_for(child.school_id, active_only=False)
    staff = {u.id: u for u in contacts_for(child.school_id)}
    if not set(wanted) <= set(known):
        raise CareError(_("所选分类无效，请重新选择。"))
    if any(uid is not None and uid not in staff for uid in wanted.values()):
        raise CareError(_("专人联系只能是本校在职教职工。"))
    current = {r.category: r for r in db.session.scalars(select(ChildCategory).where(ChildCategory.child_id == child.id))}
    changes = []
    for key, row in current.items():
        if key not in wanted:
            changes.append((f"category:{key}", known.get(key, key), None))
            db.session.delete(row)
    for key, contact_id in wanted.items():
        row = current.get(key)
        if row is None:
            db.session.add(ChildCategory(child_id=child.id, school_id=child.school_id, category=key,
                                         contact_id=contact_id, added_by_id=by.id))
            changes.append((f"category:{key}", None, known[key]))
        elif row.contact_id != contact_id:
            old = row.contact.name if row.contact else None
            row.contact_id = contact_id
            changes.append((f"category:{key}.contact", old, staff[contact_id].name if contact_id else None))
    record_changes(child, changes, by, "edit")


def current_plan(child: Child) -> CarePlan | None:
    """The child's plan: its latest version."""
    return db.session.scalar(select(CarePlan).where(CarePlan.child_id == child.id).order_by(CarePlan.id.desc()).limit(1))


def plan_history(child: Child) -> list[CarePlan]:
    """Every version of the child's plan, newest first."""
    return db.session.scalars(select(CarePlan).where(CarePlan.child_id == child.id).order_by(CarePlan.id.desc())).all()


def save_plan(child: Child, goals: str, measures: str, review_on: date | None, by: User, today: date) -> CarePlan:
    """A new version of the child's plan (the earlier ones stay as its history); nothing when nothing changed."""
    goals, measures = (goals or "").strip(), (measures or "").strip()
    if not goals or not measures:
        raise CareError(_("目标和措施都要填写。"))
    if len(goals) > TEXT_MAX or len(measures) > TEXT_MAX:
        raise CareError(_("目标和措施各最多 %(n)d 字。", n=TEXT_MAX))
    if review_on is not None and not today - REVIEW_MAX <= review_on <= today + REVIEW_MAX:
        raise CareError(_("复查日期应在两年之内。"))
    latest = current_plan(child)
    if latest is not None and (latest.goals, latest.measures, latest.review_on) == (goals, measures, review_on):
        return latest
    plan = CarePlan(child_id=child.id, school_id=child.school_id, goals=goals, measures=measures, review_on=review_on,
                    author_id=by.id)
    db.session.add(plan)
    return plan


def plans_to_review(child_ids, today: date) -> list[tuple[Child, CarePlan, bool]]:
    """(child, plan, overdue) of these children (a SELECT of ids) whose current plan is due for review within
    REVIEW_SOON, earliest first: the teacher's to-do."""
    latest = (select(CarePlan.child_id, func.max(CarePlan.id).label("id"))
              .where(CarePlan.child_id.in_(child_ids)).group_by(CarePlan.child_id).subquery())
    rows = db.session.execute(
        select(Child, CarePlan).join(latest, latest.c.child_id == Child.id).join(CarePlan, CarePlan.id == latest.c.id)
        .where(Child.left_on.is_(None), CarePlan.review_on.is_not(None), CarePlan.review_on <= today + REVIEW_SOON)
        .order_by(CarePlan.review_on, Child.name)).all()
    return [(c, p, p.review_on < today) for c, p in rows]


def care_of(user: User, child: Child) -> dict | None:
    """What the file, card and archive show of a child's care: categories with their contacts and labels, the plan,
    and whether `user` may change them; None for whoever may not read it."""
    from ..access import can, may_edit_plan

    if not can(user, "read_care"):
        return None
    from ..clock import today_local

    known = categories_for(child.school_id, active_only=False)
    plan = current_plan(child)
    return {"review_due": bool(plan and plan.review_on and plan.review_on <= today_local()),
            "categories": [{"key": r.category, "label": known.get(r.category, r.category), "contact": r.contact}
                           for r in child_categories(child)],
            "plan": plan, "may_edit_plan": may_edit_plan(user, child),
            "may_set_categories": can(user, "manage_categories")}


def care_list(user: User, children: list[Child]) -> dict[int, list[dict]]:
    """{child id: [{label, contact}]} for a list of children, in two queries; {} for whoever may not read care."""
    from ..access import can

    if not can(user, "read_care") or not children:
        return {}
    known = categories_for(children[0].school_id, active_only=False)
    return {cid: [{"label": known.get(r.category, r.category), "contact": r.contact} for r in rows]
            for cid, rows in categories_of([c.id for c in children]).items()}
