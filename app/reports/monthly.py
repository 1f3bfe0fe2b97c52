"""The monthly report for the education bureau: aggregates per class and for the school, never a name.

Everything is counted in SQL grouped by class (a city holds 135k children); only the month's emergencies, a handful,
are combined in Python. Months and times are China time (Asia/Shanghai).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from ..clock import CHINA, today_local
from ..duties.services import COUNTING_STATES, DUTY_KINDS, Window, left_behind, rules_for
from ..extensions import db
from ..incidents.services import CLOCKS
from ..models import Child, Incident, IncidentNotice, Record
from .periods import done_in_every, month_window, periods_in_month
from ..children.ordering import class_key

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
NO_CLASS = "（未分班）"
COUNT_KEYS = ("on_file", "new", "left", *DUTY_KINDS, "visits_confirmed", "approved", "incidents",
              *(f"in_time_{t}" for t in CLOCKS))


def parse_month(value: str | None, today: date | None = None) -> date | None:
    """The first day of ?month=YYYY-MM; the last complete month when absent; None when malformed."""
    if not value:
        first = (today or today_local()).replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)
    m = MONTH_RE.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        return None
    return date(int(m.group(1)), int(m.group(2)), 1)


def _on_file(day: date):
    """A child on file at the end of `day`: enrolled by then and not left by then."""
    return and_(or_(Child.enrolled_on.is_(None), Child.enrolled_on <= day), or_(Child.left_on.is_(None), Child.left_on > day))


def _children_by_class(school_id: int, m: Window, rules) -> dict[str, dict]:
    """Children on file at the month's end, new and left in the month, and duty coverage, per class (one query); only
    the children still left-behind, as the dashboard and the due lists count them (parents back home: no duties)."""
    on_file = _on_file(m.end)
    cols = [func.sum(case((on_file, 1), else_=0)).label("on_file"),
            func.sum(case((Child.enrolled_on.between(m.start, m.end), 1), else_=0)).label("new"),
            func.sum(case((Child.left_on.between(m.start, m.end), 1), else_=0)).label("left")]
    q = select(Child.class_name)
    joins = []
    for r in rules:
        windows = periods_in_month(r, m, school_id)
        if not windows:
            continue
        sub = done_in_every(school_id, r, windows).subquery()
        joins.append(sub)
        # Only the children the rule is for, as on the dashboard and the due lists (a rule for some categories).
        owed = and_(on_file, r.children())
        cols.append(func.sum(case((and_(owed, sub.c.child_id.is_not(None)), 1), else_=0)).label(f"done_{r.key}"))
        if r.categories:
            cols.append(func.sum(case((owed, 1), else_=0)).label(f"of_{r.key}"))
    q = q.add_columns(*cols).select_from(Child)
    for sub in joins:
        q = q.outerjoin(sub, sub.c.child_id == Child.id)
    q = q.where(Child.school_id == school_id, left_behind(), or_(Child.enrolled_on.is_(None), Child.enrolled_on <= m.end),
                or_(Child.left_on.is_(None), Child.left_on >= m.start)).group_by(Child.class_name)
    return {row["class_name"] or NO_CLASS: {k: int(v or 0) for k, v in row.items() if k != "class_name"}
            for row in db.session.execute(q).mappings()}


def _records_by_class(school_id: int, m: Window) -> dict[str, dict]:
    """Counting records of each duty kind in the month per class, with how many were approved / confirmed."""
    start, end = m.bounds()
    q = (select(Child.class_name, Record.kind, func.count().label("n"),
                func.sum(case((Record.review_state == "approved", 1), else_=0)).label("approved"),
                func.sum(case((Record.confirm_state == "confirmed", 1), else_=0)).label("confirmed"))
         .join(Child, Child.id == Record.child_id)
         .where(Record.school_id == school_id, Record.kind.in_(DUTY_KINDS), Record.review_state.in_(COUNTING_STATES),
                Record.occurred_at >= start, Record.occurred_at < end)
         .group_by(Child.class_name, Record.kind))
    out: dict[str, dict] = {}
    for cls, kind, n, approved, confirmed in db.session.execute(q):
        d = out.setdefault(cls or NO_CLASS, {"approved": 0, "visits_confirmed": 0})
        d[kind] = int(n)
        d["approved"] += int(approved or 0)
        if kind == "home_visit":
            d["visits_confirmed"] = int(confirmed or 0)
    return out


def incidents_in(school_id: int, m: Window) -> list[dict]:
    """The month's emergencies without names or descriptions: class, category, and minutes to each first notice."""
    start, end = m.bounds()
    rows = db.session.execute(
        select(Incident.id, Child.class_name, Incident.category, Incident.occurred_at)
        .join(Child, Child.id == Incident.child_id)
        .where(Incident.school_id == school_id, Incident.occurred_at >= start, Incident.occurred_at < end)
        .order_by(Incident.occurred_at, Incident.id)).all()
    if not rows:
        return []
    firsts = db.session.execute(
        select(IncidentNotice.incident_id, IncidentNotice.target, func.min(IncidentNotice.at))
        .where(IncidentNotice.incident_id.in_([r.id for r in rows]))
        .group_by(IncidentNotice.incident_id, IncidentNotice.target)).all()
    first = {(i, t): at for i, t, at in firsts}
    out = []
    for r in rows:
        d = {"id": r.id, "class_name": r.class_name or NO_CLASS, "category": r.category,
             "occurred_at": r.occurred_at.astimezone(CHINA)}
        for target, limit in CLOCKS.items():
            at = first.get((r.id, target))
            at = at if at is None or at.tzinfo else at.replace(tzinfo=r.occurred_at.tzinfo)
            d[f"minutes_{target}"] = None if at is None else max(0, round((at - r.occurred_at).total_seconds() / 60))
            d[f"in_time_{target}"] = at is not None and at - r.occurred_at <= limit
        out.append(d)
    return out


