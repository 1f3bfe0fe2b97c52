"""Where photo bytes live, behind a small interface: the filesystem under instance/ now, an object store later."""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

# "partial/<user id>-<sha256>" is a resumable upload on its way (app/photos/resumable.py), never a final name.
_KEY = re.compile(r"^[a-z]+/([0-9]{1,10}-)?[0-9a-f]{64}(\.jpg)?$")


class WrongOffset(Exception):
    """A chunk did not start where the partial file ends; `length` is where it does."""

    def __init__(self, length: int):
        super().__init__(length)
        self.length = length


class PartialBusy(Exception):
    """Another request (on this server or another) is writing the same partial file."""


class PhotoStore(Protocol):
    """What the app needs from wherever photo bytes live; keys look like "orig/<sha256>" or "thumb/<sha256>.jpg"."""

    def put(self, key: str, data: bytes, durable: bool = True) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def length(self, key: str) -> int: ...
    def appending(self, key: str, offset: int): ...
    def expire(self, prefix: str, before: float) -> int: ...


class FileSystemStore:
    """Content-addressed files under `root`; keys look like "orig/<sha256>" or "thumb/<sha256>.jpg"."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        # Keys are built by us from a checked hash; refuse anything else so no key can escape root.
        if not _KEY.fullmatch(key):
            raise ValueError("bad storage key")
        return self.root / key

    def put(self, key: str, data: bytes, durable: bool = True) -> None:
        """Write atomically: a crash leaves either the old file or the new one, never half of one. `durable`: on disk
        (the file and its name) before returning; without it a crash may leave the file empty or lose it (copies that
        can be made again from the original: each fsync costs ~5 ms a photo)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
            if durable:  # the new name is in the directory, which needs an fsync of its own
                dir_fd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def path(self, key: str) -> Path | None:
        """A local path for send_file, when the store is a filesystem."""
        p = self._path(key)
        return p if p.exists() else None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def length(self, key: str) -> int:
        """The file's length in bytes, 0 when there is none."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def appending(self, key: str, offset: int):
        """The file at `key`, opened to append at `offset` and locked against every other writer (servers sharing the
        store too); WrongOffset when it is not `offset` bytes long, PartialBusy when another request holds it."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # only a first chunk may create the file: a later one for a file that is gone starts again at 0
            fd = os.open(path, os.O_RDWR | os.O_APPEND | (os.O_CREAT if offset == 0 else 0), 0o600)
        except FileNotFoundError:
            raise WrongOffset(0) from None
        with os.fdopen(fd, "rb+", buffering=0) as f:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PartialBusy() from None
            size = os.fstat(fd).st_size
            if size != offset:
                raise WrongOffset(size)
            try:
                yield f
            finally:  # what arrived stays, even from a request cut half way: the next chunk starts after it
                if not f.closed:
                    os.fsync(fd)

    def expire(self, prefix: str, before: float) -> int:
        """Delete the files under `prefix`/ last written before `before` (a Unix time); how many went."""
        n = 0
        for p in (self.root / prefix).glob("*"):
            try:
                if p.is_file() and p.stat().st_mtime < before:
                    p.unlink()
                    n += 1
            except FileNotFoundError:  # finished or removed meanwhile
                pass
        return n
