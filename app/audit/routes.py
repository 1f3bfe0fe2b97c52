"""The principal reads the audit log of their school, in words, filtered by who, what and which child or record."""
from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select

from ..access import children_query, records_query, requires
from ..children.ordering import by_class
from ..extensions import db
from ..models import AuditEntry, Child, Record, User
from ..web import BadInput, arg_id, paginate
from . import bp
from .labels import ACTIONS, OBJECTS, action_label, object_label

PAGE_SIZE = 100


def _choice(name: str, allowed: dict) -> str:
    """A dropdown's code; anything else is a clear 400, not an empty page."""
    from flask import request

    value = (request.args.get(name) or "").strip()
    if value and value not in allowed:
        raise BadInput(_("筛选条件无效，请从下拉列表中选择。"), "bad_parameter")
    return value


@bp.route("/")
@requires("read_audit")
def index():
    q = select(AuditEntry).where(AuditEntry.school_id == current_user.school_id)
    action, object_type = _choice("action", ACTIONS), _choice("type", OBJECTS)
    user_id, child_id = arg_id("user"), arg_id("child")
    if action:
        q = q.where(AuditEntry.action == action)
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    if user_id:
        q = q.where(AuditEntry.user_id == user_id)
    child = db.session.scalar(children_query(current_user).where(Child.id == child_id)) if child_id else None
    if child_id and child is None:
        raise BadInput(_("没有这个学生。"), "bad_parameter")
    if child:
        # The child's file and every record about them (ids are stored as text).
        records = [str(i) for i in db.session.scalars(select(Record.id).where(Record.child_id == child.id))]
        q = q.where(or_(and_(AuditEntry.object_type == "child", AuditEntry.object_id == str(child.id)),
                        and_(AuditEntry.object_type == "record", AuditEntry.object_id.in_(records))))
    pg = paginate(q.order_by(AuditEntry.id.desc()), PAGE_SIZE)
    return render_template(
        "audit/index.html", entries=pg.items, page=pg.page, has_next=pg.has_next, refs=_refs(pg.items),
        action=action, object_type=object_type, user_id=user_id, child_id=child_id,
        actions=sorted(ACTIONS.items(), key=lambda kv: str(kv[1])), objects=sorted(OBJECTS.items(), key=lambda kv: str(kv[1])),
        users=db.session.scalars(select(User).where(User.school_id == current_user.school_id).order_by(User.name)).all(),
        children=by_class(db.session.scalars(children_query(current_user)).all()),
        action_label=action_label, object_label=object_label,
    )


def _refs(entries) -> dict:
    """{(type, id): (words, link)} for the children and records the page names, read within the principal's scope."""
    ids = {t: {int(e.object_id) for e in entries if e.object_type == t and (e.object_id or "").isdigit()}
           for t in ("child", "record")}
    out = {}
    if ids["child"]:
        for c in db.session.scalars(children_query(current_user).where(Child.id.in_(ids["child"]))):
            out[("child", str(c.id))] = (c.name, url_for("children.show", child_id=c.id))
    if ids["record"]:
        from ..records.kinds import KINDS

        for r in db.session.scalars(records_query(current_user).where(Record.id.in_(ids["record"]))):
            kind = KINDS[r.kind].label if r.kind in KINDS else r.kind
            out[("record", str(r.id))] = (f"{kind} · {r.child.name}", url_for("records.show", record_id=r.id))
    return out
