"""The home screen: what each role starts from."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from ..access import can, children_query
from ..extensions import db
from ..models import Child
from . import bp


@bp.route("/")
@login_required
def home():
    if can(current_user, "see_county"):  # the county's staff start from the county's schools
        return redirect(url_for("bureau.index"))
    q = children_query(current_user).where(Child.left_on.is_(None))
    count = db.session.scalar(q.with_only_columns(func.count()).order_by(None))
    children, duties, reviews = [], [], []
    if can(current_user, "list_children_at_home"):
        children = db.session.scalars(q.order_by(Child.class_name, Child.name).limit(200)).all()
    if can(current_user, "keep_duties"):
        from ..clock import today_local
        from ..duties.services import duties_for

        duties = duties_for(current_user, children, today_local())
        from ..access import child_ids_query
        from ..care.services import plans_to_review

        reviews = plans_to_review(child_ids_query(current_user), today_local())
    care = {}
    if can(current_user, "see_attention"):
        from ..attention.services import entries
        from ..clock import today_local
        from ..followups.services import open_for

        care = {"follow_ups": open_for(current_user, limit=20), "attention": len(entries(current_user)),
                "today": today_local()}
    from ..records.kinds import kinds_for_writer

    # Each role's shortcuts follow what it may do (the capabilities), not its name.
    links = {"counselling": any(k.name == "counselling" for k in kinds_for_writer(current_user.role)),
             "monthly": can(current_user, "read_monthly")}
    if can(current_user, "assign_held_records"):
        from ..held.services import waiting

        links["held"] = waiting(current_user)
    return render_template("main/home.html", count=count, children=children, duties=duties, reviews=reviews, care=care,
                           links=links)
