"""Emergencies (突发事件): three clocks from the incident's time, notices logged, reminders and escalation.

Policy: the entrusted guardian within 30 minutes, the parents within 1 hour, the education bureau within 2 hours.
`escalate(now)` (run by `flask send-reminders`, every few minutes from cron) reminds the reporter when a clock has
10 minutes left and tells the principal when it has run out; each reminder is made once (notification keys).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..access import can, can_see_child
from ..audit import audit
from ..clock import as_utc, parse_local_time, utcnow
from ..extensions import db
from ..models import Incident, IncidentNotice, User
from ..notify.services import notify, principal_ids
from ..web import db_id, has_control_chars, uuid_text

CLOCKS = {"guardian": timedelta(minutes=30), "parents": timedelta(hours=1), "bureau": timedelta(hours=2)}
SOON = timedelta(minutes=10)
TARGET_LABELS = {"guardian": _l("监护人"), "parents": _l("父母"), "bureau": _l("教育局")}
METHODS = {"phone": _l("电话"), "in_person": _l("当面"), "sms": _l("短信"), "message": _l("微信/消息"), "document": _l("书面报告"),
           "app": _l("教育局在家访通中确认")}
APP_METHOD = "app"  # the bureau's acknowledgement in the app (app.incidents.bureau), not offered on the school's form
CATEGORIES = {"injury": _l("受伤"), "illness": _l("急病"), "missing": _l("走失/失联"), "safety": _l("安全事故"),
              "crisis": _l("心理危机"), "other": _l("其他")}


def phone_rules() -> dict:
    """The categories and the three clocks, for the offline report form (labels in the current language)."""
    def within(limit: timedelta) -> str:
        minutes = int(limit.total_seconds() // 60)
        return _("%(n)d 小时内", n=minutes // 60) if minutes % 60 == 0 else _("%(n)d 分钟内", n=minutes)

    return {"categories": [{"value": k, "label": str(v)} for k, v in CATEGORIES.items()],
            "clocks": [{"target": t, "minutes": int(limit.total_seconds() // 60), "label": str(TARGET_LABELS[t]),
                        "within": within(limit)} for t, limit in CLOCKS.items()]}


class IncidentError(ValueError):
    """What the user did wrong, in their language: `field` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _checked_time(value, now: datetime) -> datetime:
    """A time sent or typed for an incident (see parse_local_time), neither in the future nor too old."""
    if not isinstance(value, str):
        raise IncidentError("occurred_at", _("请填写发生时间。"))
    t = parse_local_time(value)
    if t is None:
        raise IncidentError("occurred_at", _("时间格式不正确。"))
    if t > now + timedelta(minutes=10):
        raise IncidentError("occurred_at", _("时间不能在将来。"))
    if t < now - timedelta(days=30):
        raise IncidentError("occurred_at", _("时间太早：30 天以前的事件请直接报告校长。"))
    return t


def report(user: User, data: dict, now: datetime | None = None) -> tuple[Incident, bool]:
    """Record an emergency (from a page or the phone's outbox); returns (incident, created). Idempotent by client id."""
    now = now or utcnow()
    if not can(user, "report_incidents"):
        raise IncidentError("form", _("只有教师和校长可以报告突发事件。"))
    client_id = uuid_text(data.get("id"))
    if client_id is None:
        raise IncidentError("id", _("缺少事件编号。"))
    existing = db.session.scalar(select(Incident).where(Incident.client_id == client_id))
    if existing is not None:
        if existing.reported_by_id != user.id:
            raise IncidentError("id", _("此编号已被另一事件使用。"))
        return existing, False
    child_id = data.get("child_id")
    if db_id(child_id) is None or not can_see_child(user, child_id):
        raise IncidentError("child_id", _("请选择您负责的学生。"))
    category = data.get("category")
    if not isinstance(category, str) or category not in CATEGORIES:
        raise IncidentError("category", _("请选择事件类别。"))
    description = (data.get("description") or "").strip() if isinstance(data.get("description"), str) else ""
    if not description or has_control_chars(description):
        raise IncidentError("description", _("请简要写明发生了什么。"))
    inc = Incident(client_id=client_id, school_id=user.school_id, child_id=child_id, reported_by_id=user.id,
                   occurred_at=now if data.get("occurred_at") is None else _checked_time(data["occurred_at"], now),
                   reported_at=now, category=category,
                   description=description[:4000])
    try:
        with db.session.begin_nested():
            db.session.add(inc)
            db.session.flush()
    except IntegrityError:
        return db.session.scalar(select(Incident).where(Incident.client_id == client_id)), False
    audit("report", "incident", inc.id, user=user)
    text = _("突发事件 #%(id)d：30 分钟内通知监护人，1 小时内通知父母，2 小时内报告教育局。", id=inc.id)
    for u in {user.id, *principal_ids(user.school_id)}:
        notify(u, f"incident:{inc.id}:new", "incident", text, f"/incidents/{inc.id}")
    # The bureau's 2-hour notice is due from now on: its staff hear of it at once, not at the next cron run.
    from flask import current_app

    from ..notify.sms import escalation_from_config
    from .bureau import alert_bureau

    alert_bureau(inc, escalation_from_config(current_app.config))
    return inc, True


