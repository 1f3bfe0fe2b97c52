"""What the verification pages share: records loaded with their photos, the page number, the template globals."""
from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access import may_see_evidence, may_see_history, records_query
from ..children.forms import EmptyForm
from ..extensions import db
from ..models import Record, RecordPhoto
from . import bp, evidence
from .labels import ACTION_LABELS, CONFIRM_LABELS, METHOD_LABELS, OUTCOME_LABELS, REVIEW_LABELS
from .services import history

PAGE_SIZE = 20


@bp.record_once
def _labels_in_templates(state):
    state.app.jinja_env.globals.update(REVIEW_LABELS=REVIEW_LABELS, CONFIRM_LABELS=CONFIRM_LABELS,
                                       METHOD_LABELS=METHOD_LABELS, OUTCOME_LABELS=OUTCOME_LABELS,
                                       ACTION_LABELS=ACTION_LABELS, EVIDENCE_KINDS=evidence.EVIDENCE_KINDS)


def with_photos(q):
    """The query with each record's photos, author and child loaded for a list page."""
    return q.options(selectinload(Record.photos).selectinload(RecordPhoto.photo), selectinload(Record.author),
                     selectinload(Record.child))


def page_number() -> int:
    """The ?page= of a list, at least 1."""
    return max(1, request.args.get("page", 1, type=int))


def returned_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Record).where(
        Record.author_id == user.id, Record.review_state == "returned", Record.school_id == user.school_id)) or 0


@bp.app_context_processor
def _returned_badge():
    if current_user.is_authenticated and current_user.role in ("teacher", "principal", "counsellor") \
            and request.endpoint not in (None, "static"):
        return {"returned_to_me": returned_count(current_user)}
    return {}


# --- the verification part of a record page -------------------------------------------------------------------------

@bp.app_template_global()
def verification_of(record: Record) -> dict:
    """What the record page shows about checks, for whoever is looking."""
    sees = may_see_evidence(current_user, record)
    corrections = db.session.scalars(select(Record).where(Record.corrects_id == record.id).order_by(Record.id)).all()
    return {
        "sees": sees, "flags": evidence.explained(record.flags) if sees else [],
        "history": history(record) if may_see_history(current_user, record) else [],
        "corrects": get_record_or_none(record.corrects_id) if record.corrects_id else None,
        "corrections": [c for c in corrections if sees],
        "form": EmptyForm(),
    }


def get_record_or_none(record_id: int):
    return db.session.scalar(records_query(current_user).where(Record.id == record_id))
