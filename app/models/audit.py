"""The audit log: who looked at or changed what, with ids only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime
from .people import User


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User | None] = relationship()
    __table_args__ = (Index("ix_audit_school_at", "school_id", "at"), Index("ix_audit_object", "object_type", "object_id"))
