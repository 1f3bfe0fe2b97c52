"""A synthetic city for the scale benchmarks: schools, villages, teachers, children and a term of records.

Realistic shapes rather than uniform noise: school sizes vary (a few big town schools, many small village ones),
teachers look after 10–25 children, and per child a term holds about one home visit (most children, not all),
weekly talks with gaps, monthly calls; some records are returned or flagged. Rows go in with bulk core inserts.

    from bench.city import build_city
    build_city(engine_url, children=135_000, schools=300, records=3_000_000)
"""
from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from app.duties import tally  # noqa: E402
from app.models import Child, County, Pairing, Record, School, User, Village  # noqa: E402

CHINA = timezone(timedelta(hours=8))
TERM_START = date(2026, 9, 1)
CHUNK = 20_000


def _chunks(rows, n=CHUNK):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def build_city(db, children: int = 135_000, schools: int = 300, records: int = 3_000_000, today: date | None = None,
               seed: int = 7, verbose: bool = True) -> dict:
    """Fill an empty database (schema created) through Flask-SQLAlchemy's `db` inside an app context."""
    rng = random.Random(seed)
    today = today or datetime.now(CHINA).date()
    t0 = time.perf_counter()
    conn = db.session.connection()
    # School sizes: lognormal-ish, scaled to the total.
    weights = [rng.lognormvariate(0, 0.8) for _ in range(schools)]
    total_w = sum(weights)
    sizes = [max(20, int(children * w / total_w)) for w in weights]
    sizes[0] += children - sum(sizes)  # the biggest town school absorbs the rounding
    conn.execute(insert(County), [{"id": 1, "name": "基准县", "bureau_name": "基准县教育局", "created_at": datetime.now(timezone.utc)}])
    conn.execute(insert(School), [{"id": i + 1, "county_id": 1, "name": f"学校{i + 1}", "hotline": "0856-0000000",
                                   "created_at": datetime.now(timezone.utc)} for i in range(schools)])
    villages, users, kids, pairs = [], [], [], []
    vid = uid = cid = 0
    school_of_child = []
    teacher_of_child = []
    for s, size in enumerate(sizes, start=1):
        n_v = max(2, size // 150)
        first_v = vid + 1
        for v in range(n_v):
            vid += 1
            villages.append({"id": vid, "school_id": s, "name": f"村{vid}", "lat": 27.0 + rng.random(), "lon": 109.0 + rng.random()})
        n_t = max(2, size // rng.randint(10, 25))
        first_t = uid + 1
        for t in range(n_t):
            uid += 1
            users.append({"id": uid, "username": f"t{uid}", "name": f"教师{uid}", "role": "teacher", "school_id": s,
                          "password_hash": "x", "active": True})
        uid += 1
        users.append({"id": uid, "username": f"p{uid}", "name": f"校长{uid}", "role": "principal", "school_id": s,
                      "password_hash": "x", "active": True})
        for k in range(size):
            cid += 1
            g = k % 6
            kids.append({"id": cid, "school_id": s, "village_id": first_v + k % n_v, "student_no": f"S{cid:07d}",
                         "name": f"孩子{cid}", "sex": "male" if k % 2 else "female", "grade": f"{g + 1}年级",
                         "class_name": f"{g + 1}({1 + (k // 6) % 3})班", "boarding": False, "parents_away": "both",
                         "created_at": datetime.now(timezone.utc), "updated_at": datetime.now(timezone.utc)})
            teacher = first_t + k % n_t
            pairs.append({"teacher_id": teacher, "child_id": cid, "responsible": True, "created_at": datetime.now(timezone.utc)})
            school_of_child.append(s)
            teacher_of_child.append(teacher)
    for table, rows in ((Village, villages), (User, users), (Child, kids), (Pairing, pairs)):
        for part in _chunks(rows):
            conn.execute(insert(table), part)
    t_people = time.perf_counter() - t0
    # Records over the term so far: visits (most children once), talks (weekly, with gaps), calls (monthly).
    days = max(7, (today - TERM_START).days)
    per_child = records / children
    n = 0
    batch = []
    now = datetime.now(timezone.utc)
    states = ["received"] * 6 + ["approved"] * 12 + ["returned"]
    for c in range(1, children + 1):
        k = int(per_child) + (1 if rng.random() < per_child - int(per_child) else 0)
        for j in range(k):
            r = rng.random()
            kind = "home_visit" if r < 0.06 else "contact" if r < 0.24 else "talk"
            at = datetime.combine(TERM_START + timedelta(days=rng.randrange(days)), datetime.min.time(), CHINA) \
                + timedelta(minutes=rng.randint(7 * 60, 20 * 60))
            score = rng.choice([0, 0, 0, 10, 20, 30, 60])
            batch.append({"client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kind": kind, "child_id": c,
                          "author_id": teacher_of_child[c - 1], "school_id": school_of_child[c - 1], "occurred_at": at,
                          "received_at": at + timedelta(hours=rng.choice([0, 0, 1, 5, 30])), "fields": {},
                          "source": "api", "review_state": rng.choice(states),
                          "confirm_state": "confirmed" if kind == "home_visit" and rng.random() < .6 else "none",
                          "flags": [], "score": score})
            n += 1
        if len(batch) >= CHUNK:
            conn.execute(insert(Record), batch)
            batch = []
            if verbose and c % 20000 < per_child * 2:
                print(f"  … {n:,} records", flush=True)
    if batch:
        conn.execute(insert(Record), batch)
    # Core inserts skip the ORM flush hook that keeps the duty tally: fill it the way an operator would repair it.
    t_tally = time.perf_counter()
    tally.rebuild(conn)
    t_tally = time.perf_counter() - t_tally
    db.session.commit()
    out = {"schools": schools, "villages": len(villages), "teachers": len(users) - schools, "children": children,
           "records": n, "people_s": round(t_people, 1), "tally_s": round(t_tally, 1), "total_s": round(time.perf_counter() - t0, 1),
           "largest_school": max(range(schools), key=lambda i: sizes[i]) + 1, "largest_size": max(sizes)}
    if verbose:
        print(f"  city: {out}")
    return out
