"""Storing uploaded photos: the Pillow pipeline, the store and the Photo row, with nothing left behind on failure."""
from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit import audit
from ..extensions import db
from ..models import Photo, User
from ..clock import CHINA
from .pipeline import PhotoRejected, process
from .store import FileSystemStore, PhotoStore

SHA_RE = re.compile(r"^[0-9a-f]{64}$")

# What the user is told for each PhotoRejected code, on the API and on the online forms alike.
REJECTIONS = {
    "not_an_image": _l("不是 JPEG、PNG 或 WebP 图片。"),
    "too_large": _l("照片太大。"),
    "image_rejected": _l("图片已损坏或尺寸过大，无法处理。"),
    "busy": _l("服务器正忙，请稍后再试。"),
}


def rejection_message(e: PhotoRejected) -> str:
    """The user-facing reason a photo was refused."""
    if e.message == "too_many_pixels":
        return _("图片像素太多（%(w)d×%(h)d）：%(kind)s 图片最多 %(mp)s 百万像素，请缩小后再上传。",
                 w=e.params["w"], h=e.params["h"], mp=f"{e.params['limit'] / 1e6:.1f}",
                 kind=_("渐进式 JPEG") if e.params["kind"] == "progressive JPEG" else e.params["kind"].replace("WEBP", "WebP"))
    return str(REJECTIONS.get(e.code, REJECTIONS["image_rejected"]))


_slots_lock = threading.Lock()


def decode_slots() -> threading.BoundedSemaphore:
    """This process's decode slots: at most PHOTO_DECODE_SLOTS photos are decoded at once, whatever the workers' threads."""
    app = current_app._get_current_object()
    with _slots_lock:  # two first uploads at once must not make two semaphores
        s = app.extensions.get("photo_decode_slots")
        if s is None:
            s = app.extensions["photo_decode_slots"] = threading.BoundedSemaphore(app.config["PHOTO_DECODE_SLOTS"])
    return s


@contextmanager
def decode_slot():
    """Hold a decode slot, waiting at most PHOTO_DECODE_WAIT seconds; PhotoRejected("busy") when none came free."""
    slots = decode_slots()
    if not slots.acquire(timeout=current_app.config["PHOTO_DECODE_WAIT"]):
        raise PhotoRejected("busy", "every decode slot stayed busy")
    try:
        yield
    finally:
        slots.release()


def store() -> PhotoStore:
    """The photo store of this app (the filesystem under instance/ now; an object store later)."""
    app = current_app._get_current_object()
    s = app.extensions.get("photo_store")
    if s is None:
        s = app.extensions["photo_store"] = FileSystemStore(app.config["UPLOAD_DIR"])
    return s


def keys(sha: str) -> dict[str, str]:
    """Where the original, the served copy and the thumbnail of a photo live in the store."""
    return {"orig": f"orig/{sha}", "display": f"display/{sha}.jpg", "thumb": f"thumb/{sha}.jpg"}


def signed_phash(h: int) -> int:
    """Map an unsigned 64-bit hash into BIGINT's signed range."""
    return h - (1 << 64) if h >= (1 << 63) else h


def unsigned_phash(h: int) -> int:
    """The inverse of signed_phash."""
    return h + (1 << 64) if h < 0 else h


@dataclass
class Upload:
    photo: Photo
    created: bool


def find_own(user: User, sha: str) -> Photo | None:
    """The user's own upload of these bytes, if any."""
    return db.session.scalar(select(Photo).where(Photo.sha256 == sha, Photo.uploader_id == user.id))


def own_photo_ids(user: User, shas: set[str]) -> dict[str, int]:
    """sha256 -> Photo id of those of `shas` the user uploaded (photos and signatures alike), in one query."""
    if not shas:
        return {}
    return dict(db.session.execute(
        select(Photo.sha256, Photo.id).where(Photo.uploader_id == user.id, Photo.sha256.in_(shas))).all())


