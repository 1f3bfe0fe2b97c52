"""Who was paired with which child when: kept by watching every flush of Pairing rows, asked by the sync API."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event, insert, select, update

from ..clock import utcnow
from ..extensions import db
from ..models import Child, Pairing, PairingSpan, User

SLACK = timedelta(minutes=10)


# Mapper events: they see every insert and delete of a pairing, the orphans a child's new pairings remove included.
@event.listens_for(Pairing, "after_insert")
def _opened(mapper, connection, p) -> None:
    connection.execute(insert(PairingSpan).values(teacher_id=p.teacher_id, child_id=p.child_id, started_at=p.created_at or utcnow()))


@event.listens_for(Pairing, "after_delete")
def _closed(mapper, connection, p) -> None:
    connection.execute(update(PairingSpan).where(PairingSpan.teacher_id == p.teacher_id, PairingSpan.child_id == p.child_id,
                                                 PairingSpan.ended_at.is_(None)).values(ended_at=utcnow()))


def spans_of(teacher: User, child_ids) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """The teacher's pairing spans with these children of their school, by child."""
    out: dict[int, list] = {}
    if not child_ids:
        return out
    rows = db.session.execute(select(PairingSpan.child_id, PairingSpan.started_at, PairingSpan.ended_at)
                              .join(Child, Child.id == PairingSpan.child_id).where(
        PairingSpan.teacher_id == teacher.id, PairingSpan.child_id.in_(list(child_ids)),
        Child.school_id == teacher.school_id, Child.left_on.is_(None)))
    for child_id, start, end in rows:
        out.setdefault(child_id, []).append((start, end))
    return out


def paired_at(spans, when: datetime) -> bool:
    """True when one of the spans covers the moment `when` (within SLACK: a phone's times are typed to the minute)."""
    return any(start - SLACK <= when and (end is None or when <= end + SLACK) for start, end in spans)

