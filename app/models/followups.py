"""Care beyond the duties: follow-ups agreed for a child (who does what by when, and how it ended)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime
from .people import Child, User
from .records import Record

FOLLOW_UP_STATES = ("open", "done", "cancelled")


class FollowUp(db.Model):
    """A follow-up: made by a `follow_up` record (its what and author), then kept current here (who, by when, status)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    # The follow_up record that made it (offline too: the records' sync pipeline): what, created by, created at.
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    # The record it follows up, if any (a visit rating 需关注, a talk, ...).
    source_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open", server_default="open")
    outcome: Mapped[str | None] = mapped_column(String(1000))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    child: Mapped[Child] = relationship()
    record: Mapped[Record] = relationship(foreign_keys=[record_id])
    source: Mapped[Record | None] = relationship(foreign_keys=[source_id])
    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __table_args__ = (
        # A school's open follow-ups by due date (the attention page, reminders, reports); a child's follow-ups.
        Index("ix_follow_up_school_status_due", "school_id", "status", "due_on"),
        Index("ix_follow_up_child_status", "child_id", "status", "closed_at"),
        Index("ix_follow_up_assignee_status", "assignee_id", "status", "due_on"),
    )

    @property
    def what(self) -> str:
        return (self.record.fields or {}).get("what", "")
