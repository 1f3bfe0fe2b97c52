"""Resumable photo uploads (issue 21, item 3): chunks with Content-Range, HEAD's Upload-Offset, a cut that keeps every
byte received, refusals that leave nothing behind, partials private to their uploader and expiring after a day."""
import fcntl
import io
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Photo

from . import imaging
from .builders import put_photo
from .conftest import login

CHUNK = 64 * 1024


@pytest.fixture
def teacher(client, world):
    return {"token": login(client, world["A"]["teacher"].username), "user": world["A"]["teacher"]}


@pytest.fixture(scope="module")
def photo():
    data = imaging.jpeg(seed=21, size=(1600, 1200), quality=85, exif=imaging.exif_block())
    assert len(data) > 2 * CHUNK  # several chunks
    return data


class Sender:
    """A phone sending chunks; counts the body bytes that actually left it."""

    def __init__(self, client, token, data, kind=None):
        self.client, self.token, self.data = client, token, data
        self.url = f"/api/v1/photos/{imaging.sha(data)}" + (f"?kind={kind}" if kind else "")
        self.sent = 0

    def head(self):
        return self.client.head(self.url, headers={"X-CSRFToken": self.token})

    def chunk(self, start, end, cut_at=None, body=None):
        """PUT bytes [start, end); with cut_at the connection drops once that many bytes of the body went."""
        body = self.data[start:end] if body is None else body
        headers = {"X-CSRFToken": self.token, "Content-Range": f"bytes {start}-{end - 1}/{len(self.data)}"}
        if cut_at is None:
            self.sent += len(body)
            return self.client.put(self.url, data=body, content_type="image/jpeg", headers=headers)
        self.sent += cut_at
        return self.client.put(self.url, input_stream=io.BytesIO(body[:cut_at]), content_type="image/jpeg",
                               headers=headers, environ_overrides={"CONTENT_LENGTH": str(len(body))})

    def offset(self) -> int:
        r = self.head()
        assert r.status_code == 404
        return int(r.headers["Upload-Offset"])

    def resume(self, cuts=()):
        """Send everything from the server's offset in CHUNK pieces, dropping the connection at each byte in `cuts`."""
        cuts = sorted(cuts)
        while True:
            start = self.offset()
            end = min(start + CHUNK, len(self.data))
            cut = next((c for c in cuts if start < c < end), None)
            if cut is not None:
                cuts.remove(cut)
                self.chunk(start, end, cut_at=cut - start)
                continue
            r = self.chunk(start, end)
            if r.status_code != 202:
                return r


def files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


def partial_path(app, user, data) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / "partial" / f"{user.id}-{imaging.sha(data)}"


def photos() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def test_chunks_in_order_store_the_photo_and_never_under_its_final_name(app, client, teacher, photo):
    s = Sender(client, teacher["token"], photo)
    assert s.offset() == 0
    first = s.chunk(0, CHUNK)
    assert first.status_code == 202
    assert first.get_json() == {"sha256": imaging.sha(photo), "status": "partial", "offset": CHUNK}
    assert s.offset() == CHUNK
    r = s.chunk(CHUNK, 2 * CHUNK)
    assert r.status_code == 202 and r.headers["Upload-Offset"] == str(2 * CHUNK)
    # While on its way, the bytes sit only in the uploader's partial file: no file has the final names yet.
    assert [p.relative_to(app.config["UPLOAD_DIR"]).as_posix() for p in files(app)] == [
        f"partial/{teacher['user'].id}-{imaging.sha(photo)}"]
    assert photos() == 0
    last = s.chunk(2 * CHUNK, len(photo))
    assert last.status_code == 201 and last.get_json()["status"] == "stored"
    assert s.head().status_code == 200
    names = {p.relative_to(app.config["UPLOAD_DIR"]).as_posix() for p in files(app)}
    sha = imaging.sha(photo)
    assert names == {f"orig/{sha}", f"display/{sha}.jpg", f"thumb/{sha}.jpg"}
    assert (Path(app.config["UPLOAD_DIR"]) / "orig" / sha).read_bytes() == photo
    assert photos() == 1 and s.sent == len(photo)
    # Sent again, whole or as a last chunk: "exists", nothing new.
    assert put_photo(client, teacher["token"], photo).status_code == 200
    assert s.chunk(2 * CHUNK, len(photo)).status_code == 200
    assert photos() == 1


