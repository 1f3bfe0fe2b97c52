"""The "my phones" page, the phone's wipe confirmation, and the headers every API answer carries."""
from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from ..access import can, devices_query
from ..auth.services import end_all_sessions
from ..clock import utcnow
from ..extensions import db
from ..models import Device, User
from ..web import EmptyForm, api_error, uuid_text
from . import bp
from .services import (CLIENT_TIME_HEADER, DEVICE_HEADER, SERVER_TIME_HEADER, WIPE_HEADER, client_time, confirm_wiped,
                       order_wipe, pending_wipe, touch)

WIPED_MESSAGE = "这部手机已报告丢失，手机上的家访通数据已清除，未同步的记录已先发送到学校。"


@bp.after_app_request
def _phone_headers(resp):
    """Every API answer carries the server's time; a known phone is noted and told of a wipe order."""
    if not request.path.startswith("/api/"):
        return resp
    resp.headers[SERVER_TIME_HEADER] = utcnow().isoformat(timespec="milliseconds")
    device_id = request.headers.get(DEVICE_HEADER)
    if device_id and resp.status_code < 500 and current_user.is_authenticated:
        device = touch(current_user, device_id, request.user_agent.string, client_time(request.headers.get(CLIENT_TIME_HEADER)))
        reason = pending_wipe(device)
        if reason:
            resp.headers[WIPE_HEADER] = reason
    return resp


def _devices():
    rows = db.session.execute(devices_query(current_user).join(User, User.id == Device.user_id).add_columns(User.name)
                              .order_by(Device.user_id != current_user.id, User.name, Device.last_seen.desc())).all()
    return rows


@bp.route("/account/phones")
@login_required
def phones():
    return render_template("devices/phones.html", rows=_devices(), form=EmptyForm(), others=can(current_user, "manage_phones"))


@bp.route("/account/phones/<id:device_id>/lost", methods=["POST"])
@login_required
def report_lost(device_id):
    device = db.session.scalar(devices_query(current_user).where(Device.id == device_id))
    if device is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    order_wipe(device, "lost", current_user)
    flash(_("已记录：这部手机下次联网时会先发送未同步的记录，然后清除手机上的数据。"), "success")
    return redirect(url_for("devices.phones"))


@bp.route("/api/v1/device/wiped", methods=["POST"])
@login_required
def wiped():
    """The phone wiped its data after a wipe order: note it, and end the user's sessions."""
    device = db.session.scalar(select(Device).where(Device.user_id == current_user.id,
                                                    Device.client_id == uuid_text(request.headers.get(DEVICE_HEADER))))
    if device is None or pending_wipe(device) is None:
        return api_error(404, "not_found", _("这部手机没有待执行的清除。"))
    # Every session of the user ends, not just this cookie: a request still in flight would write this one back, and
    # a lost phone's cookie may have been copied. The user's other devices log in again (their unsent work stays).
    end_all_sessions(current_user)
    confirm_wiped(device)
    logout_user()
    session.clear()
    return "", 204  # the phone goes to /login?wiped=lost, which says why
