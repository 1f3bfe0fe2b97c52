"""What is due for every child, from the school's duty rules and its calendar, in the school's time zone (Asia/Shanghai).

A rule says: each child needs `times` records of a kind, matching the rule's filter on the record's fields, per period
(week Monday–Sunday, fortnight, calendar month, calendar quarter, the school term, each holiday, or the last two weeks
of each term), in its season: term time only, all year, or the holidays only. Holidays are the gaps between terms.
The rule's periods (windows) are the calendar periods cut to the season; a window's predecessor is the period just
before it when that one was in season too (a term's is the previous term). For a window the duty is
- done     when enough records that count fall in it;
- due      otherwise, by its last day;
- overdue  (逾期) when its predecessor ended short and it is not done yet.
Out of season (a term-time rule in the holidays) nothing is due and nothing is overdue. Records count unless the
principal returned them — the review states "received" and "approved" — and count toward every rule they match.
Everything is counted in SQL, grouped by child or by class/teacher/village; nothing loops over a school's children in
Python. The phone gets the same windows in the roster (phone_plan) and computes nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, case, func, literal, not_, or_, select, true

from ..clock import CHINA
from ..extensions import db
from ..models import DUTY_KINDS, RULE_KINDS, Child, ChildCategory, DutyRule, DutyTally, Pairing, Record, Term, User, Village
from ..children.ordering import class_key

COUNTING_STATES = ("received", "approved")
PERIOD_LABELS = {"week": _l("每周"), "fortnight": _l("每两周"), "month": _l("每月"), "quarter": _l("每季度"),
                 "term": _l("每学期"), "holiday": _l("每个假期"), "before_holiday": _l("放假前两周内")}
SEASON_LABELS = {"term": _l("仅在学期中"), "all_year": _l("全年"), "holiday": _l("仅在假期中")}
OWNER_LABELS = {"responsible": _l("结对教师（包保责任人）"), "class_teacher": _l("班主任")}
HANDOVER_DAYS = 14  # the holiday handover is due in the last two weeks of a term
FORTNIGHT_EPOCH = date(2024, 1, 1)  # a Monday: fortnights start an even number of weeks after it
LOOKBACK = timedelta(days=220)  # far enough back for a term window's predecessor (a term and a holiday)


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

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Rule:
    """A duty rule as the services use it; `key` names it in counts, pages and the roster."""
    key: str
    kind: str
    period: str
    times: int = 1
    season: str = "term"
    filter: tuple = ()  # ((field, (value, ...)), ...): hashable, so rules can key memos
    label: object = field(default="", compare=False)
    owner: str = "responsible"  # DUTY_OWNERS: whose due list the duty is on
    categories: tuple = ()  # only the children of these categories (app/models/care.py keys); () = every child

    @property
    def filters(self) -> dict[str, list[str]]:
        return {f: list(v) for f, v in self.filter}

    @property
    def title(self) -> str:
        """What the rule is called on pages: its label, or the kind and the chosen values."""
        if self.label:
            return str(self.label)
        from ..records.kinds import KINDS

        kind = KINDS.get(self.kind)
        if kind is None:
            return self.kind
        names = {name: dict(choices) for name, _label, choices in filter_fields(self.kind)}
        chosen = "、".join([str(names.get(f, {}).get(v, v)) for f, vs in self.filter for v in vs]
                          + [category_name(c) for c in self.categories])
        return f"{kind.label}（{chosen}）" if chosen else str(kind.label)

    def children(self) -> object:
        """SQL condition on Child.id: the children the rule is for (all of them without categories)."""
        if not self.categories:
            return true()
        return Child.id.in_(select(ChildCategory.child_id).where(ChildCategory.category.in_(self.categories)))


def category_name(key: str) -> str:
    """A category's name for a rule's title: the policy's (translated) or the school's own."""
    from flask_babel import gettext as _

    from ..models import BUILTIN_CATEGORIES, CareCategory

    if key in BUILTIN_CATEGORIES:
        return _(BUILTIN_CATEGORIES[key])
    own = db.session.get(CareCategory, int(key[1:])) if key[1:].isdigit() else None
    return own.name if own else key


def as_filter(d: dict | None) -> tuple:
    """A stored filter ({field: [values]}) as Rule.filter."""
    return tuple(sorted((str(k), tuple(str(v) for v in vs)) for k, vs in (d or {}).items() if vs))


CALL = "contact"
# The policies' defaults (see ../shared/seeds): a school's DutyRule row with the same key replaces one.
DEFAULT_RULES = (
    Rule("home_visit", "home_visit", "term", 1, "term", label=_l("家访（每学期）")),
    Rule("talk", "talk", "week", 1, "term", label=_l("谈心（每周）")),
    # 每周为留守学生提供条件和父母通话一次: the child's own call (or video) with the parents.
    Rule("family_call", CALL, "week", 1, "term", as_filter({"direction": ["child_to_parents"]}),
         label=_l("亲情电话：孩子与父母通话（每周）")),
    # 每月…和帮扶对象的父母通话一次: the teacher reports to the parents.
    Rule("report_parents", CALL, "month", 1, "term",
         as_filter({"direction": ["teacher_to_family"], "counterpart": ["father", "mother", "both_parents"]}),
         label=_l("教师向父母通报情况（每月）")),
    # 每季度至少与儿童监护人见面一次: in person, all year.
    Rule("guardian_meeting", CALL, "quarter", 1, "all_year",
         as_filter({"counterpart": ["guardian"], "channel": ["in_person"]}), label=_l("与监护人见面（每季度）")),
    Rule("holiday_contact", CALL, "fortnight", 1, "holiday", label=_l("假期联系（每两周）")),
    Rule("handover", "handover", "before_holiday", 1, "term", label=_l("假期交接（放假前）")),
)
# The whole-city view counts from the duty tally (latest counting record per kind), so it judges one unfiltered rule
# per kind: the policy's basic frequency of each, paused in the holidays like the schools' own.
CITY_RULES = (Rule("home_visit", "home_visit", "term"), Rule("talk", "talk", "week"), Rule(CALL, CALL, "month"))


def filter_fields(kind: str | None) -> list[tuple[str, object, list]]:
    """(name, label, choices) of the kind's enum fields: what a rule may filter on."""
    from ..records.kinds import ATTENDANCE_FIELDS, KINDS

    k = KINDS.get(kind or "")
    fields = ATTENDANCE_FIELDS if k is not None and k.group else k.fields if k else []
    return [(f.name, f.label, f.choices) for f in fields if f.type == "enum"]


