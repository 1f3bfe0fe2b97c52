"""The principal reads the audit log of their school."""
from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..access import requires
from ..models import AuditEntry
from ..web import paginate
from . import bp

PAGE_SIZE = 100


@bp.route("/")
@requires("read_audit")
def index():
    q = select(AuditEntry).where(AuditEntry.school_id == current_user.school_id)
    action = (request.args.get("action") or "").strip()[:32]
    object_type = (request.args.get("type") or "").strip()[:32]
    if action:
        q = q.where(AuditEntry.action == action)
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    pg = paginate(q.order_by(AuditEntry.id.desc()), PAGE_SIZE)
    return render_template(
        "audit/index.html", entries=pg.items, page=pg.page, has_next=pg.has_next,
        action=action, object_type=object_type,
    )
