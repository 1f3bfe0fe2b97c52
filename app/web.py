"""HTTP helpers shared by every blueprint: JSON errors, the caller, sessions, POST buttons, pages of lists, saving."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import flash, jsonify, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError

from .extensions import db
from .pwa import HASHED_ENDPOINTS

T = TypeVar("T")


def api_error(status: int, code: str, message: str, **extra):
    """A JSON error with a stable machine code and a message in the user's language."""
    body = {"error": code, "message": message}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


# The largest id the id columns hold: they are INTEGER, 32 bits on PostgreSQL (NumericValueOutOfRange past it), 64 on
# SQLite (OverflowError past 2^63 - 1). Anything larger names no row and must not reach a query.
MAX_ID = 2**31 - 1
# Deeper JSON is no request this API takes; Python's parser itself gives up (RecursionError) near 1,000 levels.
MAX_JSON_DEPTH = 16
MAX_PAGE = 10**6


class BadInput(BadRequest):
    """A client's mistake, said in the user's language: a JSON error with `error` on the API, an error page else."""

    def __init__(self, message: str, error: str = "bad_request", status: int = 400):
        super().__init__(description=message)
        self.code, self.error = status, error


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a database id, 1 to MAX_ID; anything else is no such page (404)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        if len(value) > 19:  # int() refuses past 4,300 digits with a ValueError the router does not expect
            raise ValidationError()
        return super().to_python(value)


def db_id(value) -> int | None:
    """`value` when it is an integer that can be a database id (not a bool, 1 to MAX_ID), else None."""
    return value if type(value) is int and 1 <= value <= MAX_ID else None


def uuid_text(value) -> str | None:
    """A client-made id (a UUID) in its canonical text, or None when `value` is not one."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_chars(text: str) -> bool:
    """True when `text` holds control characters other than tab and line breaks: no one types them, PostgreSQL
    refuses NUL in text, and spreadsheets refuse the rest."""
    return bool(_CONTROL.search(text))


def refuse_nul() -> None:
    """Before each request: NUL in a query parameter or form field is nobody's typing, and PostgreSQL refuses it in
    text ("cannot contain NUL"), so it is a 400 here rather than a 500 in whichever query meets it first."""
    forms = (request.form,) if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") else ()
    for values in (request.args, *forms):
        if any("\x00" in v for _k, v in values.items(multi=True)):
            raise BadInput(_("请求中含有无效字符。"), "bad_parameter")


def arg_int(name: str, default: int | None = None, lo: int = 1, hi: int = MAX_ID, source=None) -> int | None:
    """The integer parameter `name` of the query string (or `source`, e.g. request.form); `default` when absent or
    empty; BadInput (400) when it is not a whole number from `lo` to `hi`."""
    text = (request.args if source is None else source).get(name)
    if text is None or text == "":
        return default
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 19 else None
    if value is None or not lo <= value <= hi:
        raise BadInput(_("参数 %(name)s 应为 %(lo)d 到 %(hi)d 之间的整数。", name=name, lo=lo, hi=hi), "bad_parameter")
    return value


def arg_id(name: str, source=None) -> int | None:
    """The id parameter `name` (see arg_int), None when absent."""
    return arg_int(name, None, 1, MAX_ID, source)


def json_depth_exceeds(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when objects and lists in `value` nest deeper than `limit` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (dict, list)):
            if depth > limit:
                return True
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
    return False


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body(kind: type = dict, error: str = "bad_json"):
    """The request's JSON body, which must be a `kind` (object or list) nested no deeper than MAX_JSON_DEPTH;
    BadInput (400) otherwise."""
    data = None
    if request.is_json:
        try:
            data = json.loads(request.get_data(cache=True), parse_constant=_no_constant)
        except RecursionError:
            raise BadInput(_("JSON 嵌套太深。"), error) from None
        except ValueError:  # not JSON, not UTF-8, or NaN/Infinity (which PostgreSQL's json refuses)
            data = None
    if not isinstance(data, kind):
        raise BadInput(_("请求内容应为 JSON 对象。") if kind is dict else _("请求内容应为 JSON 数组。"), error)
    if json_depth_exceeds(data):
        raise BadInput(_("JSON 嵌套太深。"), error)
    return data


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
        same_for_all = (request.path.startswith(app.static_url_path + "/")
                        or request.endpoint in HASHED_ENDPOINTS)
        if same_for_all and not session.modified:
            # Lower case: werkzeug's HeaderSet.remove matches its list against the name as given, so "Cookie" stayed
            # in "Vary: Accept-Encoding, Cookie" (it only vanished while Cookie was the sole entry).
            response.vary.discard("cookie")


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
    page = arg_int("page", 1, 1, MAX_PAGE)
    if count:
        p = db.paginate(q, page=page, per_page=per_page, max_per_page=None, error_out=False)
        return Page(p.items, page, p.has_next, p.total, max(1, p.pages))
    rows = db.session.scalars(q.limit(per_page + 1).offset((page - 1) * per_page)).all()
    return Page(rows[:per_page], page, len(rows) > per_page)


def page_url(page: int) -> str:
    """The current page's URL with its query string kept and another page number."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
    return url_for(request.endpoint, **args)


def flash_field(field_id: str, message: str) -> str:
    """Flash a form error for the field with this HTML id (macros.field_error shows it there); returns the anchor to
    redirect to, so the page opens at the field the user was on rather than 1,300 px above it."""
    flash(message, f"field:{field_id}")
    return f"#{field_id}"


def save_or_flash(action: Callable[[], T], done: str, errors: type[Exception] | tuple[type[Exception], ...],
                  field_id: str | None = None) -> tuple[bool, T | None]:
    """Run a change from a form: commit and flash `done`, or, when it raises one of `errors` (whose message is for
    the user), roll back and flash that message (next to `field_id` when given). Returns (saved, what the action
    returned)."""
    try:
        result = action()
    except errors as e:
        db.session.rollback()
        if field_id:
            flash_field(field_id, str(e))
        else:
            flash(str(e), "error")
        return False, None
    db.session.commit()
    flash(done, "ok")
    return True, result
