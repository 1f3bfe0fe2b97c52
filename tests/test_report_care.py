"""Reports and care: the monthly report and the term record judge each child by the rules that are for it (a rule for
some categories: only their children, as the dashboard and the due lists do); the term record shows the activities the
teacher held with their sign-in, each child's attendance, and the follow-ups, never what a counselling one says."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.care.services import set_categories
from app.clock import today_local
from app.duties import services as duty
from app.extensions import db
from app.followups.services import assign, close
from app.models import Activity, DutyRule, FollowUp, Term
from app.records.services import ingest
from app.reports.monthly import monthly_report, parse_month
from app.reports.submission import snapshot

from .builders import CHINA, FIELDS, ingest_ok, item, local_iso, only_rules
from .conftest import login
from .test_activities import activity

SECRET = "保密辅导内容QK7"


def _visit(user, child, when: datetime):
    ingest_ok(user, [item("home_visit", child, when.isoformat())])


def _monthly_visit_for_poor_families(school) -> str:
    """The school's own rule: a home visit every month for the children of poor families (all year)."""
    db.session.add(DutyRule(school_id=school.id, kind="home_visit", period="month", times=1, season="all_year",
                            filter={}, categories=["poor"]))
    db.session.commit()
    return next(r.key for r in duty.rules_for(school.id) if r.categories)


