"""The bureau's reviews page: per school of the county, this year's appraisal and this term's inspection beside the
school's figures (from its snapshot: no recount), and the form that records or corrects one. Aggregates only."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import get_school, requires, schools_query
from ..clock import today_local
from ..duties.county import figures_for
from ..extensions import db
from ..models import REVIEW_OUTCOMES, School
from ..surveys.progress import school_survey_counts
from ..web import EmptyForm
from . import bp
from .appraisals import (KIND_LABELS, MAX_FINDINGS, ReviewError, current_periods, outcome_label, period_label,
                         record_review, reviews_by_school)


def _page(errors: dict | None = None, failed: int | None = None):
    """The county's table; `errors` are those of the form of school `failed`, shown beside it."""
    today = today_local()
    schools = db.session.scalars(schools_query(current_user).order_by(School.name)).all()
    ids = [s.id for s in schools]
    figures, counted = figures_for(ids, today)
    surveys = {r["school_id"]: r for r in school_survey_counts(ids, today)}
    periods = current_periods(today)
    rows = [{"school": s, "coverage": figures[s.id]["coverage"], "visits": (figures[s.id]["evidence"] or {}).get("visits", 0),
             "surveyed": surveys[s.id]["surveyed"]} for s in schools]
    return render_template("bureau/reviews.html", rows=rows, reviews=reviews_by_school(ids, periods), periods=periods,
                           period_label=period_label, outcome_label=outcome_label, KIND_LABELS=KIND_LABELS,
                           OUTCOMES=REVIEW_OUTCOMES, MAX_FINDINGS=MAX_FINDINGS, counted=counted, today=today,
                           errors=errors or {}, failed=failed, values=request.form if failed else {})


@bp.route("/reviews")
@requires("see_county")
def reviews():
    return _page()


@bp.route("/reviews/<id:school_id>", methods=["POST"])
@requires("see_county")
def review(school_id: int):
    school = get_school(current_user, school_id)  # another county's school: 404
    if not EmptyForm().validate_on_submit():
        return make_response(_page({"form": _("表单已过期，请重新提交。")}, school.id), 400)
    try:
        record_review(school, current_user, request.form)
        db.session.commit()
    except ReviewError as e:
        db.session.rollback()
        return make_response(_page({e.field: e.message}, school.id), 400)
    flash(_("已记录%(school)s的考核结果。", school=school.name), "ok")
    return redirect(url_for("bureau.reviews", _anchor=f"school-{school.id}"))
