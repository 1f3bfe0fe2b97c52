"""Web Push API: the server's public key, and a phone subscribing or unsubscribing (from the app's settings)."""
from __future__ import annotations

import base64
import binascii
import hmac
import re

from cryptography.hazmat.primitives.asymmetric import ec
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import PushSubscription
from ..web import api_error, has_control_chars, json_body
from . import bp
from .endpoints import endpoint_error
from .push import public_key

B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _b64url(value) -> bytes | None:
    """The bytes of a base64url string (padded or not), or None when it is not one."""
    if not isinstance(value, str) or not value or len(value) > 200 or not B64URL.match(value):
        return None
    bare = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_p256_point(raw: bytes | None) -> bool:
    """65 bytes that are an uncompressed point on P-256 (what the browser's p256dh is)."""
    if raw is None or len(raw) != 65 or raw[0] != 4:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True


@bp.route("/api/v1/push/key")
@login_required
def push_key():
    """The applicationServerKey for pushManager.subscribe()."""
    return jsonify({"public_key": public_key()})


@bp.route("/api/v1/push/subscriptions", methods=["POST"])
@login_required
def push_subscribe():
    """Store the browser's PushSubscription for the caller; a shared phone's endpoint moves to whoever subscribes last."""
    body = json_body()
    endpoint = body.get("endpoint")
    error = endpoint_error(endpoint)
    if error:
        return api_error(400, "bad_endpoint", error)
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not _is_p256_point(_b64url(p256dh)):
        return api_error(400, "bad_keys", _("推送密钥 p256dh 无效。"))
    secret = _b64url(auth)
    if secret is None or len(secret) != 16:
        return api_error(400, "bad_keys", _("推送密钥 auth 无效。"))
    p256dh, auth = p256dh.rstrip("="), auth.rstrip("=")
    sub = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    # Only the browser holding the subscription knows its keys: a bare endpoint URL must not take another's pushes.
    if sub is not None and sub.user_id != current_user.id and not (
            hmac.compare_digest(sub.p256dh, p256dh) and hmac.compare_digest(sub.auth, auth)):
        return api_error(409, "endpoint_taken", _("这个推送地址已被另一个账号使用。"))
    status = 200
    if sub is None:
        sub = PushSubscription(endpoint=endpoint)
        db.session.add(sub)
        status = 201
    sub.user_id = current_user.id
    sub.p256dh, sub.auth = p256dh, auth
    sub.retry_after, sub.failures = None, 0
    db.session.commit()
    return jsonify({"status": "created" if status == 201 else "updated"}), status


@bp.route("/api/v1/push/subscriptions", methods=["DELETE"])
@login_required
def push_unsubscribe():
    """Remove the caller's own subscription for this endpoint (another user's is not theirs to remove)."""
    endpoint = json_body().get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or has_control_chars(endpoint):
        return api_error(400, "bad_endpoint", _("缺少推送地址（endpoint）。"))
    sub = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint, PushSubscription.user_id == current_user.id))
    if sub is None:
        return api_error(404, "not_found", _("没有这个推送订阅。"))
    db.session.delete(sub)
    db.session.commit()
    return "", 204
