"""Web Push: real aes128gcm pushes to a loopback push service that decrypts them with the subscription's keys."""
from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, PushSubscription
from app.clock import utcnow
from app.notify import push
from app.notify.push import push_pending
from app.notify.services import notify

from .conftest import login


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A loopback HTTP server playing a browser's push service: records every push and answers as told per path."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: dict[str, list[tuple[int, dict]]] = {}  # path → queued (status, headers); 201 when empty
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                queue = service.answers.get(self.path) or []
                status, headers = queue.pop(0) if queue else (201, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def to(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """The browser's side of one subscription: its ECDH key pair and auth secret, as pushManager.subscribe() makes them."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        point = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def service():
    s = PushService()
    yield s
    s.close()


FCM_ADDRESS = "142.250.71.10"  # a public address (documentation ranges are not "global")


@pytest.fixture
def dns(monkeypatch):
    """The resolver as the tests want it: the names in the returned dict answer their addresses, others really resolve."""
    names = {"fcm.googleapis.com": [FCM_ADDRESS]}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        answer = names[host]
        addrs = answer.pop(0) if answer and isinstance(answer[0], list) else answer  # a list of lists: one per lookup
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port or 443, 0, 0) if ":" in a else (a, port or 443)) for a in addrs]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def pushy(app, tmp_path, dns):
    """The app with its instance folder in tmp_path (the VAPID key is made there) and loopback endpoints allowed."""
    app.instance_path = str(tmp_path / "instance")
    app.config["PUSH_ALLOW_LOOPBACK"] = True
    return app


def subscribe(client, csrf, browser):
    return client.post("/api/v1/push/subscriptions", json=browser.subscription(), headers={"X-CSRFToken": csrf})


def remind(user, key="k1"):
    n = notify(user, key, "duties_due", f"{user.name}：孩子张小明本周还需要家访。", "/records/new/home_visit")
    db.session.commit()
    return n


def test_push_end_to_end_is_encrypted_signed_and_anonymous(pushy, client, world, service):
    teacher = world["A"]["teacher"]
    child = world["A"]["c1"]
    csrf = login(client, teacher.username)
    key = client.get("/api/v1/push/key").get_json()["public_key"]
    browser = Browser(service.origin + "/push/phone1")
    assert subscribe(client, csrf, browser).status_code == 201

    n = notify(teacher, "due-1", "duties_due", f"{child.name} 本周需要家访（{teacher.name}）", f"/children/{child.id}/records")
    db.session.commit()
    stats = push_pending()
    assert stats["sent"] == 1 and stats["done"] == 1

    [got] = service.to("/push/phone1")
    assert got["headers"]["content-encoding"] == "aes128gcm"
    assert int(got["headers"]["ttl"]) > 0
    plain = browser.decrypt(got["body"])
    assert plain == {"id": n.id, "title": "家访通", "body": "您有新的提醒，请打开家访通查看。"}
    raw = json.dumps(plain, ensure_ascii=False)
    for personal in (child.name, teacher.name, teacher.username, "/children", "url", "kind"):
        assert personal not in raw
    assert child.name.encode() not in got["body"]

    # VAPID: "vapid t=<JWT>,k=<our public key>", the JWT signed with our key, aud = the push service's origin.
    scheme, params = got["headers"]["authorization"].split(" ", 1)
    assert scheme == "vapid"
    fields = dict(p.split("=", 1) for p in params.split(","))
    assert fields["k"] == key
    header_b64, claims_b64, sig_b64 = fields["t"].split(".")
    assert json.loads(unb64url(header_b64))["alg"] == "ES256"
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == service.origin and claims["sub"].startswith("mailto:") and claims["exp"] > 0
    sig = unb64url(sig_b64)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    public.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                  f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))

    # The app fetches the details after opening, by the opaque id.
    one = client.get(f"/api/v1/notifications?id={n.id}").get_json()["notifications"]
    assert [x["id"] for x in one] == [n.id] and child.name in one[0]["text"]

    # Idempotent: a second run sends nothing.
    assert push_pending()["sent"] == 0
    assert len(service.received) == 1


def test_fresh_claims_for_every_send_so_each_push_service_gets_its_own_aud(pushy, client, world, service):
    other = PushService()
    try:
        teacher = world["A"]["teacher"]
        csrf = login(client, teacher.username)
        a, b = Browser(service.origin + "/push/a"), Browser(other.origin + "/push/b")
        subscribe(client, csrf, a)
        subscribe(client, csrf, b)
        remind(teacher)
        assert push_pending()["sent"] == 2

        def aud(req):
            jwt = dict(p.split("=", 1) for p in req["headers"]["authorization"].split(" ", 1)[1].split(","))["t"]
            return json.loads(unb64url(jwt.split(".")[1]))["aud"]

        assert aud(service.to("/push/a")[0]) == service.origin
        assert aud(other.to("/push/b")[0]) == other.origin
    finally:
        other.close()


@pytest.mark.parametrize("status", [410, 404])
def test_gone_deletes_that_subscription_only(pushy, client, world, service, status):
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    gone, alive = Browser(service.origin + "/push/gone"), Browser(service.origin + "/push/alive")
    subscribe(client, csrf, gone)
    subscribe(client, csrf, alive)
    service.answers["/push/gone"] = [(status, {})]
    n = remind(teacher)
    stats = push_pending()
    assert stats == {"sent": 1, "gone": 1, "backoff": 0, "failed": 0, "done": 1}
    endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert endpoints == [alive.endpoint]
    assert db.session.get(Notification, n.id).pushed_at is not None


@pytest.mark.parametrize("retry_after", ["120", "http-date", None])
def test_429_backs_off_then_sends_later(pushy, client, world, service, retry_after):
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    phone = Browser(service.origin + "/push/busy")
    subscribe(client, csrf, phone)
    now = utcnow().replace(microsecond=0)
    headers = {}
    if retry_after == "120":
        headers["Retry-After"] = "120"
    elif retry_after == "http-date":
        headers["Retry-After"] = format_datetime(now + timedelta(seconds=120), usegmt=True)
    service.answers["/push/busy"] = [(429, headers)]
    n = remind(teacher)

    assert push_pending(now)["backoff"] == 1
    sub = db.session.scalar(select(PushSubscription))
    wait = timedelta(seconds=120) if retry_after else push.DEFAULT_BACKOFF
    assert sub.retry_after == now + wait
    assert db.session.get(Notification, n.id).pushed_at is None

    assert push_pending(now + timedelta(seconds=30)) == {"sent": 0, "gone": 0, "backoff": 0, "failed": 0, "done": 0}
    assert len(service.to("/push/busy")) == 1  # not asked again while backing off

    later = now + wait + timedelta(seconds=1)
    assert push_pending(later)["sent"] == 1
    assert phone.decrypt(service.to("/push/busy")[-1]["body"])["id"] == n.id
    assert db.session.get(Notification, n.id).pushed_at is not None
    assert push_pending(later)["sent"] == 0 and len(service.to("/push/busy")) == 2


def test_other_failures_are_counted_and_the_notification_is_not_resent(pushy, client, world, service):
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    subscribe(client, csrf, Browser(service.origin + "/push/broken"))
    service.answers["/push/broken"] = [(500, {})]
    remind(teacher)
    assert push_pending()["failed"] == 1
    assert db.session.scalar(select(PushSubscription.failures)) == 1
    assert push_pending()["failed"] == 0


def test_nothing_to_send_without_subscriptions_and_old_notifications_are_skipped(pushy, world, service):
    teacher = world["A"]["teacher"]
    n = remind(teacher)
    assert push_pending()["done"] == 1 and db.session.get(Notification, n.id).pushed_at is not None
    old = remind(teacher, "k2")
    assert push_pending(utcnow() + timedelta(hours=25))["done"] == 0
    assert db.session.get(Notification, old.id).pushed_at is None
    assert service.received == []
    assert not os.path.exists(os.path.join(pushy.instance_path, "vapid_private.pem"))  # no key until someone subscribes


def test_vapid_key_made_once_in_instance_with_mode_0600(pushy, client, world):
    login(client, world["A"]["teacher"].username)
    first = client.get("/api/v1/push/key").get_json()["public_key"]
    path = os.path.join(pushy.instance_path, "vapid_private.pem")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(unb64url(first)) == 65 and unb64url(first)[0] == 4
    assert client.get("/api/v1/push/key").get_json()["public_key"] == first
    assert [f for f in os.listdir(pushy.instance_path) if f.startswith(".vapid")] == []


def test_subscription_validation(pushy, client, world, service):
    csrf = login(client, world["A"]["teacher"].username)
    good = Browser("https://fcm.googleapis.com/fcm/send/abc").subscription()

    def post(body):
        r = client.post("/api/v1/push/subscriptions", json=body, headers={"X-CSRFToken": csrf})
        return r.status_code, (r.get_json() or {}).get("error")

    def with_(**changes):
        body = json.loads(json.dumps(good))
        for k, v in changes.items():
            if k in ("p256dh", "auth"):
                body["keys"][k] = v
            else:
                body[k] = v
        return body

    assert post(with_(endpoint="http://push.example.com/x")) == (400, "bad_endpoint")
    assert post(with_(endpoint="ftp://push.example.com/x")) == (400, "bad_endpoint")
    assert post(with_(endpoint="https://" + "a" * 1000 + ".com/")) == (400, "bad_endpoint")
    assert post(with_(endpoint=None)) == (400, "bad_endpoint")
    assert post(with_(p256dh=b64url(os.urandom(16)))) == (400, "bad_keys")
    assert post(with_(p256dh=b64url(b"\x04" + os.urandom(64)))) == (400, "bad_keys")  # not on the curve
    assert post(with_(p256dh="not base64!")) == (400, "bad_keys")
    assert post(with_(auth=b64url(os.urandom(15)))) == (400, "bad_keys")
    assert post(with_(keys=None)) == (400, "bad_keys")
    r = client.post("/api/v1/push/subscriptions", data="nope", content_type="application/json", headers={"X-CSRFToken": csrf})
    assert r.status_code == 400 and r.get_json()["error"] == "bad_json"
    r = client.post("/api/v1/push/subscriptions", json=good)  # no CSRF token
    assert r.status_code == 403 and r.get_json()["error"] == "csrf_failed"

    assert post(good) == (201, None)
    assert post(good) == (200, None)
    assert len(db.session.scalars(select(PushSubscription)).all()) == 1

    pushy.config["PUSH_ALLOW_LOOPBACK"] = False
    assert post(with_(endpoint=service.origin + "/push/x")) == (400, "bad_endpoint")


def test_push_api_needs_login(pushy, client):
    assert client.get("/api/v1/push/key").status_code == 401
    assert client.post("/api/v1/push/subscriptions", json={}).status_code in (401, 403)


def test_shared_phone_endpoint_moves_and_only_the_owner_can_delete(pushy, app, world, service):
    a, b = app.test_client(), app.test_client()
    ta, tb = world["A"]["teacher"], world["A"]["other_teacher"]
    csrf_a, csrf_b = login(a, ta.username), login(b, tb.username)
    phone = Browser(service.origin + "/push/shared")
    assert subscribe(a, csrf_a, phone).status_code == 201

    r = b.delete("/api/v1/push/subscriptions", json={"endpoint": phone.endpoint}, headers={"X-CSRFToken": csrf_b})
    assert r.status_code == 404
    assert db.session.scalar(select(PushSubscription.user_id)) == ta.id

    assert subscribe(b, csrf_b, phone).status_code == 200  # the phone changed hands
    db.session.expire_all()
    assert db.session.scalar(select(PushSubscription.user_id)) == tb.id
    remind(ta)
    remind(tb)
    push_pending()
    [got] = service.to("/push/shared")  # only the new owner's reminder reaches the phone
    assert phone.decrypt(got["body"])["id"] == db.session.scalar(select(Notification.id).where(Notification.user_id == tb.id))

    r = a.delete("/api/v1/push/subscriptions", json={"endpoint": phone.endpoint}, headers={"X-CSRFToken": csrf_a})
    assert r.status_code == 404
    r = b.delete("/api/v1/push/subscriptions", json={"endpoint": phone.endpoint}, headers={"X-CSRFToken": csrf_b})
    assert r.status_code == 204
    assert db.session.scalars(select(PushSubscription)).all() == []


def test_no_personal_data_in_any_payload_or_log(pushy, client, world, service, caplog, monkeypatch):
    monkeypatch.setattr(push.log, "disabled", False)  # Alembic's fileConfig (test_migrations) disables existing loggers
    teacher = world["A"]["teacher"]
    child = world["A"]["c1"]
    csrf = login(client, teacher.username)
    phone = Browser(service.origin + "/push/private-path-123")
    subscribe(client, csrf, phone)
    for i, kind in enumerate(("duties_due", "duties_overdue", "incident", "returned")):
        notify(teacher, f"k{i}", kind, f"{child.name}（{child.class_name}）{teacher.name} 的提醒", f"/children/{child.id}")
    db.session.commit()
    with caplog.at_level("DEBUG", logger="app"):  # ours; urllib3's DEBUG lines are off in production
        push_pending()
    bodies = [phone.decrypt(r["body"]) for r in service.to("/push/private-path-123")]
    assert len(bodies) == 4
    for body in bodies:
        assert set(body) == {"id", "title", "body"} and body["title"] == push.TITLE and body["body"] == push.BODY
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app"))
    assert "notification=" in logged
    for secret in (child.name, teacher.name, "private-path-123"):
        assert secret not in logged


# --- endpoints the server will call -----------------------------------------------------------------------------

class Listener:
    """A bare TCP port on loopback that records every connection and the first bytes sent on it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.seen: list[bytes] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(1024))
                except OSError:
                    self.seen.append(b"?")

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    s = Listener()
    yield s
    s.close()


@pytest.mark.parametrize("endpoint", [
    "https://127.0.0.1/push/x", "https://10.1.2.3/push/x", "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/push/x", "https://[fc00::1]/push/x", "http://fcm.googleapis.com/fcm/send/x",
    "https://push.example.com/fcm/send/x", "https://fcm.googleapis.com.example.com/x", "https://xfcm.googleapis.com/x",
    "https://localhost/push/x",
])
def test_endpoints_off_the_list_or_not_https_are_refused(pushy, client, world, endpoint):
    pushy.config["PUSH_ALLOW_LOOPBACK"] = False
    csrf = login(client, world["A"]["teacher"].username)
    r = subscribe(client, csrf, Browser(endpoint))
    assert (r.status_code, r.get_json()["error"]) == (400, "bad_endpoint")
    assert db.session.scalars(select(PushSubscription)).all() == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "fc00::5",
                                     "fe80::1", "::ffff:10.0.0.5", "100.64.0.1", "0.0.0.0"])
