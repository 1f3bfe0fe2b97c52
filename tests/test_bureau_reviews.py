"""The bureau's appraisals and special inspections (rows 61, 62): recorded and corrected by the county's bureau,
checked (Chinese errors, nothing stored), audited by id, read by the school's principal who is told; nobody else."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.bureau.appraisals import school_year, term_period
from app.extensions import db
from app.models import AuditEntry, Notification, SchoolReview
from app.clock import today_local

from .conftest import login


@pytest.fixture
def county(build):
    c = build.county("青溪县")
    x, y = build.school("第一小学", county=c), build.school("第二小学", county=c)
    v = build.village(x, "东村")
    teacher = build.user("teacher", x)
    child = build.child(x, v, teacher, name="王小明")
    return {"x": x, "y": y, "child": child, "teacher": teacher, "principal": build.user("principal", x),
            "principal_y": build.user("principal", y), "counsellor": build.user("counsellor", x),
            "bureau": build.user("bureau", None, county=c), "bureau_admin": build.user("bureau_admin", None, county=c),
            "far": build.user("bureau", None, county=build.county("远方县"))}


def periods():
    today = today_local()
    return school_year(today), term_period(today)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(SchoolReview))


def post(client, token, school_id, **data):
    return client.post(f"/bureau/reviews/{school_id}", data={"csrf_token": token} | data)


def test_periods():
    assert school_year(date(2026, 9, 1)) == "2026-2027" and school_year(date(2027, 7, 31)) == "2026-2027"
    assert term_period(date(2026, 10, 8)) == "2026-2027-1" and term_period(date(2027, 1, 15)) == "2026-2027-1"
    assert term_period(date(2027, 3, 20)) == "2026-2027-2" and term_period(date(2027, 8, 1)) == "2027-2028-1"


def test_bureau_records_an_appraisal_and_an_inspection(client, county):
    year, term = periods()
    x = county["x"]
    token = login(client, county["bureau"].username)
    html = client.get("/bureau/reviews").get_data(as_text=True)
    assert "未考核" in html and "未督查" in html and "第一小学" in html and "第二小学" in html
    assert "王小明" not in html  # aggregates only
    r = post(client, token, x.id, kind="appraisal", period=year, outcome="good", findings="台账齐全，家访记录完整。")
    assert r.status_code == 302
    r = post(client, token, x.id, kind="inspection", period=term, outcome="rectify", findings="结对帮扶记录不全。",
             rectify_by="2026-12-31")
    assert r.status_code == 302
    rows = {s.kind: s for s in db.session.scalars(select(SchoolReview))}
    assert (rows["appraisal"].outcome, rows["appraisal"].period, rows["appraisal"].county_id) == ("good", year, x.county_id)
    assert (rows["inspection"].outcome, rows["inspection"].rectify_by) == ("rectify", date(2026, 12, 31))
    assert rows["appraisal"].author_id == county["bureau"].id
    html = client.get("/bureau/reviews").get_data(as_text=True)
    row = html.split(f'<tr data-school="{x.id}">')[1].split("</tr>")[0]
    assert "良好" in row and "需整改" in row and "2026-12-31" in row
    row_y = html.split(f'<tr data-school="{county["y"].id}">')[1].split("</tr>")[0]
    assert "未考核" in row_y and "未督查" in row_y
    # correcting it: the same row, no second one; bureau_admin may write too
    token = login(client, county["bureau_admin"].username)
    assert post(client, token, x.id, kind="appraisal", period=year, outcome="excellent", findings="").status_code == 302
    assert count() == 2 and db.session.scalar(select(SchoolReview.outcome).where(SchoolReview.kind == "appraisal")) == "excellent"
    audits = db.session.execute(select(AuditEntry.action, AuditEntry.object_id).where(
        AuditEntry.object_type == "school_review").order_by(AuditEntry.id)).all()
    assert [a for a, _i in audits] == ["create", "create", "edit"]
    assert all(i.isdigit() for _a, i in audits)  # ids only


@pytest.mark.parametrize("data, field_message", [
    ({"kind": "appraisal", "outcome": "very good"}, "请选择考核等级"),
    ({"kind": "inspection", "outcome": "good"}, "请选择督查结果"),
    ({"kind": "appraisal", "outcome": "good", "findings": "很" * 2001}, "意见最多 2000 个字"),
    ({"kind": "inspection", "outcome": "rectify", "rectify_by": "2026-13-40"}, "整改期限不是有效的日期"),
    ({"kind": "inspection", "outcome": "rectify", "rectify_by": "明年"}, "整改期限不是有效的日期"),
    ({"kind": "inspection", "outcome": "met", "rectify_by": "2026-12-31"}, "只有“需整改”才填写整改期限"),
    ({"kind": "appraisal", "outcome": "good", "period": "2026-2028"}, "学年或学期不对"),
    ({"kind": "audit", "outcome": "good"}, "没有这种考核"),
])
def test_bad_input_is_400_in_chinese_and_nothing_stored(client, county, data, field_message):
    year, term = periods()
    token = login(client, county["bureau"].username)
    data = {"period": year if data["kind"] == "appraisal" else term} | data
    r = post(client, token, county["x"].id, **data)
    assert r.status_code == 400
    assert field_message in r.get_data(as_text=True)
    assert count() == 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "school_review")) == 0


def test_without_csrf_nothing_is_stored(client, county):
    login(client, county["bureau"].username)
    r = client.post(f"/bureau/reviews/{county['x'].id}", data={"kind": "appraisal", "period": periods()[0], "outcome": "good"})
    assert r.status_code == 400 and "表单已过期" in r.get_data(as_text=True) and count() == 0


def test_far_county_gets_404_and_sees_no_school(client, county):
    token = login(client, county["far"].username)
    assert post(client, token, county["x"].id, kind="appraisal", period=periods()[0], outcome="good").status_code == 404
    assert count() == 0
    html = client.get("/bureau/reviews").get_data(as_text=True)
    assert "第一小学" not in html and "本县还没有学校" in html


def test_school_roles_cannot_write_and_bureau_cannot_read_the_school_page(client, county):
    for role in ("teacher", "principal", "counsellor"):
        token = login(client, county[role].username)
        assert post(client, token, county["x"].id, kind="appraisal", period=periods()[0], outcome="good").status_code == 403
        assert client.get("/bureau/reviews").status_code == 403
    assert count() == 0
    login(client, county["bureau"].username)
    assert client.get("/reports/reviews").status_code == 404  # a school's page: not the county's
    for role in ("teacher", "counsellor"):
        login(client, county[role].username)
        assert client.get("/reports/reviews").status_code == 403


def test_principal_sees_and_is_told_another_principal_not(client, county):
    year, term = periods()
    token = login(client, county["bureau"].username)
    post(client, token, county["x"].id, kind="appraisal", period=year, outcome="pass", findings="家访覆盖率偏低。")
    post(client, token, county["x"].id, kind="inspection", period=term, outcome="rectify", findings="", rectify_by="2027-01-10")
    told = db.session.scalars(select(Notification).where(Notification.kind == "school_review")).all()
    assert {n.user_id for n in told} == {county["principal"].id}
    texts = sorted(n.text for n in told)
    assert any("需整改" in t and "2027-01-10" in t for t in texts) and any("合格" in t for t in texts)
    assert all(n.url == "/reports/reviews" and "王小明" not in n.text and "第一小学" not in n.text for n in told)

    login(client, county["principal"].username)
    assert "/reports/reviews" in client.get("/").get_data(as_text=True)
    html = client.get("/reports/reviews").get_data(as_text=True)
    assert "合格" in html and "家访覆盖率偏低。" in html and "需整改" in html and "2027-01-10" in html
    main = html.split("<main", 1)[1]
    assert "<textarea" not in main and "<select" not in main and "/bureau/" not in main  # read-only
    login(client, county["principal_y"].username)
    html = client.get("/reports/reviews").get_data(as_text=True)
    assert "家访覆盖率偏低。" not in html and "还没有记录本校的考核或督查" in html


def test_english_pages(client, county):
    year, _term = periods()
    client.set_cookie("lang", "en")
    token = login(client, county["bureau"].username)
    html = client.get("/bureau/reviews").get_data(as_text=True)
    assert "Appraisals and inspections" in html and "Not appraised" in html and "Not inspected" in html
    r = post(client, token, county["x"].id, kind="appraisal", period=year, outcome="bad")
    assert r.status_code == 400 and "Choose the appraisal grade" in r.get_data(as_text=True)
    post(client, token, county["x"].id, kind="appraisal", period=year, outcome="excellent")
    login(client, county["principal"].username)
    html = client.get("/reports/reviews").get_data(as_text=True)
    assert "Excellent" in html and "school year" in html
