"""Held records reach who decides them: one notification per decider (not one per record), a count on the home page."""
import json
import re

from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.children.services import set_pairings
from app.extensions import db
from app.models import HeldRecord, Notification
from app.notify.push import push_pending

from .builders import post, race, visit
from .conftest import login, page_csrf
from .test_push import Browser, dns, pushy, service, subscribe  # noqa: F401 (fixtures)


def _repair(world):
    """c1 of school A moves to the other teacher: the teacher's records for c1 are held from now on."""
    c1, other = world["A"]["c1"], world["A"]["other_teacher"]
    set_pairings(c1, [other.id], other.id, None)
    db.session.commit()
    return c1


def _held_notices(user):
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id, Notification.kind == "held")
                              .order_by(Notification.id)).all()


def _held_link(html: str) -> str:
    return re.search(r'<a [^>]*id="held-link"[^>]*>(.*?)</a>', html, re.S).group(1)


def test_a_phones_held_batches_tell_the_schools_principals_once(client, world, build):
    a, b = world["A"], world["B"]
    c1 = _repair(world)
    second = build.user("principal", a["school"], username="principala2")  # every decider of the school is told
    token = login(client, a["teacher"].username)
    records = [visit(c1) for _ in range(30)]
    for i in range(0, 30, 20):  # as the phone sends them: 20 a request
        res = post(client, token, records[i:i + 20]).get_json()["results"]
        assert {r["status"] for r in res} == {"held"}
    post(client, token, records[:5])  # a resend is answered "held" again and tells nobody again
    assert len(db.session.scalars(select(HeldRecord)).all()) == 30
    for principal in (a["principal"], second):
        [n] = _held_notices(principal)
        assert n.text == "有 30 条记录待分配" and n.url == "/records/held/" and n.read_at is None
    # Another school's principal, and the school's staff who do not decide, hear nothing.
    for other in (b["principal"], a["counsellor"], a["teacher"], a["other_teacher"], a["admin"], world["bureau"]):
        assert _held_notices(other) == []


def test_read_notice_is_followed_by_a_new_one_for_the_next_held_record(client, world):
    a = world["A"]
    c1 = _repair(world)
    token = login(client, a["teacher"].username)
    post(client, token, [visit(c1), visit(c1)])
    [first] = _held_notices(a["principal"])
    assert first.text == "有 2 条记录待分配"
    # The principal opens the list from the home page: the notice is read there.
    login(client, a["principal"].username)
    assert client.get("/records/held/").status_code == 200
    [first] = _held_notices(a["principal"])
    assert first.read_at is not None
    token = login(client, a["teacher"].username)
    post(client, token, [visit(c1)])
    old, new = _held_notices(a["principal"])
    assert old.id == first.id and old.text == "有 2 条记录待分配"
    assert new.read_at is None and new.text == "有 3 条记录待分配"
    # Still unread: the next one only brings its count up to date (no second notification, no second push).
    post(client, token, [visit(c1)])
    assert [(n.id, n.text) for n in _held_notices(a["principal"])] == [(old.id, old.text), (new.id, "有 4 条记录待分配")]


def test_requests_racing_make_one_notification(app, world):
    a = world["A"]
    c1 = _repair(world)
    records = iter([visit(c1) for _ in range(6)])  # made here: the threads have no app context
    answers = race(app, a["teacher"].username, lambda c, tok: post(c, tok, [next(records)]))
    assert [s for s, _body in answers] == [200] * 6
    assert {body["results"][0]["status"] for _s, body in answers} == {"held"}
    assert len(_held_notices(a["principal"])) == 1


def test_push_for_a_held_record_carries_no_child_name_nor_content(pushy, client, world, service):
    a = world["A"]
    c1 = _repair(world)
    csrf = login(client, a["principal"].username)
    phone = Browser(service.origin + "/push/principal")
    assert subscribe(client, csrf, phone).status_code == 201
    token = login(client, a["teacher"].username)
    rec = visit(c1)
    post(client, token, [rec, visit(c1)])
    assert push_pending()["sent"] == 1
    [got] = service.to("/push/principal")
    body = phone.decrypt(got["body"])
    [n] = _held_notices(a["principal"])
    assert body == {"id": n.id, "title": "家访通", "body": "您有新的提醒，请打开家访通查看。"}
    # The in-app text the app fetches by that id is a count, nothing about the child or the record.
    login(client, a["principal"].username)
    [shown] = client.get(f"/api/v1/notifications?id={n.id}").get_json()["notifications"]
    assert shown["text"] == "有 2 条记录待分配" and shown["url"] == "/records/held/"  # no child's id in the link either
    said = json.dumps(body, ensure_ascii=False) + shown["text"] + shown["url"]
    for personal in (c1.name, a["teacher"].name, a["teacher"].username, rec["fields"]["safety_note"],
                     rec["fields"]["told_guardian"]):
        assert personal not in said
    assert c1.name.encode() not in got["body"]
    # More held records while it is unread: no second push.
    token = login(client, a["teacher"].username)
    post(client, token, [visit(c1)])
    assert push_pending()["sent"] == 0 and len(service.received) == 1


def test_home_page_counts_the_records_waiting(client, world):
    a, b = world["A"], world["B"]
    c1 = _repair(world)
    login(client, a["principal"].username)
    assert _held_link(client.get("/").get_data(as_text=True)).strip() == "待分配的记录"  # nothing waiting: no count
    token = login(client, a["teacher"].username)
    post(client, token, [visit(c1), visit(c1)])
    login(client, a["principal"].username)
    assert "(2)" in _held_link(client.get("/").get_data(as_text=True))
    csrf = page_csrf(client.get("/records/held/").get_data(as_text=True))
    one = db.session.scalars(select(HeldRecord.id)).first()
    assert client.post(f"/records/held/{one}/discard", data={"csrf_token": csrf}).status_code == 302
    assert "(1)" in _held_link(client.get("/").get_data(as_text=True))
    # The other school's principal sees no count of school A's records; a teacher has no such link.
    login(client, b["principal"].username)
    assert "(" not in _held_link(client.get("/").get_data(as_text=True))
    login(client, a["teacher"].username)
    assert 'id="held-link"' not in client.get("/").get_data(as_text=True)


def test_notice_and_count_in_english(app, client, world):
    a = world["A"]
    c1 = _repair(world)
    token = login(client, a["teacher"].username)
    post(client, token, [visit(c1)])
    login(client, a["principal"].username)
    client.set_cookie("lang", "en")
    link = _held_link(client.get("/").get_data(as_text=True))
    assert "Records to assign" in link and "(1)" in link
    with app.test_request_context(), force_locale("en"):
        assert gettext("有 %(n)d 条记录待分配", n=3) == "Records to assign: 3"
