"""Counselling notes' risk level: a "high" one alerts the school's principals at once, without any of the note's content,
and the counsellor is offered to open an emergency."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from ..models import Record
from ..notify.services import notify, principal_ids

HIGH = "high"
EMERGENCY_CATEGORY = "crisis"  # app/incidents/services.py CATEGORIES: 心理危机


def is_high_risk(record: Record) -> bool:
    """A counselling note its counsellor marked high risk."""
    return record.kind == "counselling" and (record.fields or {}).get("risk") == HIGH


def alert_high_risk(records: list[Record]) -> None:
    """Tell every principal of the school about each new high-risk note, once per note (the notification key).

    The alert names no child and quotes nothing: notifications reach lock screens and push services, and the
    note is the counsellors' alone. The link opens the record's page, which shows the principal only that a
    session took place and who to call."""
    for r in records:
        if not is_high_risk(r):
            continue
        text = _("心理辅导记录标记为高风险，请尽快与心理辅导教师联系。")
        for principal in principal_ids(r.school_id):
            notify(principal, f"counselling:{r.id}:high", "counselling", text, f"/records/{r.id}")


def emergency_url(record: Record) -> str:
    """The emergency report form, with the child and the 心理危机 category chosen."""
    return url_for("incidents.new", child=record.child_id, category=EMERGENCY_CATEGORY)
