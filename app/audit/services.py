"""Record who viewed or changed what (ids only, never personal data)."""
from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from ..extensions import db
from ..models import AuditEntry


def audit(action: str, object_type: str, object_id=None, user=None, commit: bool = False) -> None:
    """Add an audit entry for the current (or given) user; commit when asked."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    db.session.add(
        AuditEntry(
            user_id=getattr(user, "id", None),
            school_id=getattr(user, "school_id", None),
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
        )
    )
    if commit:
        db.session.commit()
