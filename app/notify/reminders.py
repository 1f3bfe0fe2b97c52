"""`flask send-reminders`: what cron runs every few minutes. Idempotent: every reminder has a key, so running it
twice (or from two servers) makes and sends each reminder once.

- duties: once a day, each teacher with overdue children gets "N children overdue" (no names);
- follow-ups: once a day, whoever has overdue follow-ups gets "N follow-ups overdue" (no names);
- emergencies: clocks about to run out remind the reporter; clocks run out escalate to the principal (and SMS, if
  an SMS sender is configured);
- then every new reminder is pushed to the subscribed phones (in-app they are there already);
- failed logins older than the rate limit's window are dropped.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.services import prune_failures
from ..clock import today_local, utcnow
from ..duties.services import overdue_children
from ..extensions import db
from ..incidents.services import escalate
from ..models import School
from ..surveys.progress import survey_reminders
from .push import push_pending
from .services import notify
from .sms import escalation_from_config


def duty_reminders(now: datetime) -> int:
    today = today_local(now)
    made = 0
    for school_id in db.session.scalars(select(School.id)):
        _total, rows = overdue_children(school_id, today, limit=None)
        for teacher_id, n in Counter(r["teacher_id"] for r in rows if r["teacher_id"]).items():
            text = _("您有 %(n)d 名学生的家访、谈心或家庭联系已逾期，请查看待办。", n=n)
            if notify(teacher_id, f"duties:{today.isoformat()}", "duties_overdue", text, "/duties/"):
                made += 1
    return made


def follow_up_reminders(now: datetime) -> int:
    """Once a day, whoever has overdue open follow-ups gets "N follow-ups overdue" (no names)."""
    from sqlalchemy import func

    from ..models import FollowUp

    today = today_local(now)
    made = 0
    rows = db.session.execute(select(FollowUp.assignee_id, func.count()).where(
        FollowUp.status == "open", FollowUp.due_on < today).group_by(FollowUp.assignee_id))
    for user_id, n in rows:
        text = _("您有 %(n)d 项跟进事项已过期限，请尽快跟进并记录结果。", n=n)
        if notify(user_id, f"follow_ups:{today.isoformat()}", "follow_ups_overdue", text, "/"):
            made += 1
    return made


def run(now: datetime | None = None) -> dict:
    now = now or utcnow()
    out = {"duties": duty_reminders(now), "surveys": survey_reminders(now), "follow_ups": follow_up_reminders(now)}
    out.update({f"incident_{k}": v for k, v in escalate(now, escalation_from_config(current_app.config)).items()})
    db.session.commit()
    out["push"] = push_pending(now)
    out["login_failures_pruned"] = prune_failures(now)
    db.session.commit()
    return out
