"""Contacts with the family (家庭联系): every contact the policies name, online and through the sync API; phones from
before the kind existed; the duties count them."""
import pytest
from sqlalchemy import select

from app import clock
from app.duties import services as duty
from app.extensions import db
from app.models import DutyTally, Record

from .builders import item, local_iso, post
from .conftest import login, page_csrf

# Every contact the policies name, as (counterpart, direction, channel, duration_min).
POLICY_CONTACTS = {
    "guardian_call": ("guardian", "teacher_to_family", "phone", 8),  # the teacher calls the grandmother
    "parent_calls_teacher": ("father", "family_to_teacher", "phone", 6),  # 师长热线
    "family_video": ("mother", "child_to_parents", "video", 15),  # 亲情视频
    "family_call": ("both_parents", "child_to_parents", "phone", 10),  # 亲情电话
    "wechat_message": ("mother", "teacher_to_family", "wechat", None),
    "letter": ("father", "child_to_parents", "letter", None),  # 书信
    "meet_guardian": ("guardian", "teacher_to_family", "in_person", 40),  # 每季度至少与儿童监护人见面一次
    "relative": ("relative", "family_to_teacher", "phone", 3),
}


def _fields(name: str) -> dict:
    counterpart, direction, channel, minutes = POLICY_CONTACTS[name]
    out = {"counterpart": counterpart, "direction": direction, "channel": channel, "summary": f"{name} 的内容"}
    return out | ({"duration_min": minutes} if minutes is not None else {})


def _stored(client_id: str) -> Record:
    db.session.expire_all()
    return db.session.scalar(select(Record).where(Record.client_id == client_id))


@pytest.mark.parametrize("name", list(POLICY_CONTACTS))
def test_every_contact_of_the_policies_through_the_sync_api(client, world, name):
    a = world["A"]
    token = login(client, a["teacher"].username)
    rec = item("contact", a["c1"], local_iso(), _fields(name))
    r = post(client, token, [rec])
    assert r.status_code == 200 and r.get_json()["results"] == [{"id": rec["id"], "status": "created"}]
    stored = _stored(rec["id"])
    assert stored.kind == "contact" and stored.fields == _fields(name) and stored.author_id == a["teacher"].id


@pytest.mark.parametrize("name", list(POLICY_CONTACTS))
def test_every_contact_of_the_policies_through_the_online_form(client, world, name):
    a = world["A"]
    login(client, a["teacher"].username)
    html = client.get(f"/records/new/contact?child={a['c1'].id}").get_data(as_text=True)
    for label in ("委托监护人", "师长热线", "视频通话", "微信/语音留言", "书信", "当面"):
        assert label in html
    client_id = html.split('name="client_id" value="')[1].split('"')[0]
    form = {k: str(v) for k, v in _fields(name).items()}
    r = client.post("/records/new/contact", data={"csrf_token": page_csrf(html), "client_id": client_id,
                                                  "child_id": str(a["c1"].id), "occurred_at": "2026-11-20T15:04", **form})
    assert r.status_code == 302, r.get_data(as_text=True)
    stored = _stored(client_id)
    assert stored.kind == "contact" and stored.source == "form" and stored.fields == _fields(name)


def test_a_call_with_the_guardian_is_accepted_and_nonsense_is_not(client, world):
    """The old parent_call took only father/mother/both; the guardian is whom teachers talk to most."""
    a = world["A"]
    token = login(client, a["teacher"].username)
    good = item("contact", a["c1"], local_iso(), _fields("guardian_call"))
    bad = [item("contact", a["c1"], local_iso(), _fields("guardian_call") | change) for change in (
        {"counterpart": "neighbour"}, {"channel": "fax"}, {"direction": "sideways"}, {"duration_min": 601},
        {"duration_min": -1}, {"summary": ""})]
    missing = item("contact", a["c1"], local_iso(), {k: v for k, v in _fields("letter").items() if k != "channel"})
    results = post(client, token, [good, *bad, missing]).get_json()["results"]
    assert results[0]["status"] == "created"
    wrong = ["fields.counterpart", "fields.channel", "fields.direction", "fields.duration_min", "fields.duration_min",
             "fields.summary", "fields.channel"]
    for res, field in zip(results[1:], wrong):
        assert res["status"] == "rejected" and list(res["errors"]) == [field] and res["errors"][field]
    # The kind the phone builds its form from: the duration is optional (a letter has none).
    kinds = {k["name"]: k for k in client.get("/api/v1/kinds").get_json()["kinds"]}
    assert "parent_call" not in kinds
    fields = {f["name"]: f for f in kinds["contact"]["fields"]}
    assert list(fields) == ["counterpart", "direction", "channel", "duration_min", "summary"]
    assert [f["name"] for f in fields.values() if f["required"]] == ["counterpart", "direction", "channel", "summary"]
    assert {c["value"]: c["label"] for c in fields["counterpart"]["choices"]}["guardian"] == "委托监护人"


