"""The child's file kept current: the duty owner (paired or class teacher), the file's history on the page and in the
archive, leaving and returning (dropout alert and counts), and the term statistics table cell by cell."""
from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from app.children.class_teachers import set_class_teachers
from app.children.services import leave_child, save_guardian, update_child
from app.children.stats import dropouts_by_school
from app.clock import today_local
from app.duties.services import Window, coverage, duties_for
from app.extensions import db
from app.models import Child, DutyRule, FileChange, Notification, Term
from app.reports.term_stats import COLUMNS, term_stats

from .conftest import login, page_csrf

DAY = date(2026, 10, 15)  # in the default autumn term: the termly home visit is due


def _due(user, day=DAY) -> set[tuple[int, str]]:
    children = db.session.scalars(select(Child).where(Child.school_id == user.school_id)).all()
    return {(r["child"].id, r["rule"]) for r in duties_for(user, children, day)}


def _class_teacher(build, world):
    a = world["A"]
    ct = build.user("teacher", a["school"], username="classteachera")
    set_class_teachers(a["school"].id, "三(1)班", [ct.id], None)
    db.session.commit()
    return ct


# --- the duty owner -----------------------------------------------------------------------------------------------

def test_home_visit_owner_moves_the_due_item_to_the_class_teacher(client, build, world):
    a = world["A"]
    ct = _class_teacher(build, world)
    c1, c2 = a["c1"].id, a["c2"].id
    # Default: the paired teacher has it; the class teacher sees the class but owes nothing.
    assert (c1, "home_visit") in _due(a["teacher"]) and (c1, "talk") in _due(a["teacher"])
    assert _due(ct) == set()
    login(client, a["principal"].username)
    token = page_csrf(client.get("/duties/settings").get_data(as_text=True))
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "save_rule", "key": "home_visit",
                                              "kind": "home_visit", "period": "term", "times": "1", "season": "term",
                                              "owner": "class_teacher"})
    assert r.status_code == 302
    assert db.session.scalar(select(DutyRule.owner).where(DutyRule.key == "home_visit")) == "class_teacher"
    assert _due(ct) == {(c1, "home_visit"), (c2, "home_visit")}
    assert (c1, "home_visit") not in _due(a["teacher"]) and (c1, "talk") in _due(a["teacher"])
    # The phone is told whose duty it is, per child: it never decides it.
    login(client, ct.username)
    kids = {c["id"]: c["duties"] for c in client.get("/api/v1/roster").get_json()["children"]}
    assert kids == {c1: ["home_visit"], c2: ["home_visit"]}
    login(client, a["teacher"].username)
    kids = {c["id"]: c["duties"] for c in client.get("/api/v1/roster").get_json()["children"]}
    assert "home_visit" not in kids[c1] and "talk" in kids[c1]
    # A class without a class teacher leaves the visit with the paired teacher (no duty falls through).
    set_class_teachers(a["school"].id, "三(1)班", [], None)
    db.session.commit()
    assert (c1, "home_visit") in _due(a["teacher"])


def test_an_unknown_owner_is_refused(client, world):
    login(client, world["A"]["principal"].username)
    token = page_csrf(client.get("/duties/settings").get_data(as_text=True))
    r = client.post("/duties/settings", data={"csrf_token": token, "what": "save_rule", "key": "home_visit",
                                              "kind": "home_visit", "period": "term", "times": "1", "season": "term",
                                              "owner": "everyone"})
    assert r.status_code == 400 and "由谁负责" in r.get_data(as_text=True)


def test_parents_back_home_leaves_the_duties_but_keeps_the_file(client, world):
    a = world["A"]
    c1 = a["c1"]
    assert (c1.id, "home_visit") in _due(a["teacher"])
    update_child(c1, {"parents_away": "none"}, a["principal"])
    db.session.commit()
    assert _due(a["teacher"]) == set()
    assert {r["key"]: r["children"] for r in coverage(a["school"].id, DAY, "class")}[c1.class_name] == 1  # c2 only
    login(client, a["teacher"].username)
    assert client.get(f"/children/{c1.id}").status_code == 200


