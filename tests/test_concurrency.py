"""Idempotency under concurrency: the same upload or report sent by several requests at once makes one row.

Runs on SQLite and on PostgreSQL (`make test` runs the suite on both); on PostgreSQL the requests really overlap in
separate transactions, so the unique constraints and the IntegrityError fallbacks are what keep one row.
"""
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Incident, Photo

from . import imaging
from .builders import local_iso, put_photo, race

N = 6  # race()'s default


def test_concurrent_puts_of_the_same_photo_make_one_row(app, world):
    teacher = world["A"]["teacher"]
    data = imaging.jpeg(seed=7, size=(640, 480), exif=imaging.exif_block())
    sha = imaging.sha(data)
    answers = race(app, teacher.username, lambda c, tok: put_photo(c, tok, data))
    assert sorted((code, body["status"]) for code, body in answers) == [(200, "exists")] * (N - 1) + [(201, "stored")]
    assert {body["sha256"] for _, body in answers} == {sha}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha)) == 1


def test_concurrent_reports_of_the_same_incident_make_one_row(app, world):
    a = world["A"]
    body = {"id": str(uuid.uuid4()), "child_id": a["c1"].id, "occurred_at": local_iso(timedelta(minutes=-5)),
            "category": "missing", "description": "放学后未回家"}
    answers = race(app, a["teacher"].username,
                   lambda c, tok: c.post("/api/v1/incidents", json=body, headers={"X-CSRFToken": tok}))
    assert sorted((code, b["status"]) for code, b in answers) == [(200, "duplicate")] * (N - 1) + [(201, "created")]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Incident).where(Incident.client_id == body["id"])) == 1
