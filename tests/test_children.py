"""Child files: creation needs consent, editing, guardians, pairings, the contact card and the audit log."""
import pytest
from sqlalchemy import select

from app.children.services import FileError, create_child, set_pairings
from app.extensions import db
from app.models import AuditEntry, Child, Consent, Guardian, Pairing

from .conftest import login, page_csrf


def _new_child_form(token, village_id, **over):
    data = {
        "csrf_token": token, "student_no": "N001", "name": "新同学", "sex": "male", "birth_date": "2016-05-01",
        "grade": "四年级", "class_name": "四(2)班", "village_id": str(village_id), "parents_away": "both",
        "g_role": "guardian", "g_name": "王奶奶", "g_relationship": "奶奶", "g_phone": "13912345678",
        "consented_on": "2026-09-01", "notice_version": "2026-1",
    }
    data.update(over)
    return data


def test_principal_creates_file_with_consent(client, world):
    a = world["A"]
    token = login(client, a["principal"].username)
    r = client.post("/children/new", data=_new_child_form(token, a["v1"].id))
    assert r.status_code == 302
    child = db.session.scalar(select(Child).where(Child.student_no == "N001"))
    assert child.school_id == a["school"].id and child.village_id == a["v1"].id
    consent = db.session.scalar(select(Consent).where(Consent.child_id == child.id))
    assert consent.guardian.name == "王奶奶" and consent.notice_version == "2026-1" and consent.withdrawn_at is None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "create", AuditEntry.object_id == str(child.id)))


@pytest.mark.parametrize("missing", ["g_name", "consented_on", "notice_version"])
def test_no_file_without_consenting_guardian(client, world, missing):
    a = world["A"]
    token = login(client, a["principal"].username)
    before = db.session.query(Child).count()
    r = client.post("/children/new", data=_new_child_form(token, a["v1"].id, **{missing: ""}))
    assert r.status_code == 400
    assert db.session.query(Child).count() == before


def test_service_refuses_file_without_guardian(world):
    with pytest.raises(FileError):
        create_child(world["A"]["school"].id, {"student_no": "Z1", "name": "x", "sex": "male"}, {}, {"consented_on": None}, None)


def test_duplicate_student_number_and_foreign_village_are_clear_errors(client, world):
    a = world["A"]
    token = login(client, a["principal"].username)
    r = client.post("/children/new", data=_new_child_form(token, a["v1"].id, student_no=a["c1"].student_no))
    assert r.status_code == 200 and "学号已存在" in r.get_data(as_text=True)
    r = client.post("/children/new", data=_new_child_form(token, world["B"]["v1"].id))
    assert r.status_code == 400  # not a choice of this school


def test_edit_file_and_guardian(client, world):
    a = world["A"]
    c = a["c1"]
    token = login(client, a["principal"].username)
    form = page_csrf(client.get(f"/children/{c.id}/edit").get_data(as_text=True))
    r = client.post(f"/children/{c.id}/edit", data={
        "csrf_token": form, "student_no": c.student_no, "name": "改过的名字", "sex": "female", "village_id": str(a["v2"].id),
        "parents_away": "mother", "health": "良好",
    })
    assert r.status_code == 302
    db.session.expire_all()
    c = db.session.get(Child, c.id)
    assert c.name == "改过的名字" and c.village_id == a["v2"].id and c.health == "良好"
    r = client.post(f"/children/{c.id}/guardians/new", data={
        "csrf_token": token, "role": "father", "name": "张父", "phone": "13700000000", "work_place": "广东省东莞市",
    })
    assert r.status_code == 302
    father = db.session.scalar(select(Guardian).where(Guardian.child_id == c.id, Guardian.role == "father"))
    assert father.work_place == "广东省东莞市"
    r = client.post(f"/children/{c.id}/guardians/new", data={"csrf_token": token, "role": "father", "name": "x", "phone": "abc"})
    assert r.status_code == 400 and "电话号码格式不正确" in r.get_data(as_text=True)


def test_pairings_one_responsible(client, world):
    a = world["A"]
    c = a["c1"]
    token = login(client, a["principal"].username)
    r = client.post(f"/children/{c.id}/pairings", data={
        "csrf_token": token, "teacher_ids": [str(a["teacher"].id), str(a["other_teacher"].id)], "responsible_id": str(a["other_teacher"].id),
    })
    assert r.status_code == 302
    rows = db.session.scalars(select(Pairing).where(Pairing.child_id == c.id)).all()
    assert {p.teacher_id for p in rows} == {a["teacher"].id, a["other_teacher"].id}
    assert [p.teacher_id for p in rows if p.responsible] == [a["other_teacher"].id]
    # A teacher of another school cannot be paired.
    with pytest.raises(FileError):
        set_pairings(db.session.get(Child, c.id), [world["B"]["teacher"].id], None, None)


def test_contact_card_has_tel_links(client, world):
    a = world["A"]
    c = a["c1"]
    login(client, a["teacher"].username)
    html = client.get(f"/children/{c.id}/card").get_data(as_text=True)
    assert 'href="tel:13900000000"' in html  # the entrusted guardian
    assert 'href="tel:13800000000"' in html  # the responsible teacher
    assert 'href="tel:0856-0000000"' in html  # the school hotline
    assert "包保责任人" in html


def test_views_are_audited_with_ids_only(client, world):
    a = world["A"]
    c = a["c1"]
    login(client, a["teacher"].username)
    client.get(f"/children/{c.id}")
    client.get(f"/children/{c.id}/card")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.user_id == a["teacher"].id)).all()
    actions = {(e.action, e.object_type, e.object_id) for e in entries}
    assert ("view", "child", str(c.id)) in actions and ("view_card", "child", str(c.id)) in actions
    for e in entries:  # nothing personal copied into the log
        assert c.name not in (e.object_id or "") and c.name not in e.action


def test_principal_reads_audit_log_of_own_school_only(client, world):
    a, b = world["A"], world["B"]
    login(client, b["teacher"].username)
    client.get(f"/children/{b['c1'].id}")
    login(client, a["teacher"].username)
    client.get(f"/children/{a['c1'].id}")
    login(client, a["principal"].username)
    html = client.get("/audit/").get_data(as_text=True)
    assert a["teacher"].name in html and f'href="/children/{a["c1"].id}">{a["c1"].name}</a>' in html
    assert f'href="/children/{b["c1"].id}"' not in html or a["c1"].id == b["c1"].id


def test_consent_withdrawal_is_kept(client, world):
    a = world["A"]
    c = a["c1"]
    token = login(client, a["principal"].username)
    consent = c.consents[0]
    r = client.post(f"/children/{c.id}/consent/{consent.id}/withdraw", data={"csrf_token": token})
    assert r.status_code == 302
    db.session.expire_all()
    consent = db.session.get(Consent, consent.id)
    assert consent.withdrawn_at is not None
    assert "没有有效的监护人同意" in client.get(f"/children/{c.id}").get_data(as_text=True)


def test_pages_fit_a_phone(client, world):
    login(client, world["A"]["teacher"].username)
    html = client.get("/").get_data(as_text=True)
    assert 'content="width=device-width, initial-scale=1"' in html
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert "max-width: 960px" in css and "@media (min-width: 600px)" in css