# --- history --------------------------------------------------------------------------------------------------------

def test_history_on_the_page_and_in_the_archive(client, world):
    a = world["A"]
    c1 = a["c1"]
    update_child(c1, {"living_situation": "与奶奶同住", "parents_away": "father"}, a["principal"])
    save_guardian(c1, {"phone": "13700000000"}, a["principal"], c1.entrusted_guardian)
    db.session.commit()
    rows = db.session.execute(select(FileChange.field, FileChange.old, FileChange.new, FileChange.source)
                              .where(FileChange.child_id == c1.id).order_by(FileChange.id)).all()
    g = c1.entrusted_guardian
    assert rows == [("parents_away", "both", "father", "edit"), ("living_situation", None, "与奶奶同住", "edit"),
                    (f"guardian:{g.id}.phone", "13900000000", "13700000000", "edit")]
    login(client, a["teacher"].username)
    for url in (f"/children/{c1.id}", f"/reports/children/{c1.id}/archive"):
        html = client.get(url).get_data(as_text=True)
        assert "档案变更记录" in html, url
        assert "奶奶 · 电话" in html and "13900000000 → 13700000000" in html, url
        assert "父母均外出 → 父亲外出" in html and "— → 与奶奶同住" in html and "编辑" in html, url
        assert a["principal"].name in html


def test_history_in_english(client, world):
    a = world["A"]
    update_child(a["c1"], {"parents_away": "mother"}, a["principal"])
    db.session.commit()
    login(client, a["principal"].username)
    client.set_cookie("lang", "en")
    html = client.get(f"/children/{a['c1'].id}").get_data(as_text=True)
    assert "File history" in html and "Mother away" in html


# --- leaving and returning ----------------------------------------------------------------------------------------

