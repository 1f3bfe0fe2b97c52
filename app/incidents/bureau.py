"""Emergencies reach the county bureau (2 小时内报告上级教育主管部门): an alert to the county's bureau staff as soon as
the bureau notice is due (at report time, and again by `escalate` for any open incident without one), by SMS to the
bureau's duty phone when a sender is configured, and the bureau's acknowledgement in the app, which logs the notice.

Nothing here names the child: the alert says which school, what category and when.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..clock import CHINA, utcnow
from ..extensions import db
from ..models import IncidentNotice, School, User
from ..notify.services import bureau_ids, notify, principal_ids
from .services import APP_METHOD, CATEGORIES, IncidentError, log_notice

ALERT_KIND = "bureau_alert"


def alert_text(inc, school: School) -> str:
    """School, category and time: what an alert may say (no name, no description)."""
    return _("突发事件：%(school)s，%(category)s，发生于 %(time)s。请确认已收到报告。", school=school.name,
             category=str(CATEGORIES.get(inc.category, inc.category)),
             time=inc.occurred_at.astimezone(CHINA).strftime("%m-%d %H:%M"))


def alert_bureau(inc, sms=None) -> int:
    """Tell the county's bureau staff of an emergency (once: notifications are keyed); text the bureau's duty phone
    when the alert is new and an SMS escalation is configured. Returns how many staff were newly alerted."""
    school = db.session.get(School, inc.school_id)
    text = alert_text(inc, school)
    made = sum(1 for u in bureau_ids(school.county_id, "ack_emergencies")
               if notify(u, f"incident:{inc.id}:bureau_alert", ALERT_KIND, text, "/bureau/emergencies"))
    if made and sms is not None:
        sms.bureau(inc, school)
    return made


def bureau_notice(inc) -> IncidentNotice | None:
    """The bureau's notice of this incident, if one was logged."""
    return next((n for n in inc.notices if n.target == "bureau"), None)


def acknowledge(inc, user: User, now: datetime | None = None) -> IncidentNotice:
    """A bureau user confirms the report reached the bureau: logs the bureau notice (who, when), which stops that
    clock, and tells the reporter and the school's principals."""
    now = now or utcnow()
    if db.session.scalar(select(IncidentNotice.id).where(IncidentNotice.incident_id == inc.id,
                                                         IncidentNotice.target == "bureau").limit(1)):
        raise IncidentError("form", _("已经确认过了。"))
    notice = log_notice(inc, user, "bureau", APP_METHOD, None, None, now)
    text = _("突发事件 #%(id)d：教育局已确认收到报告。", id=inc.id)
    for u in {inc.reported_by_id, *principal_ids(inc.school_id)}:
        notify(u, f"incident:{inc.id}:bureau_ack", "incident", text, f"/incidents/{inc.id}")
    return notice
