"""A follow-up's page: what, who, by when; closing it with its outcome; the principal gives it to another."""
from __future__ import annotations

from datetime import date

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import can, get_follow_up, may_close_follow_up, may_read_follow_up, records_query, requires
from ..audit import audit
from ..clock import today_local
from ..extensions import db
from ..models import Record
from ..web import EmptyForm, arg_id, save_or_flash
from . import bp
from .services import STATUS_LABELS, FollowUpError, assign, close, staff_choices


@bp.route("/follow-ups/<id:follow_up_id>", methods=["GET", "POST"])
@requires("see_attention")
def show(follow_up_id):
    fu = get_follow_up(current_user, follow_up_id)
    form = EmptyForm()
    if form.validate_on_submit():
        if request.form.get("action") == "assign":
            due = request.form.get("due_on", "")
            try:
                due_on = date.fromisoformat(due) if due else None
            except ValueError:
                due_on = None
            saved, _r = save_or_flash(lambda: assign(current_user, fu, arg_id("assignee_id", request.form), due_on),
                                      _("已保存。"), FollowUpError)
        else:
            saved, _r = save_or_flash(lambda: close(current_user, fu, request.form.get("status", ""),
                                                    request.form.get("outcome", "")), _("已关闭。"), FollowUpError)
        if saved:
            audit("update", "follow_up", fu.id, commit=True)
        return redirect(url_for("followups.show", follow_up_id=fu.id))
    # The source is linked only for whoever may open it.
    source_visible = fu.source_id is not None and db.session.scalar(
        records_query(current_user).with_only_columns(Record.id).where(Record.id == fu.source_id)) is not None
    return render_template("followups/show.html", fu=fu, form=form, today=today_local(), status_labels=STATUS_LABELS,
                           readable=may_read_follow_up(current_user, fu), source_visible=source_visible,
                           may_close=may_close_follow_up(current_user, fu),
                           staff=staff_choices(fu.school_id) if can(current_user, "assign_follow_ups") else [])
