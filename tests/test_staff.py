"""Staff accounts in the app: who may manage whom (404 outside), the account lifecycle (deactivation ends every
session and tells the phone, a reset forces a new password), the password rule on every path, and the audit log."""
import re

import pytest
from sqlalchemy import func, select

from app.auth.passwords import one_time_password, password_problems
from app.extensions import db
from app.models import AuditEntry, User
from tests.conftest import PASSWORD, login


def _post(client, url, token, **data):
    return client.post(url, data=data, headers={"X-CSRFToken": token})


def _otp(html: str) -> str:
    return re.search(r'id="one-time-password">([^<]+)<', html).group(1)


def _create(client, token, **fields):
    data = {"username": "newteacher", "name": "新老师", "phone": "13812345678", "role": "teacher", "village": ""}
    data.update(fields)
    return _post(client, "/staff/new", token, **data)


# --- who may manage whom -----------------------------------------------------------------------------------------

def test_school_admin_manages_only_their_school_staff(client, world):
    token = login(client, "admina")
    page = client.get("/staff/").get_data(as_text=True)
    assert "teachera" in page and "committeea" in page and "teacherb" not in page
    assert "principala" not in page and "admina" not in page  # heads and their own account are the bureau's
    b_teacher, a_principal = world["B"]["teacher"], world["A"]["principal"]
    for account in (b_teacher, a_principal, world["A"]["admin"], world["bureau"]):
        assert client.get(f"/staff/{account.id}/edit").status_code == 404
        for action in ("deactivate", "reactivate", "reset-password"):
            assert _post(client, f"/staff/{account.id}/{action}", token).status_code == 404
    db.session.expire_all()
    assert b_teacher.active and a_principal.active and b_teacher.session_version == 0
    # Its own role cannot be changed either (its account is not in its list).
    assert _post(client, f"/staff/{world['A']['admin'].id}/edit", token, name="x", role="teacher").status_code == 404


@pytest.mark.parametrize("role", ["principal", "admin", "bureau", "bureau_admin", "superuser"])
def test_school_admin_cannot_create_heads_or_bureau_accounts(client, world, role):
    token = login(client, "admina")
    r = _create(client, token, role=role)
    assert r.status_code == 400 and "角色应为：教师、心理辅导教师、村委会成员。" in r.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "newteacher")) is None
    # Nor turn a teacher into a principal.
    t = world["A"]["teacher"]
    assert _post(client, f"/staff/{t.id}/edit", token, name=t.name, role="principal").status_code == 400
    db.session.refresh(t)
    assert t.role == "teacher"


def test_a_new_account_goes_to_the_admins_own_school_whatever_the_url_says(client, world):
    token = login(client, "admina")
    r = _post(client, f"/staff/new?school={world['B']['school'].id}", token, username="t99", name="九", role="teacher")
    assert r.status_code == 201
    assert db.session.scalar(select(User).where(User.username == "t99")).school_id == world["A"]["school"].id


def test_other_roles_do_not_reach_the_staff_pages(client, world):
    login(client, "teachera")
    assert client.get("/staff/").status_code == 403
    login(client, "bureaua")  # bureau staff: the school's pages do not exist for them
    assert client.get("/staff/").status_code == 404
    assert client.get("/staff/county").status_code == 404


def test_bureau_admin_sees_only_its_county(client, world, build):
    far = build.county("远县")
    build.user("bureau_admin", None, username="faradmin", county=far)
    token = login(client, "faradmin")
    a = world["A"]["school"]
    assert client.get(f"/staff/schools/{a.id}").status_code == 404
    assert client.get(f"/staff/new?school={a.id}").status_code == 404
    assert client.get(f"/staff/{world['A']['principal'].id}/edit").status_code == 404
    assert _post(client, f"/staff/{world['A']['principal'].id}/deactivate", token).status_code == 404
    assert a.name not in client.get("/staff/county").get_data(as_text=True)


