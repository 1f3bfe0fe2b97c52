"""每学期留守儿童统计表: per class, the children on file, by which parents are away, new this term, left this term by
reason, and no longer left-behind (parents back home, file kept); with totals. Counted in SQL, grouped by class."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, or_, select

from ..duties.services import Window
from ..extensions import db
from ..models import Child
from ..models.people import LEAVE_REASONS, PARENTS_AWAY
from ..children.ordering import class_key

AWAY_KEYS = [k for k in PARENTS_AWAY if k != "none"]  # still left-behind: both, father, mother
COLUMNS = ["on_file", *[f"away_{k}" for k in AWAY_KEYS], "new", *[f"left_{k}" for k in LEAVE_REASONS], "returned_home"]


def _header_words() -> dict[str, str]:
    from flask_babel import gettext as _

    return {"on_file": _("在册人数"), **{f"away_{k}": _(PARENTS_AWAY[k]) for k in AWAY_KEYS}, "new": _("本学期新增"),
            **{f"left_{k}": _("离校：%(reason)s", reason=_(w)) for k, w in LEAVE_REASONS.items()},
            "returned_home": _("不再留守（父母返乡）")}


def headers() -> list[tuple[str, str]]:
    """(column key, its heading in the reader's language), the table's order."""
    words = _header_words()
    return [(k, words[k]) for k in COLUMNS]


def term_stats(school_id: int, term: Window, today: date) -> dict:
    """{"rows": [{"class_name", column: n...}], "totals": {column: n}, "until": the last day counted}.

    On file means on file on the last day counted (the term's end, or today while it runs): enrolled by then and not
    left by then. Its children are split by which parents are away; those whose parents are both home are "no longer
    left-behind". New: enrolled during the term; left: a leaving date during the term, by reason."""
    until = min(today, term.end)
    enrolled = or_(Child.enrolled_on.is_(None), Child.enrolled_on <= until)
    on_file = and_(enrolled, or_(Child.left_on.is_(None), Child.left_on > until))
    in_term = lambda col: and_(col >= term.start, col <= until)  # noqa: E731
    count = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    cols = [count(on_file).label("on_file"),
            *[count(and_(on_file, Child.parents_away == k)).label(f"away_{k}") for k in AWAY_KEYS],
            count(in_term(Child.enrolled_on)).label("new"),
            *[count(and_(in_term(Child.left_on), Child.leave_reason == k)).label(f"left_{k}") for k in LEAVE_REASONS],
            count(and_(on_file, Child.parents_away == "none")).label("returned_home")]
    q = (select(Child.class_name, *cols).where(Child.school_id == school_id, enrolled,
                                               or_(Child.left_on.is_(None), Child.left_on >= term.start))
         .group_by(Child.class_name).order_by(Child.class_name))
    rows = [{"class_name": r["class_name"] or "—", **{k: int(r[k] or 0) for k in COLUMNS}}
            for r in sorted(db.session.execute(q).mappings(), key=lambda r: class_key(r["class_name"]))]
    totals = {k: sum(r[k] for r in rows) for k in COLUMNS}
    return {"rows": rows, "totals": totals, "until": until}


def term_stats_xlsx(stats: dict, school_name: str, term_name: str) -> bytes:
    """The table as a workbook: a title row, the headings, one row per class, the totals."""
    from flask_babel import gettext as _
    from openpyxl import Workbook

    from .xlsx import append_row, bold_header, workbook_bytes

    wb = Workbook()
    ws = wb.active
    ws.title = "统计表"
    append_row(ws, [f"{school_name} {term_name} {_('留守儿童统计表')}（{_('截至')} {stats['until'].isoformat()}）"])
    bold_header(ws, [_("班级")] + [h for _k, h in headers()], width=12)
    for r in stats["rows"]:
        append_row(ws, [r["class_name"]] + [r[k] for k in COLUMNS])
    append_row(ws, [_("合计")] + [stats["totals"][k] for k in COLUMNS])
    return workbook_bytes(wb)
