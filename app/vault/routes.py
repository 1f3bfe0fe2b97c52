"""POST /api/v1/device-key {"device_id", "password"?} → {"key": base64}: after a fresh login, or with the password."""
from __future__ import annotations

import base64

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.services import verify_current_password
from ..extensions import db
from ..web import api_error, client_ip, json_body
from . import bp
from .services import login_is_fresh, release_key, valid_device_id


@bp.route("/device-key", methods=["POST"])
@login_required
def device_key():
    data = json_body(error="bad_request")
    device_id = valid_device_id(data.get("device_id"))
    if device_id is None:
        return api_error(400, "bad_request", _("device_id 应为 UUID。"))
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or "\x00" in password):
        return api_error(400, "bad_request", _("password 应为字符串。"))
    # A live cookie alone (a phone found on a table) must not unlock the records: the password, typed just now.
    if password is None and not login_is_fresh():
        return api_error(403, "password_required", _("请输入登录密码。"))
    if password is not None:
        error = verify_current_password(current_user, password, client_ip())
        if error == "rate_limited":
            return api_error(429, "rate_limited", _("登录失败次数过多，请稍后再试。"))
        if error:
            return api_error(403, "bad_password", _("登录密码不对。"))
    key = release_key(current_user, device_id)
    db.session.commit()
    resp = jsonify({"key": base64.b64encode(key).decode("ascii"), "device_id": device_id})
    resp.headers["Cache-Control"] = "no-store"
    return resp
