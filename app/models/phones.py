"""What the server knows of the phones: each device a user syncs from, who was paired with a child when, and records
held for the principal because their author no longer had the child."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .people import Child, User

WIPE_REASONS = ("lost", "deactivated")
HELD_OUTCOMES = ("accepted", "discarded")


class Device(db.Model):
    """One phone (one browser profile) a user syncs from, named by the random id the phone made."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    user_agent: Mapped[str | None] = mapped_column(String(80))  # a summary (system, browser), never the full string
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    # Both clocks at its last contact: the phone's (as it said) and the server's (last_seen).
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_offset_s: Mapped[int | None] = mapped_column(Integer)
    wipe_reason: Mapped[str | None] = mapped_column(String(12))
    wipe_ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wipe_ordered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    wiped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("user_id", "client_id"),)


class PairingSpan(db.Model):
    """A teacher paired with a child from started_at until ended_at (open while the pairing lasts)."""

    __tablename__ = "pairing_span"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_pairing_span_teacher_child", "teacher_id", "child_id"),)


class HeldRecord(db.Model):
    """A record sent for a child its author was no longer paired with: kept as sent until the principal decides."""

    __tablename__ = "held_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    item: Mapped[dict] = mapped_column(JSON)  # the record as the phone sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(12))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    child: Mapped[Child] = relationship()

    __table_args__ = (Index("ix_held_record_school_outcome", "school_id", "outcome"),)