def _post(client, url, **data):
    token = page_csrf(client.get(f"/children/{data.pop('child_id')}").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_dropout_alerts_the_principal_and_is_counted(client, world):
    a = world["A"]
    c1 = a["c1"]
    login(client, a["principal"].username)
    # A date and a reason are both needed.
    r = _post(client, f"/children/{c1.id}/leave", child_id=c1.id, left_on="", leave_reason="dropped_out")
    assert r.status_code == 302 and db.session.get(Child, c1.id).left_on is None
    day = today_local()
    r = _post(client, f"/children/{c1.id}/leave", child_id=c1.id, left_on=day.isoformat(), leave_reason="dropped_out")
    assert r.status_code == 302
    db.session.expire_all()
    child = db.session.get(Child, c1.id)
    assert (child.left_on, child.leave_reason) == (day, "dropped_out")
    [n] = db.session.scalars(select(Notification).where(Notification.user_id == a["principal"].id)).all()
    assert n.kind == "dropout" and c1.name not in n.text and n.url == f"/children/{c1.id}"
    assert dropouts_by_school([a["school"].id, world["B"]["school"].id], day - timedelta(days=30), day) == {
        a["school"].id: 1, world["B"]["school"].id: 0}
    assert (c1.id, "home_visit") not in _due(a["teacher"])
    assert client.get(f"/children/{c1.id}").status_code == 200  # the file is kept
    # Re-admitted: the file opens again; both steps are in its history, from the leaving flow.
    r = _post(client, f"/children/{c1.id}/return", child_id=c1.id)
    db.session.expire_all()
    assert db.session.get(Child, c1.id).left_on is None
    rows = db.session.execute(select(FileChange.field, FileChange.old, FileChange.new, FileChange.source)
                              .where(FileChange.child_id == c1.id).order_by(FileChange.id)).all()
    assert rows == [("left_on", None, day.isoformat(), "leave"), ("leave_reason", None, "dropped_out", "leave"),
                    ("left_on", day.isoformat(), None, "leave"), ("leave_reason", "dropped_out", None, "leave")]
    html = client.get(f"/children/{c1.id}").get_data(as_text=True)
    assert "离校或复学" in html and "辍学 → —" in html


def test_other_reasons_alert_nobody_and_a_future_date_is_refused(world):
    import pytest
    from app.children.services import FileError

    a = world["A"]
    with pytest.raises(FileError):
        leave_child(a["c1"], today_local() + timedelta(days=3), "transferred", a["principal"])
    with pytest.raises(FileError):
        leave_child(a["c1"], today_local(), "moved_away", a["principal"])
    leave_child(a["c1"], today_local(), "transferred", a["principal"])
    db.session.commit()
    assert db.session.scalars(select(Notification)).all() == []


# --- the term statistics table --------------------------------------------------------------------------------------

TERM = Window(date(2026, 9, 1), date(2027, 1, 20))


def _stats_world(build, world):
    a = world["A"]
    s, v = a["school"], a["v1"]
    c1, c2 = a["c1"], a["c2"]  # 三(1)班
    for c, fields in ((c1, {"enrolled_on": date(2025, 9, 1)}),
                      (c2, {"enrolled_on": date(2026, 9, 10), "parents_away": "father"})):
        for k, val in fields.items():
            setattr(c, k, val)
    four = "四(1)班"
    for enrolled, fields in ((date(2025, 3, 1), {"class_name": four, "parents_away": "mother"}),
                             (date(2025, 3, 1), {"class_name": four, "parents_away": "none"}),
                             (date(2025, 3, 1), {"class_name": four, "left_on": date(2026, 10, 8),
                                                 "leave_reason": "dropped_out"}),
                             (date(2025, 3, 1), {"left_on": date(2026, 6, 30), "leave_reason": "transferred"}),  # before
                             (date(2026, 12, 15), {})):  # enrolled after the day counted
        build.child(s, v, **fields).enrolled_on = enrolled
    db.session.commit()


def test_term_statistics_cell_by_cell(build, world):
    _stats_world(build, world)
    stats = term_stats(world["A"]["school"].id, TERM, date(2026, 11, 30))
    zero = dict.fromkeys(COLUMNS, 0)
    assert stats["rows"] == [
        {"class_name": "三(1)班", **zero, "on_file": 2, "away_both": 1, "away_father": 1, "new": 1},
        {"class_name": "四(1)班", **zero, "on_file": 2, "away_mother": 1, "left_dropped_out": 1, "returned_home": 1},
    ]
    assert stats["totals"] == {**zero, "on_file": 4, "away_both": 1, "away_father": 1, "away_mother": 1, "new": 1,
                               "left_dropped_out": 1, "returned_home": 1}
    assert stats["until"] == date(2026, 11, 30)


def test_term_statistics_page_and_xlsx(client, build, world):
    _stats_world(build, world)
    a = world["A"]
    today = today_local()
    db.session.add(Term(school_id=a["school"].id, name="本学期", starts_on=today - timedelta(days=60),
                        ends_on=today + timedelta(days=60)))
    db.session.commit()
    login(client, a["teacher"].username)
    assert client.get("/reports/term-stats").status_code == 403
    login(client, a["principal"].username)
    html = client.get("/reports/term-stats").get_data(as_text=True)
    assert "每学期留守儿童统计表" in html and "四(1)班" in html and "不再留守" in html
    r = client.get("/reports/term-stats.xlsx")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].isascii() and a["school"].name not in r.headers["Content-Disposition"]
    rows = [list(x) for x in load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True)]
    head = rows[1]
    assert head[:3] == ["班级", "在册人数", "父母均外出"] and "离校：辍学" in head and head[-1] == "不再留守（父母返乡）"
    by_class = {row[0]: dict(zip(head, row)) for row in rows[2:]}
    assert set(by_class) == {"三(1)班", "四(1)班", "合计"}  # the children who left before the term are in no row
    assert by_class["四(1)班"]["在册人数"] == 2 and by_class["四(1)班"]["离校：辍学"] == 1
    stats = term_stats(a["school"].id, Window(today - timedelta(days=60), today + timedelta(days=60)), today)
    assert [by_class["合计"][h] for h in head[1:]] == [stats["totals"][k] for k in COLUMNS]
