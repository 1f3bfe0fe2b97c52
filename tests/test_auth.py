"""Login pages, the JSON session API of the contract, cookies and rate limiting."""
from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.models import AuditEntry, LoginFailure

from .conftest import PASSWORD, login, page_csrf


def _page_token(client, path="/login"):
    return page_csrf(client.get(path).get_data(as_text=True))


def test_login_and_logout_pages(client, build):
    school = build.school()
    user = build.user("teacher", school, username="t1")
    assert client.get("/").status_code == 302  # to login
    token = _page_token(client)
    r = client.post("/login", data={"username": "t1", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    assert db.session.query(AuditEntry).filter_by(action="login", user_id=user.id).count() == 1
    token = _page_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_page_says_why(client, build):
    build.user("teacher", build.school(), username="t1")
    token = _page_token(client)
    r = client.post("/login", data={"username": "t1", "password": "nope", "csrf_token": token})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)


def test_login_without_csrf_is_refused_not_500(client, build):
    build.user("teacher", build.school(), username="t1")
    r = client.post("/login", data={"username": "t1", "password": PASSWORD})
    assert r.status_code == 400
    assert "过期" in r.get_data(as_text=True)


def test_open_redirect_after_login_is_ignored(client, build):
    build.user("teacher", build.school(), username="t1")
    token = _page_token(client)
    r = client.post("/login?next=https://evil.example/", data={"username": "t1", "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"] == "/"


def test_secure_cookie_over_https(client, build):
    build.user("teacher", build.school(), username="t1")
    r = client.post("/api/v1/session", json={"username": "t1", "password": PASSWORD}, base_url="https://localhost")
    assert r.status_code == 200
    assert "Secure" in r.headers["Set-Cookie"]


def test_session_api_contract(client, build):
    user = build.user("principal", build.school(), username="p1")
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/api/v1/session").get_json()["error"] == "unauthorized"
    r = client.post("/api/v1/session", data="username=p1&password=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["error"] == "unsupported_media_type"
    r = client.post("/api/v1/session", json={"username": "p1", "password": "wrong"})
    assert r.status_code == 401 and r.get_json()["error"] == "bad_credentials"
    r = client.post("/api/v1/session", json={"username": "p1"})
    assert r.status_code == 400
    r = client.post("/api/v1/session", json={"username": "P1", "password": PASSWORD})
    body = r.get_json()
    assert r.status_code == 200
    caps = body["user"].pop("capabilities")
    assert body["user"] == {"id": user.id, "name": user.name, "role": "principal", "username": "p1",
                            "must_change_password": False}
    assert "review_records" in caps and "write_records" in caps and "see_county" not in caps  # the app shows by them
    assert len(body["csrf_token"]) > 20
    r = client.get("/api/v1/session")
    assert r.status_code == 200 and r.get_json()["user"]["id"] == user.id and r.get_json()["csrf_token"]
    r = client.delete("/api/v1/session")
    assert r.status_code == 204
    assert client.get("/api/v1/session").status_code == 401


def test_new_session_on_login(client, build):
    build.user("teacher", build.school(), username="t1")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    login(client, "t1")
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"]


def test_inactive_user_cannot_log_in_and_is_logged_out(client, build):
    user = build.user("teacher", build.school(), username="t1")
    login(client, "t1")
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/session").status_code == 401
    r = client.post("/api/v1/session", json={"username": "t1", "password": PASSWORD})
    assert r.status_code == 401


def test_rate_limit_failed_logins(client, app, build):
    build.user("teacher", build.school(), username="t1")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert client.post("/api/v1/session", json={"username": "t1", "password": "bad"}).status_code == 401
    r = client.post("/api/v1/session", json={"username": "t1", "password": PASSWORD})
    assert r.status_code == 429
    assert r.get_json()["error"] == "rate_limited" and int(r.headers["Retry-After"]) > 0
    # The page shows a clear message, not a 500.
    token = _page_token(client)
    r = client.post("/login", data={"username": "t1", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "次数过多" in r.get_data(as_text=True)
    # Another address is not locked out by this one.
    r = client.post("/api/v1/session", json={"username": "t1", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 200


def test_success_clears_failures(client, build):
    build.user("teacher", build.school(), username="t1")
    client.post("/api/v1/session", json={"username": "t1", "password": "bad"})
    assert db.session.query(LoginFailure).count() == 1
    login(client, "t1")
    assert db.session.query(LoginFailure).count() == 0


def test_create_user_command(runner, app):
    r = runner.invoke(args=["create-user", "--username", "NewT", "--name", "新老师", "--role", "teacher", "--school", "一小", "--password", "longpassword"])
    assert r.exit_code == 0, r.output
    from app.models import User

    u = db.session.query(User).filter_by(username="newt").one()
    assert u.role == "teacher" and u.school.name == "一小" and u.check_password("longpassword") and u.password_hash != "longpassword"
    r = runner.invoke(args=["create-user", "--username", "c1", "--name", "村干部", "--role", "committee", "--school", "一小", "--password", "longpassword"])
    assert r.exit_code != 0 and "village" in r.output
    r = runner.invoke(args=["create-user", "--username", "x", "--name", "x", "--role", "teacher", "--school", "一小", "--password", "short"])
    assert r.exit_code != 0


def test_deployments_hash_passwords_with_scrypt(app):
    from app.models import User

    app.config.pop("PASSWORD_HASH_METHOD")
    u = User(username="x", name="x", role="teacher")
    u.set_password("longpassword")
    assert u.password_hash.startswith("scrypt:") and u.check_password("longpassword")


def test_send_reminders_prunes_old_login_failures(app, runner, build):
    build.user("teacher", build.school(), username="t1")
    now = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    window = timedelta(seconds=app.config["LOGIN_FAILURE_WINDOW"])
    db.session.add_all([LoginFailure(username="t1", ip="10.0.0.1", at=now - window - timedelta(minutes=1)),
                        LoginFailure(username="t1", ip="10.0.0.1", at=now - window + timedelta(minutes=1))])
    db.session.commit()
    out = runner.invoke(args=["send-reminders", "--now", now.isoformat()])
    assert out.exit_code == 0 and "login_failures_pruned=1" in out.output
    db.session.expire_all()
    assert [f.at for f in db.session.query(LoginFailure)] == [now - window + timedelta(minutes=1)]
