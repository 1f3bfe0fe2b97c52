"""HTTP helpers shared by every blueprint: JSON errors, the caller, sessions, POST buttons, pages of lists, saving."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import flash, jsonify, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import FlaskForm
from sqlalchemy import Select

from .extensions import db

T = TypeVar("T")


def api_error(status: int, code: str, message: str, **extra):
    """A JSON error with a stable machine code and a message in the user's language."""
    body = {"error": code, "message": message}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def client_ip() -> str:
    """The caller's address (ProxyFix has already applied X-Forwarded-For when trusted)."""
    return request.remote_addr or "unknown"


def wants_json() -> bool:
    """True for API calls, which get JSON errors instead of pages."""
    return request.path.startswith("/api/")


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        # Static files do not depend on who asks. Flask-Login reads the session after every request, which adds
        # "Vary: Cookie"; a new cookie (login, CSRF token) would then make the browser fetch the shell again.
        if request.path.startswith(app.static_url_path + "/") and not session.modified:
            response.vary.discard("Cookie")


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for POST buttons."""


@dataclass
class Page:
    """One page of a list: its rows and number, whether another follows, and the total when the page shows it."""

    items: list
    page: int
    has_next: bool
    total: int | None = None
    pages: int | None = None


def paginate(q: Select, per_page: int, count: bool = False) -> Page:
    """The page of `q` named by ?page=; `count` for pages that show the total, else one row more tells if another
    page follows (no COUNT over a long list)."""
    page = max(1, request.args.get("page", 1, type=int))
    if count:
        p = db.paginate(q, page=page, per_page=per_page, max_per_page=None, error_out=False)
        return Page(p.items, page, p.has_next, p.total, max(1, p.pages))
    rows = db.session.scalars(q.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return Page(rows[:per_page], page, len(rows) > per_page)


def page_url(page: int) -> str:
    """The current page's URL with its query string kept and another page number."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
    return url_for(request.endpoint, **args)


def save_or_flash(action: Callable[[], T], done: str, errors: type[Exception] | tuple[type[Exception], ...]
                  ) -> tuple[bool, T | None]:
    """Run a change from a form: commit and flash `done`, or, when it raises one of `errors` (whose message is for
    the user), roll back and flash that message. Returns (saved, what the action returned)."""
    try:
        result = action()
    except errors as e:
        db.session.rollback()
        flash(str(e), "error")
        return False, None
    db.session.commit()
    flash(done, "ok")
    return True, result
