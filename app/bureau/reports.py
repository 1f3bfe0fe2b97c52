"""The bureau's side of the monthly reports: which school sent which month (submitted / missing / late / received /
returned), a report opened (aggregates and news), and its decision: received, or returned with a comment."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import get_submission, requires
from ..audit import audit
from ..clock import today_local
from ..extensions import db
from ..reports.sheets import monthly_columns
from ..reports.submission import (DEADLINE_DAY, STATUS_LABELS, SubmissionError, county_table, decide, frozen_report, is_late,
                                  recent_months)
from ..reports.xlsx import no_store
from ..web import EmptyForm
from . import bp


@bp.route("/reports/")
@requires("receive_monthly")
def reports():
    months = recent_months(today_local())
    return render_template("bureau/reports.html", months=months, table=county_table(current_user, months),
                           DEADLINE_DAY=DEADLINE_DAY, STATUS_LABELS=STATUS_LABELS)


@bp.route("/reports/<id:submission_id>", methods=["GET", "POST"])
@requires("receive_monthly")
def report(submission_id):
    sub = get_submission(current_user, submission_id)
    form = EmptyForm()
    errors: dict = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["form"] = _("表单已过期，请重新提交。")
        else:
            try:
                received = request.form.get("what") == "receive"
                decide(sub, current_user, received, request.form.get("comment"))
                db.session.commit()
                flash(_("已接收。") if received else _("已退回学校。"), "ok")
                return redirect(url_for("bureau.report", submission_id=sub.id))
            except SubmissionError as e:
                db.session.rollback()
                errors[e.field] = e.message
    audit("view", "monthly_submission", sub.id, commit=True)
    report = frozen_report(sub)
    return no_store(make_response(render_template(
        "bureau/report.html", sub=sub, report=report, columns=monthly_columns(report), school=sub.school,
        late=is_late(sub), errors=errors, values=request.form, STATUS_LABELS=STATUS_LABELS,
        editable=False), 400 if errors else 200))
