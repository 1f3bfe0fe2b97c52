"""The schools' clock: the China time zone, the current time, today's date there, and times typed or sent as text."""
from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")  # the schools' local time: days, weeks, terms, times typed on pages
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> holds
MAX_TIME_TEXT = 40  # longer than any ISO 8601 time; refuses junk before parsing it


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def as_utc(t: datetime | None) -> datetime | None:
    """An aware datetime; a naive one is taken as UTC (what SQLite gives back outside UTCDateTime)."""
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def today_local(now: datetime | None = None) -> date:
    """Today's date in China (of `now` when given)."""
    return (now or datetime.now(CHINA)).astimezone(CHINA).date()


def input_now() -> str:
    """The current China time as a datetime-local input's value (the default of a form's time field)."""
    return datetime.now(CHINA).strftime(INPUT_FORMAT)


def parse_local_time(value, naive: tzinfo | None = CHINA) -> datetime | None:
    """An ISO 8601 time as an aware datetime, or None when `value` is not one; a time without an offset is read in
    `naive` (China time: what a page or phone typed), or refused when `naive` is None."""
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        if naive is None:
            return None
        t = t.replace(tzinfo=naive)
    try:
        t.astimezone(timezone.utc)  # year 1 at +14:00 has no UTC time: OverflowError later, in storing or comparing
    except OverflowError:
        return None
    return t