def save_bytes(user: User, data: bytes, kind: str = "photo") -> Upload:
    """save_upload of a web form's upload (the record form, a signature, a guardian's photo, a report's news photo):
    stored under the hash of its bytes, where the phone names the hash it sends."""
    return save_upload(user, hashlib.sha256(data).hexdigest(), data, kind=kind)


def save_upload(user: User, sha: str, data: bytes, kind: str = "photo", looked: bool = False) -> Upload:
    """Run the pipeline and store a photo for `user`; PhotoRejected leaves nothing on disk or in the database.
    `looked`: the caller has just found no upload of these bytes by `user` (find_own), so it is not asked again."""
    existing = None if looked else find_own(user, sha)
    if existing is not None:
        return Upload(existing, False)
    p = _process(data)
    s = store()
    k = keys(sha)
    had = {name: s.exists(key) for name, key in k.items()}
    s.put(k["orig"], data)  # durable before the 201: the phone deletes its copy then
    _put_copies(sha, p)
    taken = p.taken_at.replace(tzinfo=CHINA).astimezone(timezone.utc) if p.taken_at else None
    photo = Photo(
        sha256=sha, uploader_id=user.id, school_id=user.school_id, kind=kind, mime=p.mime, size=len(data),
        width=p.width, height=p.height, orig_width=p.orig_width, orig_height=p.orig_height, taken_at=taken,
        gps_lat=p.gps_lat, gps_lon=p.gps_lon, camera_make=(p.camera_make or None) and p.camera_make[:64],
        camera_model=(p.camera_model or None) and p.camera_model[:64], phash=signed_phash(p.phash),
    )
    try:
        db.session.add(photo)
        db.session.flush()
        audit("upload", "photo", photo.id, user=user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_own(user, sha)  # the same upload raced us; keep theirs
        if existing is not None:
            return Upload(existing, False)
        raise
    except Exception:
        db.session.rollback()
        _drop_unreferenced(sha, had)
        raise
    return Upload(photo, True)


def _process(data: bytes):
    """The pipeline with this app's limits, in a decode slot (a decode holds up to ~100 MB: bound how many run at once,
    not how many are sent)."""
    cfg = current_app.config
    with decode_slot():
        return process(data, max_bytes=cfg["PHOTO_MAX_BYTES"], max_pixels=cfg["PHOTO_MAX_PIXELS"],
                       max_full_pixels=cfg["PHOTO_MAX_PIXELS_FULL"], max_webp_pixels=cfg["PHOTO_MAX_PIXELS_WEBP"])


def _put_copies(sha: str, p) -> None:
    # No fsync: served_copy() makes them again from the original when a crash emptied or lost them.
    s, k = store(), keys(sha)
    s.put(k["display"], p.display_jpeg, durable=False)
    s.put(k["thumb"], p.thumb_jpeg, durable=False)


def served_copy(sha: str, variant: str) -> bytes | None:
    """The display copy ("display") or thumbnail ("thumb") of the photo with these bytes, made again from the original
    when it is missing or cut short (written without fsync); None when there is no original."""
    s = store()
    data = s.get(keys(sha)[variant])
    if data and data.endswith(b"\xff\xd9"):  # a whole JPEG ends with its EOI marker
        return data
    original = s.get(keys(sha)["orig"])
    if original is None:
        return None
    p = _process(original)
    _put_copies(sha, p)
    return p.display_jpeg if variant == "display" else p.thumb_jpeg


def _drop_unreferenced(sha: str, had: dict[str, bool]) -> None:
    """Remove files this upload wrote when no Photo row refers to the bytes."""
    if db.session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha)):
        return
    s = store()
    for name, key in keys(sha).items():
        if not had[name]:
            s.delete(key)


__all__ = ["REJECTIONS", "SHA_RE", "PhotoRejected", "Upload", "decode_slot", "decode_slots", "find_own", "keys", "own_photo_ids", "rejection_message",
           "save_upload", "served_copy", "signed_phash", "store", "unsigned_phash"]