def test_bureau_admin_onboards_a_school_its_principal_and_bureau_staff(client, world):
    token = login(client, "bureauadmina")
    page = client.get("/staff/county").get_data(as_text=True)
    assert "学校A" in page and "学校B" in page and "bureaua" in page
    r = _post(client, "/staff/schools/new", token, name="青山小学", hotline="0856-2222222")
    assert r.status_code == 302
    school_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert _post(client, f"/staff/schools/{school_id}", token, name="青山中心小学", hotline="").status_code == 302
    r = _post(client, f"/staff/new?school={school_id}", token, username="qsprincipal", name="王校长", role="principal")
    assert r.status_code == 201
    principal = db.session.scalar(select(User).where(User.username == "qsprincipal"))
    assert (principal.school.name, principal.school.county_id, principal.must_change_password) == (
        "青山中心小学", world["county"].id, True)
    # A teacher is the school admin's to create, not the bureau's.
    r = _post(client, f"/staff/new?school={school_id}", token, username="qst", name="老师", role="teacher")
    assert r.status_code == 400
    r = _post(client, "/staff/new", token, username="bureau2", name="李科长", role="bureau")
    assert r.status_code == 201
    assert db.session.scalar(select(User).where(User.username == "bureau2")).county_id == world["county"].id
    assert _post(client, "/staff/county", token, name=world["county"].name, bureau_name="青溪县教育局",
                 bureau_phone="0856-1234567").status_code == 302
    db.session.refresh(world["county"])
    assert world["county"].bureau_phone == "0856-1234567"
    # Its own account is not among those it manages.
    assert client.get(f"/staff/{world['bureau_admin'].id}/edit").status_code == 404


def test_committee_members_need_a_village_of_their_school(client, world):
    token = login(client, "admina")
    r = _create(client, token, role="committee", village="")
    assert "村委会成员须填所在村。" in r.get_data(as_text=True)
    r = _create(client, token, role="committee", village="B1村")
    assert r.status_code == 400 and "本校没有名为“B1村”的村。" in r.get_data(as_text=True)
    assert _create(client, token, role="committee", village="A2村").status_code == 201
    made = db.session.scalar(select(User).where(User.username == "newteacher"))
    assert made.role == "committee" and made.village_id == world["A"]["v2"].id


def test_a_bad_form_lists_every_problem(client, world):
    token = login(client, "admina")
    r = _create(client, token, username="teachera", name="", phone="abc", role="principal")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    for problem in ("用户名“teachera”已被使用。", "姓名必填。", "手机号“abc”格式不对。", "角色应为："):
        assert problem in html


# --- the lifecycle -----------------------------------------------------------------------------------------------