def test_listed_host_resolving_into_our_network_is_refused(pushy, client, world, dns, address):
    dns["fcm.googleapis.com"] = [FCM_ADDRESS, address]  # one bad address among good ones is enough to refuse
    csrf = login(client, world["A"]["teacher"].username)
    r = subscribe(client, csrf, Browser("https://fcm.googleapis.com/fcm/send/abc"))
    assert (r.status_code, r.get_json()["error"]) == (400, "bad_endpoint")
    assert "内部网络" in r.get_json()["message"]


def test_listed_hosts_and_their_subdomains_are_accepted(pushy, client, world, dns):
    pushy.config["PUSH_ALLOW_LOOPBACK"] = False
    for name in ("wns2-par02p.notify.windows.com", "web.push.apple.com", "updates.push.services.mozilla.com"):
        dns[name] = [FCM_ADDRESS]
    csrf = login(client, world["A"]["teacher"].username)
    for endpoint in ("https://fcm.googleapis.com/fcm/send/a", "https://wns2-par02p.notify.windows.com/w/?token=b",
                     "https://web.push.apple.com/c", "https://updates.push.services.mozilla.com/wpush/v2/d"):
        assert subscribe(client, csrf, Browser(endpoint)).status_code == 201, endpoint
    pushy.config["PUSH_ALLOWED_HOSTS"] = ["push.example.org"]  # configurable: the list is the operator's
    dns["push.example.org"] = [FCM_ADDRESS]
    assert subscribe(client, csrf, Browser("https://push.example.org/e")).status_code == 201
    assert subscribe(client, csrf, Browser("https://fcm.googleapis.com/fcm/send/f")).status_code == 400


