"""家访通: the application factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import Config, database_url, postgres_engine_options, secret_key

ROOT = Path(__file__).resolve().parent.parent
# What a page loads (not a document, not a worker): no Content-Security-Policy or X-Frame-Options of its own.
SUBRESOURCE_TYPES = {"text/javascript", "application/javascript", "text/css", "image/png", "application/manifest+json"}


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then the test mapping."""
    instance = os.environ.get("JIAFANG_INSTANCE") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secret_key(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_url(app.instance_path))
    app.config.setdefault("UPLOAD_DIR", os.path.join(app.instance_path, "uploads"))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = postgres_engine_options(app.config["SQLALCHEMY_ENGINE_OPTIONS"])

    register_extensions(app)
    register_blueprints(app)
    register_templating(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from flask import request

    from . import models  # noqa: F401  (one metadata for Alembic)
    from .extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    def select_locale():
        from flask import has_request_context

        if not has_request_context():  # CLI, seed data: the default locale
            return app.config["BABEL_DEFAULT_LOCALE"]
        lang = request.cookies.get("lang")
        return lang if lang in app.config["LANGUAGES"] else app.config["BABEL_DEFAULT_LOCALE"]

    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(Path(__file__).parent / "translations"))

    @login_manager.user_loader
    def load_user(user_id: str):
        from .auth.services import session_is_current

        user = db.session.get(models.User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active and session_is_current(user) else None

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        from .auth.services import signed_out_reason
        from .web import api_error, wants_json

        if wants_json():
            return api_error(401, *signed_out_reason())
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    from . import compression

    compression.init_app(app)  # br/gzip for text, in the embedded server too


def register_blueprints(app: Flask) -> None:
    from . import audit, auth, children, duties, incidents, main, notify, photos, pwa, records, reports, sync, verify
    from . import activities, attention, bureau, followups, staff, surveys, villages
    from .web import IdConverter

    app.url_map.converters["id"] = IdConverter  # before the routes that use <id:...>
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(children.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(sync.bp)
    app.register_blueprint(pwa.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(notify.bp)
    app.register_blueprint(duties.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(photos.bp)
    app.register_blueprint(villages.bp)
    app.register_blueprint(bureau.bp)
    app.register_blueprint(surveys.bp)
    app.register_blueprint(activities.bp)
    app.register_blueprint(staff.bp)
    from . import care

    app.register_blueprint(care.bp)
    app.register_blueprint(attention.bp)
    app.register_blueprint(followups.bp)
    from . import vault

    app.register_blueprint(vault.bp)
    from . import devices, held

    app.register_blueprint(devices.bp)
    app.register_blueprint(held.bp)


def register_templating(app: Flask) -> None:
    """Every template global and context processor, in one place; the features provide the values."""
    from flask import request
    from flask_babel import get_locale
    from flask_login import current_user

    from .verify import evidence
    from .access import can, may_read_content
    from .duties.services import DUTY_KINDS, PERIOD_LABELS, SEASON_LABELS
    from .incidents.services import CATEGORIES, METHODS, TARGET_LABELS
    from .attention.services import CARE_LABELS
    from .activities.services import TYPE_LABELS as ACTIVITY_LABELS
    from .models import LEAVE_REASONS
    from .notify.services import unread_count
    from .pwa import asset
    from .records.kinds import KINDS
    from .records.services import record_summary
    from .verify.labels import ACTION_LABELS, CONFIRM_LABELS, METHOD_LABELS, OUTCOME_LABELS, REVIEW_LABELS
    from .verify.services import returned_count, verification_of
    from .web import page_url

    # Globals, not context processors: macros imported without context see globals only.
    app.jinja_env.globals.update(
        asset=asset, page_url=page_url,
        record_summary=lambda record, length=80: record_summary(current_user, record, length),
        may_read_content=lambda record, printed=False: may_read_content(current_user, record, printed),
        verification_of=lambda record: verification_of(current_user, record),
        KINDS=KINDS, DUTY_KINDS=DUTY_KINDS, PERIOD_LABELS=PERIOD_LABELS, SEASON_LABELS=SEASON_LABELS, EVIDENCE_KINDS=evidence.EVIDENCE_KINDS,
        REVIEW_LABELS=REVIEW_LABELS, CONFIRM_LABELS=CONFIRM_LABELS, METHOD_LABELS=METHOD_LABELS,
        OUTCOME_LABELS=OUTCOME_LABELS, ACTION_LABELS=ACTION_LABELS,
        INCIDENT_TARGETS=TARGET_LABELS, INCIDENT_METHODS=METHODS, INCIDENT_CATEGORIES=CATEGORIES,
        leave_reasons=LEAVE_REASONS, CARE_LABELS=CARE_LABELS, ACTIVITY_LABELS=ACTIVITY_LABELS,
    )
    from .photos.pipeline import DISPLAY_LONG_SIDE, THUMB_LONG_SIDE

    app.jinja_env.globals.update(THUMB_LONG_SIDE=THUMB_LONG_SIDE, DISPLAY_LONG_SIDE=DISPLAY_LONG_SIDE)  # srcset widths
    from .care.services import care_list, care_of

    app.jinja_env.globals.update(care_of=lambda child: care_of(current_user, child),
                                 care_list=lambda children: care_list(current_user, children))

    @app.context_processor
    def per_request():
        values = {"current_user": current_user, "locale": str(get_locale())}
        if current_user.is_authenticated and request.endpoint not in (None, "static"):
            values["unread_notifications"] = unread_count(current_user)
            if can(current_user, "write_records"):
                values["returned_to_me"] = returned_count(current_user)
        return values


def register_errorhandlers(app: Flask) -> None:
    from flask import make_response, render_template
    from flask_babel import gettext as _
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from .web import BadInput, api_error, wants_json

    messages = {
        400: lambda: _("请求有误。"),
        403: lambda: _("您没有权限查看此页面。"),
        404: lambda: _("找不到该页面或记录。"),
        405: lambda: _("不支持此操作。"),
        413: lambda: _("上传的内容太大。"),
        415: lambda: _("不支持的内容类型。"),
        429: lambda: _("请求过于频繁，请稍后再试。"),
    }
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        if wants_json():
            return api_error(403, "csrf_failed", _("安全令牌已失效，请刷新后重试。"))
        return render_template("error.html", code=400, message=_("表单已过期，请返回重新提交。")), 400

    @app.errorhandler(HTTPException)
    def http_error(e):
        code = e.code or 500
        if isinstance(e, BadInput):  # says what was wrong, already in the user's language
            message, error = e.description, e.error
        else:
            message, error = messages.get(code, lambda: e.description or _("出错了。"))(), codes.get(code, "error")
        resp = api_error(code, error, message) if wants_json() else \
            make_response(render_template("error.html", code=code, message=message), code)
        # What the exception adds to its own response (Allow on a 405, Retry-After, WWW-Authenticate) stays.
        for name, value in e.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def server_error(e):
        from .extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error")
        if wants_json():
            return api_error(500, "server_error", _("服务器出错，请稍后再试；您的数据仍保存在手机上。"))
        return render_template("error.html", code=500, message=_("服务器出错，请稍后再试。")), 500


def register_security(app: Flask) -> None:
    from flask import request

    from .pwa import HASHED_ENDPOINTS
    from .web import HttpsAwareSessionInterface, refuse_nul

    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.session_interface = HttpsAwareSessionInterface()
    app.before_request(refuse_nul)

    @app.after_request
    def headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        # A policy and frame options act on documents and workers, not on a script, style or icon the page loads: there
        # they would only add ~250 bytes to each request of the shell's install on 2G.
        if request.endpoint in ("static", *HASHED_ENDPOINTS, "pwa.manifest") and resp.mimetype in SUBRESOURCE_TYPES:
            return resp
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        # Pages carry children's data: no shared or stale caches.
        if resp.mimetype == "text/html" and "Cache-Control" not in resp.headers:
            resp.headers["Cache-Control"] = "private, no-cache"
        return resp


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
