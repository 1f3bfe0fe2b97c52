"""Duty pages: the teacher's due list, the principal's dashboard, and the principal's rules and terms."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import children_query, requires
from ..audit import audit
from ..clock import today_local
from ..extensions import db
from ..models import PERIODS, Child, DutyRule, Term
from ..verify.returns import overdue_corrections
from ..web import EmptyForm, arg_id
from . import bp
from .services import DUTY_KINDS, coverage, duties_for, overdue_children, rules_for, terms_for, trend


@bp.route("/duties/")
@requires("keep_duties")
def mine():
    today = today_local()
    children = db.session.scalars(children_query(current_user).where(Child.left_on.is_(None))).all()
    return render_template("duties/mine.html", rows=duties_for(current_user, children, today), today=today)


@bp.route("/dashboard/")
@requires("plan_duties")
def dashboard():
    today = today_local()
    by = request.args.get("by", "class")
    if by not in ("class", "teacher", "village"):
        by = "class"
    total, overdue = overdue_children(current_user.school_id, today)
    weeks = trend(current_user.school_id, today)
    late_total, late = overdue_corrections(current_user.school_id, today)
    return render_template("duties/dashboard.html", today=today, by=by, rows=coverage(current_user.school_id, today, by),
                           late_corrections=late, late_corrections_total=late_total,
                           rules=rules_for(current_user.school_id), overdue=overdue, overdue_total=total, weeks=weeks,
                           chart=_chart(weeks))


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
        if what == "rules":
            errors = _save_rules()
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
    stored = db.session.scalars(select(Term).where(Term.school_id == current_user.school_id).order_by(Term.starts_on)).all()
    rules = {r.kind: r for r in rules_for(current_user.school_id)}
    inactive = {r.kind for r in db.session.scalars(select(DutyRule).where(
        DutyRule.school_id == current_user.school_id, DutyRule.active.is_(False)))}
    return render_template("duties/settings.html", form=form, errors=errors, rules=rules, inactive=inactive,
                           kinds=DUTY_KINDS, periods=PERIODS, terms=stored,
                           default_terms=[] if stored else terms_for(current_user.school_id, today_local())), \
        400 if errors else 200


def _save_rules() -> list[str]:
    errors = []
    for kind in DUTY_KINDS:
        period = request.form.get(f"{kind}-period")
        times = request.form.get(f"{kind}-times", type=int)
        if period not in PERIODS:
            errors.append(_("请选择频率。"))
            continue
        if times is None or not 1 <= times <= 30:
            errors.append(_("次数应在 1 到 30 之间。"))
            continue
        rule = db.session.scalar(select(DutyRule).where(DutyRule.school_id == current_user.school_id, DutyRule.kind == kind))
        if rule is None:
            rule = DutyRule(school_id=current_user.school_id, kind=kind)
            db.session.add(rule)
        rule.period, rule.times, rule.active = period, times, f"{kind}-active" in request.form
    return errors


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
