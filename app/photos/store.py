"""Where photo bytes live, behind a small interface: the filesystem under instance/ now, an object store later."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[a-z]+/[0-9a-f]{64}(\.jpg)?$")


class PhotoStore(Protocol):
    """What the app needs from wherever photo bytes live; keys look like "orig/<sha256>" or "thumb/<sha256>.jpg"."""

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class FileSystemStore:
    """Content-addressed files under `root`; keys look like "orig/<sha256>" or "thumb/<sha256>.jpg"."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        # Keys are built by us from a checked hash; refuse anything else so no key can escape root.
        if not _KEY.fullmatch(key):
            raise ValueError("bad storage key")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a crash leaves either the old file or the new one, never half of one."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
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
