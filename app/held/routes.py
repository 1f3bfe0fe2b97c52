"""The principal's list of held records: accept one into the child's file, or leave it out."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import held_records_query, requires
from ..extensions import db
from ..models import HeldRecord
from ..notify.services import mark_read
from ..records.kinds import KINDS
from ..web import EmptyForm
from . import bp
from .services import NOTICE, HeldError, accept, discard


@bp.route("/")
@requires("assign_held_records")
def index():
    rows = db.session.scalars(held_records_query(current_user).where(HeldRecord.outcome.is_(None))
                              .options(selectinload(HeldRecord.author), selectinload(HeldRecord.child))
                              .order_by(HeldRecord.received_at)).all()
    if mark_read(current_user, kind=NOTICE):  # the list seen is the notice read: the next held record tells again
        db.session.commit()
    return render_template("held/index.html", rows=rows, form=EmptyForm(), kinds=KINDS)


@bp.route("/<id:held_id>/<any(accept, discard):decision>", methods=["POST"])
@requires("assign_held_records")
def decide(held_id, decision):
    held = db.session.scalar(held_records_query(current_user).where(HeldRecord.id == held_id))
    if held is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if decision == "accept":
            accept(held, current_user)
            flash(_("记录已归入学生档案。"), "success")
        else:
            discard(held, current_user)
            flash(_("记录未归档。"), "success")
    except HeldError as e:
        flash(str(e), "error")
    return redirect(url_for("held.index"))
