"""Duties (how often each kind of record is due), terms, reminders (in-app and Web Push) and emergencies."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import Child, User

# before_holiday: the last days of each term (the holiday handover); holiday: once per holiday.
PERIODS = ("week", "fortnight", "month", "quarter", "term", "holiday", "before_holiday")
SEASONS = ("term", "all_year", "holiday")  # when a rule runs: term time only, all year, or only in the holidays
# Whose due list a rule's duty is on: the child's paired teachers (包保/结对, the default) or the class teachers.
DUTY_OWNERS = ("responsible", "class_teacher")


class DutyRule(db.Model):
    """A school's rule: each child needs `times` records of `kind` matching `filter` per `period`, in `season`.

    A row with `key` replaces the policy default of that key (app/duties/services.py DEFAULT_RULES; inactive = switched
    off); a row without one is a rule of the school's own. A record counts toward every rule it matches."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    times: Mapped[int] = mapped_column(Integer, default=1)
    season: Mapped[str] = mapped_column(String(8), default="term", server_default="term")
    filter: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # field -> allowed values; {} = every record
    label: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    owner: Mapped[str] = mapped_column(String(16), default="responsible", server_default="responsible")  # DUTY_OWNERS
    # Children the rule is for: those of these categories (app/models/care.py keys); [] = every child.
    categories: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    __table_args__ = (UniqueConstraint("school_id", "key"),)


class DutyTally(db.Model):
    """Per child, when the latest record of each duty kind that counts (review state received or approved) took place.

    Kept up to date by app/duties/tally.py in the same transaction as every write of a record or of its review state;
    the bureau's whole-city counts read these 135k rows instead of a term's three million records."""
    __tablename__ = "duty_tally"

    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), primary_key=True)
    home_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    talk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Term(db.Model):
    """A school term (学期): term duties are due within it; holidays fall between terms."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Notification(db.Model):
    """An in-app reminder; also the thing a push message points to by its opaque id.

    `key` makes sending idempotent: the same reminder for the same person and period is made once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))  # duties_due | duties_overdue | incident | escalation | returned | counselling
    text: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("user_id", "key"), Index("ix_notification_user_read", "user_id", "read_at"))


class PushSubscription(db.Model):
    """A browser's Web Push subscription (endpoint + keys), deleted when the push service answers 404/410."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # after a 429
    failures: Mapped[int] = mapped_column(Integer, default=0)


INCIDENT_TARGETS = ("guardian", "parents", "bureau")


class Incident(db.Model):
    """An emergency (突发事件) about a child: three clocks run from `occurred_at` until each notice is logged."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone: offline reports sync once
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    category: Mapped[str] = mapped_column(String(16))  # injury | illness | missing | safety | crisis | other
    description: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closing_note: Mapped[str | None] = mapped_column(Text)

    child: Mapped[Child] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    notices: Mapped[list[IncidentNotice]] = relationship(back_populates="incident", order_by="IncidentNotice.at")


class IncidentNotice(db.Model):
    """One notice given: who was told (guardian, parents, bureau), by whom, how and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    target: Mapped[str] = mapped_column(String(10))  # guardian | parents | bureau
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    method: Mapped[str] = mapped_column(String(12))  # phone | in_person | sms | message | document
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

    incident: Mapped[Incident] = relationship(back_populates="notices")
    by: Mapped[User] = relationship()


class SchoolFigures(db.Model):
    """A school's figures for the bureau's county page, as computed at `computed_at` for the local day `on_day`:
    counting them for 300 schools on every page view is too slow, so the page reads these and refreshes stale ones
    (duties.county.figures_for; `flask county-figures` from cron refreshes them all)."""

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), primary_key=True)
    on_day: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # {"coverage": county_coverage's row, "evidence": evidence's row or null, "weeks": [[monday, {kind: n}], ...]}
    figures: Mapped[dict] = mapped_column(JSON)
