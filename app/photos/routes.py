"""Photo files: the served copies for pages, and the sync API's upload (HEAD to ask, PUT to send)."""
from __future__ import annotations

import hashlib

from flask import Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import school_staff_required, visible_photo
from ..audit import audit
from ..web import api_error
from . import bp
from .quota import check_upload_quota
from .services import SHA_RE, PhotoRejected, find_own, keys, rejection_message, save_upload, store

STATUS_FOR = {"not_an_image": 415, "image_rejected": 422, "too_large": 413, "busy": 503}
BUSY_RETRY_AFTER = 5  # seconds; the phone's outbox backs off on its own as well (5 s doubling)


@bp.route("/photos/<sha256>/<variant>")
@login_required
def file(sha256, variant):
    """The display copy ("full") or the thumbnail of a photo the caller may see; every view is recorded."""
    if variant not in ("thumb", "full") or not SHA_RE.match(sha256):
        abort(404)
    photo = visible_photo(current_user, sha256)
    if photo is None:
        abort(404)
    try:
        data = store().get(keys(sha256)["thumb" if variant == "thumb" else "display"])
    except (FileNotFoundError, KeyError):
        abort(404)
    audit("view", "photo", photo.id, commit=True)
    resp = Response(data, mimetype="image/jpeg")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["Content-Disposition"] = "inline"
    return resp


def _answer(sha256: str, status: str, code: int = 200) -> Response:
    resp = jsonify({"sha256": sha256, "status": status})
    resp.status_code = code
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.route("/api/v1/photos/<sha256>", methods=["HEAD"])
@school_staff_required
def head(sha256):
    """200 when the caller has already uploaded these bytes, else 404."""
    if not SHA_RE.match(sha256) or find_own(current_user, sha256) is None:
        return Response(status=404)
    return Response(status=200)


@bp.route("/api/v1/photos/<sha256>", methods=["PUT"])
@school_staff_required
def put(sha256):
    """Upload a photo (or a signature) named by its SHA-256; idempotent by content."""
    if not SHA_RE.match(sha256):
        return api_error(400, "bad_hash", _("照片名应为 64 位小写十六进制的 SHA-256。"))
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return api_error(413, "too_large", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))
    data = request.get_data(cache=False)
    if len(data) > limit:
        return api_error(413, "too_large", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))
    if hashlib.sha256(data).hexdigest() != sha256:
        return api_error(400, "hash_mismatch", _("照片内容与其 SHA-256 不符，请重新上传。"))
    if find_own(current_user, sha256) is not None:
        return _answer(sha256, "exists")
    kind = "signature" if request.args.get("kind") == "signature" else "photo"
    over = check_upload_quota(current_user, len(data))
    if over is not None:
        return api_error(429, over.code, over.message)
    try:
        up = save_upload(current_user, sha256, data, kind=kind)
    except PhotoRejected as e:
        resp = api_error(STATUS_FOR.get(e.code, 422), e.code, rejection_message(e), detail=e.reason)
        if e.code == "busy":
            resp.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return resp
    if not up.created:
        return _answer(sha256, "exists")
    return _answer(sha256, "stored", 201)
