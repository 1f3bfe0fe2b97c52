"""Photo files: the served copies for pages, and the sync API's upload (HEAD to ask, PUT to send, whole or in chunks)."""
from __future__ import annotations

import hashlib

from flask import Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import school_staff_required, visible_photo
from ..audit import audit
from ..web import api_error
from . import bp, resumable
from .quota import check_upload_quota
from .services import SHA_RE, PhotoRejected, find_own, rejection_message, save_upload, served_copy, store

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
    return send_photo(photo, variant)


def send_photo(photo, variant: str) -> Response:
    """The display copy ("full") or thumbnail of a photo the caller was found to see; the view is recorded."""
    if variant not in ("thumb", "full"):
        abort(404)
    try:
        data = served_copy(photo.sha256, "thumb" if variant == "thumb" else "display")
    except PhotoRejected as e:  # making it again: no decode slot free, or an original that no longer decodes
        abort(503 if e.code == "busy" else 404)
    if data is None:
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
    """200 when the caller has already uploaded these bytes, else 404 with how many bytes of the caller's unfinished
    upload the server holds (Upload-Offset: the next chunk starts there)."""
    if not SHA_RE.match(sha256):
        return Response(status=404)
    if find_own(current_user, sha256) is not None:
        return Response(status=200)
    return Response(status=404, headers={"Upload-Offset": str(resumable.offset(current_user, sha256)),
                                         "Cache-Control": "private, no-cache"})


def _too_large(limit: int) -> Response:
    return api_error(413, "too_large", _("照片太大（最多 %(mb)d MB）。", mb=limit // 2**20))


@bp.route("/api/v1/photos/<sha256>", methods=["PUT"])
@school_staff_required
def put(sha256):
    """Upload a photo (or a signature) named by its SHA-256, whole or in chunks (Content-Range); idempotent by content."""
    if not SHA_RE.match(sha256):
        return api_error(400, "bad_hash", _("照片名应为 64 位小写十六进制的 SHA-256。"))
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if request.headers.get("Content-Range") is not None:
        return _put_chunk(sha256, limit)
    if request.content_length is not None and request.content_length > limit:
        return _too_large(limit)
    data = request.get_data(cache=False)
    if len(data) > limit:
        return _too_large(limit)
    return _store(sha256, data)


def _store(sha256: str, data: bytes) -> Response:
    """Check and keep a whole photo: the one path for a single PUT and for the last chunk of a resumable upload."""
    if hashlib.sha256(data).hexdigest() != sha256:
        return api_error(400, "hash_mismatch", _("照片内容与其 SHA-256 不符，请重新上传。"))
    if find_own(current_user, sha256) is not None:
        return _answer(sha256, "exists")
    kind = "signature" if request.args.get("kind") == "signature" else "photo"
    over = check_upload_quota(current_user, len(data))
    if over is not None:
        return api_error(429, over.code, over.message)
    try:
        up = save_upload(current_user, sha256, data, kind=kind, looked=True)
    except PhotoRejected as e:
        resp = api_error(STATUS_FOR.get(e.code, 422), e.code, rejection_message(e), detail=e.reason)
        if e.code == "busy":
            resp.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return resp
    if not up.created:
        return _answer(sha256, "exists")
    return _answer(sha256, "stored", 201)


def _put_chunk(sha256: str, limit: int) -> Response:
    """Append one chunk (`Content-Range: bytes first-last/total`) to the caller's partial upload; the last runs _store."""
    chunk = resumable.parse_range(request.headers["Content-Range"])
    if chunk is None or request.content_length != chunk.end - chunk.start:
        return api_error(400, "bad_range", _("Content-Range 应为 bytes 起-止/总长，且与请求体的长度一致。"))
    if chunk.total > limit:
        return _too_large(limit)
    if find_own(current_user, sha256) is not None:
        return _answer(sha256, "exists")
    if chunk.start == 0:  # refuse a photo over the quota before 2G carries all of it
        over = check_upload_quota(current_user, chunk.total)
        if over is not None:
            return api_error(429, over.code, over.message)
    key = resumable.partial_key(current_user, sha256)
    s = store()
    try:
        with s.appending(key, chunk.start) as f:
            got = resumable.receive(f, chunk)
            if got < chunk.end - chunk.start:
                return _offset_answer(sha256, 409, chunk.start + got, "incomplete_chunk")
            if chunk.end < chunk.total:
                return _offset_answer(sha256, 202, chunk.end)
            f.seek(0)
            resp = _store(sha256, f.read())
            if resp.status_code in (429, 503):  # worth sending again later: keep all but this chunk
                f.truncate(chunk.start)
            else:  # kept, or refused for good: nothing of it stays behind
                s.delete(key)
            return resp
    except resumable.WrongOffset as e:
        return _offset_answer(sha256, 409, e.length, "wrong_offset")
    except resumable.PartialBusy:
        resp = api_error(503, "upload_in_progress", _("这张照片正在上传中，请稍后再试。"))
        resp.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return resp


def _offset_answer(sha256: str, code: int, offset: int, error: str | None = None) -> Response:
    """Where the caller's partial upload ends now: 202 after a chunk, 409 (with `error`) when it must go on from there."""
    if error == "wrong_offset":
        resp = api_error(code, error, _("这一段不是从服务器已收到的位置开始的，请从第 %(n)d 字节继续。", n=offset), offset=offset)
    elif error:
        resp = api_error(code, error, _("这一段没有传完，请从第 %(n)d 字节继续。", n=offset), offset=offset)
    else:
        resp = jsonify({"sha256": sha256, "status": "partial", "offset": offset})
        resp.status_code = code
    resp.headers["Upload-Offset"] = str(offset)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
