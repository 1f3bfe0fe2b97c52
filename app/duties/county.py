"""The county's view of its schools: each school judged by its own rules and calendar, counted county-wide in SQL.

Schools that share a rule and its window (most keep the policy defaults and the same calendar) are counted together:
one "done" subquery per distinct (rule, window) over all of those schools, joined to the schools' children once,
grouped by school. Nothing loops over the schools' children in Python, and nothing is counted by rules of its own:
the windows and the counting conditions are the ones of services (windows_on, counting).

Counting a whole county of 135,000 children on every view of its page takes seconds, so the county page reads a
snapshot per school (SchoolFigures): figures_for() refreshes the stale ones within a small time budget per request,
and `flask county-figures` (cron, every few minutes) refreshes them all. A school's own page counts live.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..clock import utcnow
from ..models import DUTY_KINDS, Child, DutyRule, Record, SchoolFigures, Term
from ..verify.evidence import UNREMARKABLE_MAX_SCORE
from . import services as duty

SMALL_GROUP = 3  # a class or village with fewer children than this shows no figures on the bureau's pages
MAX_AGE = timedelta(minutes=10)  # a snapshot older than this is refreshed when the page is viewed (budget allowing)
REFRESH_BUDGET_S = 0.1  # per view: the page stays fast and the stale snapshots are refreshed a few at a time


def prime(school_ids: list[int], today: date) -> None:
    """Load every school's rules and terms in two queries into the request's memo (instead of two per school)."""
    rules: dict[int, list] = {sid: [] for sid in school_ids}
    for row in db.session.scalars(select(DutyRule).where(DutyRule.school_id.in_(school_ids)).order_by(DutyRule.id)):
        rules[row.school_id].append(row)
    terms: dict[int, list] = {sid: [] for sid in school_ids}
    for sid, *t in db.session.execute(select(Term.school_id, Term.name, Term.starts_on, Term.ends_on)
                                      .where(Term.school_id.in_(school_ids)).order_by(Term.starts_on)):
        terms[sid].append(tuple(t))
    for sid in school_ids:
        duty._memo(("rules", sid), lambda sid=sid: duty.merge_rules(rules[sid]))
        duty._memo(("terms", sid, today), lambda sid=sid: duty.terms_or_default(terms[sid], today))


def _plans(school_ids: list[int], today: date) -> dict[int, list[tuple]]:
    """{school: [(rule, current window, previous window)]}; schools with the same calendar share one computation."""
    prime(school_ids, today)
    same_calendar: dict[tuple, int] = {}
    out = {}
    for sid in school_ids:
        rep = same_calendar.setdefault(tuple(duty.terms_for(sid, today)), sid)
        out[sid] = [(r, *duty.windows_on(r, today, rep)) for r in duty.rules_for(sid)]
    return out


def county_coverage(school_ids: list[int], today: date) -> dict[int, dict]:
    """Per school: children on file, how many have each rule done in its current window (None when the school has no
    such rule or it is out of season), keyed by rule key, and "overdue": children with at least one rule overdue.
    The same figures as services.coverage(..., with_overdue=True) summed over the school's classes."""
    if not school_ids:
        return {}
    plans = _plans(school_ids, today)
    done: dict[tuple, list[int]] = {}  # (rule, window) -> the schools counted with it
    for sid, plan in plans.items():
        for r, cur, prev in plan:
            for w in (cur, prev if cur is not None else None):
                if w is not None:
                    done.setdefault((r, w), []).append(sid)
    subs = {}
    for i, ((r, w), sids) in enumerate(done.items()):
        subs[(r, w)] = (select(Record.child_id).where(Record.school_id.in_(sids), *duty.counting(r, w, None))
                        .group_by(Record.child_id).having(func.count() >= r.times).subquery(f"d{i}"))
    # One condition per distinct (rule, windows), not per school: a county's schools mostly share them.
    keys = list(dict.fromkeys(r.key for plan in plans.values() for r, _c, _p in plan))
    in_key: dict[str, dict] = {k: {} for k in keys}
    late: dict[tuple, list[int]] = {}  # (rule, current, previous) -> the schools where a child can be overdue on it
    for sid, plan in plans.items():
        for r, cur, prev in plan:
            if cur is None:
                continue
            in_key[r.key][(r, cur)] = subs[(r, cur)].c.child_id.is_not(None)
            if prev is not None:
                late.setdefault((r, cur, prev), []).append(sid)
    overdue = [and_(Child.school_id.in_(sids), subs[(r, cur)].c.child_id.is_(None), subs[(r, prev)].c.child_id.is_(None))
               for (r, cur, prev), sids in late.items()]
    in_key = {k: list(conds.values()) for k, conds in in_key.items()}
    cols = [func.count().label("children"),
            func.sum(case((or_(*overdue), 1), else_=0)).label("overdue") if overdue else literal(0).label("overdue")]
    cols += [func.sum(case((or_(*conds), 1), else_=0)).label(f"k{i}") for i, (k, conds) in enumerate(in_key.items())
             if conds]
    q = select(Child.school_id, *cols).select_from(Child)
    for sub in subs.values():
        q = q.outerjoin(sub, sub.c.child_id == Child.id)
    q = q.where(Child.school_id.in_(school_ids), Child.left_on.is_(None)).group_by(Child.school_id)
    rows = {r["school_id"]: r for r in db.session.execute(q).mappings()}
    out = {}
    for sid, plan in plans.items():
        row = rows.get(sid, {})
        d = {"children": int(row.get("children") or 0), "overdue": int(row.get("overdue") or 0)}
        running = {r.key for r, cur, _p in plan if cur is not None}
        for i, k in enumerate(in_key):
            d[k] = int(row.get(f"k{i}") or 0) if k in running else None
        out[sid] = d
    return out


