"""The principal reads the bureau's appraisals and special inspections of their school (read-only)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..access import requires, school_reviews_query
from ..bureau.appraisals import KIND_LABELS, outcome_label, period_label
from ..extensions import db
from ..models import SchoolReview
from . import bp


@bp.route("/reviews")
@requires("read_reviews")
def reviews():
    rows = db.session.scalars(school_reviews_query(current_user)
                              .order_by(SchoolReview.period.desc(), SchoolReview.kind)).all()
    return render_template("reports/reviews.html", reviews=rows, KIND_LABELS=KIND_LABELS, outcome_label=outcome_label,
                           period_label=period_label)
