"""The child's archive (一人一档): the file, the contact card and every record in order, with photos, review
states and confirmations, on one printable page."""
from __future__ import annotations

from sqlalchemy.orm import selectinload

from ..access import can, records_query
from ..extensions import db
from ..models import Child, Record, RecordPhoto, User


def archive_records(user: User, child: Child) -> list[Record]:
    """The child's records the reader may see, oldest first; counselling notes only for a counsellor (the archive
    is printed and passed around, so even the principal's copy leaves them out)."""
    q = records_query(user).where(Record.child_id == child.id)
    if not can(user, "print_counselling"):
        q = q.where(Record.kind != "counselling")
    return db.session.scalars(
        q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author))
        .order_by(Record.occurred_at, Record.id)).all()
