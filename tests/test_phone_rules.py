"""The rules the phone needs come from the server: who may write each kind, the duty periods, the incident clocks."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.duties import services as duty
from app.extensions import db
from app.incidents.services import CATEGORIES, CLOCKS
from app.models import Child, DutyRule, Term
from app.records.kinds import PHONE_KINDS

from .conftest import login


def test_kinds_say_who_may_write_them_as_validation_does(client, world):
    login(client, world["A"]["teacher"].username)
    body = client.get("/api/v1/kinds").get_json()
    writers = {k["name"]: k["writers"] for k in body["kinds"]}
    assert writers == {name: list(k.writers) for name, k in PHONE_KINDS.items()}
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
    """The phone's reading of a rule's windows (static/js/home.js): current contains the day, previous is the one the
    server named for it; out of season, neither."""
    cur = next((w for w in rule["windows"] if w["start"] <= day.isoformat() <= w["end"]), None)
    as_dates = lambda w: (date.fromisoformat(w["start"]), date.fromisoformat(w["end"])) if w else None  # noqa: E731
    return as_dates(cur), as_dates(cur and cur["previous"])


def _on_server(rule: duty.Rule, day: date, school_id: int):
    return tuple((w.start, w.end) if w else None for w in duty.windows_on(rule, day, school_id))


@pytest.mark.parametrize("today", [date(2026, 12, 31), date(2027, 1, 18), date(2027, 3, 29), date(2027, 6, 30),
                                   date(2026, 8, 12)])
def test_roster_windows_give_the_servers_periods_for_every_day_ahead(client, world, today):
    """Read as the phone reads them, the roster's windows answer what windows_on() answers, for every day it covers."""
    a = world["A"]
    school_id = a["school"].id
    db.session.add(DutyRule(school_id=school_id, kind="contact", period="quarter", times=1, season="all_year"))
    db.session.commit()
    plan = duty.phone_plan(school_id, today, select(Child.id).where(Child.id == a["c1"].id))
    assert plan["valid_from"] == (today - timedelta(days=1)).isoformat()
    assert plan["valid_until"] == (today + timedelta(days=duty.PHONE_DAYS)).isoformat()
    assert {r["period"] for r in plan["rules"]} == {"week", "fortnight", "month", "quarter", "term", "before_holiday"}
    for rule, r in zip(plan["rules"], duty.rules_for(school_id)):
        assert rule["key"] == r.key and rule["filter"] == r.filters and rule["season"] == r.season
        assert rule["windows"] == sorted(rule["windows"], key=lambda w: w["start"])
        day = today - timedelta(days=1)
        while day <= today + timedelta(days=duty.PHONE_DAYS):
            assert _on_phone(rule, day) == _on_server(r, day, school_id), (rule["key"], day)
            day += timedelta(days=1)


def test_term_time_rules_pause_in_the_holidays_and_restart_without_overdue(app, build):
    school = build.school()
    talk, holiday = duty.DEFAULT_RULES[1], next(r for r in duty.DEFAULT_RULES if r.key == "holiday_contact")
    assert duty.windows_on(talk, date(2026, 8, 12), school.id) == (None, None)  # summer: nothing due, nothing overdue
    # The last week of the spring term is cut at its last day; the first week of autumn has no predecessor.
    assert duty.windows_on(talk, date(2026, 7, 9), school.id)[0] == duty.Window(date(2026, 7, 6), date(2026, 7, 10))
    assert duty.windows_on(talk, date(2026, 9, 2), school.id) == (duty.Window(date(2026, 9, 1), date(2026, 9, 6)), None)
    assert duty.windows_on(talk, date(2026, 9, 8), school.id)[1] == duty.Window(date(2026, 9, 1), date(2026, 9, 6))
    # The holiday contact runs only in the holidays, fortnight by fortnight.
    cur, prev = duty.windows_on(holiday, date(2026, 8, 12), school.id)
    assert cur.start <= date(2026, 8, 12) <= cur.end and (cur.end - cur.start).days <= 13 and prev is not None
    assert duty.windows_on(holiday, date(2026, 10, 8), school.id) == (None, None)
    # The handover: the last two weeks of each term, once.
    handover = next(r for r in duty.DEFAULT_RULES if r.key == "handover")
    assert duty.windows_on(handover, date(2026, 7, 1), school.id) == (duty.Window(date(2026, 6, 27), date(2026, 7, 10)), None)
    assert duty.windows_on(handover, date(2026, 6, 20), school.id) == (None, None)


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
    assert [w["start"] for w in visit["windows"]] == ["2026-09-01", "2027-02-22"]
    assert visit["windows"][0]["previous"] is None  # no stored term before it
    for offset in range(-1, duty.PHONE_DAYS + 1):
        day = today + timedelta(days=offset)
        assert _on_phone(visit, day) == _on_server(duty.DEFAULT_RULES[0], day, school_id), day


def test_roster_duties_carry_windows_and_stay_compatible(client, world):
    login(client, world["A"]["teacher"].username)
    d = client.get("/api/v1/roster").get_json()["duties"]
    assert {"today", "rules", "terms", "counts", "valid_from", "valid_until"} <= set(d)
    for rule in d["rules"]:
        assert {"key", "kind", "label", "filter", "season", "period", "times", "current", "previous", "windows"} <= set(rule)
        if rule["current"]:
            assert rule["current"] in [{"start": w["start"], "end": w["end"]} for w in rule["windows"]]
            assert rule["previous"] == next(w for w in rule["windows"] if w["start"] == rule["current"]["start"])["previous"]
