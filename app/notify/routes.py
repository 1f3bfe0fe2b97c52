"""The notification centre (page and API)."""
from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Notification
from ..web import EmptyForm, api_error
from . import bp
from .services import mark_read, unread_count

PAGE = 50


def _mine(limit: int = PAGE):
    return db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)).all()


@bp.route("/notifications/")
@login_required
def index():
    return render_template("notify/index.html", notifications=_mine(), form=EmptyForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    form = EmptyForm()
    if form.validate_on_submit():
        mark_read(current_user)
        db.session.commit()
    return redirect(url_for("notify.index"))


@bp.route("/api/v1/notifications")
@login_required
def api_list():
    """The caller's latest notifications and unread count; `?id=` answers one (what a push message points to)."""
    one = request.args.get("id", type=int)
    rows = _mine()
    if one is not None:
        rows = [n for n in rows if n.id == one] or list(db.session.scalars(select(Notification).where(
            Notification.user_id == current_user.id, Notification.id == one)))
    return jsonify({"unread": unread_count(current_user), "notifications": [
        {"id": n.id, "kind": n.kind, "text": n.text, "url": n.url, "created_at": n.created_at.isoformat(),
         "read": n.read_at is not None} for n in rows]})


@bp.route("/api/v1/notifications/read", methods=["POST"])
@login_required
def api_read():
    body = request.get_json(silent=True) or {}
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
        from flask_babel import gettext as _

        return api_error(400, "bad_ids", _("ids 应为整数列表。"))
    n = mark_read(current_user, ids)
    db.session.commit()
    return jsonify({"marked": n, "unread": unread_count(current_user)})