def log_notice(inc: Incident, user: User, target: str, method: str, at_value, note: str | None,
               now: datetime | None = None) -> IncidentNotice:
    now = now or utcnow()
    if inc.closed_at is not None:
        raise IncidentError("form", _("事件已结束，不能再添加。"))
    if target not in CLOCKS:
        raise IncidentError("target", _("请选择通知了谁。"))
    if method not in METHODS or (method == APP_METHOD) != can(user, "ack_emergencies"):
        raise IncidentError("method", _("请选择通知方式。"))
    at = _checked_time(at_value, now) if at_value else now
    if at < as_utc(inc.occurred_at) - timedelta(minutes=5):
        raise IncidentError("at", _("通知时间不能早于事件发生时间。"))
    n = IncidentNotice(incident_id=inc.id, target=target, by_id=user.id, method=method, at=at, logged_at=now,
                       note=(note or "").strip()[:500] or None)
    db.session.add(n)
    db.session.flush()
    audit("notice", "incident", inc.id, user=user)
    return n


def contacts(inc: Incident) -> dict[str, list[tuple[str, str]]]:
    """Per clock, the numbers to call: (who, phone) of the guardian, the parents, the bureau's duty phone."""
    child = inc.child
    g = child.entrusted_guardian
    bureau = child.school.county.bureau_phone if child.school and child.school.county else None
    out = {"guardian": [(f"{g.name}{f'（{g.relationship_}）' if g.relationship_ else ''}", g.phone)] if g and g.phone else [],
           "parents": [(p.name, p.phone) for p in child.parents() if p.phone],
           "bureau": [(child.school.county.bureau_name or str(TARGET_LABELS["bureau"]), bureau)] if bureau else []}
    return out


def close(inc: Incident, user: User, note: str | None, now: datetime | None = None) -> None:
    """Close an incident: every notice given, or a note saying why not. The timeline stays."""
    if inc.closed_at is not None:
        raise IncidentError("form", _("事件已经结束。"))
    note = (note or "").strip()
    missing = [t for t in CLOCKS if t not in {n.target for n in inc.notices}]
    if missing and not note:
        raise IncidentError("note", _("还有未记录的通知（%(who)s）；如确实不需要，请写明原因后再结束。",
                                      who="、".join(str(TARGET_LABELS[t]) for t in missing)))
    inc.closed_at, inc.closed_by_id, inc.closing_note = now or utcnow(), user.id, note[:2000] or None
    audit("close", "incident", inc.id, user=user)


def clocks(inc: Incident, now: datetime | None = None) -> list[dict]:
    """Each of the three clocks: its deadline, the first notice logged, and its state."""
    now = now or utcnow()
    first = {}
    for n in sorted(inc.notices, key=lambda n: as_utc(n.at)):
        first.setdefault(n.target, n)
    out = []
    for target, limit in CLOCKS.items():
        deadline = as_utc(inc.occurred_at) + limit
        notice = first.get(target)
        if notice is not None:
            state = "done" if as_utc(notice.at) <= deadline else "done_late"
        elif inc.closed_at is not None:
            state = "skipped"
        elif now >= deadline:
            state = "late"
        elif now >= deadline - SOON:
            state = "soon"
        else:
            state = "running"
        out.append({"target": target, "label": TARGET_LABELS[target], "deadline": deadline, "notice": notice,
                    "state": state, "left": max(timedelta(0), deadline - now)})
    return out


def escalate(now: datetime | None = None, sms=None) -> dict:
    """Remind and escalate for every open incident; idempotent (each reminder is stored once by its key)."""
    now = now or utcnow()
    from .bureau import alert_bureau

    made = {"soon": 0, "late": 0, "sms": 0, "bureau": 0}
    for inc in db.session.scalars(select(Incident).where(Incident.closed_at.is_(None))):
        if not any(n.target == "bureau" for n in inc.notices):  # an incident reported before the bureau had accounts
            made["bureau"] += alert_bureau(inc, sms)
        for c in clocks(inc, now):
            label = str(c["label"])
            if c["state"] == "soon":
                text = _("突发事件 #%(id)d：通知%(who)s的时限还剩不到 10 分钟。", id=inc.id, who=label)
                if notify(inc.reported_by_id, f"incident:{inc.id}:{c['target']}:soon", "incident", text,
                          f"/incidents/{inc.id}"):
                    made["soon"] += 1
            elif c["state"] == "late":
                text = _("突发事件 #%(id)d：已超过通知%(who)s的时限，请校长立即处理。", id=inc.id, who=label)
                new = [notify(u, f"incident:{inc.id}:{c['target']}:late", "escalation", text, f"/incidents/{inc.id}")
                       for u in {inc.reported_by_id, *principal_ids(inc.school_id)}]
                if any(new):
                    made["late"] += 1
                    if sms is not None:
                        made["sms"] += sms.escalate(inc, c["target"])
    return made
