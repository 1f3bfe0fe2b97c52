"""The child's archive (一人一档): the file, the contact card and every record in order, with photos, review
states and confirmations, on one printable page."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import records_query
from ..extensions import db
from ..models import Child, Confirmation, Record, RecordPhoto, ReviewEvent, User


def archive_records(user: User, child: Child) -> list[Record]:
    """The child's records the reader may see, oldest first; counselling notes only for a counsellor (the archive
    is printed and passed around, so even the principal's copy leaves them out)."""
    q = records_query(user).where(Record.child_id == child.id)
    if user.role != "counsellor":
        q = q.where(Record.kind != "counselling")
    return db.session.scalars(
        q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author))
        .order_by(Record.occurred_at, Record.id)).all()


def histories(records: list[Record]) -> dict[int, list[tuple]]:
    """Review steps and confirmations per record, oldest first, in two queries for the whole archive."""
    ids = [r.id for r in records]
    out: dict[int, list[tuple]] = {i: [] for i in ids}
    if not ids:
        return out
    for e in db.session.scalars(select(ReviewEvent).where(ReviewEvent.record_id.in_(ids))
                                .options(selectinload(ReviewEvent.by))):
        out[e.record_id].append(("review", e.at, e))
    for c in db.session.scalars(select(Confirmation).where(Confirmation.record_id.in_(ids))
                                .options(selectinload(Confirmation.by), selectinload(Confirmation.photo))):
        out[c.record_id].append(("confirm", c.at, c))
    for steps in out.values():
        steps.sort(key=lambda s: (s[1], s[2].id))
    return out
