"""Categories (分类) and plans (一人一策): a rule for a category applies to that category's children only (due list,
overdue list, dashboard, the phone's plan); the designated contact shows on the file, card and lists; a plan keeps
its versions; who may see and edit them."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.care.services import CareError, plans_to_review, save_plan, set_categories
from app.clock import today_local
from app.duties import services as duty
from app.extensions import db
from app.models import CarePlan, ChildCategory, DutyRule, FileChange

from .builders import ingest_ok, item
from .conftest import login, page_csrf

DAY = date(2026, 11, 18)  # a Wednesday in the autumn term


def _two_talks_a_week_for_single_parents(a) -> str:
    db.session.add(DutyRule(school_id=a["school"].id, kind="talk", period="week", times=2, season="term",
                            filter={}, categories=["single_parent"]))
    db.session.commit()
    return next(r.key for r in duty.rules_for(a["school"].id) if r.categories)


def _c3(build, a):
    """A second child of the teacher, in no category."""
    return build.child(a["school"], a["v1"], a["teacher"])


def test_category_rule_applies_only_to_that_categorys_children(app, world, build):
    a = world["A"]
    c3 = _c3(build, a)
    key = _two_talks_a_week_for_single_parents(a)
    set_categories(a["c1"], {"single_parent": a["teacher"].id}, a["principal"])
    db.session.commit()
    ingest_ok(a["teacher"], [item("talk", a["c1"], "2026-11-17T10:00:00+08:00"),
                             item("talk", c3, "2026-11-17T10:00:00+08:00")])
    rows = {(r["child"].id, r["rule"]): r["status"] for r in duty.duties_for(a["teacher"], [a["c1"], c3], DAY)}
    # One talk this week: the weekly talk is done for both; c1 (single parent) still owes the second talk, and was
    # owed two last week too (overdue); c3 owes nothing of that rule.
    assert ("talk" in {r for _c, r in rows}) is False
    assert rows[(a["c1"].id, key)] == "overdue"
    assert (c3.id, key) not in rows
    total, late = duty.overdue_children(a["school"].id, DAY)
    late_rules = {r["id"]: r["rules"] for r in late}
    assert key in late_rules[a["c1"].id] and key not in late_rules.get(c3.id, [])
    cov = {r["key"]: r for r in duty.coverage(a["school"].id, DAY, "class")}["三(1)班"]
    assert cov[key] == 0 and cov["of"][key] == 1 and cov["children"] == 3  # c1, c2 (other teacher), c3
    ingest_ok(a["teacher"], [item("talk", a["c1"], "2026-11-18T09:00:00+08:00")])
    rows = {(r["child"].id, r["rule"]) for r in duty.duties_for(a["teacher"], [a["c1"], c3], DAY)}
    assert (a["c1"].id, key) not in rows
    cov = {r["key"]: r for r in duty.coverage(a["school"].id, DAY, "class")}["三(1)班"]
    assert cov[key] == 1 and cov["of"][key] == 1


def test_the_phone_gets_the_rule_with_the_children_it_applies_to(client, world, build):
    a = world["A"]
    c3 = _c3(build, a)
    key = _two_talks_a_week_for_single_parents(a)
    set_categories(a["c1"], {"single_parent": None}, a["principal"])
    db.session.commit()
    login(client, a["teacher"].username)
    rules = {r["key"]: r for r in client.get("/api/v1/roster").get_json()["duties"]["rules"]}
    assert rules[key]["children"] == [a["c1"].id] and rules[key]["categories"] == ["single_parent"]
    assert rules[key]["times"] == 2 and rules["talk"]["children"] is None
    assert c3.id not in rules[key]["children"]


def test_settings_save_a_rule_for_a_category_and_refuse_an_unknown_one(client, world):
    a = world["A"]
    login(client, a["principal"].username)
    token = page_csrf(client.get("/duties/settings").get_data(as_text=True))
    form = {"csrf_token": token, "what": "add_rule", "kind": "talk", "period": "week", "times": "2", "season": "term",
            "label": "", "categories": ["orphan"]}
    assert client.post("/duties/settings", data=form).status_code == 302
    row = db.session.scalar(select(DutyRule).where(DutyRule.school_id == a["school"].id, DutyRule.key.is_(None)))
    assert row.categories == ["orphan"]
    assert "孤儿" in next(r.title for r in duty.rules_for(a["school"].id) if r.categories)
    r = client.post("/duties/settings", data=form | {"categories": ["c999999"]})
    assert r.status_code == 400 and "所选分类无效" in r.get_data(as_text=True)


def test_principal_sets_categories_and_contact_shown_on_file_card_and_list(client, world):
    a = world["A"]
    login(client, a["principal"].username)
    page = client.get(f"/children/{a['c1'].id}/categories").get_data(as_text=True)
    r = client.post(f"/children/{a['c1'].id}/categories", data={
        "csrf_token": page_csrf(page), "category": ["orphan", "poor"], "contact-orphan": str(a["other_teacher"].id)})
    assert r.status_code == 302
    assert {c.category for c in db.session.scalars(select(ChildCategory))} == {"orphan", "poor"}
    history = db.session.scalars(select(FileChange).where(FileChange.child_id == a["c1"].id)).all()
    assert {h.field for h in history} >= {"category:orphan", "category:poor"}
    name = a["other_teacher"].name
    assert "专人联系：" + name in client.get(f"/children/{a['c1'].id}").get_data(as_text=True)
    card = client.get(f"/children/{a['c1'].id}/card").get_data(as_text=True)
    assert "孤儿" in card and name in card
    assert "家庭困难" in client.get(f"/reports/children/{a['c1'].id}/archive").get_data(as_text=True)
    login(client, a["teacher"].username)
    assert "专人联系：" + name in client.get("/").get_data(as_text=True)  # the teacher's list
    # The village sees the file but not its categories (minimum necessary).
    login(client, a["committee"].username)
    assert "孤儿" not in client.get(f"/children/{a['c1'].id}").get_data(as_text=True)


def test_contact_must_be_staff_of_the_school(app, world):
    a, b = world["A"], world["B"]
    try:
        set_categories(a["c1"], {"orphan": b["teacher"].id}, a["principal"])
        raise AssertionError("a teacher of another school was accepted")
    except CareError:
        db.session.rollback()
    try:
        set_categories(a["c1"], {"c999": None}, a["principal"])
        raise AssertionError("an unknown category was accepted")
    except CareError:
        db.session.rollback()
    assert db.session.scalar(select(ChildCategory.id)) is None


def test_school_adds_its_own_category(client, world):
    a = world["A"]
    login(client, a["principal"].username)
    token = page_csrf(client.get("/care/categories").get_data(as_text=True))
    assert client.post("/care/categories", data={"csrf_token": token, "what": "add", "name": "留守女童"}).status_code == 302
    assert client.post("/care/categories", data={"csrf_token": token, "what": "add", "name": ""}).status_code == 200
    page = client.get(f"/children/{a['c1'].id}/categories").get_data(as_text=True)
    assert "留守女童" in page
    login(client, world["B"]["principal"].username)
    assert "留守女童" not in client.get(f"/children/{world['B']['c1'].id}/categories").get_data(as_text=True)


def test_plan_keeps_its_history_and_shows_its_review_in_the_todo(client, world):
    a = world["A"]
    login(client, a["teacher"].username)  # the responsible teacher
    url = f"/children/{a['c1'].id}/plan"
    token = page_csrf(client.get(url).get_data(as_text=True))
    soon = (today_local() + timedelta(days=3)).isoformat()
    assert client.post(url, data={"csrf_token": token, "goals": "按时完成作业", "measures": "每周两次辅导",
                                  "review_on": soon}).status_code == 302
    assert client.post(url, data={"csrf_token": token, "goals": "按时完成作业", "measures": "每周三次辅导",
                                  "review_on": soon}).status_code == 302
    versions = db.session.scalars(select(CarePlan).order_by(CarePlan.id)).all()
    assert [v.measures for v in versions] == ["每周两次辅导", "每周三次辅导"]
    page = client.get(url).get_data(as_text=True)
    assert "每周两次辅导" in page and "每周三次辅导" in page
    assert "每周三次辅导" in client.get(f"/children/{a['c1'].id}").get_data(as_text=True)
    assert 'id="plan-reviews"' in client.get("/").get_data(as_text=True)
    assert 'id="plan-reviews"' in client.get("/duties/").get_data(as_text=True)
    # Bad input answers in Chinese, not a 500.
    r = client.post(url, data={"csrf_token": token, "goals": "", "measures": "x", "review_on": ""})
    assert r.status_code == 400 and "目标和措施都要填写" in r.get_data(as_text=True)
    r = client.post(url, data={"csrf_token": token, "goals": "g", "measures": "x", "review_on": "2026-13-40"})
    assert r.status_code == 400 and "复查日期格式不对" in r.get_data(as_text=True)
    assert len(db.session.scalars(select(CarePlan)).all()) == 2


def test_plan_review_list_covers_only_due_plans(app, world):
    a = world["A"]
    today = date(2026, 11, 18)
    save_plan(a["c1"], "g", "m", today + timedelta(days=30), a["principal"], today)
    save_plan(a["c2"], "g", "m", today - timedelta(days=1), a["principal"], today)
    db.session.commit()
    ids = select(db.literal(a["c1"].id)).union(select(db.literal(a["c2"].id)))
    assert [(c.id, late) for c, _p, late in plans_to_review(ids, today)] == [(a["c2"].id, True)]


def test_plan_access(client, world):
    a, b = world["A"], world["B"]
    # A paired teacher who is not responsible reads but may not edit; another school's child is 404.
    from app.children.services import set_pairings

    set_pairings(a["c1"], [a["teacher"].id, a["other_teacher"].id], a["teacher"].id, None)
    db.session.commit()
    login(client, a["other_teacher"].username)
    url = f"/children/{a['c1'].id}/plan"
    page = client.get(url).get_data(as_text=True)
    assert 'id="plan-form"' not in page
    assert client.post(url, data={"csrf_token": page_csrf(page), "goals": "g", "measures": "m"}).status_code == 403
    login(client, a["teacher"].username)
    token = page_csrf(client.get(url).get_data(as_text=True))
    assert client.get(f"/children/{a['c2'].id}/plan").status_code == 404
    assert client.post(f"/children/{b['c1'].id}/plan", data={"csrf_token": token, "goals": "g", "measures": "m"}
                       ).status_code == 404
    login(client, a["principal"].username)
    token = page_csrf(client.get(url).get_data(as_text=True))
    assert client.get(f"/children/{b['c1'].id}/plan").status_code == 404
    assert client.post(f"/children/{b['c1'].id}/categories", data={"csrf_token": token, "category": ["orphan"]}
                       ).status_code == 404
    assert db.session.scalar(select(CarePlan.id)) is None and db.session.scalar(select(ChildCategory.id)) is None


def test_class_teacher_may_edit_the_plan(app, world):
    from app.access import may_edit_plan
    from app.models import ClassTeacher

    a = world["A"]
    assert not may_edit_plan(a["other_teacher"], a["c1"])
    db.session.add(ClassTeacher(school_id=a["school"].id, class_name=a["c1"].class_name, teacher_id=a["other_teacher"].id))
    db.session.commit()
    assert may_edit_plan(a["other_teacher"], a["c1"]) and may_edit_plan(a["principal"], a["c1"])
    assert not may_edit_plan(a["counsellor"], a["c1"])
