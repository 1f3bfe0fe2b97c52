"""The bureau's emergencies page: the county's open emergencies with their three clocks (school, category, time; never
the child), and the acknowledgement that logs the bureau's notice and stops its clock."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import county_incidents_query, requires, schools_query
from ..extensions import db
from ..incidents.bureau import acknowledge, bureau_notice
from ..incidents.services import IncidentError, clocks
from ..models import Incident, School
from ..web import EmptyForm
from . import bp


@bp.route("/emergencies")
@requires("ack_emergencies")
def emergencies():
    rows = db.session.scalars(county_incidents_query(current_user).where(Incident.closed_at.is_(None))
                              .options(selectinload(Incident.notices)).order_by(Incident.occurred_at.desc())
                              .limit(200)).all()
    schools = dict(db.session.execute(schools_query(current_user).with_only_columns(School.id, School.name)).all())
    return render_template("bureau/emergencies.html", incidents=rows, clocks=clocks, bureau_notice=bureau_notice,
                           schools=schools)


@bp.route("/emergencies/<id:incident_id>/ack", methods=["POST"])
@requires("ack_emergencies")
def ack(incident_id):
    inc = db.session.scalar(county_incidents_query(current_user).where(Incident.id == incident_id))
    if inc is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        flash(_("表单已过期，请重新提交。"), "error")
    else:
        try:
            acknowledge(inc, current_user)
            db.session.commit()
            flash(_("已确认收到报告。"), "ok")
        except IncidentError as e:
            db.session.rollback()
            flash(e.message, "error")
    return redirect(url_for("bureau.emergencies"))
