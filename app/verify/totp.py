"""RFC 6238 one-time codes (HMAC-SHA1, 6 digits) with a 3-minute step: shown offline on the committee member's phone."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

STEP_SECONDS = 180
DIGITS = 6


def new_secret() -> str:
    """160 random bits, base32 without padding (what authenticator apps use)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def code_at_step(secret: str, step: int) -> str:
    """RFC 4226 HOTP of the counter `step`, as RFC 6238 uses it."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    n = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** DIGITS
    return str(n).zfill(DIGITS)


def step_of(unix_seconds: float) -> int:
    return int(unix_seconds // STEP_SECONDS)


def code_at(secret: str, unix_seconds: float) -> str:
    return code_at_step(secret, step_of(unix_seconds))


def matching_step(secret: str, code: str, first_step: int, last_step: int) -> int | None:
    """The step in [first_step, last_step] whose code is `code`, or None."""
    for step in range(first_step, last_step + 1):
        if hmac.compare_digest(code_at_step(secret, step), code):
            return step
    return None
