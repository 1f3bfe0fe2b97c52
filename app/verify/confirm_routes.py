"""The village committee's pages: home visits of their village waiting for confirmation, confirm or dispute."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import get_record, records_query, requires
from ..models import CONFIRMED_KINDS, Record
from ..web import EmptyForm, paginate, save_or_flash
from . import bp
from .pages import PAGE_SIZE, with_photos
from .services import VerifyError, confirm


@bp.route("/confirm/")
@requires("confirm_visits")
def confirm_queue():
    done = request.args.get("show") == "done"
    q = records_query(current_user).where(Record.kind.in_(CONFIRMED_KINDS))
    if done:
        q = q.where(Record.confirm_state.in_(("confirmed", "disputed")))
    else:
        q = q.where(Record.confirm_state.in_(("none", "signed")), Record.review_state != "corrected")
    pg = paginate(with_photos(q).order_by(Record.occurred_at.desc(), Record.id.desc()), PAGE_SIZE)
    return render_template("verify/confirm_queue.html", records=pg.items, has_next=pg.has_next,
                           page=pg.page, done=done, form=EmptyForm())


@bp.route("/confirm/<id:record_id>", methods=["POST"])
@requires("confirm_visits")
def confirm_record(record_id):
    record = get_record(current_user, record_id)  # only home visits of the member's own village: else 404
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
        return redirect(url_for("verify.confirm_queue"))
    action = request.form.get("action")
    if action not in ("confirm", "dispute"):
        abort(400)
    if record.confirm_state in ("confirmed", "disputed"):
        flash(_("这次家访已经处理过了。"), "warn")
        return redirect(url_for("verify.confirm_queue"))
    field = f"comment-{record.id}"
    saved = save_or_flash(lambda: confirm(record, current_user, action == "confirm", request.form.get("comment")),
                          _("已确认这次家访。") if action == "confirm" else _("已提出异议，校长会看到您的说明。"),
                          VerifyError, field)[0]
    return redirect(url_for("verify.confirm_queue") + ("" if saved else f"#{field}"))
