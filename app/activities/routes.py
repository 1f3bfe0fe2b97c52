"""Pages: the school's (or the teacher's) group activities, and one activity with who took part."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ..access import activities_query, get_activity, requires
from ..audit.services import audit
from ..models import Activity
from ..web import paginate
from . import bp
from .services import TYPE_LABELS, attendance


@bp.route("/")
@requires("read_activities")
def index():
    q = activities_query(current_user)
    mine = request.args.get("mine") == "1"
    if mine:
        q = q.where(Activity.author_id == current_user.id)
    kind = request.args.get("type")
    if kind in TYPE_LABELS:
        q = q.where(Activity.type == kind)
    pg = paginate(q.order_by(Activity.occurred_at.desc(), Activity.id.desc()), 30)
    return render_template("activities/index.html", activities=pg.items, page=pg.page, has_next=pg.has_next,
                           types=TYPE_LABELS, chosen=kind if kind in TYPE_LABELS else None, mine=mine)


@bp.route("/<id:activity_id>")
@requires("read_activities")
def show(activity_id):
    activity = get_activity(current_user, activity_id)
    named, others = attendance(current_user, activity)
    audit("view", "activity", activity.id, commit=True)
    return render_template("activities/show.html", a=activity, named=named, others=others, types=TYPE_LABELS)