def test_new_account_must_choose_a_password_before_anything(client, app, world):
    token = login(client, "admina")
    r = _create(client, token)
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    otp = _otp(r.get_data(as_text=True))
    assert not password_problems(otp)
    phone = app.test_client()
    token = login(phone, "newteacher", otp)
    r = phone.get("/children/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', phone.get("/account").get_data(as_text=True))
    assert styles and all(phone.get(url).status_code == 200 for url in styles)  # the page it is sent to keeps its looks
    r = phone.get("/api/v1/roster")
    assert r.status_code == 403 and r.get_json()["error"] == "password_change_required"
    assert r.get_json()["change_url"] == "/account"
    assert phone.get("/api/v1/session").get_json()["user"]["must_change_password"] is True
    r = _post(phone, "/account/password", token, old_password=otp, new_password="my-own-pass-1", new_password2="my-own-pass-1")
    assert r.status_code == 302
    assert phone.get("/children/").status_code == 200
    assert phone.get("/api/v1/roster").status_code == 200
    # The one-time password is spent: only the new one opens the account.
    assert app.test_client().post("/api/v1/session", json={"username": "newteacher", "password": otp}).status_code == 401
    login(app.test_client(), "newteacher", "my-own-pass-1")


def test_deactivation_ends_a_copied_session_and_tells_the_phone(client, app, world):
    teacher = world["A"]["teacher"]
    phone = app.test_client()
    login(phone, "teachera")
    copy = app.test_client()
    copy.set_cookie("session", phone.get_cookie("session").value)
    assert copy.get("/api/v1/session").status_code == 200
    token = login(client, "admina")
    assert _post(client, f"/staff/{teacher.id}/deactivate", token).status_code == 302
    for c in (phone, copy):
        r = c.get("/api/v1/session")
        assert r.status_code == 401 and r.get_json()["error"] == "account_deactivated"
        r = c.get("/api/v1/roster")
        assert r.status_code == 401 and r.get_json()["error"] == "account_deactivated"
        assert c.get("/children/").status_code == 302
    assert app.test_client().post("/api/v1/session", json={"username": "teachera", "password": PASSWORD}).status_code == 401
    # Its login page has the phone wipe itself; nobody else's login page does (no link can wipe a phone).
    assert 'name="jf-wipe"' in copy.get("/login").get_data(as_text=True)
    assert 'name="jf-wipe"' not in app.test_client().get("/login?deactivated=1").get_data(as_text=True)
    assert "已停用" in client.get("/staff/").get_data(as_text=True)
    assert _post(client, f"/staff/{teacher.id}/reactivate", token).status_code == 302
    login(app.test_client(), "teachera")  # the same password works again
    # A session that simply expired or never was is not called deactivated.
    assert app.test_client().get("/api/v1/session").get_json()["error"] == "unauthorized"


def test_reset_gives_a_one_time_password_and_ends_sessions(client, app, world):
    teacher = world["A"]["teacher"]
    phone = app.test_client()
    login(phone, "teachera")
    token = login(client, "admina")
    r = _post(client, f"/staff/{teacher.id}/reset-password", token)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    otp = _otp(r.get_data(as_text=True))
    assert phone.get("/api/v1/session").status_code == 401
    assert app.test_client().post("/api/v1/session", json={"username": "teachera", "password": PASSWORD}).status_code == 401
    fresh = app.test_client()
    login(fresh, "teachera", otp)
    r = fresh.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    assert fresh.get("/account").status_code == 200


def test_editing_a_role_ends_the_accounts_sessions(client, app, world):
    phone = app.test_client()
    login(phone, "teachera")
    token = login(client, "admina")
    t = world["A"]["teacher"]
    assert _post(client, f"/staff/{t.id}/edit", token, name="改名", phone="", role="counsellor", village="").status_code == 302
    assert phone.get("/api/v1/session").status_code == 401
    db.session.refresh(t)
    assert (t.name, t.role) == ("改名", "counsellor")


def test_every_account_change_is_audited_without_passwords(client, world):
    token = login(client, "admina")
    otp = _otp(_create(client, token).get_data(as_text=True))
    made = db.session.scalar(select(User).where(User.username == "newteacher"))
    t = world["A"]["teacher"]
    _post(client, f"/staff/{t.id}/edit", token, name="改名", phone="", role="teacher", village="")
    _post(client, f"/staff/{t.id}/deactivate", token)
    _post(client, f"/staff/{t.id}/reactivate", token)
    otp2 = _otp(_post(client, f"/staff/{t.id}/reset-password", token).get_data(as_text=True))
    rows = db.session.execute(select(AuditEntry.action, AuditEntry.object_id, AuditEntry.user_id)
                              .where(AuditEntry.object_type == "user", AuditEntry.action != "login")
                              .order_by(AuditEntry.id)).all()
    admin = world["A"]["admin"].id
    assert [tuple(r) for r in rows] == [("account_created", str(made.id), admin), ("account_updated", str(t.id), admin),
                                        ("account_deactivated", str(t.id), admin), ("account_reactivated", str(t.id), admin),
                                        ("password_reset", str(t.id), admin)]
    for secret in (otp, otp2):
        for col in (AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id):
            assert db.session.scalar(select(func.count()).where(col.contains(secret))) == 0


# --- the password rule, on every path ----------------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("short1", "密码至少 8 位。"), ("1234567890", "密码不能只有数字。"), ("teachera", "密码不能与用户名相同。"),
    ("password1", "这个密码太常见，很容易被猜中。"), ("Qwerty123", "这个密码太常见，很容易被猜中。"),
])
def test_own_password_change_refuses_weak_passwords(client, world, password, problem):
    token = login(client, "teachera")
    r = _post(client, "/account/password", token, old_password=PASSWORD, new_password=password, new_password2=password)
    assert r.status_code == 400 and problem in r.get_data(as_text=True)
    db.session.refresh(world["A"]["teacher"])
    assert world["A"]["teacher"].check_password(PASSWORD)


def test_the_documented_demo_password_and_one_time_passwords_pass():
    assert password_problems("demo12345", "admin1") == []
    assert all(password_problems(one_time_password(), "x") == [] for _i in range(50))
    assert password_problems("123", "x") == ["密码至少 8 位。", "密码不能只有数字。"]  # every problem, not the first


def test_create_user_command_uses_the_same_rule(app, runner):
    r = runner.invoke(args=["create-user", "--username", "boss", "--name", "局长", "--role", "bureau_admin",
                            "--county", "青溪县", "--password", "88888888"])
    assert r.exit_code != 0 and "密码不能只有数字。" in r.output
    r = runner.invoke(args=["create-user", "--username", "boss", "--name", "局长", "--role", "bureau_admin",
                            "--county", "青溪县", "--password", "boss-pass-2026"])
    assert r.exit_code == 0, r.output