def test_contact_labels_in_english(client, world):
    login(client, world["A"]["teacher"].username)
    client.set_cookie("lang", "en")
    kinds = client.get("/api/v1/kinds").get_json()["kinds"]
    contact = next(k for k in kinds if k["name"] == "contact")
    assert contact["label"] == "Contact with the family"
    labels = {c["value"]: c["label"] for f in contact["fields"] for c in f["choices"]}
    assert labels["guardian"] == "Entrusted guardian" and labels["video"] == "Video call" and labels["letter"] == "Letter"
    assert labels["family_to_teacher"].startswith("The parents or the guardian contact the teacher")


OLD_PHONE = {  # old parent_call fields -> the contact stored
    "teacher_father": ({"direction": "teacher_to_parent", "parent": "father", "duration_min": 5, "summary": "报平安"},
                       {"counterpart": "father", "direction": "teacher_to_family", "channel": "phone", "duration_min": 5,
                        "summary": "报平安"}),
    "child_mother": ({"direction": "child_to_parent", "parent": "mother", "duration_min": 12, "summary": "想妈妈"},
                     {"counterpart": "mother", "direction": "child_to_parents", "channel": "phone", "duration_min": 12,
                      "summary": "想妈妈"}),
    "both": ({"direction": "teacher_to_parent", "parent": "both", "duration_min": "0", "summary": "期中"},
             {"counterpart": "both_parents", "direction": "teacher_to_family", "channel": "phone", "duration_min": 0,
              "summary": "期中"}),
}


def test_a_phone_from_before_sends_parent_calls_and_none_is_lost(client, world):
    """A phone offline when the server updated still holds parent_call records in its outbox: each is stored as a
    contact by phone, a resend is a duplicate, and bad old values get a reason as any record does."""
    a = world["A"]
    token = login(client, a["teacher"].username)
    items = {name: item("contact", a["c1"], local_iso(), old) | {"kind": "parent_call"} for name, (old, _new) in OLD_PHONE.items()}
    bad = item("contact", a["c1"], local_iso(), OLD_PHONE["both"][0] | {"parent": "uncle"}) | {"kind": "parent_call"}
    results = post(client, token, [*items.values(), bad]).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * len(items) + ["rejected"]
    assert list(results[-1]["errors"]) == ["fields.counterpart"]
    for name, rec in items.items():
        stored = _stored(rec["id"])
        assert (stored.kind, stored.fields) == ("contact", OLD_PHONE[name][1])
    again = post(client, token, list(items.values())).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * len(items)
    assert db.session.scalar(select(DutyTally.contact_at).where(DutyTally.child_id == a["c1"].id)) is not None


def test_an_old_phone_corrects_a_returned_call(client, world):
    """A call returned by the principal (migrated to a contact) and corrected on an old phone, as parent_call."""
    from app.verify.services import return_for_correction

    a = world["A"]
    token = login(client, a["teacher"].username)
    first = item("contact", a["c1"], local_iso(), OLD_PHONE["teacher_father"][1])
    assert post(client, token, [first]).get_json()["results"][0]["status"] == "created"
    original = _stored(first["id"])
    return_for_correction(original, a["principal"], "时长不对")
    db.session.commit()
    fix = item("contact", a["c1"], local_iso(), OLD_PHONE["teacher_father"][0] | {"duration_min": 15}) | {
        "kind": "parent_call", "corrects_id": original.id}
    assert post(client, token, [fix]).get_json()["results"][0]["status"] == "created"
    stored = _stored(fix["id"])
    assert stored.kind == "contact" and stored.corrects_id == original.id and stored.fields["duration_min"] == 15


def test_the_duties_count_every_contact(client, world):
    """A guardian's call or a letter counts toward the contact duty, in the tally, the teacher's list and coverage."""
    a = world["A"]
    today = clock.today_local()
    token = login(client, a["teacher"].username)
    before = {r["rule"] for r in duty.duties_for(a["teacher"], [a["c1"]], today)}
    assert "guardian_meeting" in before
    rec = item("contact", a["c1"], f"{today.isoformat()}T00:05:00+08:00", _fields("meet_guardian"))
    assert post(client, token, [rec]).get_json()["results"][0]["status"] == "created"
    assert db.session.scalar(select(DutyTally.contact_at).where(DutyTally.child_id == a["c1"].id)) == _stored(rec["id"]).occurred_at
    # Meeting the guardian in person: the quarterly meeting is done; the parents' rules (app/duties) still wait.
    after = {r["rule"] for r in duty.duties_for(a["teacher"], [a["c1"]], today)}
    assert "guardian_meeting" not in after and before - after == {"guardian_meeting"}
    by_teacher = {r["key"]: r for r in duty.coverage(a["school"].id, today, "teacher")}
    assert by_teacher[a["teacher"].id]["guardian_meeting"] == 1 and by_teacher[a["other_teacher"].id]["guardian_meeting"] == 0
    assert duty.trend(a["school"].id, today)[-1]["contact"] == 1
