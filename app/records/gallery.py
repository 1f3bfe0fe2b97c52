"""A child's photos across all their records, newest first: who may see the records sees them at a glance."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from ..access import get_child, may_read_content, records_query, requires
from ..audit import audit
from ..extensions import db
from ..models import Photo, Record, RecordPhoto
from . import bp

GALLERY_AT_MOST = 300  # photos on the page; a child has a few dozen in a school career


def child_photos(user, child) -> list[tuple[Record, Photo]]:
    """(record, photo) of the evidence photos of the child's records `user` may read, newest visit first."""
    seen = records_query(user).where(Record.child_id == child.id).subquery()
    rows = db.session.execute(
        select(Record, Photo).join(RecordPhoto, RecordPhoto.record_id == Record.id)
        .join(Photo, Photo.id == RecordPhoto.photo_id)
        .where(Record.id.in_(select(seen.c.id)), Photo.kind == "photo")
        .order_by(Record.occurred_at.desc(), Record.id.desc(), RecordPhoto.position)
        .limit(GALLERY_AT_MOST)).all()
    return [(r, p) for r, p in rows if may_read_content(user, r)]


@bp.route("/children/<id:child_id>/photos")
@requires("read_children")
def child_gallery(child_id):
    child = get_child(current_user, child_id)
    photos = child_photos(current_user, child)
    audit("view_photos", "child", child.id, commit=True)
    return render_template("records/gallery.html", child=child, photos=photos, at_most=GALLERY_AT_MOST)
