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

EVIDENCE_COLUMNS = (("confirmed", _l("村委会确认")), ("flagged", _l("有疑点")), ("returned", _l("被退回")))
NO_VISITS = {"visits": 0, "confirmed": 0, "flagged": 0, "returned": 0}


def _columns(plans: list[dict], rules=duty.DEFAULT_RULES) -> list[tuple[str, object]]:
    """(key, title) of the figures shown: overdue, each duty running in some school (the policy's, unless `rules`
    says otherwise), then the evidence."""
    running = [(r.key, r.title) for r in rules if any(p.get(r.key) is not None for p in plans)]
    return [("overdue", _l("有逾期的学生")), *running, ("visits", _l("本学期家访")), *EVIDENCE_COLUMNS]


def _row(label: str, figures: dict, quality: dict, columns) -> dict:
    """One line of a table: {key: (count, out of)} — a duty's or overdue's out of the children, evidence's out of the
    visits; None where nothing is counted (a duty out of season)."""
    cells = {}
    for key, _title in columns:
        if key == "visits":
            cells[key] = (quality["visits"], None)
        elif key in quality:
            cells[key] = (quality[key], quality["visits"])
        else:
            n = figures.get(key)
            cells[key] = None if n is None else (n, figures["children"])
    return {"label": label, "children": figures["children"], "cells": cells}


def _shown(row: dict) -> dict:
    """The row with each figure as the page prints it: (count, percent, bar width in 5 % steps), (count, None, None),
    or None for a dash (nothing counted, or a share out of nothing). Rendered without macros: 300 schools' rows."""
    shown = {}
    for key, c in row["cells"].items():
        if c is None or (c[1] is not None and not c[1]):
            shown[key] = None
        elif c[1] is None:
            shown[key] = (c[0], None, None)
        else:
            shown[key] = (c[0], int(100 * c[0] / c[1] + 0.5), int(20 * c[0] / c[1] + 0.5) * 5)
    return row | {"shown": shown}


def _total(rows: list[dict], columns) -> dict:
    """The sum of the rows; a duty's share is out of the children of the schools where it runs."""
    cells = {}
    for key, _title in columns:
        counted = [r["cells"][key] for r in rows if r["cells"][key] is not None]
        if key == "visits":
            cells[key] = (sum(c[0] for c in counted), None)
        else:
            cells[key] = (sum(c[0] for c in counted), sum(c[1] for c in counted)) if counted else None
    return {"label": _l("全县合计"), "children": sum(r["children"] for r in rows), "cells": cells}


def _sort_value(row: dict, key: str):
    """What a column sorts by: the name, a count, or a share (rows without a figure last)."""
    if key == "name":
        return (0, row["label"])
    if key == "children":
        return (0, row["children"])
    cell = row["cells"].get(key)
    if cell is None or (cell[1] is not None and not cell[1]):
        return (1, 0)
    return (0, cell[0] if cell[1] is None else cell[0] / cell[1])


@bp.route("/")
@requires("see_county")
def index():
    today = today_local()
    schools = db.session.scalars(schools_query(current_user).order_by(School.name)).all()
    ids = [s.id for s in schools]
    figures, counted = figures_for(ids, today)
    columns = _columns([figures[i]["coverage"] for i in ids])
    rows = [_row(s.name, figures[s.id]["coverage"], figures[s.id]["evidence"] or NO_VISITS, columns) | {"id": s.id}
            for s in schools]
    sort = request.args.get("sort", "name")
    if sort not in {"name", "children", *(k for k, _t in columns)}:
        sort = "name"
    desc = request.args.get("dir") == "desc"
    rows.sort(key=lambda r: r["label"])  # ties stay in name order
    present = [r for r in rows if _sort_value(r, sort)[0] == 0]
    present.sort(key=lambda r: _sort_value(r, sort)[1], reverse=desc)
    rows = present + [r for r in rows if _sort_value(r, sort)[0] == 1]
    weeks = summed_weeks([figures[i] for i in ids]) or duty.trend(ids, today)  # no school: an empty chart

    def sort_url(key: str) -> str:
        """The header's link: the other direction on the sorted column; names A to Z, figures highest first."""
        if key == sort:
            return url_for("bureau.index", sort=key, dir="asc" if desc else "desc")
        return url_for("bureau.index", sort=key, dir="asc" if key == "name" else "desc")

    return render_template("bureau/index.html", today=today, rows=[_shown(r) for r in rows],
                           total=_shown(_total(rows, columns)), columns=columns,
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
    columns = _columns(groups, duty.rules_for(school.id))
    quality = evidence([school.id], today, by)
    rows = [_row(g["label"], g, quality.get(g["key"], NO_VISITS), columns) | {"small": g["children"] < SMALL_GROUP}
            for g in groups]
    # The school's total is the sum of its groups (every child and every visit falls in one class or village).
    figures = {k: None if all(g[k] is None for g in groups) else sum(g[k] or 0 for g in groups)
               for k in {"children", "overdue", *(k for k, _t in columns)} - {"visits", *dict(EVIDENCE_COLUMNS)}}
    figures["children"] = figures["children"] or 0
    visits = {k: sum(q[k] for q in quality.values()) for k in NO_VISITS}
    total = _row(_l("全校合计"), figures, visits, columns)
    return render_template("bureau/school.html", school=school, today=today, by=by, rows=[_shown(r) for r in rows],
                           total=_shown(total),
                           columns=columns, small=SMALL_GROUP)
