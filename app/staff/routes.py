"""Account pages shared by a school's admin and the bureau administrator: list, create, edit, deactivate,
reactivate, reset a password. Which accounts and roles each may touch is decided in access.py."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import account_roles, accounts_query, get_account, get_school, requires
from ..extensions import db
from ..models import School, User, Village
from ..web import EmptyForm, arg_id, save_or_flash
from . import bp
from .forms import AccountForm
from .services import AccountError, create_account, deactivate, reactivate, reset_password, role_label, update_account


@bp.route("/")
@requires("manage_accounts")
def index():
    if current_user.role == "bureau_admin":
        return redirect(url_for("staff.county"))
    school = current_user.school
    accounts = db.session.scalars(accounts_query(current_user).order_by(User.active.desc(), User.role, User.username)).all()
    return render_template("staff/index.html", school=school, accounts=accounts, button=EmptyForm())


def _target() -> School | None:
    """The school a new account is for: the admin's own; for the bureau administrator ?school= (None: the bureau)."""
    if current_user.role == "admin":
        return current_user.school
    school_id = arg_id("school")
    return get_school(current_user, school_id) if school_id is not None else None


def _back(account_or_school) -> str:
    """Where the list holding this account (or this school's accounts) is."""
    school_id = getattr(account_or_school, "school_id", None) if isinstance(account_or_school, User) else (
        account_or_school.id if account_or_school is not None else None)
    if current_user.role == "bureau_admin":
        return url_for("staff.school", school_id=school_id) if school_id else url_for("staff.county")
    return url_for("staff.index")


def _fill_choices(form: AccountForm, school: School | None) -> None:
    roles = account_roles(current_user, school)
    if not roles:
        abort(404)
    form.role.choices = [(r, role_label(r)) for r in roles]
    villages = db.session.scalars(select(Village.name).where(Village.school_id == school.id).order_by(Village.name)).all() if school else []
    form.village.choices = [("", "—")] + [(v, v) for v in villages]


def _form_data(form: AccountForm) -> dict:
    return {"username": form.username.data, "name": form.name.data, "phone": form.phone.data,
            "role": form.role.data, "village": form.village.data}


def one_time_page(account: User, password: str, status: int = 200):
    """The one-time password, shown once: never cached, never in a URL."""
    resp = make_response(render_template("staff/password.html", account=account, password=password,
                                         back=_back(account)), status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_accounts")
def new():
    school = _target()
    form = AccountForm()
    _fill_choices(form, school)
    status = 200
    if form.validate_on_submit():
        saved, made = save_or_flash(lambda: create_account(current_user, school, _form_data(form)), _("已创建账号。"),
                                    AccountError)
        if saved:
            return one_time_page(*made, status=201)
        status = 400
    elif request.method == "POST":
        flash(_("表单已过期，请重新提交。"), "error")
        status = 400
    return render_template("staff/form.html", form=form, school=school, account=None, back=_back(school)), status


@bp.route("/<id:account_id>/edit", methods=["GET", "POST"])
@requires("manage_accounts")
def edit(account_id):
    account = get_account(current_user, account_id)
    form = AccountForm(obj=None if request.method == "POST" else account)
    if request.method == "GET":
        form.village.data = account.village.name if account.village else ""
    _fill_choices(form, account.school)
    status = 200
    if form.validate_on_submit():
        if save_or_flash(lambda: update_account(current_user, account, _form_data(form)), _("已保存。"), AccountError)[0]:
            return redirect(_back(account))
        status = 400
    elif request.method == "POST":
        flash(_("表单已过期，请重新提交。"), "error")
        status = 400
    return render_template("staff/form.html", form=form, school=account.school, account=account,
                           button=EmptyForm(), back=_back(account)), status


def _post_action(account_id: int):
    """The account behind a lifecycle button, after the CSRF check (400 on a stale form)."""
    account = get_account(current_user, account_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return account


@bp.route("/<id:account_id>/deactivate", methods=["POST"])
@requires("manage_accounts")
def deactivate_account(account_id):
    account = _post_action(account_id)
    deactivate(current_user, account)
    db.session.commit()
    flash(_("已停用 %(u)s：所有登录已退出，手机下次联网时会清除本机数据。", u=account.username), "ok")
    return redirect(_back(account))


@bp.route("/<id:account_id>/reactivate", methods=["POST"])
@requires("manage_accounts")
def reactivate_account(account_id):
    account = _post_action(account_id)
    reactivate(current_user, account)
    db.session.commit()
    flash(_("已恢复 %(u)s，可以重新登录。", u=account.username), "ok")
    return redirect(_back(account))


@bp.route("/<id:account_id>/reset-password", methods=["POST"])
@requires("manage_accounts")
def reset(account_id):
    account = _post_action(account_id)
    password = reset_password(current_user, account)
    db.session.commit()
    return one_time_page(account, password)


@bp.context_processor
def _labels():
    return {"role_label": role_label}