def _shares(d: dict, rules) -> dict:
    evidence = sum(d.get(k, 0) for k in DUTY_KINDS)
    d["evidence"] = evidence
    d["approved_share"] = d["approved"] / evidence if evidence else None
    d["confirmed_share"] = d["visits_confirmed"] / d["home_visit"] if d.get("home_visit") else None
    for r in rules:
        done, owed = d.get(f"done_{r.key}"), d.get(f"of_{r.key}", d["on_file"])
        d[f"coverage_{r.key}"] = None if done is None else (done / owed if owed else None)
    return d


def monthly_report(school_id: int, month: date) -> dict:
    """The month's report: per class rows, a school total, the rules with their periods, and the emergencies."""
    m = month_window(month)
    rules = rules_for(school_id)
    children = _children_by_class(school_id, m, rules)
    records = _records_by_class(school_id, m)
    incidents = incidents_in(school_id, m)
    judged = [r for r in rules if periods_in_month(r, m, school_id)]
    classes = sorted(set(children) | set(records) | {i["class_name"] for i in incidents}, key=class_key)
    owed = [f"of_{r.key}" for r in judged if r.categories]  # children a rule for some categories is for
    rows = []
    for cls in classes:
        d = {k: 0 for k in COUNT_KEYS} | {f"done_{r.key}": 0 for r in judged} | dict.fromkeys(owed, 0)
        d.update(children.get(cls, {}))
        d.update(records.get(cls, {}))
        for inc in (i for i in incidents if i["class_name"] == cls):
            d["incidents"] += 1
            for t in CLOCKS:
                d[f"in_time_{t}"] += inc[f"in_time_{t}"]
        rows.append({"class_name": cls, **d})
    total = {k: sum(r[k] for r in rows) for k in (*COUNT_KEYS, *owed)} | {
        f"done_{r.key}": sum(x[f"done_{r.key}"] for x in rows) for r in judged}
    from ..activities.services import term_counts
    from ..attention.services import care_counts

    return {"month": m, "rules": rules, "care": care_counts([school_id], m)[school_id],
            # Group activities of the month by type (each child once): plain values, the report is frozen as JSON.
            "activities": [{k: a[k] for k in ("type", "activities", "children", "guardians")} for a in term_counts(school_id, m)], "judged": {r.key: periods_in_month(r, m, school_id) for r in judged},
            "rows": [_shares(r, judged) for r in rows], "total": _shares(total, judged), "incidents": incidents,
            "made_at": datetime.now(CHINA)}
