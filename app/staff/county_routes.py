"""The bureau administrator's pages: the county's name and duty phone, its schools (create, rename, hotline) with
their principals and admins, and the bureau's own accounts."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import SCHOOL_HEAD_ROLES, accounts_query, get_school, requires, schools_query
from ..extensions import db
from ..models import COUNTY_ROLES, School, User
from ..web import EmptyForm, save_or_flash
from . import bp
from .forms import CountyForm, SchoolForm
from .services import AccountError, save_county, save_school


@bp.route("/county", methods=["GET", "POST"])
@requires("manage_schools")
def county():
    county = current_user.county
    form = CountyForm(obj=None if request.method == "POST" else county)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and save_or_flash(lambda: save_county(current_user, county, form.data), _("已保存。"),
                                                       AccountError)[0]:
            return redirect(url_for("staff.county"))
        status = 400
    schools = db.session.scalars(schools_query(current_user).order_by(School.name)).all()
    staff = db.session.scalars(accounts_query(current_user).where(User.role.in_(COUNTY_ROLES))
                               .order_by(User.active.desc(), User.username)).all()
    return render_template("staff/county.html", form=form, county=county, schools=schools, accounts=staff,
                           button=EmptyForm()), status


@bp.route("/schools/new", methods=["GET", "POST"])
@requires("manage_schools")
def new_school():
    form = SchoolForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            saved, made = save_or_flash(lambda: save_school(current_user, form.data), _("已添加学校。"), AccountError)
            if saved:
                return redirect(url_for("staff.school", school_id=made.id))
        status = 400
    return render_template("staff/school.html", form=form, school=None, accounts=[]), status


@bp.route("/schools/<id:school_id>", methods=["GET", "POST"])
@requires("manage_schools")
def school(school_id):
    school = get_school(current_user, school_id)
    form = SchoolForm(obj=None if request.method == "POST" else school)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and save_or_flash(lambda: save_school(current_user, form.data, school), _("已保存。"),
                                                       AccountError)[0]:
            return redirect(url_for("staff.school", school_id=school.id))
        status = 400
    heads = db.session.scalars(accounts_query(current_user).where(User.school_id == school.id, User.role.in_(SCHOOL_HEAD_ROLES))
                               .order_by(User.active.desc(), User.role, User.username)).all()
    return render_template("staff/school.html", form=form, school=school, accounts=heads, button=EmptyForm()), status
