"""Login and logout pages, and the language switch."""
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..web import client_ip
from . import bp
from .forms import LoginForm
from .services import authenticate, end_session


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
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data, client_ip())
        if result.user:
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
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code):
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    resp = make_response(redirect(_safe_next(request.args.get("next"))))
    resp.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True, secure=request.is_secure)
    return resp
