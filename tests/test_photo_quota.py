"""Upload quotas (429 with a reason) and `flask housekeeping` (issue 14, item 7)."""
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Photo
from app.clock import utcnow

from . import imaging
from .conftest import login
from .test_sync import post, put_photo, visit


@pytest.fixture
def teacher(client, world):
    token = login(client, world["A"]["teacher"].username)
    return {"token": token, "user": world["A"]["teacher"], "child": world["A"]["c1"]}


def small(seed: int) -> bytes:
    return imaging.jpeg(seed=seed, size=(320, 240))


def photos() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def age(sha: str, days: float, app) -> None:
    """Make the upload of `sha` (row and files) look `days` old."""
    photo = db.session.scalar(select(Photo).where(Photo.sha256 == sha))
    photo.uploaded_at = utcnow() - timedelta(days=days)
    db.session.commit()
    then = time.time() - days * 86400
    for p in Path(app.config["UPLOAD_DIR"]).rglob(f"{sha}*"):
        os.utime(p, (then, then))


def test_daily_upload_count_is_bounded_with_a_429_in_chinese(app, client, teacher):
    app.config["PHOTO_UPLOADS_PER_DAY"] = 2
    a, b, c = small(1), small(2), small(3)
    assert put_photo(client, teacher["token"], a).status_code == 201
    assert put_photo(client, teacher["token"], b).status_code == 201
    stored = (photos(), files(app))
    r = put_photo(client, teacher["token"], c)
    assert r.status_code == 429
    body = r.get_json()
    assert body["error"] == "upload_quota_daily" and "今天已上传 2 张照片" in body["message"]
    assert (photos(), files(app)) == stored  # nothing of the refused photo was kept
    assert put_photo(client, teacher["token"], a).status_code == 200  # sending again what is held still answers
    age(imaging.sha(a), 1, app)  # yesterday's uploads do not count today
    assert put_photo(client, teacher["token"], c).status_code == 201


def test_unlinked_bytes_are_bounded_until_a_record_lists_them(app, client, teacher):
    a, b = small(4), small(5)
    app.config["PHOTO_UNLINKED_BYTES_MAX"] = len(a) + len(b) // 2
    assert put_photo(client, teacher["token"], a).status_code == 201
    r = put_photo(client, teacher["token"], b)
    assert r.status_code == 429
    assert r.get_json()["error"] == "upload_quota_unlinked" and "还没有随记录提交" in r.get_json()["message"]
    # The phone sends the record listing the first photo; its bytes are linked now and the next photo fits.
    res = post(client, teacher["token"], [visit(teacher["child"], photos=[imaging.sha(a)])]).get_json()
    assert res["results"][0]["status"] == "created"
    assert put_photo(client, teacher["token"], b).status_code == 201


def test_housekeeping_removes_old_unlinked_uploads_and_stale_temp_files(app, client, teacher):
    linked, old, recent = small(6), small(7), small(8)
    for data in (linked, old, recent):
        assert put_photo(client, teacher["token"], data).status_code == 201
    assert post(client, teacher["token"], [visit(teacher["child"], photos=[imaging.sha(linked)])]).get_json()[
        "results"][0]["status"] == "created"
    age(imaging.sha(linked), 30, app)
    age(imaging.sha(old), 8, app)
    age(imaging.sha(recent), 2, app)
    tmpdir = Path(app.config["UPLOAD_DIR"]) / "orig"
    stale, fresh = tmpdir / ".tmp-crashed", tmpdir / ".tmp-writing"
    stale.write_bytes(b"half a photo")
    fresh.write_bytes(b"being written")
    then = time.time() - 2 * 86400
    os.utime(stale, (then, then))

    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "removed 1 unlinked photos (3 files" in result.output and "1 temporary files" in result.output
    db.session.expire_all()
    left = set(db.session.scalars(select(Photo.sha256)))
    assert left == {imaging.sha(linked), imaging.sha(recent)}
    names = {p.name for p in files(app)}
    assert not any(imaging.sha(old) in n for n in names)
    for sha in (imaging.sha(linked), imaging.sha(recent)):
        assert {f"{sha}", f"{sha}.jpg"} <= names
    assert not stale.exists() and fresh.exists()
    # The linked photo is still served.
    assert client.get(f"/photos/{imaging.sha(linked)}/thumb").status_code == 200
    # Run again: nothing left to do.
    again = app.test_cli_runner().invoke(args=["housekeeping"])
    assert "removed 0 unlinked photos (0 files" in again.output and "0 temporary files" in again.output


def test_housekeeping_keeps_files_another_upload_of_the_same_bytes_needs(app, client, world, teacher):
    data = small(9)
    assert put_photo(client, teacher["token"], data).status_code == 201
    client.delete("/api/v1/session")
    token = login(client, world["A"]["principal"].username)
    assert put_photo(client, token, data).status_code == 201
    sha = imaging.sha(data)
    age(sha, 8, app)  # both rows old: only the teacher's is made old below
    principal_photo = db.session.scalar(select(Photo).where(Photo.sha256 == sha, Photo.uploader_id == world["A"]["principal"].id))
    principal_photo.uploaded_at = utcnow()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert "removed 1 unlinked photos (0 files" in result.output
    assert len([p for p in files(app) if sha in p.name]) == 3
