"""Logging in: password check, limits on failures, sessions the server can end."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash

from ..audit import audit
from ..clock import utcnow
from ..extensions import db
from ..pwa import HASHED_ENDPOINTS
from ..models import LoginFailure, User
from ..models.people import hash_password

# The session key holding the user's session version at login (see User.session_version).
SESSION_VERSION_KEY = "_sv"
# The session key holding when the password was last typed (seconds since the epoch).
LOGIN_AT_KEY = "_la"
_sleep = time.sleep  # tests record the delays instead of waiting them out
_dummy_hashes: dict[str | None, str] = {}


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None  # "bad_credentials" | "rate_limited"
    retry_after: int = 0


def _failures_since(username: str, ip: str):
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])
    since = utcnow() - window
    # Limit per (username, address) so that one attacker cannot lock a teacher out from everywhere;
    # per address only slow down, because a whole school may share one address behind NAT.
    per_user = db.session.scalar(
        select(func.count()).where(LoginFailure.username == username, LoginFailure.ip == ip, LoginFailure.at >= since)
    )
    per_ip = db.session.scalar(select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since))
    return per_user, per_ip


def _slow_down(per_ip: int) -> None:
    """Delay every attempt from an address with many recent failures, more with each, up to a cap."""
    free = current_app.config["LOGIN_ADDRESS_FREE_FAILURES"]
    if per_ip >= free:
        step, cap = current_app.config["LOGIN_ADDRESS_DELAY_STEP"], current_app.config["LOGIN_ADDRESS_DELAY_MAX"]
        _sleep(min(cap, step * (per_ip - free + 1)))


def _dummy_hash() -> str:
    """A hash made like a real one, to check passwords of unknown users against."""
    method = current_app.config.get("PASSWORD_HASH_METHOD")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = hash_password("no account has this password")
    return _dummy_hashes[method]


def _password_matches(user: User | None, password: str) -> bool:
    """Check the password; unknown and inactive accounts cost the same hash, so timing tells nothing."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password) and user.active


def authenticate(username: str, password: str, ip: str) -> LoginResult:
    """Check a username and password, counting failures; log the user in on success."""
    username = (username or "").strip().lower()[:64]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    per_user, per_ip = _failures_since(username, ip)
    if per_user >= limit:
        return LoginResult(None, "rate_limited", current_app.config["LOGIN_FAILURE_WINDOW"])
    _slow_down(per_ip)
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if not _password_matches(user, password or ""):
        db.session.add(LoginFailure(username=username, ip=ip))
        db.session.commit()
        return LoginResult(None, "bad_credentials")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip))
    # A new session on login: nothing from before (e.g. a planted session) carries over.
    session.clear()
    # The CSRF token of the new session, made now: a request begun before the first page (the service worker's
    # precache) would otherwise make its own, and its cookie, answered last, would void the token of a form already
    # on screen (signed cookies: the last answer's session wins). tests/test_sessions.py reproduces it.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    login_user(user)
    session[SESSION_VERSION_KEY] = user.session_version
    session[LOGIN_AT_KEY] = int(time.time())  # a fresh login releases the phone's device key (app/vault)
    session.permanent = True
    audit("login", "user", user.id, user=user)
    db.session.commit()
    return LoginResult(user)


def session_is_current(user: User) -> bool:
    """True when this session was opened at the user's current session version."""
    return session.get(SESSION_VERSION_KEY) == user.session_version


# Shown by the API and the login page; translated through _() where it is used (messages.po has it).
DEACTIVATED_MESSAGE = "这个账号已停用，手机上的数据已清除。如有疑问请联系学校管理员。"


def signed_out_reason() -> tuple[str, str]:
    """Why an API call has no user: (code, message). A deactivated account's phone is told so, and wipes its data."""
    user_id = session.get("_user_id")
    if isinstance(user_id, str) and user_id.isdigit():
        user = db.session.get(User, int(user_id))
        if user is not None and not user.active:
            return "account_deactivated", _(DEACTIVATED_MESSAGE)
        if user is not None and not session_is_current(user):
            # Logged out elsewhere (another device's logout, a password change): the phone forgets the roster.
            return "session_ended", _("您已在其他设备上退出登录，手机上的学生资料已清除。未同步的记录仍保留，请重新登录后发送。")
    return "unauthorized", _("请先登录。")


# What a user who must choose a new password may still reach: the form, logging out, and the session API (which says
# why everything else is refused).
PASSWORD_CHANGE_ENDPOINTS = {"auth.account", "auth.password", "auth.logout", "auth.api_logout", "auth.api_session",
                             "auth.login", "auth.set_language", "static", "pwa.service_worker", "pwa.manifest",
                             "pwa.app_shell", "pwa.shell_page", "pwa.offline", "pwa.favicon", *HASHED_ENDPOINTS}


def password_change_required() -> bool:
    """True when the logged-in user still holds a one-time password and this request is not one of the few allowed."""
    from flask import request

    return (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS)


def end_all_sessions(user: User) -> None:
    """Raise the user's session version: every session opened before it ends at its next request."""
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    db.session.refresh(user, ["session_version"])


def end_other_sessions(user: User) -> None:
    """End every session of the user but this one (the caller commits)."""
    end_all_sessions(user)
    session[SESSION_VERSION_KEY] = user.session_version


def change_password(user: User, new_password: str) -> None:
    """Store a new password and end the user's other sessions; this one stays logged in."""
    user.set_password(new_password)
    user.must_change_password = False
    end_other_sessions(user)
    audit("password_changed", "user", user.id, user=user)
    db.session.commit()


def end_session() -> None:
    """Log out: end every copy of this session on the server and drop everything in the cookie."""
    if current_user.is_authenticated:
        end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()


def verify_current_password(user: User, password: str, ip: str) -> str | None:
    """Check a logged-in user's password under the login's per-account limit; None or the error."""
    if _failures_since(user.username, ip)[0] >= current_app.config["LOGIN_MAX_FAILURES"]:
        return "rate_limited"
    if user.check_password(password):
        return None
    db.session.add(LoginFailure(username=user.username, ip=ip))
    db.session.commit()
    return "bad_credentials"


def prune_failures(now: datetime | None = None) -> int:
    """Drop failures older than the window (run by `flask send-reminders`; the caller commits)."""
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])
    res = db.session.execute(delete(LoginFailure).where(LoginFailure.at < (now or utcnow()) - window))
    return res.rowcount
