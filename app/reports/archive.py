"""The child's archive (一人一档): the file, the contact card and every record in order, with photos, review
states and confirmations, on one printable page."""
from __future__ import annotations

from sqlalchemy.orm import selectinload

from ..access import records_query
from ..extensions import db
from ..models import Child, Record, RecordPhoto, User


def archive_records(user: User, child: Child) -> list[Record]:
    """The child's records the reader may see, oldest first. A counselling session is listed (date, counsellor) to
    those who may know of it, but its content never is: the page shows only what may_read_content(printed=True)
    allows."""
    q = records_query(user).where(Record.child_id == child.id)
    return db.session.scalars(
        q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author))
        .order_by(Record.occurred_at, Record.id)).all()
