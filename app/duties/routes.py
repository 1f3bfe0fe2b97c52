"""Duty pages: the teacher's due list, the principal's dashboard, and the principal's rules and terms."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select

from ..access import can, child_ids_query, children_query, requires
from ..audit import audit
from ..care.services import categories_for, plans_to_review
from ..clock import today_local
from ..extensions import db
from ..models import PERIODS, RULE_KINDS, SEASONS, Child, DutyRule, Term
from ..verify.returns import overdue_corrections
from ..web import EmptyForm, arg_id
from . import bp
from .services import (DEFAULT_RULES, DUTY_KINDS, OWNER_LABELS, check_rule, coverage, duties_for, filter_fields, holidays_for,
                       overdue_children, rules_for, terms_for, trend)


@bp.route("/duties/")
@requires("keep_duties")
def mine():
    today = today_local()
    children = db.session.scalars(children_query(current_user).where(Child.left_on.is_(None))).all()
    return render_template("duties/mine.html", rows=duties_for(current_user, children, today), today=today,
                           reviews=plans_to_review(child_ids_query(current_user), today))


@bp.route("/dashboard/")
@requires("plan_duties")
def dashboard():
    today = today_local()
    by = request.args.get("by", "class")
    if by not in ("class", "teacher", "village"):
        by = "class"
    total, overdue = overdue_children(current_user.school_id, today)
    weeks = trend(current_user.school_id, today)
    rules = rules_for(current_user.school_id)
    late_total, late = overdue_corrections(current_user.school_id, today)
    from ..surveys.progress import progress as survey_progress
    from ..villages.map import village_map

    return render_template("duties/dashboard.html", today=today, by=by, rows=coverage(current_user.school_id, today, by),
                           late_corrections=late, late_corrections_total=late_total,
                           rules=rules, titles={r.key: r.title for r in rules}, overdue=overdue, overdue_total=total,
                           weeks=weeks, chart=_chart(weeks), vmap=village_map(current_user.school_id, today),
                           can_manage_villages=can(current_user, "manage_villages"),
                           surveys=survey_progress(current_user.school_id, today, "teacher" if by == "teacher" else "class"))


def _chart(weeks: list[dict], width: int = 320, height: int = 120) -> dict:
    """Polyline points for a small server-rendered SVG of records per week."""
    top = max([1] + [w[k] for w in weeks for k in DUTY_KINDS])
    step = (width - 20) / max(1, len(weeks) - 1)
    lines = {}
    for k in DUTY_KINDS:
        lines[k] = " ".join(f"{10 + i * step:.1f},{height - 15 - (height - 30) * w[k] / top:.1f}" for i, w in enumerate(weeks))
    return {"width": width, "height": height, "top": top, "lines": lines}


@bp.route("/duties/settings", methods=["GET", "POST"])
@requires("plan_duties")
def settings():
    form = EmptyForm()
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("表单已过期，请重新提交。"), "error")
            return redirect(url_for("duties.settings"))
        what = request.form.get("what")
        from flask import g

        g.pop("_duty_memo", None)  # what this request read before the change is stale now
        if what in ("save_rule", "add_rule"):
            errors = _save_rule(request.form.get("key") if what == "save_rule" else None)
        elif what == "remove_rule":
            errors = _remove_rule(request.form.get("key"))
        elif what == "restore_rule":  # a switched-off policy default back as the policy has it
            db.session.execute(delete(DutyRule).where(DutyRule.school_id == current_user.school_id,
                                                      DutyRule.key == request.form.get("key", "")[:24]))
        elif what == "add_term":
            errors = _add_term()
        elif what == "delete_term":
            term = db.session.scalar(select(Term).where(Term.id == arg_id("term_id", request.form),
                                                        Term.school_id == current_user.school_id))
            if term is not None:
                db.session.delete(term)
        if not errors:
            audit("edit_duties", "school", current_user.school_id)
            db.session.commit()
            flash(_("已保存。"), "ok")
            return redirect(url_for("duties.settings"))
        db.session.rollback()
        g.pop("_duty_memo", None)
    school_id = current_user.school_id
    stored = db.session.scalars(select(Term).where(Term.school_id == school_id).order_by(Term.starts_on)).all()
    switched_off = [d for d in DEFAULT_RULES if d.key in set(db.session.scalars(select(DutyRule.key).where(
        DutyRule.school_id == school_id, DutyRule.active.is_(False))))]
    return render_template("duties/settings.html", form=form, errors=errors, rules=rules_for(school_id),
                           switched_off=switched_off, kinds=RULE_KINDS, periods=PERIODS, seasons=SEASONS,
                           filter_fields=filter_fields, terms=stored, owner_labels=OWNER_LABELS,
                           care_categories=categories_for(school_id, active_only=False),
                           holidays=holidays_for(school_id, today_local()),
                           default_terms=[] if stored else terms_for(school_id, today_local())), \
        400 if errors else 200


def _row_for(key: str | None) -> DutyRule | None:
    """The school's stored row for a rule key: a default's override (made when missing), or its own rule "r<id>"."""
    school_id = current_user.school_id
    default = next((d for d in DEFAULT_RULES if d.key == key), None)
    if default is not None:
        row = db.session.scalar(select(DutyRule).where(DutyRule.school_id == school_id, DutyRule.key == key))
        if row is None:
            row = DutyRule(school_id=school_id, key=key, kind=default.kind, period=default.period, times=default.times,
                           season=default.season, filter=default.filters, label=str(default.label)[:60],
                           owner=default.owner)
            db.session.add(row)
        return row
    if key and key.startswith("r") and key[1:].isdigit() and len(key) < 12:
        return db.session.scalar(select(DutyRule).where(DutyRule.school_id == school_id, DutyRule.id == int(key[1:]),
                                                        DutyRule.key.is_(None)))
    return None


def _save_rule(key: str | None) -> list[str]:
    f = request.form
    kind = f.get("kind")
    chosen = {name: f.getlist(f"filter-{name}") for name, _label, _choices in filter_fields(kind)}
    values, errors = check_rule(kind, f.get("period"), f.get("times", type=int), f.get("season"), chosen,
                                f.get("label", ""), f.get("owner", "responsible"), f.getlist("categories"),
                                categories_for(current_user.school_id, active_only=False))
    if errors:
        return errors
    row = _row_for(key) if key else DutyRule(school_id=current_user.school_id)
    if row is None:
        return [_("找不到这条规则，请刷新页面。")]
    if row.id is None:
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.active = True
    return []


def _remove_rule(key: str | None) -> list[str]:
    row = _row_for(key)
    if row is None:
        return [_("找不到这条规则，请刷新页面。")]
    if row.key:
        row.active = False  # a policy default stays known, switched off; "restore" brings it back
    else:
        db.session.delete(row)
    return []


def _add_term() -> list[str]:
    name = (request.form.get("name") or "").strip()[:40]
    try:
        starts, ends = date.fromisoformat(request.form.get("starts_on", "")), date.fromisoformat(request.form.get("ends_on", ""))
    except ValueError:
        return [_("请填写学期的开始和结束日期。")]
    if not name:
        return [_("请填写学期名称。")]
    if ends <= starts or (ends - starts).days > 250:
        return [_("结束日期应在开始日期之后，且一个学期不超过 250 天。")]
    overlap = db.session.scalar(select(Term.id).where(Term.school_id == current_user.school_id,
                                                      Term.starts_on <= ends, Term.ends_on >= starts))
    if overlap:
        return [_("这个学期与已有的学期时间重叠。")]
    db.session.add(Term(school_id=current_user.school_id, name=name, starts_on=starts, ends_on=ends))
    return []
