"""Devices: seen at each API call (a header names them), told to wipe at their next contact, clocks compared."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import parse_local_time, utcnow
from ..extensions import db
from ..models import Device, User
from ..web import uuid_text

DEVICE_HEADER = "X-Device-Id"
CLIENT_TIME_HEADER = "X-Client-Time"
SERVER_TIME_HEADER = "X-Server-Time"
WIPE_HEADER = "X-Wipe"
# A phone clock further off than this is told so (the records' own slack is 10 minutes).
CLOCK_SLACK = timedelta(minutes=5)
# last_seen is written at most this often: a photo upload is many requests.
TOUCH_EVERY = timedelta(seconds=60)

_AGENTS = (("Android", r"Android [\d.]+"), ("iPhone", r"iPhone OS [\d_]+"), ("Windows", r"Windows NT [\d.]+"),
           ("Mac", r"Mac OS X [\d_]+"), ("Linux", r"Linux"))
_BROWSERS = (r"MicroMessenger/[\d.]+", r"HuaweiBrowser/[\d.]+", r"MiuiBrowser/[\d.]+", r"UCBrowser/[\d.]+",
             r"EdgA?/[\d.]+", r"HeadlessChrome/\d+", r"Chrome/\d+", r"Firefox/\d+", r"Version/[\d.]+ Mobile.*Safari")


def agent_summary(ua: str | None) -> str | None:
    """The system and browser of a User-Agent, e.g. "Android 10 · Chrome/120" (the model and build stay out)."""
    if not ua:
        return None
    system = next((m.group(0).replace("_", ".") for _n, rx in _AGENTS if (m := re.search(rx, ua))), None)
    browser = next((m.group(0).split(" Mobile")[0] for rx in _BROWSERS if (m := re.search(rx, ua))), None)
    return " · ".join(x for x in (system, browser) if x)[:80] or None


def touch(user: User, client_id, ua: str | None, client_time: datetime | None) -> Device | None:
    """Note that `user` called from the phone `client_id` now; None when the id is not a UUID."""
    client_id = uuid_text(client_id)
    if client_id is None:
        return None
    now = utcnow()
    offset = None if client_time is None else int((client_time - now).total_seconds())
    device = db.session.scalar(select(Device).where(Device.user_id == user.id, Device.client_id == client_id))
    if device is not None and device.last_seen > now - TOUCH_EVERY and (offset is None or device.clock_offset_s == offset):
        return device
    if device is None:
        device = Device(user_id=user.id, client_id=client_id, first_seen=now)
        db.session.add(device)
    device.last_seen = now
    device.user_agent = agent_summary(ua)
    if client_time is not None:
        device.client_time, device.clock_offset_s = client_time, offset
    try:
        db.session.commit()
    except IntegrityError:  # the same phone's other request inserted it a moment ago
        db.session.rollback()
        device = db.session.scalar(select(Device).where(Device.user_id == user.id, Device.client_id == client_id))
    return device


def client_time(value) -> datetime | None:
    """The phone's clock from its header (an ISO time with an offset), or None."""
    return parse_local_time(value, naive=None)


def order_wipe(device: Device, reason: str, by: User) -> None:
    """Have this phone send what it holds, then wipe, at its next contact."""
    from ..audit.services import audit

    if device.wiped_at is None and device.wipe_reason is None:
        device.wipe_reason, device.wipe_ordered_at, device.wipe_ordered_by_id = reason, utcnow(), by.id
        audit("wipe_ordered", "device", device.id, user=by)
    db.session.commit()


def confirm_wiped(device: Device) -> None:
    """The phone says it wiped its data."""
    device.wiped_at = utcnow()
    db.session.commit()


def pending_wipe(device: Device | None) -> str | None:
    """The reason this phone must wipe, if it must."""
    return device.wipe_reason if device is not None and device.wiped_at is None else None


def clock_note(phone_time: datetime | None, now: datetime) -> str | None:
    """A sentence on the phone's clock when it is off by more than CLOCK_SLACK, else None."""
    if phone_time is None:
        return None
    off = phone_time - now
    if abs(off) <= CLOCK_SLACK:
        return None
    minutes = int(abs(off).total_seconds() // 60)
    span = _("%(n)d 小时", n=minutes // 60) if minutes >= 120 else _("%(n)d 分钟", n=minutes)
    if off > timedelta(0):
        return _("手机时钟比北京时间快约 %(span)s，请在手机设置里校准时间后重新保存。", span=span)
    return _("手机时钟比北京时间慢约 %(span)s，请在手机设置里校准时间后重新保存。", span=span)
