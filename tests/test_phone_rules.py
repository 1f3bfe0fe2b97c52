"""The rules the phone needs come from the server: who may write each kind, the duty periods, the incident clocks."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.duties import services as duty
from app.extensions import db
from app.incidents.services import CATEGORIES, CLOCKS
from app.models import Child, DutyRule, Term
from app.records.kinds import KINDS

from .conftest import login


def test_kinds_say_who_may_write_them_as_validation_does(client, world):
    login(client, world["A"]["teacher"].username)
    body = client.get("/api/v1/kinds").get_json()
    writers = {k["name"]: k["writers"] for k in body["kinds"]}
    assert writers == {name: list(k.writers) for name, k in KINDS.items()}
    assert "teacher" not in writers["counselling"] and writers["counselling"] == ["counsellor"]
    assert "teacher" in writers["home_visit"] and "counsellor" not in writers["home_visit"]


def test_kinds_need_login(client):
    assert client.get("/api/v1/kinds").status_code == 401


def test_incident_categories_and_clocks_come_with_the_kinds(client, world):
    login(client, world["A"]["teacher"].username)
    rules = client.get("/api/v1/kinds").get_json()["incident"]
    assert [c["value"] for c in rules["categories"]] == list(CATEGORIES)
    assert rules["categories"][0]["label"] == "受伤"
    assert [(c["target"], c["minutes"]) for c in rules["clocks"]] == [
        (t, int(limit.total_seconds() // 60)) for t, limit in CLOCKS.items()] == [("guardian", 30), ("parents", 60), ("bureau", 120)]
    assert [c["within"] + "通知" + c["label"] for c in rules["clocks"]] == ["30 分钟内通知监护人", "1 小时内通知父母", "2 小时内通知教育局"]


def test_incident_rules_in_english(client, world):
    login(client, world["A"]["teacher"].username)
    client.set_cookie("lang", "en")
    rules = client.get("/api/v1/kinds").get_json()["incident"]
    assert rules["clocks"][0]["within"] == "within 30 min" and rules["clocks"][2]["within"] == "within 2 hours"


def _on_phone(rule: dict, day: date):
    """The phone's reading of a rule's windows (static/js/home.js): current contains the day, previous ended before."""
    ws = [(date.fromisoformat(w["start"]), date.fromisoformat(w["end"])) for w in rule["windows"]]
    cur = next(((s, e) for s, e in ws if s <= day <= e), None)
    prev = ([(s, e) for s, e in ws if e < day] or [None])[-1]
    return cur, prev


def _on_server(period: str, day: date, school_id: int):
    ws = [duty.window(period, day, school_id), duty.window(period, day, school_id, previous=True)]
    return tuple((w.start, w.end) if w else None for w in ws)


@pytest.mark.parametrize("today", [date(2026, 12, 31), date(2027, 1, 18), date(2027, 3, 29), date(2027, 6, 30)])
def test_roster_windows_give_the_servers_periods_for_every_day_ahead(client, world, today):
    """Read as the phone reads them, the roster's windows answer what window() answers, for every day it covers."""
    a = world["A"]
    school_id = a["school"].id
    db.session.add(DutyRule(school_id=school_id, kind="contact", period="quarter", times=1))
    db.session.commit()
    plan = duty.phone_plan(school_id, today, select(Child.id).where(Child.id == a["c1"].id))
    assert plan["valid_from"] == (today - timedelta(days=1)).isoformat()
    assert plan["valid_until"] == (today + timedelta(days=duty.PHONE_DAYS)).isoformat()
    assert {r["period"] for r in plan["rules"]} == {"week", "quarter", "term"}
    for rule in plan["rules"]:
        assert rule["windows"] == sorted(rule["windows"], key=lambda w: w["start"])
        day = today - timedelta(days=1)
        while day <= today + timedelta(days=duty.PHONE_DAYS):
            assert _on_phone(rule, day) == _on_server(rule["period"], day, school_id), (rule["period"], day)
            day += timedelta(days=1)


def test_roster_windows_follow_the_schools_own_terms(client, world):
    a = world["A"]
    school_id = a["school"].id
    for name, s, e in (("上", date(2026, 9, 1), date(2027, 1, 15)), ("下", date(2027, 2, 22), date(2027, 7, 2)),
                       ("再上", date(2027, 9, 1), date(2028, 1, 14))):
        db.session.add(Term(school_id=school_id, name=name, starts_on=s, ends_on=e))
    db.session.commit()
    today = date(2027, 1, 10)
    plan = duty.phone_plan(school_id, today, select(Child.id).where(Child.id == a["c1"].id))
    visit = next(r for r in plan["rules"] if r["kind"] == "home_visit")
    assert [w["start"] for w in visit["windows"]] == ["2026-09-01", "2027-02-22"]  # the previous term ended in July 2026
    for offset in range(-1, duty.PHONE_DAYS + 1):
        day = today + timedelta(days=offset)
        assert _on_phone(visit, day) == _on_server("term", day, school_id), day


def test_roster_duties_carry_windows_and_stay_compatible(client, world):
    login(client, world["A"]["teacher"].username)
    d = client.get("/api/v1/roster").get_json()["duties"]
    assert {"today", "rules", "terms", "counts", "valid_from", "valid_until"} <= set(d)
    for rule in d["rules"]:
        assert {"kind", "period", "times", "current", "previous", "windows"} <= set(rule)
        if rule["current"]:
            assert rule["current"] in rule["windows"]
        if rule["previous"]:
            assert rule["previous"] in rule["windows"]
