"""Per-user bounds on photo uploads, and the housekeeping that removes uploads no record ever listed.

A photo is linked when a record lists it, a confirmation keeps it as a signature, a child's file shows it (the child's
own photo or a parent's or guardian's registration photo), or a monthly report's news item shows it.
Everything else is on its way (photos go up before their record) or abandoned; abandoned bytes must not pile up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, exists, func, select

from ..clock import CHINA, utcnow
from ..extensions import db
from ..models import Child, Confirmation, Guardian, NewsPhoto, Photo, RecordPhoto, User


@dataclass
class QuotaExceeded:
    code: str  # the API's reason code
    message: str


def unlinked():
    """SQL condition: no record, confirmation, child file (the child's or a guardian's photo) or news item refers to
    this photo."""
    return and_(
        ~exists().where(RecordPhoto.photo_id == Photo.id),
        ~exists().where(NewsPhoto.photo_id == Photo.id),
        ~exists().where(Confirmation.photo_id == Photo.id),
        ~exists().where(Child.photo_sha256 == Photo.sha256, Child.school_id == Photo.school_id),
        ~exists().where(Guardian.photo_sha256 == Photo.sha256, Guardian.child_id == Child.id,
                        Child.school_id == Photo.school_id),
    )


# The caller's uploads today and the bytes of their unlinked ones, in one pass over their photos. Built once: every
# photo PUT runs it, and building the NOT EXISTS afresh cost more CPU than the database spent answering.
_USAGE = select(
    func.count().filter(Photo.uploaded_at >= bindparam("midnight")),
    func.coalesce(func.sum(Photo.size).filter(unlinked()), 0),
).where(Photo.uploader_id == bindparam("uploader"))


def check_upload_quota(user: User, size: int) -> QuotaExceeded | None:
    """Why `user` may not store `size` more bytes now, or None when the upload is within the limits."""
    cfg = current_app.config
    midnight = datetime.now(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    today, pending = db.session.execute(_USAGE, {"midnight": midnight, "uploader": user.id}).one()
    if today >= cfg["PHOTO_UPLOADS_PER_DAY"]:
        return QuotaExceeded("upload_quota_daily", _(
            "今天已上传 %(n)d 张照片，达到每天的上限，请明天再同步。照片和记录都还保存在手机上，不会丢失。",
            n=cfg["PHOTO_UPLOADS_PER_DAY"]))
    if pending + size > cfg["PHOTO_UNLINKED_BYTES_MAX"]:
        return QuotaExceeded("upload_quota_unlinked", _(
            "已上传但还没有随记录提交的照片超过 %(mb)d MB，请先提交记录再上传更多照片。照片都还保存在手机上，不会丢失。",
            mb=cfg["PHOTO_UNLINKED_BYTES_MAX"] // 2**20))
    return None


def housekeep(now: datetime | None = None) -> dict[str, int]:
    """Remove unlinked uploads older than PHOTO_UNLINKED_MAX_AGE (rows, then files no row needs any more) and
    temporary files older than UPLOAD_TMP_MAX_AGE left in the upload directory by interrupted writes, and resumable
    uploads untouched for PHOTO_PARTIAL_MAX_AGE."""
    from .resumable import expire as expire_partials
    from .services import keys, store

    cfg = current_app.config
    now = now or utcnow()
    cutoff = now - timedelta(seconds=cfg["PHOTO_UNLINKED_MAX_AGE"])
    old = db.session.execute(select(Photo.id, Photo.sha256, Photo.size).where(
        Photo.uploaded_at < cutoff, unlinked())).all()
    removed = 0
    freed = 0
    if old:
        # The link check is repeated in the DELETE itself: a record listing one of these photos may have arrived since.
        ids = [r.id for r in old]
        for i in range(0, len(ids), 500):
            removed += db.session.execute(delete(Photo).where(Photo.id.in_(ids[i:i + 500]), unlinked())).rowcount
        db.session.commit()
    files = 0
    s = store()
    gone = {r.sha256 for r in old} - set(db.session.scalars(
        select(Photo.sha256).where(Photo.sha256.in_({r.sha256 for r in old})))) if old else set()
    for sha in gone:  # files are shared by every upload of the same bytes: kept while any row needs them
        for key in keys(sha).values():
            path = s.path(key)
            # A fresh file is being written by a new upload of the same bytes whose row is not committed yet.
            if path is not None and path.stat().st_mtime < now.timestamp() - 3600:
                freed += path.stat().st_size
                s.delete(key)
                files += 1
    temps = _remove_stale_temps(cfg["UPLOAD_DIR"], now.timestamp() - cfg["UPLOAD_TMP_MAX_AGE"])
    partials = expire_partials(now.timestamp() - cfg["PHOTO_PARTIAL_MAX_AGE"])
    return {"photos": removed, "files": files, "bytes": freed, "temp_files": temps, "partials": partials}


def _remove_stale_temps(root: str, before: float) -> int:
    """Delete the store's half-written ".tmp-*" files last touched before `before` (a Unix time)."""
    n = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if name.startswith(".tmp-"):
                p = os.path.join(dirpath, name)
                try:
                    if os.lstat(p).st_mtime < before:
                        os.unlink(p)
                        n += 1
                except FileNotFoundError:  # finished or removed meanwhile
                    pass
    return n


__all__ = ["QuotaExceeded", "check_upload_quota", "housekeep", "unlinked"]
