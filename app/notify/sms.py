"""An interface for sending SMS in the emergency chain. Disabled by default.

To enable, set `SMS_SENDER = "package.module:ClassName"` in instance/config.py; the class is built with the app config
and must have `send(phone: str, text: str) -> bool`. Messages carry no names: only the incident number.
`LogSender` (below) records that a message would have been sent, for trying the chain without a gateway.
"""
from __future__ import annotations

import importlib
import logging
from typing import Protocol

from sqlalchemy import select

from ..extensions import db
from ..models import User

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> bool: ...


class LogSender:
    """Logs the incident number and a masked phone number instead of sending."""

    def __init__(self, config=None):
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> bool:
        self.sent.append((phone, text))
        log.info("sms (not sent: LogSender) to ***%s: %s", phone[-4:], text)
        return True


def sender_from_config(config) -> SmsSender | None:
    path = config.get("SMS_SENDER")
    if not path:
        return None
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)(config)


class Escalation:
    """What `incidents.escalate` calls when a clock runs out: text the school's principals."""

    def __init__(self, sender: SmsSender):
        self.sender = sender

    def escalate(self, incident, target: str) -> int:
        phones = db.session.scalars(select(User.phone).where(
            User.school_id == incident.school_id, User.role == "principal", User.active, User.phone.is_not(None)))
        text = f"【家访通】突发事件 #{incident.id} 已超过通知时限（{target}），请立即处理。"
        return sum(1 for p in phones if p and self.sender.send(p, text))
