"""Pages of categories and plans: the school's categories, a child's categories and contacts, a child's plan."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import get_child, may_edit_plan, requires
from ..audit import audit
from ..clock import today_local
from ..web import EmptyForm, arg_id, save_or_flash
from . import bp
from .services import (CareError, add_category, categories_for, child_categories, contacts_for, current_plan,
                       own_categories, plan_history, save_plan, set_categories, switch_category)


@bp.route("/care/categories", methods=["GET", "POST"])
@requires("manage_categories")
def categories():
    school_id = current_user.school_id
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("表单已过期，请重新提交。"), "error")
        else:
            what = request.form.get("what")
            if what == "add":
                action = lambda: add_category(school_id, request.form.get("name", ""))  # noqa: E731
            elif what in ("off", "on"):
                action = lambda: switch_category(school_id, arg_id("category_id", request.form), what == "on")  # noqa: E731
            else:
                abort(400)
            if save_or_flash(lambda: (action(), audit("edit_categories", "school", school_id)), _("已保存。"),
                             CareError)[0]:
                return redirect(url_for("care.categories"))
    return render_template("care/categories.html", form=form, builtin=categories_for(school_id, active_only=False),
                           own=own_categories(school_id))


@bp.route("/children/<id:child_id>/categories", methods=["GET", "POST"])
@requires("manage_categories")
def child_categories_page(child_id):
    child = get_child(current_user, child_id)
    form = EmptyForm()
    current = {r.category: r.contact_id for r in child_categories(child)}
    if request.method == "POST" and form.validate_on_submit():
        wanted = {key: arg_id(f"contact-{key}", request.form)
                  for key in request.form.getlist("category") if isinstance(key, str) and len(key) <= 24}
        if save_or_flash(lambda: (set_categories(child, wanted, current_user), audit("edit", "child", child.id)),
                         _("分类已保存。"), CareError)[0]:
            return redirect(url_for("children.show", child_id=child.id))
        current = wanted
    elif request.method == "POST":
        flash(_("表单已过期，请重新提交。"), "error")
    known = categories_for(child.school_id)
    known |= {k: v for k, v in categories_for(child.school_id, active_only=False).items() if k in current}
    return render_template("care/child_categories.html", form=form, child=child, known=known, current=current,
                           staff=contacts_for(child.school_id))


@bp.route("/children/<id:child_id>/plan", methods=["GET", "POST"])
@requires("read_care")
def plan(child_id):
    child = get_child(current_user, child_id)
    editable = may_edit_plan(current_user, child)
    if request.method == "POST" and not editable:
        abort(403)
    form = EmptyForm()
    latest = current_plan(child)
    values = {"goals": latest.goals if latest else "", "measures": latest.measures if latest else "",
              "review_on": latest.review_on.isoformat() if latest and latest.review_on else ""}
    status = 200
    if request.method == "POST":
        values = {k: (request.form.get(k) or "")[:4000] for k in values}
        review_on, bad_date = None, False
        if values["review_on"].strip():
            try:
                review_on = date.fromisoformat(values["review_on"].strip())
            except ValueError:
                bad_date = True
        if not form.validate_on_submit():
            flash(_("表单已过期，请重新提交。"), "error")
        elif bad_date:
            flash(_("复查日期格式不对，请重新选择。"), "error")
        elif save_or_flash(lambda: (save_plan(child, values["goals"], values["measures"], review_on, current_user,
                                              today_local()), audit("edit_plan", "child", child.id)),
                           _("帮扶计划已保存。"), CareError)[0]:
            return redirect(url_for("children.show", child_id=child.id))
        status = 400
    else:
        audit("view_plan", "child", child.id, commit=True)
    return render_template("care/plan.html", form=form, child=child, values=values, editable=editable,
                           history=plan_history(child)), status
