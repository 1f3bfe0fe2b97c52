"""The school's villages drawn from their coordinates (a small SVG, no map tiles): this term's home visits and the
flagged ones per village, for the principal who would rather look than read."""
from __future__ import annotations

import math
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..duties.services import Window
from ..extensions import db
from ..models import Child, Record, Village
from ..reports.term import choose_term
from ..verify.evidence import UNREMARKABLE_MAX_SCORE

WIDTH, HEIGHT, PAD = 320, 220, 28   # viewBox; PAD keeps a dot and its name inside
NO_TERM_DAYS = 120                 # no term set up yet: the last months instead


def village_map(school_id: int, today: date) -> dict:
    """{"term": name or None, "points": [{name, x, y, r, visits, flagged}], "unplaced": [...], "width", "height"}."""
    term = choose_term(school_id, "current", today)
    window = term[1] if term else Window(today - timedelta(days=NO_TERM_DAYS), today)
    start, end = window.bounds()
    flagged = func.sum(case((Record.score > UNREMARKABLE_MAX_SCORE, 1), else_=0))
    counts = {vid: (n, int(f or 0)) for vid, n, f in db.session.execute(
        select(Child.village_id, func.count(Record.id), flagged).join(Child, Child.id == Record.child_id)
        .where(Record.school_id == school_id, Record.kind == "home_visit", Record.review_state != "corrected",
               Record.occurred_at >= start, Record.occurred_at < end)
        .group_by(Child.village_id))}
    villages = db.session.scalars(select(Village).where(Village.school_id == school_id).order_by(Village.name)).all()
    rows = [{"name": v.name, "lat": v.lat, "lon": v.lon, "visits": counts.get(v.id, (0, 0))[0],
             "flagged": counts.get(v.id, (0, 0))[1]} for v in villages]
    placed = [r for r in rows if r["lat"] is not None and r["lon"] is not None]
    most = max([1] + [r["visits"] for r in rows])
    for r, (x, y) in zip(placed, _project([(r["lat"], r["lon"]) for r in placed])):
        r.update(x=round(x, 1), y=round(y, 1), r=round(5 + 9 * math.sqrt(r["visits"] / most), 1))
    return {"term": term[0] if term else None, "points": placed, "width": WIDTH, "height": HEIGHT,
            "unplaced": [r for r in rows if r not in placed]}


def _project(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Latitude/longitude to viewBox x, y: equirectangular around the villages' middle (a few km, so flat enough),
    north up, one scale for both axes so distances look right."""
    if not points:
        return []
    mid = math.cos(math.radians(sum(p[0] for p in points) / len(points)))
    xs = [lon * mid for _lat, lon in points]
    ys = [-lat for lat, _lon in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = min(WIDTH, HEIGHT) - 2 * PAD
    dx = (WIDTH - scale * (max(xs) - min(xs)) / span) / 2   # centre the drawing
    dy = (HEIGHT - scale * (max(ys) - min(ys)) / span) / 2
    return [(dx + scale * (x - min(xs)) / span, dy + scale * (y - min(ys)) / span) for x, y in zip(xs, ys)]
