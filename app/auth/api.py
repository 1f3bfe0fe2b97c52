"""The JSON session API of the sync contract: POST/GET/DELETE /api/v1/session."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..access import capabilities_of
from ..extensions import csrf
from ..web import api_error, client_ip, json_body
from . import bp
from .services import authenticate, end_session, signed_out_reason


def _session_body(user):
    return {"user": {"id": user.id, "name": user.name, "role": user.role, "username": user.username,
                     "must_change_password": bool(user.must_change_password), "capabilities": capabilities_of(user)},
            "csrf_token": generate_csrf()}


# Logging in cannot carry a token yet; JSON-only (415 otherwise) keeps cross-site forms out.
@bp.route("/api/v1/session", methods=["POST"])
@csrf.exempt
def api_login():
    if not request.is_json:
        return api_error(415, "unsupported_media_type", _("请以 JSON 发送用户名和密码。"))
    data = json_body(error="bad_request")
    # NUL: as in a form (web.refuse_nul), PostgreSQL refuses it in the username's query.
    if not all(isinstance(data.get(k), str) and "\x00" not in data[k] for k in ("username", "password")):
        return api_error(400, "bad_request", _("需要 username 和 password 两个字符串字段。"))
    result = authenticate(data["username"], data["password"], client_ip())
    if result.error == "rate_limited":
        resp = api_error(429, "rate_limited", _("登录失败次数过多，请稍后再试。"))
        resp.headers["Retry-After"] = str(result.retry_after)
        return resp
    if result.error:
        return api_error(401, "bad_credentials", _("用户名或密码错误。"))
    return jsonify(_session_body(result.user))


@bp.route("/api/v1/session", methods=["GET"])
def api_session():
    if not current_user.is_authenticated:
        return api_error(401, *signed_out_reason())
    resp = jsonify(_session_body(current_user))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/api/v1/session", methods=["DELETE"])
@csrf.exempt
def api_logout():
    end_session()
    return "", 204
