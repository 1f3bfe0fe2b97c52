"""The notification centre (page and API)."""
from __future__ import annotations

from flask import jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Notification
from ..web import BadInput, EmptyForm, arg_id, db_id, json_body
from . import bp
from .services import mark_read, unread_count

PAGE = 50
MAX_IDS = 500  # ids one read request may name


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
    one = arg_id("id")
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
    """Mark read: {"ids": [...]} those of the caller's, {"all": true} all of them; any other body changes nothing."""
    body = json_body()
    if set(body) == {"all"} and body["all"] is True:
        ids = None
    else:
        ids = body.get("ids") if set(body) == {"ids"} else None
        if not isinstance(ids, list) or len(ids) > MAX_IDS or any(db_id(i) is None for i in ids):
            raise BadInput(_("请求应为 {\"ids\": [编号, …]}（最多 %(n)d 个）或 {\"all\": true}。", n=MAX_IDS), "bad_ids")
    n = mark_read(current_user, ids)
    db.session.commit()
    return jsonify({"marked": n, "unread": unread_count(current_user)})
