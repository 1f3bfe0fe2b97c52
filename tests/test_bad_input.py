"""A client's mistake is answered 400/404/422 with a reason, never a 500; a bad record in a batch is rejected alone."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Incident, Notification, Record
from app.notify.services import notify

from .builders import local_iso, post, visit
from .conftest import login

HUGE = 2**64  # past what a 64-bit integer holds: SQLite raises OverflowError
BIG = 2**31  # past PostgreSQL's INTEGER id columns: NumericValueOutOfRange
DEEP = "[" * 10_000 + "]" * 10_000


@pytest.fixture
def teacher(client, world):
    a = world["A"]
    return {"user": a["teacher"], "child": a["c1"], "token": login(client, a["teacher"].username), "world": world}


def _notes(user, n=3) -> list[int]:
    for i in range(n):
        notify(user.id, f"k{i}", "reminder", f"提醒{i}", None)
    db.session.commit()
    return list(db.session.scalars(select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)))


def _unread(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


@pytest.mark.parametrize("body", [
    "[1]", "", "{}", "null", "1", '"x"', '{"ids": null}', '{"ids": "1"}', '{"ids": [true]}', '{"ids": [1.0]}',
    f'{{"ids": [{HUGE}]}}', f'{{"ids": [{BIG}]}}', '{"ids": [0]}', '{"all": false}', '{"all": 1}', '{"all": true, "ids": [1]}', '{"id": [1]}',
    "{broken",
])
def test_a_malformed_read_request_is_refused_and_marks_nothing(client, teacher, body):
    user = teacher["user"]
    _notes(user)
    r = client.post("/api/v1/notifications/read", data=body, content_type="application/json",
                    headers={"X-CSRFToken": teacher["token"]})
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"] and r.get_json()["message"]
    assert _unread(user) == 3


def test_read_takes_ids_or_all(client, teacher):
    user = teacher["user"]
    ids = _notes(user)
    h = {"X-CSRFToken": teacher["token"]}
    r = client.post("/api/v1/notifications/read", json={"ids": [ids[0]]}, headers=h)
    assert r.status_code == 200 and r.get_json() == {"marked": 1, "unread": 2}
    r = client.post("/api/v1/notifications/read", json={"all": True}, headers=h)
    assert r.status_code == 200 and r.get_json() == {"marked": 2, "unread": 0}


def test_a_bad_record_is_rejected_alone(client, teacher):
    child = teacher["child"]
    good = visit(child)
    bad = [visit(child, kind={}), visit(child, kind=[]), visit(child, child_id=HUGE), visit(child, child_id=-HUGE),
           visit(child, child_id=BIG), visit(child, corrects_id=BIG),
           visit(child, corrects_id=HUGE), visit(child, id={"a": 1}), visit(child, fields=[1]),
           visit(child, occurred_at=HUGE), visit(child, photos={"a": 1}), visit(child, location=[1, 2]),
           visit(child, client=[1])]
    r = post(client, teacher["token"], [*bad, good])
    assert r.status_code == 200, r.get_data(as_text=True)
    results = r.get_json()["results"]
    assert [x["status"] for x in results] == ["rejected"] * len(bad) + ["created"]
    assert db.session.scalar(select(func.count()).select_from(Record)) == 1


def test_a_batch_that_is_not_an_object_with_a_list_is_refused(client, teacher):
    h = {"X-CSRFToken": teacher["token"]}
    for body in ("[1]", '{"records": {}}', '{"records": null}', DEEP):
        r = client.post("/api/v1/records", data=body, content_type="application/json", headers=h)
        assert r.status_code == 400 and r.get_json()["message"], body[:20]


@pytest.mark.parametrize("url", ["/api/v1/records", "/api/v1/incidents", "/api/v1/notifications/read",
                                 "/api/v1/push/subscriptions", "/api/v1/session"])
def test_deeply_nested_json_is_refused(client, teacher, url):
    for body in (DEEP, '{"a":' * 100 + "1" + "}" * 100):
        r = client.post(url, data=body, content_type="application/json", headers={"X-CSRFToken": teacher["token"]})
        assert r.status_code == 400, (url, r.status_code)
        assert r.get_json()["error"] and "嵌套" in r.get_json()["message"]


@pytest.mark.parametrize("url", [
    f"/children/{HUGE}", f"/children/{HUGE}/card", f"/records/{HUGE}", f"/children/{HUGE}/records",
    f"/incidents/{HUGE}", f"/reports/children/{HUGE}/archive", "/children/0", f"/children/{BIG}", f"/records/{BIG}",
])
def test_ids_beyond_64_bits_in_paths_are_not_found(client, world, url):
    login(client, world["A"]["principal"].username)
    assert client.get(url).status_code == 404


def test_review_action_on_a_huge_id_is_not_found(client, world):
    token = login(client, world["A"]["principal"].username)
    r = client.post(f"/review/{HUGE}/approve", headers={"X-CSRFToken": token})
    assert r.status_code == 404


@pytest.mark.parametrize("url", [
    "/review/?teacher=99999999999999999999", "/review/?village=99999999999999999999", f"/review/?page={10**30}",
    f"/children/?village={HUGE}", f"/children/?page={10**30}", f"/audit/?page={10**30}", "/review/?teacher=abc",
    f"/reports/term-record?teacher={HUGE}", f"/reports/roster.xlsx?village={HUGE}", f"/review/?teacher={BIG}",
    f"/children/?village={BIG}",
])
def test_query_parameters_out_of_range_give_a_chinese_400_page(client, world, url):
    login(client, world["A"]["principal"].username)
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code)
    assert "应为" in r.get_data(as_text=True)


def test_notification_id_out_of_range_is_a_json_400(client, teacher):
    for value in (HUGE, BIG, 0, -1, "x"):
        r = client.get(f"/api/v1/notifications?id={value}")
        assert r.status_code == 400 and r.get_json()["error"] == "bad_parameter"


def test_form_child_id_beyond_64_bits_is_a_form_error(client, world):
    from .conftest import page_csrf

    login(client, world["A"]["teacher"].username)
    token = page_csrf(client.get("/incidents/new").get_data(as_text=True))
    r = client.post("/incidents/new", data={"csrf_token": token, "client_id": str(uuid.uuid4()), "child_id": str(HUGE),
                                            "category": "injury", "description": "摔倒", "occurred_at": local_iso()})
    assert r.status_code == 400
    r = client.get(f"/records/new/home_visit?corrects={HUGE}")
    assert r.status_code in (400, 404)


@pytest.mark.parametrize("target", ["/\r\nX-Evil: 1", "/\x7f", "/%0d%0aX: 1", "/\\evil.example"])
def test_control_characters_in_next_are_ignored(client, world, target):
    from .conftest import page_csrf

    token = page_csrf(client.get("/login").get_data(as_text=True))
    r = client.post("/login", query_string={"next": target},
                    data={"csrf_token": token, "username": world["A"]["teacher"].username, "password": "test-pass-123"})
    assert r.status_code == 302
    assert "\r" not in r.headers["Location"] and "\n" not in r.headers["Location"] and "X-Evil" not in r.headers
    assert r.headers["Location"] == "/" or target.startswith("/%")  # percent-encoded: a harmless path
    r = client.get("/lang/en", query_string={"next": target})
    assert r.status_code == 302


def test_nul_in_a_query_string_is_a_400_page(client):
    r = client.get("/login?next=/home%00")
    assert r.status_code == 400 and "无效字符" in r.get_data(as_text=True)


def test_an_incident_without_a_time_starts_the_clocks_at_the_report(client, world):
    token = login(client, world["A"]["teacher"].username)
    r = client.post("/api/v1/incidents", headers={"X-CSRFToken": token}, json={
        "id": str(uuid.uuid4()), "child_id": world["A"]["c1"].id, "category": "injury", "description": "摔倒"})
    assert r.status_code == 201, r.get_data(as_text=True)
    inc = db.session.get(Incident, r.get_json()["incident_id"])
    assert inc.occurred_at == inc.reported_at


@pytest.mark.parametrize("field,value", [("child_id", HUGE), ("child_id", BIG), ("child_id", True), ("id", {"a": 1}), ("category", {}),
                                         ("description", ["x"]), ("occurred_at", HUGE)])
def test_incident_fields_of_the_wrong_type_are_422(client, world, field, value):
    token = login(client, world["A"]["teacher"].username)
    body = {"id": str(uuid.uuid4()), "child_id": world["A"]["c1"].id, "category": "injury", "description": "摔倒",
            field: value}
    r = client.post("/api/v1/incidents", headers={"X-CSRFToken": token}, json=body)
    assert r.status_code == 422 and r.get_json()["field"] == field


@pytest.mark.parametrize("method,url,allowed", [
    ("get", "/api/v1/records", {"POST"}), ("put", "/api/v1/notifications", {"GET", "HEAD"}),
    ("get", "/logout", {"POST"}), ("delete", "/api/v1/incidents", {"POST"}),
])
def test_405_says_what_is_allowed(client, method, url, allowed):
    r = getattr(client, method)(url)
    assert r.status_code == 405
    assert allowed <= {m.strip() for m in r.headers.get("Allow", "").split(",")}


def test_a_rejected_record_is_answered_with_the_id_it_sent_or_null(client, teacher):
    child = teacher["child"]
    r = post(client, teacher["token"], [None, "x", visit(child, id={"a": 1}), visit(child, id="not-a-uuid" * 20)])
    assert [(x["id"], x["status"]) for x in r.get_json()["results"]] == [
        (None, "rejected"), (None, "rejected"), (None, "rejected"), (("not-a-uuid" * 20)[:64], "rejected")]


def test_nul_characters_are_refused_or_stored_safely(client, teacher):
    """PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) characters"): it must never reach a query."""
    h = {"X-CSRFToken": teacher["token"]}
    child = teacher["child"]
    r = post(client, teacher["token"], [visit(child, fields={**visit(child)["fields"], "purpose": "了解\x00情况"}),
                                        visit(child, id="\x00" * 36), visit(child, kind="home\x00visit")])
    assert r.status_code == 200 and [x["status"] for x in r.get_json()["results"]] == ["rejected"] * 3
    r = client.post("/api/v1/incidents", headers=h, json={"id": "\x00" * 36, "child_id": child.id,
                                                           "category": "injury", "description": "摔倒"})
    assert r.status_code == 422
    r = client.post("/api/v1/incidents", headers=h, json={"id": str(uuid.uuid4()), "child_id": child.id,
                                                           "category": "injury", "description": "摔\x00倒"})
    assert r.status_code == 422
    r = client.delete("/api/v1/push/subscriptions", headers=h, json={"endpoint": "https://push.example/\x00"})
    assert r.status_code in (400, 404)
    for url in ("/children/?q=%00", "/records/mine?kind=%00", "/review/?state=%00", "/audit/?action=%00"):
        assert client.get(url).status_code < 500, url
    client.delete("/api/v1/session")
    r = client.post("/api/v1/session", json={"username": "teacher\x00a", "password": "x\x00"})
    assert r.status_code in (400, 401)
