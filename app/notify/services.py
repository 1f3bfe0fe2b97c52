"""Reminders: in-app notifications (always work) and Web Push (when the phone can reach its push service).

`notify` is idempotent by key: the same reminder for the same person is stored once, however often the cron job runs.
Push messages carry no personal data: a generic text and the notification's opaque id; the app fetches the rest.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..access import CAPABILITIES
from ..clock import utcnow
from ..extensions import db
from ..models import Notification, User


def notify(user: User | int, key: str, kind: str, text: str, url: str | None = None) -> Notification | None:
    """Store a reminder for `user` unless one with this key exists; return the new one, or None if it existed."""
    user_id = user if isinstance(user, int) else user.id
    if db.session.scalar(select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)):
        return None
    n = Notification(user_id=user_id, key=key[:120], kind=kind, text=text[:300], url=url)
    try:
        with db.session.begin_nested():
            db.session.add(n)
            db.session.flush()
    except IntegrityError:  # a concurrent run made it a moment ago
        return None
    return n


def principal_ids(school_id: int) -> list[int]:
    """The school's active principals: who is told of emergencies and alerts."""
    return list(db.session.scalars(select(User.id).where(User.school_id == school_id, User.role == "principal", User.active)))


def school_ids(school_id: int, capability: str) -> list[int]:
    """The school's active staff with this capability: who is told of what waits for it."""
    return list(db.session.scalars(select(User.id).where(User.school_id == school_id,
                                                         User.role.in_(CAPABILITIES[capability]), User.active)))


def bureau_ids(county_id: int | None, capability: str) -> list[int]:
    """The county's active bureau staff with this capability: who is told of emergencies and monthly reports."""
    return list(db.session.scalars(select(User.id).where(User.county_id == county_id, User.county_id.is_not(None),
                                                         User.role.in_(CAPABILITIES[capability]), User.active)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, ids: list[int] | None = None, kind: str | None = None) -> int:
    """Mark the caller's notifications read (all of them when `ids` is None; only this kind's when given)."""
    q = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    if kind is not None:
        q = q.where(Notification.kind == kind)
    rows = db.session.scalars(q).all()
    now = utcnow()
    for n in rows:
        n.read_at = now
    return len(rows)
