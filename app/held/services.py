"""Holding a record instead of refusing it, and the principal's decision on it."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import audit
from ..clock import utcnow
from ..extensions import db
from ..models import HeldRecord, Record, User

HELD_MESSAGE = "这名学生已不再与您结对，记录已交给校长处理，不需要再次提交。"


class HeldError(Exception):
    """A decision that cannot be made (the message is for the user)."""


def known(client_ids) -> set[str]:
    """The ids among these of records already held and not accepted (a resend is answered "held" again)."""
    if not client_ids:
        return set()
    return set(db.session.scalars(select(HeldRecord.client_id).where(
        HeldRecord.client_id.in_(list(client_ids)), HeldRecord.outcome.is_distinct_from("accepted"))))


def result(cid: str) -> dict:
    """The sync API's answer for a held record."""
    return {"id": cid, "status": "held", "message": _(HELD_MESSAGE)}


def hold(author: User, cid: str, item: dict, child_id: int, now) -> dict:
    """Keep the record as sent for the principal to decide (the caller commits)."""
    db.session.add(HeldRecord(client_id=cid, school_id=author.school_id, author_id=author.id, child_id=child_id,
                              item=item, received_at=now))
    return result(cid)


def accept(held: HeldRecord, by: User) -> dict:
    """Take the held record into the child's file under its author, checked like any record (photos, fields)."""
    from ..records.services import ingest

    if held.outcome is not None:
        raise HeldError(_("这条记录已经处理过了。"))
    held_id = held.id
    answer = ingest(held.author, [held.item], source="held", also_visible={held.child_id})[0]
    if answer["status"] not in ("created", "duplicate"):
        why = "; ".join(str(v) for v in (answer.get("errors") or {}).values())
        raise HeldError(_("这条记录无法归档：%(why)s", why=why))
    held = db.session.get(HeldRecord, held_id)
    held.outcome, held.decided_at, held.decided_by_id = "accepted", utcnow(), by.id
    held.record_id = db.session.scalar(select(Record.id).where(Record.client_id == held.client_id))
    audit("accept", "held_record", held.id, user=by)
    db.session.commit()
    return answer


def discard(held: HeldRecord, by: User) -> None:
    """Leave the held record out of the child's file (it stays here, decided)."""
    if held.outcome is not None:
        raise HeldError(_("这条记录已经处理过了。"))
    held.outcome, held.decided_at, held.decided_by_id = "discarded", utcnow(), by.id
    audit("discard", "held_record", held.id, user=by)
    db.session.commit()