def check_rule(kind, period, times, season, chosen: dict, label: str, owner: str = "responsible", categories=(),
               known_categories=()) -> tuple[dict, list[str]]:
    """A rule as the principal typed it: (DutyRule column values, errors in Chinese)."""
    from flask_babel import gettext as _

    errors = []
    if kind not in RULE_KINDS:
        errors.append(_("请选择记录类型。"))
    if period not in PERIOD_LABELS:
        errors.append(_("请选择频率。"))
    if season not in SEASON_LABELS:
        errors.append(_("请选择适用时间（学期中、全年或假期中）。"))
    if times is None or not 1 <= times <= 30:
        errors.append(_("次数应在 1 到 30 之间。"))
    if period in ("term", "before_holiday") and season != "term":
        errors.append(_("按学期或放假前的任务只能在学期中。"))
    if period == "holiday" and season != "holiday":
        errors.append(_("每个假期一次的任务只能在假期中。"))
    if len((label or "").strip()) > 60:
        errors.append(_("名称最多 60 字。"))
    if owner not in OWNER_LABELS:
        errors.append(_("请选择由谁负责（结对教师或班主任）。"))
    allowed = {name: {v for v, _text in choices} for name, _label, choices in filter_fields(kind)}
    flt = {}
    for name, values in (chosen or {}).items():
        values = [v for v in values if v]
        if name not in allowed or not set(values) <= allowed[name]:
            errors.append(_("筛选条件无效，请重新选择。"))
            break
        if values and set(values) != allowed[name]:  # every value ticked is no filter at all
            flt[name] = sorted(values)
    if not set(categories or ()) <= set(known_categories):
        errors.append(_("所选分类无效，请重新选择。"))
    return {"kind": kind, "period": period, "times": times, "season": season, "filter": flt,
            "label": (label or "").strip() or None, "owner": owner, "categories": sorted(set(categories or ()))}, errors


