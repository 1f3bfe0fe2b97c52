"""CPU time per request, per endpoint, of what bench_load sends: robust to a crowded machine, unlike wall-clock latency.

    .ci/with-postgres .venv/bin/python bench/bench_cpu.py [--teachers 40]   # PostgreSQL (TEST_DATABASE_URL)
    .venv/bin/python bench/bench_cpu.py                                     # SQLite file in a temp dir

The app runs in this process behind Flask's test client (the same WSGI stack as under gunicorn, minus the socket),
seeded like bench_load (bench_load.seed: teachers with 10 children each, a guardian and a parent per child). Each
endpoint runs as a block over every teacher; per request it prints the app's CPU (time.process_time: Python,
Flask, SQLAlchemy, Pillow) and, on PostgreSQL, the CPU of the database backends serving this process
(/proc/<pid>/stat of the backends pg_stat_activity lists for the bench database; 10 ms ticks, so per-request means).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_load import CHINA, PASSWORD, _make_photo, seed  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def backend_ticks(db) -> int:
    """CPU ticks used so far by the PostgreSQL backends connected to the bench database (0 on SQLite)."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        return 0
    with db.engine.connect() as c:  # its own connection: it is listed too, and costs the same before and after
        pids = c.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # another machine or gone
        f = f[f.rindex(")") + 2:].split()
        total += int(f[11]) + int(f[12])
    return total


def build(teachers: int = 40, children: int = 10, batch: int = 10, pw_hash: str = "pbkdf2:sha256:1000"):
    """The seeded app, its bench database URL, and the steps of bench_load as (name, fn(i), expected status)."""
    from app import create_app
    from app.config import sqlalchemy_url
    from app.extensions import db

    work = Path(tempfile.mkdtemp(prefix="jiafang-cpu-"))
    (work / "instance").mkdir()
    os.environ["JIAFANG_INSTANCE"] = str(work / "instance")
    raw = os.environ.get("TEST_DATABASE_URL")
    url = sqlalchemy_url(raw) if raw else f"sqlite:///{work / 'cpu.db'}"
    app = create_app({"SECRET_KEY": "cpu-bench", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(work / "uploads")})
    with app.app_context():
        db.drop_all()
        db.create_all()
        people = seed(url, work / "instance", teachers, children, 1, pw_hash)
        day = datetime.now(CHINA).replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=1)
        photos = [_make_photo((i, day.strftime("%Y:%m:%d %H:%M:%S"), (27.7, 109.15), 85)) for i in range(len(people))]
        db.session.remove()

    clients = [app.test_client() for _ in people]
    tokens, etags = [None] * len(people), [None] * len(people)

    def login(i):
        r = clients[i].post("/api/v1/session", json={"username": people[i]["username"], "password": PASSWORD})
        tokens[i] = r.get_json()["csrf_token"]
        return r

    def roster(i):
        r = clients[i].get("/api/v1/roster")
        etags[i] = r.headers["ETag"]
        return r

    def roster_304(i):
        return clients[i].get("/api/v1/roster", headers={"If-None-Match": etags[i]})

    def session_get(i):
        return clients[i].get("/api/v1/session")

    def photo_head(i):
        return clients[i].head(f"/api/v1/photos/{hashlib.sha256(photos[i]).hexdigest()}")

    def photo_put(i):
        return clients[i].put(f"/api/v1/photos/{hashlib.sha256(photos[i]).hexdigest()}", data=photos[i],
                              headers={"X-CSRFToken": tokens[i], "Content-Type": "image/jpeg"})

    def records(i):
        kids = people[i]["children"]
        recs = [{"id": str(uuid.uuid4()), "kind": "talk", "child_id": kids[k % len(kids)],
                 "occurred_at": (day + timedelta(minutes=k)).isoformat(timespec="seconds"),
                 "fields": {"topic": "学习压力", "mood": "calm", "summary": "聊了本周的学习和生活，情绪平稳。"},
                 "photos": [], "client": {"saved_at": day.isoformat(), "online": False}} for k in range(batch)]
        return clients[i].post("/api/v1/records", json={"records": recs}, headers={"X-CSRFToken": tokens[i]})

    steps = [("POST /session", login, 200), ("GET /session", session_get, 200), ("GET /roster", roster, 200),
             ("GET /roster 304", roster_304, 304), ("HEAD /photos", photo_head, 404), ("PUT /photos", photo_put, 201),
             ("HEAD /photos (has)", photo_head, 200), ("POST /records", records, 200),
             ("GET /roster (after)", roster, 200)]
    return app, url, people, photos, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teachers", type=int, default=40)
    ap.add_argument("--children", type=int, default=10)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--hash", default="pbkdf2:sha256:1000", help="password hash of the bench accounts (as bench_load)")
    a = ap.parse_args()

    from app.extensions import db

    app, url, teachers, photos, steps = build(a.teachers, a.children, a.batch, a.hash)
    print(f"{url.split(':')[0]}: {len(teachers)} teachers x {a.children} children, "
          f"records batch of {a.batch}, photos 1600x1200 ~{sum(map(len, photos)) // len(photos) // 1024} KiB")
    print(f"{'endpoint':22} {'n':>4} {'app CPU ms':>11} {'db CPU ms':>10} {'wall ms':>8}")
    def ticks():
        with app.app_context():  # requests must not share this context (its g would carry one user's token)
            return backend_ticks(db)

    for name, fn, expect in steps:
        tk0, c0, w0 = ticks(), time.process_time(), time.perf_counter()
        for i in range(len(teachers)):
            r = fn(i)
            if r.status_code != expect:
                raise SystemExit(f"{name}: {r.status_code} (expected {expect}): {r.get_data(as_text=True)[:200]}")
        c1, w1, tk1 = time.process_time(), time.perf_counter(), ticks()
        n = len(teachers)
        db_ms = f"{1000 * (tk1 - tk0) / HZ / n:10.1f}" if url.startswith("postgres") else f"{'-':>10}"
        print(f"{name:22} {n:4d} {1000 * (c1 - c0) / n:11.1f} {db_ms} {1000 * (w1 - w0) / n:8.1f}")
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


if __name__ == "__main__":
    main()