def review_term(school_id: int, today: date):
    """The term whose home visits the evidence figures count: the current one, or the one just ended between terms."""
    current, previous = duty.term_windows(school_id, today)
    chosen = current or previous
    return chosen[1] if chosen else None


def evidence(school_ids: list[int], today: date, by: str = "school") -> dict:
    """Home visits of each school's term (review_term) as they stand (a corrected original counts once, through its
    correction), per school, or per class / village of one school: how many, how many the committee confirmed, how
    many the evidence checks flagged (as the review queue's "flagged"), and how many the principal returned."""
    prime(school_ids, today)
    by_term: dict = {}
    for sid in school_ids:
        w = review_term(sid, today)
        if w is not None:
            by_term.setdefault(w, []).append(sid)
    key = {"school": Record.school_id, "class": Child.class_name, "village": Child.village_id}[by]
    out: dict = {}
    for w, sids in by_term.items():
        start, end = w.bounds()
        q = (select(key.label("key"), func.count().label("visits"),
                    func.sum(case((Record.confirm_state == "confirmed", 1), else_=0)).label("confirmed"),
                    func.sum(case((Record.score > UNREMARKABLE_MAX_SCORE, 1), else_=0)).label("flagged"),
                    func.sum(case((or_(Record.review_state == "returned", Record.corrects_id.is_not(None)), 1),
                                  else_=0)).label("returned"))
             .where(Record.school_id.in_(sids), Record.kind == "home_visit", Record.review_state != "corrected",
                    Record.occurred_at >= start, Record.occurred_at < end).group_by(key))
        if by != "school":
            q = q.join(Child, Child.id == Record.child_id)
        for row in db.session.execute(q).mappings():
            out[row["key"]] = {k: int(row[k] or 0) for k in ("visits", "confirmed", "flagged", "returned")}
    return out


def school_figures(school_id: int, today: date) -> dict:
    """What the county page shows of one school: coverage and overdue, this term's visit evidence, the 12-week trend."""
    return {"coverage": county_coverage([school_id], today)[school_id],
            "evidence": evidence([school_id], today).get(school_id),
            "weeks": [[w["week"].isoformat(), {k: w[k] for k in DUTY_KINDS}] for w in duty.trend(school_id, today)]}


def refresh(school_id: int, today: date, now: datetime | None = None) -> dict:
    """Count one school's figures again and store them (insert or replace: two views may refresh it at once)."""
    figures = school_figures(school_id, today)
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    row = {"school_id": school_id, "on_day": today, "computed_at": now or utcnow(), "figures": figures}
    stmt = insert(SchoolFigures).values(row)
    db.session.execute(stmt.on_conflict_do_update(index_elements=[SchoolFigures.school_id],
                                                  set_={k: stmt.excluded[k] for k in ("on_day", "computed_at", "figures")}))
    return figures


def figures_for(school_ids: list[int], today: date, budget_s: float = REFRESH_BUDGET_S) -> tuple[dict[int, dict], datetime | None]:
    """({school: figures}, when the oldest was counted): the stored snapshots; a missing one is counted now, stale ones
    (another day's, or older than MAX_AGE) oldest first while the time budget lasts."""
    rows = {r.school_id: r for r in db.session.execute(  # plain rows: 300 ORM objects cost more than the read
        select(SchoolFigures.school_id, SchoolFigures.on_day, SchoolFigures.computed_at, SchoolFigures.figures)
        .where(SchoolFigures.school_id.in_(school_ids)))}
    now = utcnow()
    out = {sid: r.figures for sid, r in rows.items()}
    counted = {sid: r.computed_at for sid, r in rows.items()}
    stale = [sid for sid in school_ids if sid not in rows or rows[sid].on_day != today or counted[sid] < now - MAX_AGE]
    stale.sort(key=lambda sid: counted.get(sid, datetime.min.replace(tzinfo=now.tzinfo)))
    started = time.perf_counter()
    for sid in stale:
        if sid in rows and time.perf_counter() - started > budget_s:
            break
        out[sid], counted[sid] = refresh(sid, today, now), now
    if stale:
        db.session.commit()
    return out, min(counted.values(), default=None)


def summed_weeks(figures: list[dict]) -> list[dict]:
    """The county's 12-week trend from its schools' snapshots, in trend()'s form (weeks by their Monday)."""
    weeks: dict[str, dict] = {}
    for f in figures:
        for monday, counts in f["weeks"]:
            w = weeks.setdefault(monday, {k: 0 for k in DUTY_KINDS})
            for k in DUTY_KINDS:
                w[k] += counts.get(k, 0)
    return [{"week": date.fromisoformat(m), **weeks[m]} for m in sorted(weeks)[-12:]]
