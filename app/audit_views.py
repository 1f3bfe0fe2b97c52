"""The principal reads the audit log of their school."""
from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from .access import roles_required
from .extensions import db
from .models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 100


@bp.route("/")
@roles_required("principal")
def index():
    page = max(1, request.args.get("page", 1, type=int))
    q = select(AuditEntry).where(AuditEntry.school_id == current_user.school_id)
    action = (request.args.get("action") or "").strip()[:32]
    object_type = (request.args.get("type") or "").strip()[:32]
    if action:
        q = q.where(AuditEntry.action == action)
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    entries = db.session.scalars(q.order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "audit/index.html", entries=entries[:PAGE_SIZE], page=page, has_next=len(entries) > PAGE_SIZE,
        action=action, object_type=object_type,
    )
