"""Holding a record instead of refusing it, and the principal's decision on it."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..access import held_records_query
from ..audit.services import audit
from ..clock import utcnow
from ..extensions import db
from ..models import HeldRecord, Notification, Record, User
from ..notify.services import notify, school_ids

HELD_MESSAGE = "这名学生已不再与您结对，记录已交给校长处理，不需要再次提交。"
NOTICE = "held"  # the notification kind: at most one unread per decider, its count kept current


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


def waiting(user: User) -> int:
    """How many held records wait for `user`'s decision (none for who does not decide them)."""
    return db.session.scalar(held_records_query(user).where(HeldRecord.outcome.is_(None))
                             .with_only_columns(func.count()).order_by(None)) or 0


def tell_deciders(school_id: int) -> None:
    """Tell who decides the school's held records that some wait: one unread notification each (the caller commits).

    Not one per record nor per request: a phone sends 20 records a request and sends again after its photos, and
    several teachers may sync the same evening. While the notification is unread only its count changes (the phone
    was nudged once); once read (the bell, or this list opened), the next held record makes a new one and a new push.
    The text names no child and quotes nothing, like the push it makes (which carries only a generic line)."""
    for uid in school_ids(school_id, "assign_held_records"):
        text = _("有 %(n)d 条记录待分配", n=waiting(db.session.get(User, uid)))
        # One statement: a request racing this one sees the same latest notice, so both try the same key below.
        latest = db.session.scalar(select(Notification).where(Notification.user_id == uid, Notification.kind == NOTICE)
                                   .order_by(Notification.id.desc()).limit(1))
        if latest is not None and latest.read_at is None:
            latest.text = text
        else:  # keyed by the previous one: of two racing requests one makes it (user and key are unique)
            notify(uid, f"held:{latest.id if latest else 0}", NOTICE, text, "/records/held/")


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