def _book(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return load_workbook(io.BytesIO(resp.data))


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


# --- the monthly report --------------------------------------------------------------------------------------------

def test_monthly_report_judges_a_category_rule_on_that_categorys_children_only(client, build, world):
    a = world["A"]
    month = parse_month(None)
    day = datetime(month.year, month.month, 10, 10, 0, tzinfo=CHINA)
    only_rules(a["school"].id, [("talk", "month", 1)])
    key = _monthly_visit_for_poor_families(a["school"])
    t = a["teacher"]
    poor_missed, poor_visited = a["c1"], build.child(a["school"], a["v1"], t)
    elderly, plain = build.child(a["school"], a["v1"], t), build.child(a["school"], a["v1"], t)
    for c in (poor_missed, a["c2"], poor_visited, elderly, plain):
        c.enrolled_on = month - timedelta(days=60)
    for c in (poor_missed, poor_visited):
        set_categories(c, {"poor": None}, a["principal"])
    set_categories(elderly, {"elderly_guardian": None}, a["principal"])
    db.session.commit()
    _visit(t, poor_visited, day)
    _visit(t, plain, day)  # not in the category: a visit that the category's rule does not count
    db.session.commit()

    report = monthly_report(a["school"].id, month)
    [row] = [r for r in report["rows"] if r["class_name"] == "三(1)班"]
    # c2 (the other teacher's) is on file too: 5 children, of whom 2 are of poor families; one of them visited.
    assert row["on_file"] == 5 and row[f"of_{key}"] == 2 and row[f"done_{key}"] == 1
    assert row[f"coverage_{key}"] == 0.5  # the unvisited poor family's child is missing; the others are not judged
    assert report["total"][f"of_{key}"] == 2 and report["total"][f"coverage_{key}"] == 0.5
    assert "of_talk" not in report["total"]  # a rule for every child: judged on every child on file
    assert snapshot(a["school"].id, month)["total"][f"of_{key}"] == 2  # what the bureau gets, frozen

    login(client, a["principal"].username)
    wb = _book(client.get(f"/reports/monthly.xlsx?month={month:%Y-%m}"))
    head, total = _rows(wb["月报"])[:2]
    at = head.index("家访（家庭困难）应达标人数")
    assert head[at:at + 3] == ["家访（家庭困难）应达标人数", "家访（家庭困难）达标人数", "家访（家庭困难）达标率"]
    assert total[at:at + 3] == [2, 1, 0.5]
    html = client.get(f"/reports/monthly?month={month:%Y-%m}").get_data(as_text=True)
    assert "家访（家庭困难）应达标人数" in html and "达标率 = 达标人数 ÷ 应达标人数" in html
    client.get("/lang/en")
    html = client.get(f"/reports/monthly?month={month:%Y-%m}").get_data(as_text=True)
    assert "children it is for" in html
    assert "only the children of those categories are judged" in html


def test_monthly_report_a_child_outside_a_relaxed_rule_is_not_missing_it(app, build, world):
    """The school keeps the weekly talk only for children with behaviour problems: the others are not missing it."""
    a = world["A"]
    month = parse_month(None)
    only_rules(a["school"].id, [])
    talk = db.session.scalar(select(DutyRule).where(DutyRule.school_id == a["school"].id, DutyRule.key == "talk"))
    talk.active, talk.season, talk.categories = True, "all_year", ["behaviour"]
    db.session.commit()
    set_categories(a["c1"], {"behaviour": None}, a["principal"])
    a["c1"].enrolled_on = a["c2"].enrolled_on = month - timedelta(days=60)
    db.session.commit()
    report = monthly_report(a["school"].id, month)
    [row] = [r for r in report["rows"] if r["class_name"] == "三(1)班"]
    assert row["on_file"] == 2 and row["of_talk"] == 1 and row["done_talk"] == 0
    assert row["coverage_talk"] == 0.0  # c1 missed it; c2, outside the category, is not counted as missing
    set_categories(a["c1"], {}, a["principal"])
    db.session.commit()
    report = monthly_report(a["school"].id, month)
    assert report["total"]["of_talk"] == 0 and report["total"]["coverage_talk"] is None  # nobody owes it


# --- the term record -----------------------------------------------------------------------------------------------

@pytest.fixture
def term(world):
    a = world["A"]
    today = today_local()
    start = today - timedelta(days=30)
    db.session.add(Term(school_id=a["school"].id, name="测试学期", starts_on=start, ends_on=today + timedelta(days=30)))
    db.session.commit()
    return {"start": start, "months": len({(start + timedelta(days=i)).strftime("%Y-%m") for i in range(31)})}


def test_term_record_judges_each_child_by_its_rules(client, build, world, term):
    a = world["A"]
    t = a["teacher"]
    only_rules(a["school"].id, [("home_visit", "term", 1)])
    key = _monthly_visit_for_poor_families(a["school"])
    plain = build.child(a["school"], a["v1"], t)
    set_categories(a["c1"], {"poor": None}, a["principal"])
    db.session.commit()
    _visit(t, plain, datetime.now(CHINA) - timedelta(hours=2))
    db.session.commit()
    m = term["months"]

    login(client, t.username)
    wb = _book(client.get("/reports/term-record.xlsx"))
    summary = _rows(wb["汇总"])
    assert summary[7] == ["任务", "要求", "记录次数", "已完成周期", "应完成周期", "完成率", "适用学生"]
    assert summary[8] == ["家访", "每学期 1 次", 1, 1, 2, 0.5, 2]  # the term's visit, owed by both children
    # The poor families' monthly visit: the teacher's one visit was not to c1, the only child it is for.
    assert summary[9] == ["家访（家庭困难）", "每月 1 次", 1, 0, m, 0.0, 1]
    kids = {r[1]: r for r in _rows(wb["学生"])[1:]}
    head = _rows(wb["学生"])[0]
    at = head.index("家访（家庭困难）次数")
    assert kids[a["c1"].name][at:at + 3] == [0, 0, m]  # c1 owes a visit every month and has none
    assert kids[plain.name][at:at + 3] == [1, "不要求", 0]  # visited, but the poor families' rule is not for it
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert "不要求" in html and "这项任务只针对某些分类的学生" in html
    client.get("/lang/en")
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert "not required" in html and "Children it is for" in html


def _follow_up(user, child, due_on: str, what="每周给奶奶打电话", source=None) -> FollowUp:
    fields = {"what": what, "due_on": due_on} | ({"source_id": source.id} if source else {})
    [rec] = ingest_ok(user, [item("follow_up", child, local_iso(), fields)])
    db.session.commit()
    return db.session.scalar(select(FollowUp).where(FollowUp.record_id == rec.id))


@pytest.fixture
def care(build, world, term):
    """Activities and follow-ups around school A's teacher in the term."""
    a = world["A"]
    t, c1 = a["teacher"], a["c1"]
    c3 = build.child(a["school"], a["v1"], t, name="学生丙")
    assert ingest(t, [activity([c1, c3], type_="parents_meeting", guardians=[c1], title="=家长会")])[0]["status"] == "created"
    assert ingest(a["principal"], [activity([c1, a["c2"]], type_="class_meeting")])[0]["status"] == "created"
    assert ingest(a["other_teacher"], [activity([a["c2"]])])[0]["status"] == "created"
    yesterday = (today_local() - timedelta(days=1)).isoformat()
    late = _follow_up(t, c1, yesterday)
    done = _follow_up(t, c3, "2030-01-01", what="联系村医")
    close(t, done, "done", "已带去卫生院")
    [session] = ingest_ok(a["counsellor"], [item("counselling", c1, local_iso(), FIELDS["counselling"] | {"summary": SECRET})])
    secret = _follow_up(a["counsellor"], c1, "2030-01-01", what=f"{SECRET}的后续", source=session)
    assign(a["principal"], secret, t.id, None)
    close(a["counsellor"], secret, "done", f"{SECRET}已好转")
    _follow_up(a["other_teacher"], a["c2"], "2030-01-01", what="别人的跟进")
    old = _follow_up(t, c1, "2030-01-01", what="上学期的跟进")
    close(t, old, "done", "完成")
    old.record.received_at = datetime.combine(term["start"] - timedelta(days=20), datetime.min.time(), CHINA)
    old.closed_at = datetime.combine(term["start"] - timedelta(days=3), datetime.min.time(), CHINA)
    db.session.commit()
    return {"c3": c3, "late": late, "done": done, "secret": secret}


def test_term_record_shows_activities_and_sign_in(client, world, care):
    a = world["A"]
    login(client, a["principal"].username)
    wb = _book(client.get(f"/reports/term-record.xlsx?teacher={a['teacher'].id}"))
    acts = _rows(wb["集体活动"])
    assert acts[0] == ["活动编号", "时间", "活动类型", "主题", "地点", "签到学生", "签到监护人", "照片数", "纸质签到表"]
    [held] = acts[1:]  # only the teacher's own; the principal's and the other teacher's are not theirs
    mine = db.session.scalar(select(Activity.id).where(Activity.author_id == a["teacher"].id))
    assert held[0] == mine and held[2:] == ["家长会", "=家长会", "三年级教室", 2, 1, 0, "否"]
    assert wb["集体活动"].cell(2, 4).data_type == "s"  # typed text that looks like a formula stays text
    head, *kids = _rows(wb["学生"])
    came = {r[1]: r[-2:] for r in kids}
    # c1 came to the teacher's parents' meeting with a guardian and to the principal's class meeting.
    assert came[a["c1"].name] == [2, 1] and came[care["c3"].name] == [1, 0]
    assert head[-2:] == ["参加集体活动次数", "监护人到场次数"]
    html = client.get(f"/reports/term-record?teacher={a['teacher'].id}").get_data(as_text=True)
    assert 'id="term-activities"' in html and f"/activities/{mine}" in html and "=家长会" in html
    assert "参加 2 次 · 监护人到场 1 次" in html
    client.get("/lang/en")
    html = client.get(f"/reports/term-record?teacher={a['teacher'].id}").get_data(as_text=True)
    assert "Group activities held" in html and "Guardians signed in" in html and "came 2 times, guardian 1" in html


def test_term_record_shows_follow_ups_without_counselling_content(client, world, care):
    a = world["A"]
    for who, url in (("teacher", "/reports/term-record"), ("principal", f"/reports/term-record?teacher={a['teacher'].id}")):
        login(client, a[who].username)
        wb = _book(client.get(url.replace("term-record", "term-record.xlsx")))
        head, *rows = _rows(wb["跟进"])
        assert head == ["跟进编号", "班级", "学生", "要做什么", "负责人", "创建人", "完成期限", "状态", "逾期", "结果", "关闭时间"]
        by_id = {r[0]: r for r in rows}
        # The teacher's two, and the counsellor's given to the teacher; not the other teacher's nor last term's.
        assert set(by_id) == {care["late"].id, care["done"].id, care["secret"].id}
        late = by_id[care["late"].id]
        assert late[3:9] == ["每周给奶奶打电话", a["teacher"].name, a["teacher"].name, care["late"].due_on.isoformat(),
                             "进行中", "是"] and late[9:] == [None, None]
        done = by_id[care["done"].id]
        assert done[7:10] == ["已完成", "否", "已带去卫生院"] and done[10]
        secret = by_id[care["secret"].id]
        assert secret[3] == "心理辅导教师跟进（内容保密）" and secret[9] == "内容保密" and secret[4] == a["teacher"].name
        html = client.get(url).get_data(as_text=True)
        for body in (html, "\n".join(str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r)):
            assert SECRET not in body and "别人的跟进" not in body and "上学期的跟进" not in body
        assert "每周给奶奶打电话" in html and "已带去卫生院" in html and 'data-status="open"' in html
        assert f"/follow-ups/{care['late'].id}" in html
        client.delete("/api/v1/session")
    login(client, a["teacher"].username)
    client.get("/lang/en")
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert "Follow-up" in html and "Made by" in html and "Counsellor's follow-up (confidential)" in html
    assert ">Open<" in html and ">Done<" in html and "Overdue" in html


# --- the same children and the same owners as the dashboard and the due lists ---------------------------------------

def test_monthly_report_leaves_out_children_whose_parents_are_back_home_as_the_dashboard(app, build, world):
    """A child whose parents came home keeps the file but leaves the duties: the month's report counts the class as the
    dashboard does (same children on file, same children done)."""
    a = world["A"]
    t = a["teacher"]
    only_rules(a["school"].id, [("home_visit", "month", 1)])
    db.session.commit()
    home = build.child(a["school"], a["v1"], t, parents_away="none")
    now = datetime.now(CHINA) - timedelta(minutes=1)
    _visit(t, a["c1"], now)
    _visit(t, home, now)  # a visit to the child at home: work done, but not a left-behind child's duty
    db.session.commit()
    key = duty.rules_for(a["school"].id)[0].key

    report = monthly_report(a["school"].id, now.date().replace(day=1))
    [row] = [r for r in report["rows"] if r["class_name"] == "三(1)班"]
    [board] = [r for r in duty.coverage(a["school"].id, now.date(), "class") if r["key"] == "三(1)班"]
    assert (row["on_file"], row[f"done_{key}"]) == (board["children"], board[key]) == (2, 1)  # c1, c2; c1 visited
    assert row[f"coverage_{key}"] == 0.5
    assert row["home_visit"] == 2  # the records themselves are still the month's work, as on the dashboard's trend


def _owners_world(build, world):
    """School A: the teacher is class teacher of 三(1)班 (c1 paired with them, c2 with the other teacher); the teacher
    is also paired with a child of 四(1)班 (the other teacher's class) and one of 五(1)班 (no class teacher). The visit
    each month is the class teacher's duty, the talk each month the paired teacher's."""
    from app.children.class_teachers import set_class_teachers

    a = world["A"]
    t, o = a["teacher"], a["other_teacher"]
    only_rules(a["school"].id, [("talk", "month", 1)])
    db.session.add(DutyRule(school_id=a["school"].id, kind="home_visit", period="month", times=1, season="all_year",
                            filter={}, owner="class_teacher"))
    db.session.commit()
    set_class_teachers(a["school"].id, "三(1)班", [t.id], None)
    set_class_teachers(a["school"].id, "四(1)班", [o.id], None)
    c4 = build.child(a["school"], a["v1"], t, class_name="四(1)班", grade="四年级")
    c5 = build.child(a["school"], a["v1"], t, class_name="五(1)班", grade="五年级")
    home = build.child(a["school"], a["v1"], t, parents_away="none")  # parents back home: nobody's duty
    db.session.commit()
    visit = next(r.key for r in duty.rules_for(a["school"].id) if r.owner == "class_teacher")
    return {"c4": c4, "c5": c5, "home": home, "visit": visit, "talk": next(
        r.key for r in duty.rules_for(a["school"].id) if r.owner == "responsible")}


def test_term_record_judges_a_teacher_on_the_rules_that_are_theirs_as_the_due_lists(client, build, world, term):
    from app.reports.term import choose_term, term_record

    a = world["A"]
    t, o = a["teacher"], a["other_teacher"]
    w = _owners_world(build, world)
    c1, c2, c4, c5 = a["c1"], a["c2"], w["c4"], w["c5"]
    now = datetime.now(CHINA) - timedelta(hours=1)
    _visit(t, c2, now)  # the class teacher's visit to a child paired with someone else: theirs to make
    _visit(t, c4, now)  # a visit to a paired child of another teacher's class: that class teacher's duty, not theirs
    db.session.commit()
    today = today_local()

    def judged(teacher):
        rec = term_record(teacher, teacher, choose_term(a["school"].id, "current", today), today)
        return {r["child"].id: {k for k, v in r["met"].items() if v is not None} for r in rec["rows"]}, rec

    mine, rec = judged(t)
    assert mine == {c1.id: {w["visit"], w["talk"]}, c2.id: {w["visit"]}, c4.id: {w["talk"]},
                    c5.id: {w["visit"], w["talk"]}}  # the child at home is on no list
    # ... exactly the duties the due lists give the teacher on those children.
    assert mine == {cid: set(keys) for cid, keys in duty.owned_rules(t, list(mine)).items()}
    met = {r["child"].id: r["met"] for r in rec["rows"]}
    assert met[c2.id][w["visit"]] == 1 and met[c4.id][w["visit"]] is None
    assert rec["totals"]["met"][w["visit"]] == 1  # the visit to c4 is not theirs to be credited for
    assert {r["key"]: r["owed"] for r in rec["rules"]} == {w["visit"]: 3, w["talk"]: 3}
    theirs, _rec = judged(o)
    assert theirs == {c2.id: {w["talk"]}, c4.id: {w["visit"]}}  # 四(1)班's class teacher owes c4's visit
    assert theirs == {cid: set(keys) for cid, keys in duty.owned_rules(o, list(theirs)).items()}

    login(client, t.username)
    kids = _rows(_book(client.get("/reports/term-record.xlsx"))["学生"])
    by_name = {r[1]: r for r in kids[1:]}
    assert kids[0][3:5] == ["包保责任人", "班主任"]
    assert by_name[c2.name][3:5] == ["否", "是"] and by_name[c4.name][3:5] == ["是", "否"]
    assert w["home"].name not in by_name
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert "负责的学生" in html and "由班主任负责的任务" in html and c2.name in html and w["home"].name not in html
    client.get("/lang/en")
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert "Children in their charge" in html and "A rule for the class teacher" in html


def test_demo_teacher1_term_record_shows_an_activity_and_an_open_follow_up(app, client):
    """The acceptance testers' teacher1 sees both sections filled on the demo."""
    from app.demo import DEMO_PASSWORD, seed_demo, seed_demo_records
    from app.models import User

    school = seed_demo()
    today = today_local()  # a term around today, whatever the season the test runs in
    db.session.add(Term(school_id=school.id, name="演示学期", starts_on=today - timedelta(days=60),
                        ends_on=today + timedelta(days=60)))
    db.session.commit()
    seed_demo_records()
    t1 = db.session.scalar(select(User).where(User.username == "teacher1"))
    login(client, "teacher1", DEMO_PASSWORD)
    wb = _book(client.get("/reports/term-record.xlsx"))
    [held] = _rows(wb["集体活动"])[1:]
    assert held[2:7] == ["家长会", "期中家长会", "三年级教室", held[5], 2] and held[5] >= 3  # children and 2 guardians
    [open_one] = [r for r in _rows(wb["跟进"])[1:] if r[7] == "进行中"]
    assert open_one[3].startswith("帮孩子和在外务工的妈妈约好") and open_one[4] == t1.name and open_one[8] == "否"
    html = client.get("/reports/term-record").get_data(as_text=True)
    assert 'id="term-activities"' in html and "期中家长会" in html and 'data-status="open"' in html
