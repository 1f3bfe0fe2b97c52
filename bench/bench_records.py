"""Records ingested per second through POST /api/v1/records, batches of 100, SQLite, audit log included.

Run from the repo root: python bench/bench_records.py [batches]
"""
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import AuditEntry, Child, Pairing, Record, User  # noqa: E402

BATCH = 100


def main(batches: int = 50) -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "UPLOAD_DIR": str(tmp / "up")})
    with app.app_context():
        db.create_all()
        seed_demo()
        teacher = db.session.scalar(db.select(User).where(User.username == "teacher1"))
        child_ids = list(db.session.scalars(db.select(Pairing.child_id).where(Pairing.teacher_id == teacher.id)))
    client = app.test_client()
    r = client.post("/api/v1/session", json={"username": "teacher1", "password": "demo12345"})
    token = r.get_json()["csrf_token"]
    when = (datetime.now(timezone(timedelta(hours=8))) - timedelta(days=1)).isoformat(timespec="seconds")

    def batch():
        return [{
            "id": str(uuid.uuid4()), "kind": "talk", "child_id": child_ids[i % len(child_ids)], "occurred_at": when,
            "fields": {"topic": "学习压力", "mood": "calm", "summary": "聊了本周的学习和生活，情绪平稳。", "follow_up": "下周继续"},
            "photos": [], "location": None,
        } for i in range(BATCH)]

    bodies = [{"records": batch()} for _ in range(batches)]
    client.post("/api/v1/records", json={"records": batch()}, headers={"X-CSRFToken": token})  # warm-up
    t0 = time.perf_counter()
    for body in bodies:
        res = client.post("/api/v1/records", json=body, headers={"X-CSRFToken": token})
        assert res.status_code == 200 and all(x["status"] == "created" for x in res.get_json()["results"]), res.get_data()[:300]
    elapsed = time.perf_counter() - t0
    n = batches * BATCH
    # The same batches again: all duplicates (the idempotent path).
    t1 = time.perf_counter()
    for body in bodies[:10]:
        res = client.post("/api/v1/records", json=body, headers={"X-CSRFToken": token})
        assert all(x["status"] == "duplicate" for x in res.get_json()["results"])
    dup_elapsed = time.perf_counter() - t1
    with app.app_context():
        stored = db.session.scalar(db.select(db.func.count()).select_from(Record))
        audited = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "record"))
    print(f"records_ingested: {n} in {elapsed:.2f} s")
    print(f"records_per_s: {n / elapsed:.0f}   (goal >= 1000, batches of {BATCH}, SQLite, audit log included)")
    print(f"duplicate_records_per_s: {10 * BATCH / dup_elapsed:.0f}")
    print(f"rows: records={stored} audit_entries={audited}")

    # Home visits with one photo each: the evidence rules run on every record, including the reuse check that
    # compares each new photo's dHash with every photo of the school (one query per batch).
    import hashlib
    import io

    from PIL import Image

    visits = 10 * BATCH
    photos = []
    from tests import imaging

    for i in range(visits):
        out = io.BytesIO()
        imaging.photo(seed=i, size=(160, 120)).save(out, "JPEG", quality=80)
        photos.append(out.getvalue())
    for data in photos:
        client.put(f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}", data=data, content_type="image/jpeg",
                   headers={"X-CSRFToken": token})
    fields = {"purpose": "了解学习", "met_person": "奶奶", "told_guardian": "在校表现良好", "study_rating": "good",
              "life_rating": "good", "psychology_rating": "good", "safety_rating": "good"}
    bodies = [{"records": [{
        "id": str(uuid.uuid4()), "kind": "home_visit", "child_id": child_ids[i % len(child_ids)], "occurred_at": when,
        "fields": fields, "photos": [hashlib.sha256(photos[b * BATCH + i]).hexdigest()], "location": None,
    } for i in range(BATCH)]} for b in range(visits // BATCH)]
    t2 = time.perf_counter()
    for body in bodies:
        res = client.post("/api/v1/records", json=body, headers={"X-CSRFToken": token})
        assert all(x["status"] == "created" for x in res.get_json()["results"]), res.get_data()[:300]
    v_elapsed = time.perf_counter() - t2
    with app.app_context():
        flags = db.session.scalars(db.select(Record.flags).where(Record.kind == "home_visit")).all()
    reused = sum(1 for fl in flags if any(f["code"] == "photo_reused" for f in fl))
    print(f"home_visits_with_photo_per_s: {visits / v_elapsed:.0f}   ({visits} visits of distinct photos, evidence "
          f"flags computed, reuse checked against the school's photos; {reused} flagged as reused)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
