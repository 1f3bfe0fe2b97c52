"""Login and logout pages, the account page (password, other phones), and the language switch."""
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit import audit
from ..extensions import db
from ..web import EmptyForm, api_error, client_ip, wants_json
from . import bp
from .forms import ChangePasswordForm, LoginForm
from .services import (DEACTIVATED_MESSAGE, authenticate, change_password, end_other_sessions, end_session,
                       password_change_required, signed_out_reason, verify_current_password)


@bp.before_app_request
def require_new_password():
    """A one-time password opens nothing but the form to replace it (pages redirect there, the API says why)."""
    if not password_change_required():
        return None
    if wants_json():
        return api_error(403, "password_change_required", _("请先修改密码：打开“我的账号”设置新密码后才能同步。"),
                         change_url=url_for("auth.account"))
    flash(_("请先设置一个新密码（原密码填管理员给您的一次性密码）。"), "error")
    return redirect(url_for("auth.account"))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths may be redirected to after login."""
    # Control characters cannot go in a Location header; a backslash is read as "/" by browsers ("/\\evil" → "//evil").
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    # The cookie of a deactivated account (any page sends it here): say so, and have this phone wipe its local data
    # (session.js); only the server decides this, so no link can make a phone wipe unsent work.
    wipe_phone = request.method == "GET" and signed_out_reason()[0] == "account_deactivated"
    if wipe_phone:
        session.clear()
        flash(_(DEACTIVATED_MESSAGE), "error")
    elif request.method == "GET" and request.args.get("wiped") == "lost":
        # Said by the address the wiped phone goes to: a flash in the session could be overwritten by a request of
        # the phone still in flight (signed cookies: the last answer's wins). Only words, nothing is done by it.
        from ..devices.routes import WIPED_MESSAGE

        flash(_(WIPED_MESSAGE), "error")
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data, client_ip())
        if result.user:
            if result.user.must_change_password:  # a one-time password: its own password first
                return redirect(url_for("auth.account"))
            return redirect(_safe_next(request.args.get("next")))
        if result.error == "rate_limited":
            minutes = max(1, result.retry_after // 60)
            flash(_("登录失败次数过多，请 %(m)d 分钟后再试。", m=minutes), "error")
            status = 429
        else:
            flash(_("用户名或密码错误。"), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, wipe_phone=wipe_phone), status


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    return redirect(url_for("auth.login"))


def _account_page(form: ChangePasswordForm, status: int = 200):
    return render_template("auth/account.html", form=form, end_form=EmptyForm()), status


@bp.route("/account")
@login_required
def account():
    return _account_page(ChangePasswordForm())


@bp.route("/account/password", methods=["POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 400)
    error = verify_current_password(current_user, form.old_password.data, client_ip())
    if error == "rate_limited":
        flash(_("密码错误次数过多，请稍后再试。"), "error")
        return _account_page(form, 429)
    if error:
        form.old_password.errors.append(_("原密码不正确。"))
        return _account_page(form, 400)
    change_password(current_user, form.new_password.data)
    flash(_("密码已修改，其他设备上的登录已退出。"), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_others():
    # CSRF is checked for every POST by Flask-WTF; this form carries only the token.
    end_other_sessions(current_user)
    audit("sessions_ended", "user", current_user.id)
    db.session.commit()
    flash(_("其他设备上的登录已全部退出。"), "success")
    return redirect(url_for("auth.account"))


@bp.route("/lang/<code>")
def set_language(code):
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    resp = make_response(redirect(_safe_next(request.args.get("next"))))
    # Readable by script: the offline app shell (static/js/i18n.js) picks its language from it; it is no secret.
    resp.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=False, secure=request.is_secure)
    return resp