def test_a_chunk_not_starting_at_the_stored_offset_gets_409_with_the_offset(app, client, teacher, photo):
    s = Sender(client, teacher["token"], photo)
    r = s.chunk(CHUNK, 2 * CHUNK)  # nothing held yet: must start at 0, and no file is made
    assert r.status_code == 409 and r.get_json()["error"] == "wrong_offset" and r.get_json()["offset"] == 0
    assert files(app) == []
    assert s.chunk(0, CHUNK).status_code == 202
    for start in (CHUNK + 10, CHUNK - 10, 0):  # ahead, overlapping, starting again
        r = s.chunk(start, min(start + CHUNK, len(photo)))
        assert r.status_code == 409, start
        assert r.get_json()["offset"] == CHUNK and r.headers["Upload-Offset"] == str(CHUNK)
        assert "第 65536 字节" in r.get_json()["message"]
    assert s.offset() == CHUNK
    assert partial_path(app, teacher["user"], photo).read_bytes() == photo[:CHUNK]


@pytest.mark.parametrize("header", ["bytes 0-9", "bytes 10-5/100", "bytes 0-99/100", "bytes 0-9/10", "items 0-9/100",
                                    "bytes -1-9/100"])
def test_a_malformed_or_inconsistent_range_is_a_400(client, teacher, photo, header):
    sha = imaging.sha(photo)
    r = client.put(f"/api/v1/photos/{sha}", data=photo[:10], content_type="image/jpeg",
                   headers={"X-CSRFToken": teacher["token"], "Content-Range": header})
    assert r.status_code == 400 and r.get_json()["error"] in ("bad_range", "hash_mismatch")
    assert r.get_json()["error"] == ("hash_mismatch" if header == "bytes 0-9/10" else "bad_range")


def test_a_range_over_the_size_limit_is_refused_before_its_bytes(app, client, teacher, photo):
    app.config["PHOTO_MAX_BYTES"] = len(photo) - 1
    r = Sender(client, teacher["token"], photo).chunk(0, CHUNK)
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    assert files(app) == []


@pytest.mark.parametrize("cuts", [(0.5,), (0.9,), (0.5, 0.9)])
def test_a_cut_upload_resumes_from_the_last_byte_received(app, client, teacher, photo, cuts):
    s = Sender(client, teacher["token"], photo)
    r = s.resume(cuts=[int(len(photo) * c) for c in cuts])
    assert r.status_code == 201, r.get_json()
    assert s.sent <= 1.1 * len(photo)
    assert s.sent == len(photo)  # every byte that arrived before a cut was kept
    assert (Path(app.config["UPLOAD_DIR"]) / "orig" / imaging.sha(photo)).read_bytes() == photo
    assert photos() == 1 and not partial_path(app, teacher["user"], photo).exists()


def test_a_cut_chunk_answers_where_the_server_stopped(app, client, teacher, photo):
    s = Sender(client, teacher["token"], photo)
    r = s.chunk(0, CHUNK, cut_at=1000)
    assert r.status_code == 409 and r.get_json()["error"] == "incomplete_chunk" and r.get_json()["offset"] == 1000  # the phone rarely hears it; HEAD says the same
    assert s.offset() == 1000


def test_a_hash_mismatch_at_the_end_is_refused_and_the_partial_removed(app, client, teacher, photo):
    wrong = bytearray(photo)
    wrong[-100] ^= 0xFF
    s = Sender(client, teacher["token"], photo)
    assert s.chunk(0, CHUNK).status_code == 202
    r = s.chunk(CHUNK, len(photo), body=bytes(wrong[CHUNK:]))
    assert r.status_code == 400 and r.get_json()["error"] == "hash_mismatch"
    assert files(app) == [] and photos() == 0
    assert s.offset() == 0  # the phone starts again from the beginning


