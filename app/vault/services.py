"""The rules for releasing a phone's device key: to its own user, and only right after the password was typed."""
from __future__ import annotations

import secrets
import time
import uuid

from flask import current_app, session
from sqlalchemy import select

from ..audit import audit
from ..auth.services import LOGIN_AT_KEY
from ..clock import utcnow
from ..extensions import db
from ..models import DeviceKey, User


def valid_device_id(value) -> str | None:
    """The phone's device id in canonical form, or None when it is not a UUID."""
    if not isinstance(value, str) or len(value) > 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def login_is_fresh() -> bool:
    """True when this session's password was typed less than DEVICE_KEY_FRESH_SECONDS ago."""
    at = session.get(LOGIN_AT_KEY)
    return isinstance(at, int) and 0 <= time.time() - at < current_app.config.get("DEVICE_KEY_FRESH_SECONDS", 600)


def release_key(user: User, device_id: str) -> bytes:
    """The key for (user, phone), made on first use; each release is recorded (the caller commits)."""
    row = db.session.scalar(select(DeviceKey).where(DeviceKey.user_id == user.id, DeviceKey.device_id == device_id))
    if row is None:
        row = DeviceKey(user_id=user.id, device_id=device_id, key=secrets.token_bytes(32))
        db.session.add(row)
    row.released_at = utcnow()
    db.session.flush()
    audit("device_key_released", "user", user.id, user=user)
    return row.key