def _memo(key: tuple, make):
    """Per-request memo (flask.g): a page or roster asks for the same rules and terms many times."""
    from flask import g, has_request_context

    if not has_request_context():
        return make()
    cache = g.setdefault("_duty_memo", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def rule_of(row: DutyRule) -> Rule:
    """A stored rule as a Rule."""
    return Rule(row.key or f"r{row.id}", row.kind, row.period, max(1, row.times), row.season, as_filter(row.filter),
                row.label or "", row.owner or "responsible", tuple(sorted(row.categories or ())))


def rules_for(school_id: int) -> list[Rule]:
    """The school's active rules: the policy defaults, as the school changed or switched them off, then its own."""
    return _memo(("rules", school_id), lambda: _rules_for(school_id))


def _rules_for(school_id: int) -> list[Rule]:
    return merge_rules(db.session.scalars(select(DutyRule).where(DutyRule.school_id == school_id)
                                          .order_by(DutyRule.id)).all())


def merge_rules(stored: list[DutyRule]) -> list[Rule]:
    """A school's active rules from its stored rows (oldest first): the policy defaults as changed, then its own."""
    by_key = {r.key: r for r in stored if r.key}
    out = []
    for d in DEFAULT_RULES:
        row = by_key.get(d.key)
        if row is None:
            out.append(d)
        elif row.active:
            out.append(rule_of(row))
    return out + [rule_of(r) for r in stored if r.key not in {d.key for d in DEFAULT_RULES} and r.active]


def default_terms(year: int) -> list[tuple[str, date, date]]:
    """When a school has not entered its terms: spring 2/20–7/10 and autumn 9/1–1/20 (typical rural calendars), named
    in the reader's language (a school's own terms keep the names it gave them)."""
    from flask_babel import gettext as _

    return [(_("%(first)s-%(second)s 第二学期", first=year - 1, second=year), date(year, 2, 20), date(year, 7, 10)),
            (_("%(first)s-%(second)s 第一学期", first=year, second=year + 1), date(year, 9, 1), date(year + 1, 1, 20))]


def terms_for(school_id: int, around: date) -> list[tuple]:
    """The school's terms (name, start, end) near `around`, oldest first."""
    return _memo(("terms", school_id, around), lambda: _terms_for(school_id, around))


def _terms_for(school_id: int, around: date) -> list[tuple]:
    # Read once a request whatever `around`: the roster asks about several days.
    stored = _memo(("stored_terms", school_id), lambda: db.session.execute(
        select(Term.name, Term.starts_on, Term.ends_on).where(Term.school_id == school_id).order_by(Term.starts_on)).all())
    return terms_or_default(stored, around)


def terms_or_default(stored: list, around: date) -> list[tuple]:
    """The stored terms (name, start, end), oldest first, or the default calendar around `around` when none."""
    if stored:
        return [tuple(t) for t in stored]
    return [t for y in range(around.year - 2, around.year + 2) for t in default_terms(y)]


def holidays_for(school_id: int, around: date) -> list[Window]:
    """The holidays: the gaps between consecutive terms (winter, summer), oldest first."""
    return _holidays(terms_for(school_id, around))


def _holidays(terms) -> list[Window]:
    """The gaps between consecutive terms (name, start, end)."""
    spans = [Window(s, e) for _n, s, e in terms]
    return [Window(a.end + timedelta(days=1), b.start - timedelta(days=1))
            for a, b in zip(spans, spans[1:]) if (b.start - a.end).days > 1]


def term_windows(school_id: int, today: date) -> tuple[tuple | None, tuple | None]:
    """(current term, previous term), each (name, Window) or None; between terms there is no current one."""
    terms = terms_for(school_id, today)
    current = next(((n, Window(s, e)) for n, s, e in terms if s <= today <= e), None)
    past = [(n, Window(s, e)) for n, s, e in terms if e < today]
    return current, (past[-1] if past else None)


def calendar_period(period: str, day: date) -> Window:
    """The calendar week, fortnight, month or quarter containing `day`."""
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return Window(start, start + timedelta(days=6))
    if period == "fortnight":
        start = day - timedelta(days=(day - FORTNIGHT_EPOCH).days % 14)
        return Window(start, start + timedelta(days=13))
    months = 1 if period == "month" else 3
    m = (day.month - 1) // months * months + 1
    start = date(day.year, m, 1)
    ny, nm = day.year + (m + months - 1) // 12, (m + months - 1) % 12 + 1
    return Window(start, date(ny, nm, 1) - timedelta(days=1))


def window(period: str, today: date, school_id: int, previous: bool = False) -> Window | None:
    """The calendar period (or term) containing `today`, or the one before; None for a term in the holidays."""
    if period == "term":
        current, prev = term_windows(school_id, today)
        chosen = prev if previous else current
        return chosen[1] if chosen else None
    w = calendar_period(period, today)
    return calendar_period(period, w.start - timedelta(days=1)) if previous else w


def _seasons(rule: Rule, terms) -> list[Window] | None:
    """The spans a rule runs in: the terms, the holidays, or None for all year."""
    if rule.season == "term":
        return [Window(s, e) for _n, s, e in terms]
    if rule.season == "holiday":
        return _holidays(terms)
    return None


def rule_windows(rule: Rule, first: date, last: date, school_id: int) -> tuple[tuple[Window, Window | None], ...]:
    """Every window of the rule that a day from `first` to `last` falls in, each with its predecessor, oldest first."""
    return _memo(("windows", rule, first, last, school_id), lambda: _rule_windows(rule, first, last, school_id))


def _rule_windows(rule: Rule, first: date, last: date, school_id: int) -> tuple[tuple[Window, Window | None], ...]:
    return windows_between(rule, first, last, tuple(tuple(t) for t in terms_for(school_id, first)))


@lru_cache(maxsize=2048)
def windows_between(rule: Rule, first: date, last: date, terms: tuple) -> tuple[tuple[Window, Window | None], ...]:
    """rule_windows for a calendar of terms (name, start, end): a pure function, kept per process (the roster asks
    for every rule's windows over PHONE_DAYS, ten thousand calendar steps for the same answer all day)."""
    lo = first - LOOKBACK
    term_spans = [Window(s, e) for _n, s, e in terms]
    if rule.period == "term":
        ws = term_spans
    elif rule.period == "holiday":
        ws = _holidays(terms)
    elif rule.period == "before_holiday":
        ws = [Window(max(t.start, t.end - timedelta(days=HANDOVER_DAYS - 1)), t.end) for t in term_spans]
    else:
        spans, ws, p = _seasons(rule, terms), [], calendar_period(rule.period, lo)
        while p.start <= last:
            if spans is None:
                ws.append(p)
            else:  # the period cut to its days in season (one window even when a holiday falls inside a quarter)
                inside = [Window(max(p.start, s.start), min(p.end, s.end)) for s in spans if s.start <= p.end and s.end >= p.start]
                if inside:
                    ws.append(Window(inside[0].start, inside[-1].end))
            p = calendar_period(rule.period, p.end + timedelta(days=1))
    ws = [w for w in ws if w.end >= lo and w.start <= last]
    out = []
    for i, w in enumerate(ws):
        prev = ws[i - 1] if i else None
        if rule.period in ("holiday", "before_holiday"):
            prev = None  # once per holiday: a missed one is a report's business, not a standing overdue
        elif rule.period != "term" and prev is not None:
            before = calendar_period(rule.period, calendar_period(rule.period, w.start).start - timedelta(days=1))
            if not (before.start <= prev.start and prev.end <= before.end):
                prev = None  # the period just before fell out of season (the first week after a holiday)
        if w.end >= first:
            out.append((w, prev))
    return tuple(out)


def windows_on(rule: Rule, day: date, school_id: int) -> tuple[Window | None, Window | None]:
    """(current, previous) of a rule on `day`; (None, None) out of season."""
    for w, prev in rule_windows(rule, day, day, school_id):
        if day in w:
            return w, prev
    return None, None


def counting(rule: Rule, w: Window, school_id: int | None) -> list:
    """WHERE conditions: records matching the rule in the window that count (of one school, or of all when None)."""
    conds = _counting_between(rule.kind, rule.filter, *w.bounds())
    return conds if school_id is None else [Record.school_id == school_id, *conds]


def _counting_between(kind: str, filters: tuple, start, end, states: bool = True) -> list:
    """counting() of a rule's kind and filter for the bounds [start, end): datetimes, or the bound parameters of a
    statement built once. `states=False` leaves the review states to a WHERE that already keeps only counting ones."""
    return [Record.kind == kind, Record.occurred_at >= start, Record.occurred_at < end,
            *([Record.review_state.in_(COUNTING_STATES)] if states else []),
            *[Record.fields[f].as_string().in_(values) for f, values in filters]]


def _done_children(rule: Rule, w: Window | None, school_id: int | None) -> Select | None:
    """SELECT child_id of the children with at least `times` counting records of the rule in the window."""
    if w is None:
        return None
    return select(Record.child_id).where(*counting(rule, w, school_id)).group_by(Record.child_id) \
        .having(func.count() >= rule.times)


def rule_json(r: Rule) -> dict:
    """A rule as the roster and the pages' scripts get it."""
    return {"key": r.key, "kind": r.kind, "label": r.title, "period": r.period, "times": r.times, "season": r.season,
            "filter": r.filters, "owner": r.owner, "categories": list(r.categories)}


def plan(school_id: int, today: date, rules: list[Rule] | None = None) -> list[dict]:
    """Each rule with its current and previous windows on `today`."""
    out = []
    for r in rules_for(school_id) if rules is None else rules:
        cur, prev = windows_on(r, today, school_id)
        out.append(rule_json(r) | {"current": cur.as_json() if cur else None, "previous": prev.as_json() if prev else None})
    return out


# How far ahead the roster gives the phone its periods: a teacher offline for longer sees "connect to update".
PHONE_DAYS = 92


def phone_plan(school_id: int, today: date, child_ids: list[int] | Select) -> dict:
    """The roster's duty section: what the phone needs to list duties offline without a calendar or rules of its own.

    Each rule comes with its filter and its windows for every day from yesterday (a phone clock a little behind) to
    PHONE_DAYS ahead, each window with its `previous` (or null); a day in no window is out of season. `counts` are the
    children's counting records per rule in today's current and previous windows."""
    first, last = today - timedelta(days=1), today + timedelta(days=PHONE_DAYS)
    rules = plan(school_id, today)
    for rule, r in zip(rules, rules_for(school_id)):
        rule["windows"] = [w.as_json() | {"previous": prev.as_json() if prev else None}
                           for w, prev in rule_windows(r, first, last, school_id)]
        # The children the rule is for, by id (null = all): the phone knows no categories, only this list.
        rule["children"] = sorted(db.session.scalars(select(Child.id).where(Child.id.in_(child_ids), r.children()))) \
            if r.categories else None
    return {"today": today.isoformat(), "valid_from": first.isoformat(), "valid_until": last.isoformat(), "rules": rules,
            "terms": [[n, s.isoformat(), e.isoformat()] for n, s, e in terms_for(school_id, today)],
            "counts": {str(k): v for k, v in counts_for(child_ids, school_id, today).items()}}


def counts_for(child_ids: list[int] | Select, school_id: int, today: date) -> dict[int, dict[str, dict[str, int]]]:
    """{child_id: {rule key: {"current": n, "previous": n}}} for the given children (ids, or a SELECT of them): one
    grouped query, a filtered count per rule and window (the morning peak's roster built ~11 queries, one per window)."""
    if isinstance(child_ids, Select):
        child_ids = list(db.session.scalars(child_ids))
    wins = [(r, which, w) for r in rules_for(school_id)
            for which, w in zip(("current", "previous"), windows_on(r, today, school_id)) if w is not None]
    if not wins or not child_ids:
        return {}
    bounds = [w.bounds() for _r, _which, w in wins]
    params = {"school": school_id, "children": list(child_ids), "lo": min(b[0] for b in bounds),
              "hi": max(b[1] for b in bounds)}
    for i, (start, end) in enumerate(bounds):
        params[f"s{i}"], params[f"e{i}"] = start, end
    out: dict[int, dict[str, dict[str, int]]] = {}
    for cid, *counts in db.session.execute(_counts_statement(tuple((r.kind, r.filter) for r, _w, _ in wins)), params):
        for (r, which, _w), n in zip(wins, counts):
            if n:
                out.setdefault(cid, {}).setdefault(r.key, {"current": 0, "previous": 0})[which] = n
    return out


@lru_cache(maxsize=256)
def _counts_statement(columns: tuple) -> Select:
    """counts_for's query for these (kind, filter) columns, the days bound as parameters: built once per process for a
    school's rules (each roster built it afresh: ~4 ms of CPU, more than the database spent on it)."""
    # The review states once, in the WHERE: repeated in every column the SQL grew past 4 KB, which psycopg parses
    # afresh on every execution instead of caching.
    cols = [func.count().filter(and_(*_counting_between(kind, flt, bindparam(f"s{i}"), bindparam(f"e{i}"), states=False)))
            for i, (kind, flt) in enumerate(columns)]
    # Only the records some window may count: the rest of a child's years stay unread.
    return (select(Record.child_id, *cols)
            .where(Record.school_id == bindparam("school"), Record.child_id.in_(bindparam("children", expanding=True)),
                   Record.kind.in_(sorted({kind for kind, _flt in columns})), Record.review_state.in_(COUNTING_STATES),
                   Record.occurred_at >= bindparam("lo"), Record.occurred_at < bindparam("hi"))
            .group_by(Record.child_id))


def status(rule: dict, counts: dict[str, int] | None) -> str:
    """done | due | overdue | none (out of season: nothing owed)."""
    counts = counts or {}
    if rule["current"] is None:
        return "none"
    if counts.get("current", 0) >= rule["times"]:
        return "done"
    if rule["previous"] is not None and counts.get("previous", 0) < rule["times"]:
        return "overdue"
    return "due"


def left_behind():
    """SQL condition: the child is still left-behind (a child whose parents are back home keeps the file but leaves
    the duties). The dashboard, the due lists and the reports all count these children only."""
    return Child.parents_away != "none"


def on_duty():
    """SQL condition: the child is owed duties today: on file (not left) and still left_behind()."""
    return Child.left_on.is_(None) & left_behind()


def owns(user: User, owner: str):
    """SQL condition on Child: the duties of a rule with this owner are `user`'s: the paired teachers' (responsible),
    or the class teachers' of the child's class (class_teacher; a class without a class teacher leaves them with the
    paired teachers, so no duty falls through)."""
    from ..access import taught_classes
    from ..models import ClassTeacher

    paired = Child.id.in_(select(Pairing.child_id).where(Pairing.teacher_id == user.id))
    if owner != "class_teacher":
        return paired
    has_class_teacher = select(ClassTeacher.id).where(ClassTeacher.school_id == Child.school_id,
                                                      ClassTeacher.class_name == Child.class_name).exists()
    return or_(Child.class_name.in_(taught_classes(user)), and_(paired, ~has_class_teacher))


def owned_children(user: User, owner: str) -> Select:
    """SELECT child_id of the children owed duties today whose duties of a rule with this owner are on `user`'s list."""
    return select(Child.id).where(Child.school_id == user.school_id, on_duty(), owns(user, owner))


def owned_rules(user: User, child_ids: list[int]) -> dict[int, list[str]]:
    """{child_id: keys of the rules whose duty is on `user`'s list} for these children (one query per owner kind, and
    one per rule limited to some categories)."""
    rules = rules_for(user.school_id)
    out: dict[int, list[str]] = {cid: [] for cid in child_ids}
    for owner in sorted({r.owner for r in rules}):
        owned = set(db.session.scalars(owned_children(user, owner).where(Child.id.in_(child_ids)))) if child_ids else set()
        for r in rules:
            if r.owner != owner:
                continue
            # A rule for some categories is on the list only for the children in them.
            mine = owned & set(db.session.scalars(select(Child.id).where(Child.id.in_(owned), r.children()))) \
                if r.categories else owned
            for cid in mine:
                out[cid].append(r.key)
    return out


def duties_for(user: User, children: list[Child], today: date) -> list[dict]:
    """A teacher's list: one row per child and rule owned by `user` that is not done, overdue first, then by due date."""
    rules = plan(user.school_id, today)
    counts = counts_for([c.id for c in children], user.school_id, today)
    owned = owned_rules(user, [c.id for c in children])
    rows = []
    for child in children:
        for rule in rules:
            if rule["key"] not in owned.get(child.id, ()):
                continue
            st = status(rule, counts.get(child.id, {}).get(rule["key"]))
            if st in ("due", "overdue"):
                rows.append({"child": child, "rule": rule["key"], "label": rule["label"], "kind": rule["kind"],
                             "status": st, "period": rule["period"], "due_on": date.fromisoformat(rule["current"]["end"])})
    rows.sort(key=lambda r: (r["status"] != "overdue", r["due_on"], r["child"].class_name or "", r["child"].name,
                             r["rule"]))
    return rows


# --- the principal's dashboard: aggregates in SQL --------------------------------------------------------------

def _active_children(school_id: int):
    return (Child.school_id == school_id) & on_duty()


def coverage(school_id: int, today: date, by: str, rules: list[Rule] | None = None,
             with_overdue: bool = False) -> list[dict]:
    """Per class / teacher / village: children, and how many have each rule done in its current window (None out of
    season), keyed by rule key; a rule for some categories counts only their children, how many under "of";
    with_overdue adds "overdue", the children with at least one rule overdue."""
    rules = rules_for(school_id) if rules is None else rules
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
    for i, r in enumerate(rules):
        sub = _done_children(r, windows_on(r, today, school_id)[0], school_id)
        if sub is None:
            continue
        if r.categories:
            sub = sub.where(Record.child_id.in_(select(ChildCategory.child_id)
                                                .where(ChildCategory.category.in_(r.categories))))
            cols.append(func.count(case((r.children(), Child.id))).label(f"of{i}"))
        done_subs[r.key] = sub.subquery(f"done{i}")
        cols.append(func.count(done_subs[r.key].c.child_id).label(f"done{i}"))
    overdue = [cond for _k, cond in _overdue_conditions(school_id, today, rules)] if with_overdue else []
    if with_overdue:
        cols.append(func.sum(case((or_(*overdue), 1), else_=0)).label("overdue") if overdue else literal(0).label("overdue"))
    q = base.add_columns(*cols)
    for sub in done_subs.values():
        q = q.outerjoin(sub, sub.c.child_id == Child.id)
    q = q.where(_active_children(school_id)).group_by(*group).order_by(group[-1])
    out = []
    rows = db.session.execute(q).mappings().all()
    if by not in ("teacher", "village"):
        rows.sort(key=lambda row: class_key(row["key"]))
    for row in rows:
        d = {"key": row["key"], "label": row["label"] or "—", "children": row["children"], "of": {}}
        for i, r in enumerate(rules):
            d[r.key] = row.get(f"done{i}") if r.key in done_subs else None
            if r.key in done_subs and r.categories:
                d["of"][r.key] = row[f"of{i}"]
        if with_overdue:
            d["overdue"] = int(row["overdue"] or 0)
        out.append(d)
    return out


def _overdue_conditions(school_id: int, today: date, rules: list[Rule]) -> list[tuple[str, object]]:
    """(rule key, SQL condition on Child) for each rule a child can be overdue on today: previous window short and
    current one not done yet (and the child one the rule is for)."""
    which = []
    for r in rules:
        cur, prev = windows_on(r, today, school_id)
        if cur is None or prev is None:
            continue
        which.append((r.key, Child.id.not_in(_done_children(r, prev, school_id))
                      & Child.id.not_in(_done_children(r, cur, school_id)) & r.children()))
    return which


def overdue_children(school_id: int, today: date, limit: int | None = 200,
                     rules: list[Rule] | None = None) -> tuple[int, list[dict]]:
    """Children with at least one overdue rule (previous window short, current not done): total and the first rows,
    each with the keys of its overdue rules (`rules`). Out of season nothing is overdue."""
    which = _overdue_conditions(school_id, today, rules_for(school_id) if rules is None else rules)
    conds = [cond for _k, cond in which]
    if not conds:
        return 0, []
    flags = [case((cond, 1), else_=0).label(f"flag{i}") for i, (_k, cond) in enumerate(which)]
    q = (select(Child.id, Child.name, Child.class_name, Village.name.label("village"), User.name.label("teacher"),
                Pairing.teacher_id, *flags)
         .outerjoin(Village, Village.id == Child.village_id)
         .outerjoin(Pairing, and_(Pairing.child_id == Child.id, Pairing.responsible))
         .outerjoin(User, User.id == Pairing.teacher_id)
         .where(_active_children(school_id), or_(*conds)))
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.execute(q.order_by(Child.class_name, Child.name).limit(limit)).mappings().all()
    return total, [{k: v for k, v in r.items() if not k.startswith("flag")}
                   | {"rules": [k for i, (k, _c) in enumerate(which) if r[f"flag{i}"]]} for r in rows]


def trend(school_id: int | list[int], today: date, weeks: int = 12) -> list[dict]:
    """Counting records per week and kind over the last `weeks` weeks, in one query (conditional sums), of one school
    or of a list of schools (a county)."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    cols = []
    for i, s in enumerate(starts):
        a, b = Window(s, s + timedelta(days=6)).bounds()
        cols.append(func.sum(case((and_(Record.occurred_at >= a, Record.occurred_at < b), 1), else_=0)).label(f"w{i}"))
    first = Window(starts[0], today).bounds()[0]
    rows = db.session.execute(
        select(Record.kind, *cols).where(Record.school_id.in_(school_id) if isinstance(school_id, list)
                                         else Record.school_id == school_id, Record.kind.in_(DUTY_KINDS),
                                         Record.occurred_at >= first, Record.review_state.in_(COUNTING_STATES))
        .group_by(Record.kind)).mappings().all()
    by_kind = {r["kind"]: [int(r[f"w{i}"] or 0) for i in range(weeks)] for r in rows}
    return [{"week": s, **{k: by_kind.get(k, [0] * weeks)[i] for k in DUTY_KINDS}} for i, s in enumerate(starts)]


# --- the bureau's view of a whole city: the policy's default rules for every school ------------------------------

def _default_windows(today: date) -> list[tuple[str, Window | None, Window | None]]:
    """(kind, current, previous) of the city's rules (CITY_RULES), with the default term calendar. Each asks for one
    record per period, which is what the whole-city conditions (_latest_in) answer."""
    return [(r.kind, *windows_on(r, today, 0)) for r in CITY_RULES]


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
        .where(on_duty())


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
                 if prev is not None and cur is not None]  # out of season or no previous period: nothing overdue
    if not satisfied:
        return 0
    q = _city_children().with_only_columns(func.count()).where(not_(and_(*satisfied)))
    return db.session.scalar(q) or 0
