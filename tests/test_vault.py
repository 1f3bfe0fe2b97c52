"""POST /api/v1/device-key: the key that unlocks a phone's unsent records, released only after the password."""
import base64
import uuid

from app.auth.services import LOGIN_AT_KEY
from app.models import DeviceKey

from .conftest import PASSWORD, login

DEV = str(uuid.uuid4())


def _key(client, token, **body):
    return client.post("/api/v1/device-key", json={"device_id": DEV, **body}, headers={"X-CSRFToken": token})


def test_fresh_login_gets_the_same_key_each_time_and_others_do_not(client, world):
    token = login(client, "teachera")
    first = _key(client, token)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    key = base64.b64decode(first.get_json()["key"])
    assert len(key) == 32
    assert base64.b64decode(_key(client, token).get_json()["key"]) == key
    assert DeviceKey.query.count() == 1
    # Another teacher asking with the same device id gets a different key.
    token = login(client, "teacherax")
    assert base64.b64decode(_key(client, token).get_json()["key"]) != key


def test_stale_session_needs_the_password(client, world):
    token = login(client, "teachera")
    with client.session_transaction() as s:
        s[LOGIN_AT_KEY] -= 3600  # typed an hour ago: a phone left on a table
    r = _key(client, token)
    assert r.status_code == 403 and r.get_json()["error"] == "password_required"
    r = _key(client, token, password="wrong password")
    assert r.status_code == 403 and r.get_json()["error"] == "bad_password"
    assert _key(client, token, password=PASSWORD).status_code == 200


def test_wrong_passwords_are_rate_limited(client, world):
    token = login(client, "teachera")
    for _ in range(5):
        assert _key(client, token, password="nope").status_code == 403
    assert _key(client, token, password=PASSWORD).status_code == 429


def test_bad_input_and_no_session(client, world):
    assert client.post("/api/v1/device-key", json={"device_id": DEV}).status_code in (401, 403)
    token = login(client, "teachera")
    for body in ({"device_id": "phone-1"}, {"device_id": 5}, {}, {"device_id": DEV, "password": 5}):
        r = client.post("/api/v1/device-key", json=body, headers={"X-CSRFToken": token})
        assert r.status_code == 400 and r.get_json()["message"]
    r = client.post("/api/v1/device-key", data="x", headers={"X-CSRFToken": token})
    assert r.status_code == 400
    client.delete("/api/v1/session")
    r = client.post("/api/v1/device-key", json={"device_id": DEV}, headers={"X-CSRFToken": token})
    assert r.status_code in (401, 403) and "key" not in r.get_json()
