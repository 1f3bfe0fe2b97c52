"""Group activities (活动): one parents' meeting, training, class meeting, lecture, festival or letter for many children.

Who took part is kept as one Record of kind "activity" per child (Record.activity_id names the activity), so the duty
rules, the term record and every record scope count and see it per child like any other record: an activity with 20
children is 20 attendances, one per child, never 20 for one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import User

ACTIVITY_KIND = "activity"  # Record.kind of one child's attendance


class Activity(db.Model):
    """One group activity, as its author recorded it (append-only, like the records)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone: the idempotency key
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    type: Mapped[str] = mapped_column(String(24))  # app/activities/services.py TYPES
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    opinions: Mapped[str | None] = mapped_column(Text)  # the parents' opinion book of a meeting (家长意见记录簿)
    signin_sheet: Mapped[bool] = mapped_column(Boolean, default=False)  # its photos include the paper sign-in sheet
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
    photos: Mapped[list[ActivityPhoto]] = relationship(order_by="ActivityPhoto.position", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_activity_school_at", "school_id", "occurred_at"),
                      Index("ix_activity_author_at", "author_id", "occurred_at"))


class ActivityPhoto(db.Model):
    """A photo of the activity (or of its paper sign-in sheet, 签到表), in the order taken."""

    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    photo: Mapped["Photo"] = relationship()  # noqa: F821