def test_loopback_switch_is_off_by_default_and_only_works_in_tests(pushy, client, world, service):
    from app.config import Config

    assert Config.PUSH_ALLOW_LOOPBACK is False and not getattr(Config, "TESTING", False)
    csrf = login(client, world["A"]["teacher"].username)
    pushy.testing = False  # a production app whose instance/config.py switched it on
    r = subscribe(client, csrf, Browser(service.origin + "/push/x"))
    pushy.testing = True
    assert (r.status_code, r.get_json()["error"]) == (400, "bad_endpoint")


def test_endpoint_moves_to_another_user_only_with_its_keys(pushy, app, world, service):
    a, b = app.test_client(), app.test_client()
    ta, tb = world["A"]["teacher"], world["A"]["other_teacher"]
    csrf_a, csrf_b = login(a, ta.username), login(b, tb.username)
    phone = Browser(service.origin + "/push/mine")
    assert subscribe(a, csrf_a, phone).status_code == 201
    thief = Browser(phone.endpoint)  # the same URL, keys of its own
    r = subscribe(b, csrf_b, thief)
    assert (r.status_code, r.get_json()["error"]) == (409, "endpoint_taken")
    db.session.expire_all()
    sub = db.session.scalar(select(PushSubscription))
    assert sub.user_id == ta.id and sub.auth == b64url(phone.auth)
    remind(tb)
    push_pending()
    assert service.to("/push/mine") == []  # B's reminders do not go to A's phone either
    assert subscribe(a, csrf_a, phone).status_code == 200  # the owner re-subscribing is fine


