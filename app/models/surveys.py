"""The start-of-term survey (每学期初摸底): each proposed change to a file, and new children proposed from the field."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import Child, User

# pending until the principal decides; superseded: another proposal for the same field was applied instead.
PROPOSAL_STATES = ("pending", "applied", "rejected", "superseded")


class SurveyChange(db.Model):
    """One field of a file as a survey (a record of kind "survey") proposes it: the value the phone saw and the new one."""
    __tablename__ = "survey_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    field: Mapped[str] = mapped_column(String(40))  # app/surveys/fields.py SURVEY_FIELDS, or "photo"
    base: Mapped[str | None] = mapped_column(Text)  # what the phone showed (history.as_text)
    new: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    child: Mapped[Child] = relationship()
    __table_args__ = (Index("ix_survey_change_school_state", "school_id", "state"),
                      Index("ix_survey_change_child_field", "child_id", "field", "state"))


class ChildProposal(db.Model):
    """A left-behind child found in the field, proposed as a new file; the principal creates it or rejects it."""
    __tablename__ = "child_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone: an offline resend is a no-op
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | applied (created) | rejected
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))  # the file made from it
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
