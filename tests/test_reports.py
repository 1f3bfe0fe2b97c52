"""Reports: the roster export (re-importable), the monthly report for the bureau, the child's archive, the teacher's
term record; scope, audit and download headers."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.children.importer import COLUMNS, import_file
from app.duties.services import Rule, Window
from app.extensions import db
from app.models import AuditEntry, Incident, IncidentNotice, Pairing, Record, Term
from app.reports.monthly import parse_month
from app.reports.periods import periods_in_month, periods_in_term

from . import imaging
from .builders import CHINA, FIELDS, ingest_ok, item, only_rules, post, put_photo, visit
from .conftest import login

SECRET = "保密辅导内容ZX9"


def _book(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Cache-Control"] == "no-store"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and cd.isascii()
    return load_workbook(io.BytesIO(resp.data))


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _trim(row: list) -> list:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def _all_text(wb) -> str:
    return "\n".join(str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None)


def _record(user, child, kind, when: datetime, **fields) -> Record:
    base = FIELDS[kind] | ({"summary": SECRET} if kind == "counselling" else {})
    [rec] = ingest_ok(user, [item(kind, child, when.isoformat(), base | fields)])
    db.session.commit()
    return rec


def _exports(kind: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.object_type == kind)).all()


# --- roster ------------------------------------------------------------------------------------------------------

def test_roster_cell_by_cell_and_headers(client, world):
    a = world["A"]
    c1, c2 = a["c1"], a["c2"]
    login(client, a["principal"].username)
    wb = _book(client.get("/reports/roster.xlsx"))
    rows = _rows(wb["花名册"])
    header = rows[0]
    assert header[:len(COLUMNS)] == [h for _k, h, _r in COLUMNS]  # the import template's columns first
    assert len(rows) == 3  # header + the two children of school A, none of school B
    by_no = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert set(by_no) == {c1.student_no, c2.student_no}
    r = by_no[c1.student_no]
    g = c1.entrusted_guardian
    expected = {
        "学号": c1.student_no, "姓名": c1.name, "性别": "女", "出生日期": "2017-03-04", "年级": "三年级", "班级": "三(1)班",
        "是否寄宿": "否", "所在村": "A1村", "家庭住址": None, "父母外出情况": "父母均外出", "健康状况": None,
        "监护人姓名": g.name, "监护人与孩子关系": "奶奶", "监护人电话": "13900000000", "监护人年龄": None,
        "父亲姓名": None, "母亲姓名": None, "监护人同意日期": "2026-09-01", "告知书版本": "t1",
        "责任教师账号": a["teacher"].username, "包保责任人": a["teacher"].name, "包保责任人电话": "13800000000",
        "结对教师": a["teacher"].name, "学校电话": "0856-0000000", "思想、心理状况": None,
    }
    for col, value in expected.items():
        assert r[col] == value, col
    assert by_no[c2.student_no]["所在村"] == "A2村"
    assert by_no[c2.student_no]["责任教师账号"] == a["other_teacher"].username
    # No child's name in the file name.
    assert c1.name not in client.get("/reports/roster.xlsx").headers["Content-Disposition"]


def test_exported_roster_imports_again_unchanged(client, world):
    a = world["A"]
    login(client, a["principal"].username)
    data = client.get("/reports/roster.xlsx").data
    result = import_file(a["school"].id, a["principal"], "roster.xlsx", data)
    assert result.errors == [] and (result.created, result.updated) == (0, 2)
    db.session.expire_all()
    again = _rows(load_workbook(io.BytesIO(client.get("/reports/roster.xlsx").data)).active)
    first = _rows(load_workbook(io.BytesIO(data)).active)
    assert again == first


def test_roster_filters_and_scope_per_role(client, build, world):
    a = world["A"]
    extra = build.child(a["school"], a["v1"], a["teacher"], class_name="四(2)班")
    login(client, a["principal"].username)
    rows = _rows(_book(client.get("/reports/roster.xlsx?class=四(2)班")).active)
    assert [r[0] for r in rows[1:]] == [extra.student_no]
    rows = _rows(_book(client.get(f"/reports/roster.xlsx?village={a['v2'].id}")).active)
    assert [r[0] for r in rows[1:]] == [a["c2"].student_no]
    client.delete("/api/v1/session")

    # The committee of village 1 gets its village only, whatever it asks for.
    login(client, a["committee"].username)
    rows = _rows(_book(client.get("/reports/roster.xlsx")).active)
    assert sorted(r[0] for r in rows[1:]) == sorted([a["c1"].student_no, extra.student_no])
    assert {r[7] for r in rows[1:]} == {"A1村"}
    assert len(_rows(_book(client.get(f"/reports/roster.xlsx?village={a['v2'].id}")).active)) == 1  # header only
    client.delete("/api/v1/session")

    login(client, a["other_teacher"].username)  # paired with c2 only
    rows = _rows(_book(client.get("/reports/roster.xlsx")).active)
    assert [r[0] for r in rows[1:]] == [a["c2"].student_no]
    client.delete("/api/v1/session")

    login(client, a["admin"].username)
    assert client.get("/reports/roster.xlsx").status_code == 403
    exports = _exports("roster")
    assert len(exports) == 5 and all(e.school_id == a["school"].id for e in exports)
    assert {e.user_id for e in exports} == {a["principal"].id, a["committee"].id, a["other_teacher"].id}


def test_roster_page_and_login(client, world):
    assert client.get("/reports/roster.xlsx").status_code == 302  # to the login page
    login(client, world["A"]["committee"].username)
    html = client.get("/reports/roster").get_data(as_text=True)
    assert "/reports/roster.xlsx" in html and "A2村" not in html
    assert "/reports/roster" in client.get("/").get_data(as_text=True)


# --- monthly report ----------------------------------------------------------------------------------------------

def _r(period: str, season: str = "all_year") -> Rule:
    return Rule("x", "talk", period, 1, "term" if period == "term" else season)


def test_periods_in_month_and_term(app, build):
    school = build.school()
    nov = Window(date(2026, 11, 1), date(2026, 11, 30))
    # Weeks whose Sunday falls in November 2026: the 1st is a Sunday, the 29th the last one.
    weeks = periods_in_month(_r("week"), nov, school.id)
    assert weeks[0] == Window(date(2026, 10, 26), date(2026, 11, 1)) and weeks[-1].end == date(2026, 11, 29)
    assert len(weeks) == 5
    assert periods_in_month(_r("month"), nov, school.id) == [nov]
    assert periods_in_month(_r("quarter"), nov, school.id) == [Window(date(2026, 10, 1), date(2026, 11, 30))]
    assert periods_in_month(_r("term"), nov, school.id) == [Window(date(2026, 9, 1), date(2026, 11, 30))]
    aug = Window(date(2026, 8, 1), date(2026, 8, 31))
    assert periods_in_month(_r("term"), aug, school.id) == []  # summer holiday
    term = Window(date(2026, 9, 1), date(2027, 1, 20))
    months = periods_in_term(_r("month"), term, date(2026, 11, 23), school.id)
    assert months == [Window(date(2026, 9, 1), date(2026, 9, 30)), Window(date(2026, 10, 1), date(2026, 10, 31)),
                      Window(date(2026, 11, 1), date(2026, 11, 30))]
    assert periods_in_term(_r("term"), term, date(2026, 11, 23), school.id) == [term]
    # Term time only: August is not judged, and July only up to the term's last day.
    assert periods_in_month(_r("month", "term"), aug, school.id) == []
    july = Window(date(2026, 7, 1), date(2026, 7, 31))
    assert periods_in_month(_r("month", "term"), july, school.id) == [Window(date(2026, 7, 1), date(2026, 7, 10))]
    assert periods_in_month(_r("week", "term"), july, school.id) == [Window(date(2026, 6, 29), date(2026, 7, 5)),
                                                                   Window(date(2026, 7, 6), date(2026, 7, 10))]


def test_parse_month():
    assert parse_month(None, date(2026, 1, 15)) == date(2025, 12, 1)  # the last complete month
    assert parse_month("2026-03") == date(2026, 3, 1)
    assert parse_month("2026-13") is None and parse_month("26-03") is None


@pytest.fixture
def month_data(build, world):
    """Known data in the last complete month, with rules per month: visit 1, talk 2, call 1."""
    a = world["A"]
    month = parse_month(None)
    day = lambda d, h=10: datetime(month.year, month.month, d, h, 0, tzinfo=CHINA)  # noqa: E731
    only_rules(a["school"].id, [("home_visit", "month", 1), ("talk", "month", 2), ("contact", "month", 1)])
    c1, c2 = a["c1"], a["c2"]  # both 三(1)班
    c3 = build.child(a["school"], a["v1"], a["teacher"], class_name="四(2)班")
    c4 = build.child(a["school"], a["v2"], a["teacher"], class_name="四(2)班")
    late = build.child(a["school"], a["v2"], a["teacher"], class_name="四(2)班")
    for c in (c1, c2, c4):
        c.enrolled_on = date(2025, 9, 1)
    c3.enrolled_on = date(month.year, month.month, 10)  # new this month
    c4.left_on = date(month.year, month.month, 20)  # left this month
    late.enrolled_on = month + timedelta(days=40)  # after the month: not counted
    db.session.commit()
    t, o = a["teacher"], a["other_teacher"]
    v1 = _record(t, c1, "home_visit", day(3))
    v1.confirm_state, v1.review_state = "confirmed", "approved"
    _record(t, c1, "talk", day(4))
    _record(t, c1, "talk", day(11))
    _record(t, c1, "contact", day(12))
    _record(o, c2, "talk", day(5))
    returned = _record(o, c2, "home_visit", day(6))
    returned.review_state = "returned"  # does not count
    _record(t, c3, "home_visit", day(15))
    _record(t, c4, "home_visit", day(16))  # left on the 20th: counted as a visit, but not on file at the month's end
    _record(t, c1, "talk", day(1, 0) - timedelta(minutes=30))  # 23:30 the day before the month: not in it
    _record(a["counsellor"], c1, "counselling", day(7))  # never in a report
    inc = Incident(client_id=str(uuid.uuid4()), school_id=a["school"].id, child_id=c3.id, reported_by_id=t.id,
                   occurred_at=day(18, 9), category="injury", description="摔伤了膝盖")
    db.session.add(inc)
    db.session.flush()
    db.session.add_all([
        IncidentNotice(incident_id=inc.id, target="guardian", by_id=t.id, method="phone", at=day(18, 9) + timedelta(minutes=20)),
        IncidentNotice(incident_id=inc.id, target="guardian", by_id=t.id, method="sms", at=day(18, 9) + timedelta(minutes=50)),
        IncidentNotice(incident_id=inc.id, target="parents", by_id=t.id, method="phone", at=day(18, 9) + timedelta(minutes=90)),
    ])
    db.session.commit()
    return {"month": month, "c3": c3, "c4": c4, "inc": inc, "names": [c.name for c in (c1, c2, c3, c4, late)]}


def test_monthly_report_cell_by_cell(client, world, month_data):
    a = world["A"]
    login(client, a["principal"].username)
    resp = client.get(f"/reports/monthly.xlsx?month={month_data['month']:%Y-%m}")
    wb = _book(resp)
    assert re.search(r'filename="monthly-report-\d+-\d{4}-\d{2}\.xlsx"', resp.headers["Content-Disposition"])
    rows = _rows(wb["月报"])
    assert rows[0] == ["学校", "班级", "月末在册人数", "本月新增", "本月离开", "家访次数", "谈心次数", "家庭联系次数",
                       "家访达标人数", "家访达标率", "谈心达标人数", "谈心达标率", "家庭联系达标人数", "家庭联系达标率",
                       "家访经村委会确认比例", "记录审核通过比例", "突发事件数", "按时通知监护人", "按时通知父母",
                       "按时通知教育局"]
    school = a["school"].name
    # 三(1)班: c1 (visit, 2 talks, call: all done), c2 (one talk; its visit was returned).
    assert rows[2] == [school, "三(1)班", 2, 0, 0, 1, 3, 1, 1, 0.5, 1, 0.5, 1, 0.5, 1.0, pytest.approx(1 / 5), 0, 0, 0, 0]
    # 四(2)班: c3 new and visited; c4 visited, then left; an injury told to the guardian in 20 min, parents in 90.
    assert rows[3] == [school, "四(2)班", 1, 1, 1, 2, 0, 0, 1, 1.0, 0, 0.0, 0, 0.0, 0.0, 0.0, 1, 1, 0, 0]
    assert rows[1] == [school, "全校合计", 3, 1, 1, 3, 3, 1, 2, pytest.approx(2 / 3), 1, pytest.approx(1 / 3), 1,
                       pytest.approx(1 / 3), pytest.approx(1 / 3), pytest.approx(1 / 7), 1, 1, 0, 0]
    assert len(rows) == 4
    assert wb["月报"]["J2"].number_format == "0.0%"
    inc = _rows(wb["突发事件"])
    assert inc[1] == [month_data["inc"].id, school, "四(2)班", "受伤",
                      f"{month_data['month']:%Y-%m}-18 09:00", 20, "是", 90, "否", None, "否"]
    text = _all_text(wb)
    for name in month_data["names"]:
        assert name not in text  # aggregates only
    assert "摔伤" not in text and SECRET not in text
    assert len(_exports("monthly_report")) == 1


def test_monthly_page_and_roles(client, world, month_data):
    a = world["A"]
    login(client, a["principal"].username)
    resp = client.get("/reports/monthly")  # default: the last complete month
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert f"{month_data['month']:%Y-%m}" in html and "四(2)班" in html and "css/print.css" in html
    for name in month_data["names"]:
        assert name not in html
    assert client.get("/reports/monthly?month=2026-xx").status_code == 400
    client.delete("/api/v1/session")
    for who, code in (("counsellor", 200), ("teacher", 403), ("committee", 403), ("admin", 403)):
        login(client, a[who].username)
        assert client.get("/reports/monthly.xlsx").status_code == code, who
        client.delete("/api/v1/session")


# --- the child's archive -----------------------------------------------------------------------------------------

def test_archive_renders_with_photos_states_and_without_counselling(client, world):
    a = world["A"]
    token = login(client, a["teacher"].username)
    data = imaging.jpeg(seed=7)
    assert put_photo(client, token, data).status_code in (200, 201)
    rec = visit(a["c1"], [imaging.sha(data)])
    assert post(client, token, [rec]).get_json()["results"][0]["status"] == "created"
    stored = db.session.scalar(select(Record).where(Record.client_id == rec["id"]))
    _record(a["teacher"], a["c1"], "talk", datetime.now(CHINA) - timedelta(days=3), summary="第一次谈心")
    _record(a["counsellor"], a["c1"], "counselling", datetime.now(CHINA) - timedelta(days=1))

    resp = client.get(f"/reports/children/{a['c1'].id}/archive")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    thumb = f"/photos/{imaging.sha(data)}/thumb"
    assert thumb in html and "css/print.css" in html
    assert client.get(thumb).status_code == 200  # the thumbnail the page shows is served to this reader
    assert a["c1"].name in html and "13900000000" in html  # the file and the contact card
    assert "待审核" in html and "村委会未确认" in html
    assert html.index("第一次谈心") < html.index("了解假期学习情况")  # oldest first
    assert SECRET not in html
    client.delete("/api/v1/session")

    # The committee confirms; every reader sees the confirmation; the principal approves.
    login(client, a["principal"].username)
    from app.verify.services import approve, confirm

    confirm(stored, a["committee"], True, None)
    approve(stored, a["principal"])
    db.session.commit()
    html = client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    assert "村委会已确认" in html and "已通过" in html and "在待确认列表中" in html
    assert SECRET not in html  # the principal sees that a counselling session took place, never its text
    client.delete("/api/v1/session")

    login(client, a["counsellor"].username)  # nor does a counsellor's printed copy carry it
    assert SECRET not in client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    client.delete("/api/v1/session")

    login(client, a["committee"].username)
    html = client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    assert thumb in html and SECRET not in html and "第一次谈心" not in html  # home visits only
    assert client.get(f"/reports/children/{a['c2'].id}/archive").status_code == 404  # another village
    assert client.get(f"/reports/children/{world['B']['c1'].id}/archive").status_code == 404
    client.delete("/api/v1/session")
    login(client, a["other_teacher"].username)
    assert client.get(f"/reports/children/{a['c1'].id}/archive").status_code == 404

    exports = _exports("child_archive")
    assert len(exports) == 4 and {e.object_id for e in exports} == {str(a["c1"].id)}


def test_child_page_links_to_archive(client, world):
    login(client, world["A"]["teacher"].username)
    html = client.get(f"/children/{world['A']['c1'].id}").get_data(as_text=True)
    assert f"/reports/children/{world['A']['c1'].id}/archive" in html


# --- the teacher's term record ----------------------------------------------------------------------------------

@pytest.fixture
def term_data(world):
    a = world["A"]
    today = datetime.now(CHINA).date()
    start = today - timedelta(days=30)
    db.session.add(Term(school_id=a["school"].id, name="测试学期", starts_on=start, ends_on=today + timedelta(days=30)))
    only_rules(a["school"].id, [("home_visit", "term", 1), ("talk", "month", 1), ("contact", "month", 1)])
    db.session.commit()
    t = a["teacher"]
    when = datetime.now(CHINA) - timedelta(hours=3)
    v = _record(t, a["c1"], "home_visit", when)
    v.review_state, v.confirm_state = "approved", "confirmed"
    _record(t, a["c1"], "talk", when)
    r = _record(t, a["c1"], "talk", when - timedelta(minutes=5))
    r.review_state = "returned"
    db.session.add(Pairing(teacher_id=a["other_teacher"].id, child_id=a["c1"].id, responsible=False))
    db.session.commit()
    _record(a["other_teacher"], a["c1"], "contact", when)  # someone else's record: not this teacher's work
    _record(a["counsellor"], a["c1"], "counselling", when)
    db.session.commit()
    months = len({(start + timedelta(days=i)).strftime("%Y-%m") for i in range(31)})
    return {"months": months}


def test_term_record_cell_by_cell(client, world, term_data):
    a = world["A"]
    login(client, a["teacher"].username)
    resp = client.get("/reports/term-record.xlsx")
    wb = _book(resp)
    assert f"term-record-{a['teacher'].id}-" in resp.headers["Content-Disposition"]
    kids = _rows(wb["学生"])
    assert kids[0] == ["学号", "姓名", "班级", "包保责任人", "班主任", "家访次数", "家访已完成周期", "家访应完成周期", "谈心次数",
                       "谈心已完成周期", "谈心应完成周期", "家庭联系次数", "家庭联系已完成周期", "家庭联系应完成周期",
                       "参加集体活动次数", "监护人到场次数"]
    m = term_data["months"]
    assert kids[1:] == [[a["c1"].student_no, a["c1"].name, "三(1)班", "是", "否", 1, 1, 1, 1, 1, m, 0, 0, m, 0, 0]]
    summary = [_trim(r) for r in _rows(wb["汇总"])]
    assert summary[0] == ["教师", a["teacher"].name] and summary[2] == ["学期", "测试学期"]
    assert summary[5] == ["负责的学生数", 1]
    assert summary[7] == ["任务", "要求", "记录次数", "已完成周期", "应完成周期", "完成率", "适用学生"]
    assert summary[8] == ["家访", "每学期 1 次", 1, 1, 1, 1.0, 1]
    assert summary[9] == ["谈心", "每月 1 次", 1, 1, m, pytest.approx(1 / m), 1]
    assert summary[12] == ["任务", "待审核", "已通过", "已退回", "已更正"]
    assert summary[13] == ["家访", 0, 1, 0, 0] and summary[14] == ["谈心", 1, 0, 1, 0]
    assert summary[17] == ["家访确认", "村委会未确认", "只有签名", "村委会已确认", "村委会有异议"]
    assert summary[18] == ["家访", 0, 0, 1, 0]
    recs = _rows(wb["记录"])
    assert sorted((r[2], r[6]) for r in recs[1:]) == [("家访", "已通过"), ("谈心", "已退回"), ("谈心", "待审核")]
    assert SECRET not in _all_text(wb)
    assert len(_exports("term_record")) == 1 and _exports("term_record")[0].object_id == str(a["teacher"].id)


def test_term_record_access(client, world, term_data):
    a = world["A"]
    login(client, a["teacher"].username)
    assert client.get(f"/reports/term-record?teacher={a['other_teacher'].id}").status_code == 404
    page = client.get("/reports/term-record")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert SECRET not in page.get_data(as_text=True) and "测试学期" in page.get_data(as_text=True)
    client.delete("/api/v1/session")
    login(client, a["principal"].username)
    assert a["teacher"].name in client.get("/reports/term-record").get_data(as_text=True)  # the chooser
    assert client.get(f"/reports/term-record.xlsx?teacher={a['teacher'].id}").status_code == 200
    assert client.get(f"/reports/term-record.xlsx?teacher={world['B']['teacher'].id}").status_code == 404
    assert client.get(f"/reports/term-record.xlsx?teacher={a['counsellor'].id}").status_code == 404
    assert client.get("/reports/term-record.xlsx").status_code == 404
    client.delete("/api/v1/session")
    for who in ("committee", "counsellor", "admin"):
        login(client, a[who].username)
        assert client.get("/reports/term-record").status_code == 403, who
        client.delete("/api/v1/session")


def test_no_counselling_text_in_teacher_or_committee_exports(client, world, term_data):
    a = world["A"]
    for who in ("teacher", "committee"):
        login(client, a[who].username)
        urls = ["/reports/roster.xlsx", f"/reports/children/{a['c1'].id}/archive"]
        if who == "teacher":
            urls += ["/reports/term-record.xlsx", "/reports/term-record"]
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            body = _all_text(load_workbook(io.BytesIO(r.data))) if url.endswith(".xlsx") else r.get_data(as_text=True)
            assert SECRET not in body, (who, url)
        client.delete("/api/v1/session")


def test_every_file_field_round_trips(client, world):
    """Every field of the file (a left child's leaving too) survives export then import: nothing changes, no history."""
    from app.children.class_teachers import set_class_teachers
    from app.children.services import leave_child, save_guardian, update_child
    from app.models import FileChange

    a = world["A"]
    c1, c2 = a["c1"], a["c2"]
    update_child(c1, {"living_situation": "与奶奶同住", "surveyed_on": date(2026, 9, 3), "personality": "开朗",
                      "interests": "画画", "study": "中等", "psychology": "稳定", "special_needs": "=需要助听器",
                      "address": "一组 3 号", "boarding": True, "parents_away": "father", "health": "良好"}, None)
    save_guardian(c1, {"occupation": "务农", "work_place": "本村", "employer": "—", "employer_address": "本村",
                       "address": "一组 3 号", "age": 66, "health": "高血压"}, None, c1.entrusted_guardian)
    for role, name in (("father", "王大山"), ("mother", "李梅")):
        save_guardian(c1, {"role": role, "name": name, "relationship_": "父亲" if role == "father" else "母亲",
                           "phone": "13900000001", "age": 38, "health": "良好", "occupation": "电工",
                           "work_place": "广东东莞", "employer": "东莞某电子厂", "employer_address": "东莞长安镇",
                           "address": "东莞长安镇宿舍"}, None)
    set_class_teachers(a["school"].id, "三(1)班", [a["teacher"].id, a["other_teacher"].id], None)
    leave_child(c2, date(2026, 10, 8), "transferred", None)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(FileChange))
    login(client, a["principal"].username)
    data = client.get("/reports/roster.xlsx?left=1").data
    first = _rows(load_workbook(io.BytesIO(data)).active)
    by_no = {r[0]: dict(zip(first[0], r)) for r in first[1:]}
    r1 = by_no[c1.student_no]
    assert (r1["生活状况"], r1["本学期摸底日期"], r1["监护人职业"], r1["父亲工作单位"], r1["母亲单位地址"], r1["父亲住址"]) == (
        "与奶奶同住", "2026-09-03", "务农", "东莞某电子厂", "东莞长安镇", "东莞长安镇宿舍")
    assert r1["班主任账号"] == "、".join(sorted([a["teacher"].username, a["other_teacher"].username]))
    assert (by_no[c2.student_no]["离校日期"], by_no[c2.student_no]["离校原因"]) == ("2026-10-08", "转学")
    result = import_file(a["school"].id, a["principal"], "roster.xlsx", data)
    assert result.errors == [] and (result.created, result.updated) == (0, 2)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FileChange)) == before  # nothing changed
    again = _rows(load_workbook(io.BytesIO(client.get("/reports/roster.xlsx?left=1").data)).active)
    assert again == first
