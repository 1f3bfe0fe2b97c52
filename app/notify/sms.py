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


def escalation_from_config(config) -> Escalation | None:
    """The SMS escalation when a sender is configured, else None."""
    sender = sender_from_config(config)
    return Escalation(sender) if sender else None


class Escalation:
    """What `incidents.escalate` calls when a clock runs out: text the school's principals; and what the bureau alert
    calls: text the county bureau's duty phone."""

    def __init__(self, sender: SmsSender):
        self.sender = sender

    def escalate(self, incident, target: str) -> int:
        phones = db.session.scalars(select(User.phone).where(
            User.school_id == incident.school_id, User.role == "principal", User.active, User.phone.is_not(None)))
        text = f"【家访通】突发事件 #{incident.id} 已超过通知时限（{target}），请立即处理。"
        return sum(1 for p in phones if p and self.sender.send(p, text))

    def bureau(self, incident, school) -> int:
        """Text the county bureau's duty phone of a new emergency: the school, the category and the incident number."""
        from ..incidents.services import CATEGORIES
        from ..models import County

        county = db.session.get(County, school.county_id)
        if county is None or not county.bureau_phone:
            return 0
        category = CATEGORIES.get(incident.category, incident.category)
        text = f"【家访通】{school.name} 发生突发事件 #{incident.id}（{category}），请登录家访通确认收到报告。"
        return 1 if self.sender.send(county.bureau_phone, text) else 0