def test_send_time_check_refuses_a_name_that_now_resolves_inside(pushy, client, world, dns, listener):
    pushy.config["PUSH_ALLOW_LOOPBACK"] = False
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    assert subscribe(client, csrf, Browser(f"https://fcm.googleapis.com:{listener.port}/fcm/send/x")).status_code == 201
    dns["fcm.googleapis.com"] = ["127.0.0.1"]
    remind(teacher)
    assert push_pending()["failed"] == 1
    assert listener.seen == []  # not even connected


def test_connection_refuses_a_peer_inside_after_the_check_passed(pushy, client, world, dns, listener):
    pushy.config["PUSH_ALLOW_LOOPBACK"] = False
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    assert subscribe(client, csrf, Browser(f"https://fcm.googleapis.com:{listener.port}/fcm/send/x")).status_code == 201
    dns["fcm.googleapis.com"] = [[FCM_ADDRESS], ["127.0.0.1"]]  # DNS rebinding: public for the check, then loopback
    remind(teacher)
    assert push_pending()["failed"] == 1
    assert listener.seen in ([], [b""])  # closed before a byte (the TLS hello) was sent


def test_redirects_are_not_followed(pushy, client, world, service):
    teacher = world["A"]["teacher"]
    csrf = login(client, teacher.username)
    subscribe(client, csrf, Browser(service.origin + "/push/moved"))
    service.answers["/push/moved"] = [(307, {"Location": service.origin + "/push/elsewhere"})]
    remind(teacher)
    assert push_pending()["failed"] == 1
    assert service.to("/push/elsewhere") == []