def test_a_photo_refused_by_the_pipeline_leaves_nothing(app, client, teacher):
    junk = os.urandom(3 * CHUNK)
    s = Sender(client, teacher["token"], junk)
    r = s.resume()
    assert r.status_code == 415 and r.get_json()["error"] == "not_an_image"
    assert files(app) == [] and photos() == 0


def test_over_the_quota_at_the_end_keeps_all_but_the_last_chunk(app, client, teacher, photo):
    s = Sender(client, teacher["token"], photo)
    assert s.chunk(0, CHUNK).status_code == 202
    app.config["PHOTO_UPLOADS_PER_DAY"] = 0
    r = s.chunk(CHUNK, len(photo))
    assert r.status_code == 429 and r.get_json()["error"] == "upload_quota_daily"
    assert s.offset() == CHUNK and photos() == 0  # tomorrow the phone sends the last chunk only
    app.config["PHOTO_UPLOADS_PER_DAY"] = 500
    assert s.resume().status_code == 201


def test_over_the_quota_is_refused_at_the_first_chunk(app, client, teacher, photo):
    app.config["PHOTO_UNLINKED_BYTES_MAX"] = len(photo) - 1
    r = Sender(client, teacher["token"], photo).chunk(0, CHUNK)
    assert r.status_code == 429 and r.get_json()["error"] == "upload_quota_unlinked"
    assert files(app) == []


def test_another_user_can_neither_probe_nor_append_to_a_partial(app, client, teacher, world, photo):
    s = Sender(client, teacher["token"], photo)
    assert s.chunk(0, CHUNK).status_code == 202
    other = app.test_client()
    mallory = Sender(other, login(other, world["A"]["other_teacher"].username), photo)
    assert mallory.offset() == 0  # learns nothing of the teacher's upload
    r = mallory.chunk(CHUNK, len(photo), body=b"\0" * (len(photo) - CHUNK))
    assert r.status_code == 409 and r.get_json()["offset"] == 0
    assert partial_path(app, teacher["user"], photo).read_bytes() == photo[:CHUNK]
    # The teacher's upload goes on untouched; the other user's own upload of the same bytes is theirs alone.
    assert s.resume().status_code == 201
    assert mallory.resume().status_code == 201
    assert photos() == 2


def test_a_partial_being_written_elsewhere_answers_503_busy(app, client, teacher, photo):
    s = Sender(client, teacher["token"], photo)
    assert s.chunk(0, CHUNK).status_code == 202
    with open(partial_path(app, teacher["user"], photo), "rb") as held:  # another server's request holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        r = s.chunk(CHUNK, 2 * CHUNK)
        assert r.status_code == 503 and r.get_json()["error"] == "upload_in_progress" and r.headers["Retry-After"]
    assert s.offset() == CHUNK
    assert s.resume().status_code == 201


def test_housekeeping_removes_partials_untouched_for_a_day(app, client, teacher, world, photo):
    s = Sender(client, teacher["token"], photo)
    assert s.chunk(0, CHUNK).status_code == 202
    other_photo = imaging.jpeg(seed=22, size=(1600, 1200), quality=85)
    fresh = Sender(client, teacher["token"], other_photo)
    assert fresh.chunk(0, CHUNK).status_code == 202
    old = partial_path(app, teacher["user"], photo)
    then = time.time() - 25 * 3600
    os.utime(old, (then, then))
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "1 unfinished uploads" in result.output
    assert not old.exists() and partial_path(app, teacher["user"], other_photo).exists()
    assert s.offset() == 0 and fresh.offset() == CHUNK


def test_a_whole_file_put_still_works_for_old_phones(app, client, teacher, photo):
    r = put_photo(client, teacher["token"], photo)
    assert r.status_code == 201 and r.get_json()["status"] == "stored"
    assert Sender(client, teacher["token"], photo).head().status_code == 200
