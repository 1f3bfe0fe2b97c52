"""The bureau's term page: what the care beyond the duties adds up to in each school this term — the start-of-term
survey, dropouts, children who needed attention and their follow-ups, group activities. Aggregates only."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..access import requires, schools_query
from ..activities.services import school_counts
from ..attention.services import care_counts
from ..children.stats import dropouts_by_school
from ..clock import today_local
from ..duties.services import Window, term_windows
from ..extensions import db
from ..models import School
from ..surveys.progress import school_survey_counts
from . import bp

COLUMNS = ("children", "surveyed", "dropouts", "attention_children", "follow_ups_open", "follow_ups_overdue",
           "activities", "activity_children")


def term_of(school_id: int, today):
    """The school's term so far (its own calendar), or the one just ended between terms; None before any."""
    current, previous = term_windows(school_id, today)
    term = current or previous
    if term is None:
        return None
    name, w = term
    return name, Window(w.start, min(w.end, today))


def term_figures(school_ids: list[int], today) -> dict[int, dict]:
    """Per school: this term's survey progress, dropouts, needs-attention and follow-up counts, and activities."""
    surveys = {r["school_id"]: r for r in school_survey_counts(school_ids, today)}
    out = {}
    for sid in school_ids:  # each school keeps its own calendar
        term = term_of(sid, today)
        row = {"term": term[0] if term else None, "children": surveys[sid]["children"], "surveyed": surveys[sid]["surveyed"]}
        if term is not None:
            w = term[1]
            care = care_counts([sid], w)[sid]
            acts = school_counts([sid], w).get(sid, {"activities": 0, "children": 0})
            row |= {"dropouts": dropouts_by_school([sid], w.start, w.end)[sid], **care,
                    "activities": acts["activities"], "activity_children": acts["children"]}
        out[sid] = row
    return out


@bp.route("/care")
@requires("see_county")
def care():
    today = today_local()
    schools = db.session.scalars(schools_query(current_user).order_by(School.name)).all()
    figures = term_figures([s.id for s in schools], today)
    total = {k: sum(figures[s.id].get(k) or 0 for s in schools) for k in COLUMNS}
    return render_template("bureau/care.html", schools=schools, figures=figures, total=total, columns=COLUMNS,
                           today=today)
