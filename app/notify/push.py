"""Web Push: the VAPID key pair (made once, kept in instance/) and sending pending notifications to subscribed phones.

A push is only a nudge: its payload is a generic text and the notification's opaque id, never a name, because lock
screens show it and it crosses a third party's push service. The app fetches the details after it is opened. Push
cannot be the only channel (Chrome's push service is unreachable from mainland China): every reminder is also in the
in-app notification centre.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import select

from ..clock import as_utc, utcnow
from ..extensions import db
from ..models import Notification, PushSubscription
from .endpoints import endpoint_error, loopback_allowed, session

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
TITLE = "家访通"
BODY = "您有新的提醒，请打开家访通查看。"
TTL = 12 * 3600          # a reminder older than half a day is not worth waking a phone for
TIMEOUT = (3.05, 5)      # seconds to connect, to answer: a push service that dawdles is tried again next run
WINDOW = timedelta(hours=24)  # older pending notifications are left to the in-app centre
DEFAULT_BACKOFF = timedelta(minutes=10)
GONE = (404, 410)


def _key_path() -> Path:
    return Path(current_app.instance_path) / KEY_FILE


def _private_key() -> ec.EllipticCurvePrivateKey:
    """The server's VAPID private key, generated on first use (mode 0600) and read from instance/ afterwards."""
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            # link() fails if it exists: two workers starting at once keep the first key, never a half-written file.
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key() -> str:
    """The applicationServerKey: the public key as an uncompressed P-256 point, base64url without padding."""
    point = _private_key().public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(point)


def _vapid() -> Vapid:
    _private_key()  # make it on first use
    return Vapid.from_pem(_key_path().read_bytes())


def payload(n: Notification) -> str:
    """What a push carries: a generic text and the opaque id, nothing about anyone."""
    return json.dumps({"id": n.id, "title": TITLE, "body": BODY}, ensure_ascii=False)


def _retry_at(value: str | None, now: datetime) -> datetime:
    """Retry-After as seconds or an HTTP date; 10 minutes when absent or unreadable."""
    if value:
        value = value.strip()
        if value.isdigit():
            return now + timedelta(seconds=min(int(value), 86400))
        try:
            at = parsedate_to_datetime(value)
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
            return max(at, now)
        except (TypeError, ValueError):
            pass
    return now + DEFAULT_BACKOFF


def _short(endpoint: str) -> str:
    """An endpoint for the log: the push service's host only (the path identifies a browser)."""
    return urlsplit(endpoint).hostname or "?"


def _send(sub: PushSubscription, n: Notification, vapid: Vapid, http) -> tuple[int, str | None]:
    """One push; answers the push service's status code (0 when unreachable or refused) and its Retry-After header."""
    if endpoint_error(sub.endpoint):  # stored before the rules, or its name now resolves into our network
        log.warning("push to subscription %s refused: endpoint not allowed now", sub.id)
        return 0, None
    info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    # A fresh claims dict every time: pywebpush writes the endpoint's `aud` (and `exp`) into the dict it is given.
    claims = {"sub": current_app.config["VAPID_SUBJECT"]}
    try:
        resp = webpush(info, data=payload(n), vapid_private_key=vapid, vapid_claims=claims,
                       content_encoding="aes128gcm", ttl=TTL, timeout=TIMEOUT, requests_session=http)
        return resp.status_code, None
    except WebPushException as e:
        if e.response is None:
            return 0, None
        return e.status_code or 0, e.response.headers.get("Retry-After")
    except Exception as e:  # connection refused, timeout, bad keys: counted as a failure
        log.warning("push to subscription %s failed: %s", sub.id, type(e).__name__)
        return 0, None


def push_pending(now: datetime | None = None) -> dict:
    """Send each notification made in the last 24 h and not yet pushed to its user's subscriptions; commit.

    A notification is marked pushed once every subscription of its user was tried (or there is none), so running
    this twice sends once. A 429 leaves it pending for that subscription until the Retry-After has passed."""
    now = now or utcnow()
    stats = {"sent": 0, "gone": 0, "backoff": 0, "failed": 0, "done": 0}
    pending = db.session.scalars(select(Notification).where(
        Notification.pushed_at.is_(None), Notification.created_at >= now - WINDOW).order_by(Notification.id)).all()
    if not pending:
        return stats
    vapid = None  # made (and the key file with it) only when someone has subscribed
    http = session(allow_loopback=loopback_allowed())
    subs_by_user: dict[int, list[PushSubscription]] = {}
    for sub in db.session.scalars(select(PushSubscription).where(
            PushSubscription.user_id.in_({n.user_id for n in pending}))):
        subs_by_user.setdefault(sub.user_id, []).append(sub)
    for n in pending:
        complete = True
        for sub in list(subs_by_user.get(n.user_id, [])):
            if sub.retry_after is not None and as_utc(sub.retry_after) > now:
                complete = False  # backing off: this one waits for a later run
                continue
            vapid = vapid or _vapid()
            status, retry_header = _send(sub, n, vapid, http)
            if 200 <= status < 300:
                stats["sent"] += 1
                sub.failures = 0
                sub.retry_after = None
            elif status in GONE:
                stats["gone"] += 1
                subs_by_user[n.user_id].remove(sub)
                db.session.delete(sub)
            elif status == 429:
                stats["backoff"] += 1
                sub.retry_after = _retry_at(retry_header, now)
                complete = False
            else:
                stats["failed"] += 1
                sub.failures = (sub.failures or 0) + 1
            log.info("push notification=%s subscription=%s host=%s status=%s", n.id, sub.id, _short(sub.endpoint), status)
        if complete:
            n.pushed_at = now
            stats["done"] += 1
        db.session.commit()  # per notification: a crash half way never re-sends what went out
    http.close()
    return stats


