"""Emergency pages and the API the phone's outbox uses to report one made offline."""
from __future__ import annotations

import uuid

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..access import children_query, incidents_query, may_close_incident, requires, school_staff_required
from ..clock import input_now
from ..extensions import db
from ..children.ordering import by_class
from ..models import Child, Incident
from ..web import EmptyForm, api_error, json_body
from . import bp
from .services import CLOCKS, IncidentError, clocks, close, contacts, log_notice, report


def _get(incident_id: int) -> Incident:
    inc = db.session.scalar(incidents_query(current_user).where(Incident.id == incident_id)
                            .options(selectinload(Incident.notices)))
    if inc is None:
        abort(404)
    return inc


@bp.route("/incidents/")
@requires("report_incidents")
def index():
    rows = db.session.scalars(incidents_query(current_user).options(selectinload(Incident.notices))
                              .order_by(Incident.closed_at.is_not(None), Incident.occurred_at.desc()).limit(100)).all()
    return render_template("incidents/index.html", incidents=rows, clocks=clocks)


@bp.route("/incidents/new", methods=["GET", "POST"])
@requires("report_incidents")
def new():
    form = EmptyForm()
    children = by_class(db.session.scalars(children_query(current_user).where(Child.left_on.is_(None))
                                  .order_by(Child.class_name, Child.name)))
    errors: dict = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["form"] = _("表单已过期，请重新提交。")
        else:
            try:
                inc, _created = report(current_user, {
                    "id": request.form.get("client_id", ""), "child_id": request.form.get("child_id", type=int),
                    "category": request.form.get("category"), "description": request.form.get("description"),
                    "occurred_at": request.form.get("occurred_at") or None})
                db.session.commit()
                return redirect(url_for("incidents.show", incident_id=inc.id))
            except IncidentError as e:
                db.session.rollback()
                errors[e.field] = e.message
    return render_template("incidents/new.html", form=form, children=children, errors=errors,
                           # ?category= preselects one (a high-risk counselling note offers 心理危机)
                           values=request.form if request.method == "POST" else {"category": request.args.get("category")},
                           client_id=request.form.get("client_id") or str(uuid.uuid4()),
                           child_id=request.values.get("child", type=int),
                           now=input_now()), 400 if errors else 200


@bp.route("/incidents/<id:incident_id>", methods=["GET", "POST"])
@requires("report_incidents")
def show(incident_id):
    inc = _get(incident_id)
    form = EmptyForm()
    errors: dict = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["form"] = _("表单已过期，请重新提交。")
        else:
            try:
                if request.form.get("what") == "close":
                    if not may_close_incident(current_user, inc):
                        abort(403)
                    close(inc, current_user, request.form.get("note"))
                else:
                    log_notice(inc, current_user, request.form.get("target"), request.form.get("method"),
                               request.form.get("at") or None, request.form.get("note"))
                db.session.commit()
                flash(_("已记录。"), "ok")
                return redirect(url_for("incidents.show", incident_id=inc.id))
            except IncidentError as e:
                db.session.rollback()
                errors[e.field] = e.message
                inc = _get(incident_id)
    return render_template("incidents/show.html", inc=inc, clocks=clocks(inc), form=form, errors=errors,
                           targets=CLOCKS, now=input_now(), contacts=contacts(inc)), 400 if errors else 200


@bp.route("/api/v1/incidents", methods=["POST"])
@school_staff_required
def api_report():
    """An emergency reported from the phone (possibly made offline): {id, child_id, occurred_at, category, description}."""
    data = json_body(error="bad_request")
    try:
        inc, created = report(current_user, data)
    except IncidentError as e:
        db.session.rollback()
        return api_error(422, "rejected", e.message, field=e.field)
    db.session.commit()
    return jsonify({"id": data["id"], "status": "created" if created else "duplicate", "incident_id": inc.id,
                    "url": url_for("incidents.show", incident_id=inc.id)}), 201 if created else 200
