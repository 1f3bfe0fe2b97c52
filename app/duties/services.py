"""What is due for every child, from the school's duty rules and terms, in the school's time zone (Asia/Shanghai).

A rule says: each child needs `times` records of a kind per period (week Monday–Sunday, calendar month, calendar
quarter, or the school term). For a period the duty is
- done     when enough records that count fall in the current period;
- due      otherwise, by the period's last day;
- overdue  (逾期) when the previous period ended short and the current one is not done yet.
Records count unless the principal returned them (a returned record counts again through its correction) — the
review states "received" and "approved". Everything is counted in SQL, grouped by child or by class/teacher/village;
nothing loops over a school's children in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, not_, or_, select

from ..clock import CHINA
from ..extensions import db
from ..models import DUTY_KINDS, Child, DutyRule, DutyTally, Pairing, Record, Term, User, Village

COUNTING_STATES = ("received", "approved")
DEFAULT_RULES = {"home_visit": ("term", 1), "talk": ("week", 1), "contact": ("month", 1)}
PERIOD_LABELS = {"week": _l("每周"), "month": _l("每月"), "quarter": _l("每季度"), "term": _l("每学期")}


@dataclass(frozen=True)
class Window:
    """A period as local dates, both inclusive."""
    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware datetimes [start, end) in China time, for comparing with occurred_at."""
        return datetime.combine(self.start, time(0), CHINA), datetime.combine(self.end + timedelta(days=1), time(0), CHINA)

    def as_json(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Rule:
    kind: str
    period: str
    times: int


def _memo(key: tuple, make):
    """Per-request memo (flask.g): a page or roster asks for the same rules and terms many times."""
    from flask import g, has_request_context

    if not has_request_context():
        return make()
    cache = g.setdefault("_duty_memo", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def rules_for(school_id: int) -> list[Rule]:
    """The school's active rules; the policy defaults (visit per term, talk per week, call per month) until edited."""
    return _memo(("rules", school_id), lambda: _rules_for(school_id))


def _rules_for(school_id: int) -> list[Rule]:
    stored = {r.kind: r for r in db.session.scalars(select(DutyRule).where(DutyRule.school_id == school_id))}
    out = []
    for kind in DUTY_KINDS:
        if kind in stored:
            if stored[kind].active:
                out.append(Rule(kind, stored[kind].period, max(1, stored[kind].times)))
        else:
            period, times = DEFAULT_RULES[kind]
            out.append(Rule(kind, period, times))
    return out


def default_terms(year: int) -> list[tuple[str, date, date]]:
    """When a school has not entered its terms: spring 2/20–7/10 and autumn 9/1–1/20 (typical rural calendars)."""
    return [(f"{year - 1}-{year} 第二学期", date(year, 2, 20), date(year, 7, 10)),
            (f"{year}-{year + 1} 第一学期", date(year, 9, 1), date(year + 1, 1, 20))]


def terms_for(school_id: int, around: date) -> list[tuple]:
    """The school's terms (name, start, end) near `around`, oldest first."""
    return _memo(("terms", school_id, around), lambda: _terms_for(school_id, around))


def _terms_for(school_id: int, around: date) -> list[tuple]:
    stored = db.session.execute(select(Term.name, Term.starts_on, Term.ends_on).where(Term.school_id == school_id)
                                .order_by(Term.starts_on)).all()
    if stored:
        return [tuple(t) for t in stored]
    return [t for y in (around.year - 1, around.year, around.year + 1) for t in default_terms(y)]


def term_windows(school_id: int, today: date) -> tuple[tuple | None, tuple | None]:
    """(current term, previous term), each (name, Window) or None; between terms there is no current one."""
    terms = terms_for(school_id, today)
    current = next(((n, Window(s, e)) for n, s, e in terms if s <= today <= e), None)
    past = [(n, Window(s, e)) for n, s, e in terms if e < today]
    return current, (past[-1] if past else None)


def window(period: str, today: date, school_id: int, previous: bool = False) -> Window | None:
    """The current (or previous) period containing `today`; None for a term duty in the holidays."""
    if period == "week":
        start = today - timedelta(days=today.weekday())
        if previous:
            start -= timedelta(days=7)
        return Window(start, start + timedelta(days=6))
    if period in ("month", "quarter"):
        months = 1 if period == "month" else 3
        first_month = (today.month - 1) // months * months + 1
        y, m = today.year, first_month
        if previous:
            m -= months
            if m < 1:
                y, m = y - 1, m + 12
        start = date(y, m, 1)
        ny, nm = (y + (m + months - 1) // 12, (m + months - 1) % 12 + 1)
        return Window(start, date(ny, nm, 1) - timedelta(days=1))
    current, prev = term_windows(school_id, today)
    chosen = prev if previous else current
    return chosen[1] if chosen else None


def counting(kind: str, w: Window, school_id: int | None) -> list:
    """WHERE conditions: records of `kind` in the window that count (of one school, or of all when None)."""
    start, end = w.bounds()
    conds = [Record.kind == kind, Record.occurred_at >= start, Record.occurred_at < end,
             Record.review_state.in_(COUNTING_STATES)]
    return conds if school_id is None else [Record.school_id == school_id, *conds]


def _done_children(kind: str, w: Window | None, times: int, school_id: int | None) -> Select | None:
    """SELECT child_id of the children with at least `times` counting records of `kind` in the window
    (of one school, or of every school when `school_id` is None)."""
    if w is None:
        return None
    return select(Record.child_id).where(*counting(kind, w, school_id)).group_by(Record.child_id) \
        .having(func.count() >= times)


def plan(school_id: int, today: date) -> list[dict]:
    """Each rule with its current and previous windows (what the phone needs to compute duties offline too)."""
    out = []
    for r in rules_for(school_id):
        cur, prev = window(r.period, today, school_id), window(r.period, today, school_id, previous=True)
        out.append({"kind": r.kind, "period": r.period, "times": r.times,
                    "current": cur.as_json() if cur else None, "previous": prev.as_json() if prev else None})
    return out


# How far ahead the roster gives the phone its periods: a teacher offline for longer sees "connect to update".
PHONE_DAYS = 92


def windows_between(period: str, first: date, last: date, school_id: int) -> list[Window]:
    """Every period of a rule that a day from `first` to `last` falls in, or is the previous period of, oldest first."""
    if period == "term":
        prev = window(period, first, school_id, previous=True)
        return [Window(s, e) for _n, s, e in terms_for(school_id, first)
                if s <= last and (prev is None or s >= prev.start)]
    out = [window(period, first, school_id, previous=True)]
    while out[-1].end < last:
        out.append(window(period, out[-1].end + timedelta(days=1), school_id))
    return out


def phone_plan(school_id: int, today: date, child_ids: Select) -> dict:
    """The roster's duty section: what the phone needs to list duties offline without a calendar of its own.

    Each rule gets its periods (`windows`) for every day from yesterday (a phone clock a little behind) to PHONE_DAYS
    ahead; on a day the phone takes the period containing it as current and the last one ended before it as previous,
    which is what window() answers. `counts` are the children's counting records in today's current and previous
    periods; `terms` stays for app versions that still compute periods themselves."""
    first, last = today - timedelta(days=1), today + timedelta(days=PHONE_DAYS)
    rules = plan(school_id, today)
    for rule in rules:
        rule["windows"] = [w.as_json() for w in windows_between(rule["period"], first, last, school_id)]
    return {"today": today.isoformat(), "valid_from": first.isoformat(), "valid_until": last.isoformat(), "rules": rules,
            "terms": [[n, s.isoformat(), e.isoformat()] for n, s, e in terms_for(school_id, today)],
            "counts": {str(k): v for k, v in counts_for(child_ids, school_id, today).items()}}


def counts_for(child_ids: Select, school_id: int, today: date) -> dict[int, dict[str, dict[str, int]]]:
    """{child_id: {kind: {"current": n, "previous": n}}} for the given children: one grouped query per rule."""
    out: dict[int, dict[str, dict[str, int]]] = {}
    for r in rules_for(school_id):
        for which, w in (("current", window(r.period, today, school_id)),
                         ("previous", window(r.period, today, school_id, previous=True))):
            if w is None:
                continue
            rows = db.session.execute(
                select(Record.child_id, func.count())
                .where(*counting(r.kind, w, school_id), Record.child_id.in_(child_ids))
                .group_by(Record.child_id))
            for cid, n in rows:
                out.setdefault(cid, {}).setdefault(r.kind, {"current": 0, "previous": 0})[which] = n
    return out


def status(rule: dict, counts: dict[str, int] | None) -> str:
    """done | due | overdue | none (a term duty in the holidays with nothing owed)."""
    counts = counts or {}
    cur, prev = counts.get("current", 0), counts.get("previous", 0)
    if rule["current"] is not None and cur >= rule["times"]:
        return "done"
    if rule["previous"] is not None and prev < rule["times"]:
        return "overdue"
    return "due" if rule["current"] is not None else "none"


def duties_for(user: User, children: list[Child], today: date) -> list[dict]:
    """A teacher's list: one row per child and rule that is not done, overdue first, then by due date."""
    from ..access import child_ids_query

    rules = plan(user.school_id, today)
    counts = counts_for(child_ids_query(user), user.school_id, today)
    rows = []
    for child in children:
        for rule in rules:
            st = status(rule, counts.get(child.id, {}).get(rule["kind"]))
            if st in ("due", "overdue"):
                rows.append({"child": child, "kind": rule["kind"], "status": st, "period": rule["period"],
                             "due_on": date.fromisoformat(rule["current"]["end"]) if rule["current"] else None})
    rows.sort(key=lambda r: (r["status"] != "overdue", r["due_on"] or date.max, r["child"].class_name or "", r["child"].name))
    return rows


# --- the principal's dashboard: aggregates in SQL --------------------------------------------------------------

def _active_children(school_id: int):
    return (Child.school_id == school_id) & Child.left_on.is_(None)


def coverage(school_id: int, today: date, by: str) -> list[dict]:
    """Per class / teacher / village: children, and how many have each duty done in its current period."""
    rules = rules_for(school_id)
    if by == "teacher":
        key, label = Pairing.teacher_id, User.name
        base = (select(key.label("key"), label.label("label"))
                .select_from(Child).join(Pairing, and_(Pairing.child_id == Child.id, Pairing.responsible))
                .join(User, User.id == Pairing.teacher_id))
        group = (key, label)
    elif by == "village":
        key, label = Child.village_id, Village.name
        base = select(key.label("key"), label.label("label")).select_from(Child).outerjoin(Village, Village.id == Child.village_id)
        group = (key, label)
    else:
        key = Child.class_name
        base = select(key.label("key"), key.label("label")).select_from(Child)
        group = (key,)
    cols = [func.count(Child.id).label("children")]
    done_subs = {}
    for r in rules:
        sub = _done_children(r.kind, window(r.period, today, school_id), r.times, school_id)
        if sub is None:
            continue
        done_subs[r.kind] = sub.subquery()
        cols.append(func.count(done_subs[r.kind].c.child_id).label(r.kind))
    q = base.add_columns(*cols)
    for kind, sub in done_subs.items():
        q = q.outerjoin(sub, sub.c.child_id == Child.id)
    q = q.where(_active_children(school_id)).group_by(*group).order_by(group[-1])
    out = []
    for row in db.session.execute(q).mappings():
        d = {"key": row["key"], "label": row["label"] or "—", "children": row["children"]}
        for r in rules:
            d[r.kind] = row.get(r.kind) if r.kind in done_subs else None
        out.append(d)
    return out


def overdue_children(school_id: int, today: date, limit: int | None = 200) -> tuple[int, list[dict]]:
    """Children with at least one overdue duty (previous period short, current not done): total and the first rows."""
    conds, which = [], []
    for r in rules_for(school_id):
        prev_done = _done_children(r.kind, window(r.period, today, school_id, previous=True), r.times, school_id)
        if prev_done is None:
            continue
        cur_done = _done_children(r.kind, window(r.period, today, school_id), r.times, school_id)
        cond = Child.id.not_in(prev_done)
        if cur_done is not None:
            cond = cond & Child.id.not_in(cur_done)
        conds.append(cond)
        which.append((r.kind, cond))
    if not conds:
        return 0, []
    from sqlalchemy import or_

    flags = [case((cond, 1), else_=0).label(kind) for kind, cond in which]
    q = (select(Child.id, Child.name, Child.class_name, Village.name.label("village"), User.name.label("teacher"),
                Pairing.teacher_id, *flags)
         .outerjoin(Village, Village.id == Child.village_id)
         .outerjoin(Pairing, and_(Pairing.child_id == Child.id, Pairing.responsible))
         .outerjoin(User, User.id == Pairing.teacher_id)
         .where(_active_children(school_id), or_(*conds)))
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.execute(q.order_by(Child.class_name, Child.name).limit(limit)).mappings().all()
    return total, [dict(r) | {"kinds": [k for k, _c in which if r[k]]} for r in rows]


def trend(school_id: int, today: date, weeks: int = 12) -> list[dict]:
    """Counting records per week and kind over the last `weeks` weeks, in one query (conditional sums)."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    cols = []
    for i, s in enumerate(starts):
        a, b = Window(s, s + timedelta(days=6)).bounds()
        cols.append(func.sum(case((and_(Record.occurred_at >= a, Record.occurred_at < b), 1), else_=0)).label(f"w{i}"))
    first = Window(starts[0], today).bounds()[0]
    rows = db.session.execute(
        select(Record.kind, *cols).where(Record.school_id == school_id, Record.kind.in_(DUTY_KINDS),
                                         Record.occurred_at >= first, Record.review_state.in_(COUNTING_STATES))
        .group_by(Record.kind)).mappings().all()
    by_kind = {r["kind"]: [int(r[f"w{i}"] or 0) for i in range(weeks)] for r in rows}
    return [{"week": s, **{k: by_kind.get(k, [0] * weeks)[i] for k in DUTY_KINDS}} for i, s in enumerate(starts)]


# --- the bureau's view of a whole city: the policy's default rules for every school ------------------------------

def _default_windows(today: date) -> list[tuple[str, Window | None, Window | None]]:
    """(kind, current, previous) for the policy defaults, with the default term calendar. Each default asks for one
    record per period, which is what the whole-city conditions (_latest_in) answer."""
    out = []
    for kind, (period, times) in DEFAULT_RULES.items():
        assert times == 1, "the whole-city view counts one record per period"
        if period == "term":
            terms = [(n, Window(s, e)) for y in (today.year - 1, today.year, today.year + 1) for n, s, e in default_terms(y)]
            cur = next((w for _n, w in terms if w.start <= today <= w.end), None)
            prev = ([w for _n, w in terms if w.end < today] or [None])[-1]
        else:
            cur, prev = window(period, today, 0), window(period, today, 0, previous=True)
        out.append((kind, cur, prev))
    return out


def _latest_in(kind: str, windows: list[Window | None]):
    """SQL condition on the child's DutyTally row (outer-joined): the child has a counting record of `kind` within one
    of the windows.

    The latest counting time answers it when it falls in a window (yes) or before the first one (no). Only when it
    falls after the last window (a record from the next few minutes) or between windows (a visit in the holidays,
    between two terms) are the child's own records asked, by an EXISTS on ix_record_child_kind_at_state."""
    ranges = sorted(w.bounds() for w in windows if w is not None)
    if not ranges:
        return None
    merged: list[list[datetime]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    latest = getattr(DutyTally, f"{kind}_at")
    records = select(Record.id).where(
        Record.child_id == Child.id, Record.kind == kind, Record.review_state.in_(COUNTING_STATES),
        or_(*[and_(Record.occurred_at >= a, Record.occurred_at < b) for a, b in merged])).exists()
    return and_(latest.is_not(None), latest >= merged[0][0],
                or_(*[and_(latest >= a, latest < b) for a, b in merged], records))


def _city_children():
    return select(Child.school_id).select_from(Child).outerjoin(DutyTally, DutyTally.child_id == Child.id) \
        .where(Child.left_on.is_(None))


def city_coverage(today: date) -> list[dict]:
    """Per school: children on file and how many have each default duty done this period.

    One pass over the active children and their DutyTally rows (one each), grouped by school."""
    cols, kinds = [func.count().label("children")], []
    for kind, cur, _prev in _default_windows(today):
        cond = _latest_in(kind, [cur])
        if cond is not None:
            kinds.append(kind)
            cols.append(func.sum(case((cond, 1), else_=0)).label(kind))
    q = _city_children().add_columns(*cols).group_by(Child.school_id).order_by(Child.school_id)
    return [{k: (int(v or 0) if k != "school_id" else v) for k, v in r.items()} for r in db.session.execute(q).mappings()]


def city_overdue_count(today: date) -> int:
    """How many children of the city have at least one default duty overdue: for some rule, neither the previous nor
    the current period has a counting record. One pass over the active children and their DutyTally rows."""
    satisfied = [_latest_in(kind, [prev, cur]) for kind, cur, prev in _default_windows(today)
                 if prev is not None]  # no previous period: nothing can be overdue for this rule
    if not satisfied:
        return 0
    q = _city_children().with_only_columns(func.count()).where(not_(and_(*satisfied)))
    return db.session.scalar(q) or 0
