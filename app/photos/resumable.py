"""Resumable photo uploads: a photo sent in chunks (PUT with Content-Range) grows as a partial file in the store until
its last byte arrives. The partial's length is the upload's whole state, so any app server can take the next chunk
and a phone cut off on 2G continues from the last byte the server has (HEAD answers it as Upload-Offset).

A partial is named by its uploader and the photo's hash ("partial/<user id>-<sha256>"): nobody else can append to it
or learn of it, and it never sits under the name the finished photo gets. `flask housekeeping` removes partials
untouched for PHOTO_PARTIAL_MAX_AGE."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request
from werkzeug.exceptions import ClientDisconnected

from ..models import User
from .services import store
from .store import PartialBusy, WrongOffset

_RANGE = re.compile(r"^bytes ([0-9]{1,12})-([0-9]{1,12})/([0-9]{1,12})$")
READ_SIZE = 16 * 1024  # written to the partial as it arrives: a cut keeps every byte received before it


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int  # exclusive
    total: int


def parse_range(header: str) -> Chunk | None:
    """`bytes first-last/total` as a Chunk, or None when the header is malformed or inconsistent."""
    m = _RANGE.fullmatch(header.strip())
    if not m:
        return None
    first, last, total = (int(g) for g in m.groups())
    if first > last or last >= total:
        return None
    return Chunk(first, last + 1, total)


def partial_key(user: User, sha: str) -> str:
    """Where `user`'s unfinished upload of `sha` lives in the store."""
    return f"partial/{user.id}-{sha}"


def offset(user: User, sha: str) -> int:
    """How many bytes of `sha` the server holds from `user`'s unfinished upload."""
    return store().length(partial_key(user, sha))


def receive(f, chunk: Chunk) -> int:
    """Copy the request body into the open partial `f` as it arrives; return how many bytes came (fewer when cut)."""
    want = chunk.end - chunk.start
    got = 0
    stream = request.stream
    while got < want:
        try:
            piece = stream.read(min(READ_SIZE, want - got))
        except ClientDisconnected:
            break
        if not piece:
            break
        f.write(piece)
        got += len(piece)
    return got


def expire(before: float) -> int:
    """Remove partial uploads last written before `before` (a Unix time); how many went."""
    return store().expire("partial", before)


__all__ = ["Chunk", "PartialBusy", "WrongOffset", "expire", "offset", "parse_range", "partial_key", "receive"]
