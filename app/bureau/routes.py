"""The bureau's pages: its county's schools side by side, and one school by class and by village — aggregates only."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..access import get_school, requires, schools_query
from ..clock import today_local
from ..duties import services as duty
from ..duties.county import SMALL_GROUP, evidence, figures_for, summed_weeks
from ..duties.routes import _chart
from ..extensions import db
from ..models import School
from . import bp
from .tables import NO_VISITS, columns_for, group_total, shown, sorted_rows, table_row, total_row


@bp.route("/")
@requires("see_county")
def index():
    today = today_local()
    schools = db.session.scalars(schools_query(current_user).order_by(School.name)).all()
    ids = [s.id for s in schools]
    figures, counted = figures_for(ids, today)
    columns = columns_for([figures[i]["coverage"] for i in ids])
    rows = [table_row(s.name, figures[s.id]["coverage"], figures[s.id]["evidence"] or NO_VISITS, columns) | {"id": s.id}
            for s in schools]
    sort = request.args.get("sort", "name")
    if sort not in {"name", "children", *(k for k, _t in columns)}:
        sort = "name"
    desc = request.args.get("dir") == "desc"
    rows = sorted_rows(rows, sort, desc)
    weeks = summed_weeks([figures[i] for i in ids]) or duty.trend(ids, today)  # no school: an empty chart

    def sort_url(key: str) -> str:
        """The header's link: the other direction on the sorted column; names A to Z, figures highest first."""
        if key == sort:
            return url_for("bureau.index", sort=key, dir="asc" if desc else "desc")
        return url_for("bureau.index", sort=key, dir="asc" if key == "name" else "desc")

    return render_template("bureau/index.html", today=today, rows=[shown(r) for r in rows],
                           total=shown(total_row(rows, columns)), columns=columns,
                           sort=sort, desc=desc, sort_url=sort_url, weeks=weeks, chart=_chart(weeks), counted=counted)


@bp.route("/schools/<id:school_id>")
@requires("see_county")
def school(school_id: int):
    school = get_school(current_user, school_id)
    today = today_local()
    by = request.args.get("by", "class")
    if by not in ("class", "village"):
        by = "class"
    groups = duty.coverage(school.id, today, by, with_overdue=True)
    columns = columns_for(groups, duty.rules_for(school.id))
    quality = evidence([school.id], today, by)
    rows = [table_row(g["label"], g, quality.get(g["key"], NO_VISITS), columns) | {"small": g["children"] < SMALL_GROUP}
            for g in groups]
    total = group_total(_l("全校合计"), groups, quality, columns)
    return render_template("bureau/school.html", school=school, today=today, by=by, rows=[shown(r) for r in rows],
                           total=shown(total), columns=columns, small=SMALL_GROUP)
