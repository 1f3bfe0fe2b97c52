"""The key the server keeps for each of a user's phones: it unlocks the phone's unsent records after a fresh login."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .base import UTCDateTime


class DeviceKey(db.Model):
    """A random 256-bit key per (user, phone); the phone wraps its data key under it and never stores it."""
    __tablename__ = "device_key"
    __table_args__ = (UniqueConstraint("user_id", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    device_id: Mapped[str] = mapped_column(String(36))  # a UUID the phone made; names no person
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
