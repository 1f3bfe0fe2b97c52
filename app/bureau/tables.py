"""The bureau's tables: which figures a row shows, each as a count out of a base, the total, and sorting."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..duties import services as duty

EVIDENCE_COLUMNS = (("confirmed", _l("村委会确认")), ("flagged", _l("有疑点")), ("returned", _l("被退回")))
NO_VISITS = {"visits": 0, "confirmed": 0, "flagged": 0, "returned": 0}


def columns_for(plans: list[dict], rules=duty.DEFAULT_RULES) -> list[tuple[str, object]]:
    """(key, title) of the figures shown: overdue, each duty running in some school (the policy's, unless `rules`
    says otherwise), then the evidence."""
    running = [(r.key, r.title) for r in rules if any(p.get(r.key) is not None for p in plans)]
    return [("overdue", _l("有逾期的学生")), *running, ("visits", _l("本学期家访")), *EVIDENCE_COLUMNS]


def table_row(label: str, figures: dict, quality: dict, columns) -> dict:
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


def shown(row: dict) -> dict:
    """The row with each figure as the page prints it: (count, percent, bar width in 5 % steps), (count, None, None),
    or None for a dash (nothing counted, or a share out of nothing). Worked out here, not per cell in the template
    (300 schools' rows); the template's one macro call per bar (share_bar) costs ~10 ms on the 300-school page."""
    shown = {}
    for key, c in row["cells"].items():
        if c is None or (c[1] is not None and not c[1]):
            shown[key] = None
        elif c[1] is None:
            shown[key] = (c[0], None, None)
        else:
            shown[key] = (c[0], int(100 * c[0] / c[1] + 0.5), int(20 * c[0] / c[1] + 0.5) * 5)
    return row | {"shown": shown}


def total_row(rows: list[dict], columns) -> dict:
    """The sum of the rows; a duty's share is out of the children of the schools where it runs."""
    cells = {}
    for key, _title in columns:
        counted = [r["cells"][key] for r in rows if r["cells"][key] is not None]
        if key == "visits":
            cells[key] = (sum(c[0] for c in counted), None)
        else:
            cells[key] = (sum(c[0] for c in counted), sum(c[1] for c in counted)) if counted else None
    return {"label": _l("全县合计"), "children": sum(r["children"] for r in rows), "cells": cells}


def sort_value(row: dict, key: str):
    """What a column sorts by: the name, a count, or a share (rows without a figure last)."""
    if key == "name":
        return (0, row["label"])
    if key == "children":
        return (0, row["children"])
    cell = row["cells"].get(key)
    if cell is None or (cell[1] is not None and not cell[1]):
        return (1, 0)
    return (0, cell[0] if cell[1] is None else cell[0] / cell[1])


def group_total(label, groups: list[dict], quality: dict, columns) -> dict:
    """A school's total row as the sum of its classes or villages (every child and every visit is in one of them)."""
    keys = {"children", "overdue", *(k for k, _t in columns)} - {"visits", *dict(EVIDENCE_COLUMNS)}
    figures = {k: None if all(g[k] is None for g in groups) else sum(g[k] or 0 for g in groups) for k in keys}
    figures["children"] = figures["children"] or 0
    return table_row(label, figures, {k: sum(q[k] for q in quality.values()) for k in NO_VISITS}, columns)


def sorted_rows(rows: list[dict], key: str, desc: bool) -> list[dict]:
    """Rows by a column, ties in name order; rows without that figure last whichever the direction."""
    rows = sorted(rows, key=lambda r: r["label"])
    present = sorted((r for r in rows if sort_value(r, key)[0] == 0), key=lambda r: sort_value(r, key)[1], reverse=desc)
    return present + [r for r in rows if sort_value(r, key)[0] == 1]
