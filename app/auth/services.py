"""Logging in: password check, rate limit of failures, a fresh session."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select

from ..audit import audit
from ..clock import utcnow
from ..extensions import db
from ..models import LoginFailure, User


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None  # "bad_credentials" | "rate_limited"
    retry_after: int = 0


def _failures_since(username: str, ip: str):
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])
    since = utcnow() - window
    # Limit per (username, address) so that one attacker cannot lock a teacher out from everywhere,
    # and per address overall so that one address cannot try many usernames.
    per_user = db.session.scalar(
        select(func.count()).where(LoginFailure.username == username, LoginFailure.ip == ip, LoginFailure.at >= since)
    )
    per_ip = db.session.scalar(select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since))
    return per_user, per_ip


def authenticate(username: str, password: str, ip: str) -> LoginResult:
    """Check a username and password, counting failures; log the user in on success."""
    username = (username or "").strip().lower()[:64]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    per_user, per_ip = _failures_since(username, ip)
    if per_user >= limit or per_ip >= limit * 4:
        return LoginResult(None, "rate_limited", current_app.config["LOGIN_FAILURE_WINDOW"])
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if user is None or not user.active or not user.check_password(password or ""):
        db.session.add(LoginFailure(username=username, ip=ip))
        db.session.commit()
        return LoginResult(None, "bad_credentials")
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip))
    # A new session on login: nothing from before (e.g. a planted session) carries over.
    session.clear()
    login_user(user)
    session.permanent = True
    audit("login", "user", user.id, user=user)
    db.session.commit()
    return LoginResult(user)


def end_session() -> None:
    """Log out and drop everything in the session cookie."""
    logout_user()
    session.clear()


def prune_failures(now: datetime | None = None) -> int:
    """Drop failures older than the window (run by `flask send-reminders`; the caller commits)."""
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW"])
    res = db.session.execute(delete(LoginFailure).where(LoginFailure.at < (now or utcnow()) - window))
    return res.rowcount
