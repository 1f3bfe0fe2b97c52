"""The one password rule (pages, import, CLI, own change) and the one-time passwords a reset hands out."""
from __future__ import annotations

import secrets

from flask_babel import gettext as _

MIN_LENGTH = 8
# The most guessed passwords of Chinese and English lists that pass the length rule. "demo12345" is not here: the demo
# accounts are documented with it (and a deployment has no demo accounts).
COMMON = frozenset({
    "12345678", "123456789", "1234567890", "11111111", "88888888", "66666666", "00000000", "87654321",
    "password", "password1", "password123", "passw0rd", "qwertyuiop", "qwerty123", "1qaz2wsx", "1q2w3e4r",
    "abc12345", "abcd1234", "a1234567", "a12345678", "aa123456", "iloveyou", "woaini1314", "admin123",
    "admin1234", "123qweasd", "qweasdzxc", "zxcvbnm1", "asdfghjkl", "letmein1", "welcome1", "abcdefgh",
    "jiafang123", "jiafangtong",
})
# No 0/O, 1/l/I: a one-time password is read off a screen and typed on a phone.
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Every reason this password is too weak (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("密码至少 %(n)d 位。", n=MIN_LENGTH))
    if password.isdigit():
        problems.append(_("密码不能只有数字。"))
    if username and password.strip().lower() == username.strip().lower():
        problems.append(_("密码不能与用户名相同。"))
    if password.lower() in COMMON:
        problems.append(_("这个密码太常见，很容易被猜中。"))
    return problems


def one_time_password() -> str:
    """A random password for a new or reset account, shown once to whoever made it."""
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _i in range(10))
        if not password_problems(pw) and any(c.isdigit() for c in pw):
            return pw
