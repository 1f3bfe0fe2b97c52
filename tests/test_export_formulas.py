"""Exports never carry formulas: text typed by users that a spreadsheet could run is written as text, in every workbook,
and an exported roster still imports back unchanged."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook

from app.children.importer import import_file
from app.extensions import db
from app.models import DutyRule, Term

from .conftest import login
from .test_reports import CHINA, _record, _rows

NAME = '=HYPERLINK("http://x","y")'
# "\r=1+1" is written too; XML reads a lone CR back as LF, so it is looked for as "\n=1+1".
HOSTILE = {NAME, "+8613900000000", "-1", "@SUM(1)", "=1+1", "\t=1+1", "\n=1+1", "-2+3"}


def _cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _no_formula(data: bytes, expect: set[str]) -> None:
    cells = _cells(data)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert expect <= texts, expect - texts
    risky = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)


def _hostile(world):
    a = world["A"]
    c = a["c1"]
    c.name, c.class_name, c.personality, c.interests = NAME, "@SUM(1)", "\t=1+1", "\r=1+1"
    g = c.entrusted_guardian
    g.phone, g.health = "+8613900000000", "-1"
    c.address = "-2+3"
    a["school"].name = "=1+1"
    a["teacher"].name = "@SUM(1)"
    db.session.commit()
    return a


def test_roster_writes_formula_text_as_text_and_imports_back(client, world):
    a = _hostile(world)
    login(client, a["principal"].username)
    data = client.get("/reports/roster.xlsx").data
    _no_formula(data, HOSTILE - {"=1+1"})
    result = import_file(a["school"].id, a["principal"], "roster.xlsx", data)
    assert result.errors == [] and (result.created, result.updated) == (0, 2)
    db.session.expire_all()
    assert a["c1"].name == NAME and a["c1"].entrusted_guardian.phone == "+8613900000000"
    again = client.get("/reports/roster.xlsx").data
    # Every input path (forms, the importer) trims a value's surrounding whitespace, so the personality and interests
    # written as "\t=1+1" / "\r=1+1" straight into the database come back as "=1+1" — still as text, never a formula.
    _no_formula(again, HOSTILE - {"\t=1+1", "\n=1+1"})
    trimmed = [[v.strip() if isinstance(v, str) else v for v in row] for row in _rows(load_workbook(io.BytesIO(data)).active)]
    assert _rows(load_workbook(io.BytesIO(again)).active) == trimmed


def test_monthly_and_term_record_write_formula_text_as_text(client, world):
    a = _hostile(world)
    today = datetime.now(CHINA).date()
    db.session.add(Term(school_id=a["school"].id, name="-学期", starts_on=today - timedelta(days=30),
                        ends_on=today + timedelta(days=30)))
    db.session.add(DutyRule(school_id=a["school"].id, kind="home_visit", period="term", times=1))
    db.session.commit()
    _record(a["teacher"], a["c1"], "home_visit", datetime.now(CHINA) - timedelta(hours=3))

    login(client, a["principal"].username)
    monthly = client.get("/reports/monthly.xlsx")
    assert monthly.status_code == 200
    _no_formula(monthly.data, {"=1+1"})
    numbers = [c for c in _cells(monthly.data) if isinstance(c.value, int)]
    assert numbers and all(c.data_type == "n" for c in numbers)  # counts stay numbers
    client.delete("/api/v1/session")

    login(client, a["teacher"].username)
    term = client.get("/reports/term-record.xlsx")
    assert term.status_code == 200
    _no_formula(term.data, {NAME, "@SUM(1)", "-学期"})


def test_import_template_has_no_formula(client, world):
    login(client, world["A"]["principal"].username)
    cells = _cells(client.get("/children/import/template.xlsx").data)
    assert cells and not [c for c in cells if c.data_type == "f"]
