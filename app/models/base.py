"""Shared column helpers for the models, and the time zone the schools live in."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, TypeDecorator

CHINA = ZoneInfo("Asia/Shanghai")  # the schools' local time: days, weeks, terms, times typed on pages


def as_utc(t: datetime | None) -> datetime | None:
    """An aware datetime; a naive one is taken as UTC (what SQLite gives back outside UTCDateTime)."""
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; SQLite gives them back naive, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
