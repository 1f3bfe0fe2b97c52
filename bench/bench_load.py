"""Load test: N simulated teachers syncing at once (login, roster, photos, a batch of records, several rounds) against
gunicorn with PostgreSQL, driven from a second process over loopback.

Goal (issue "Scale", part 3): 200 teachers at once, 0 errors, p95 <= 1 s.

    .ci/with-postgres .venv/bin/python bench/bench_load.py [--teachers 200] [--rounds 3] [--workers 5] [--threads 1]

The PostgreSQL server comes from BENCH_PG_URL or TEST_DATABASE_URL; a fresh database (jiafang_load) is created on it,
migrated with `flask --app app db upgrade` and seeded (one school, or --schools, each teacher paired with
--children children). gunicorn runs the repo's `make serve` command line with a temp instance dir (uploads there).
Photos (distinct ~150 KB 1600x1200 phone-like JPEGs with EXIF time and GPS) are made before the timed part.

Per endpoint: count, errors (non-2xx, or a record not answered created/duplicate), p50/p95/max latency as the client
saw it, and the server's own time per request (gunicorn access log) — the difference is time spent queued.
Afterwards the database is checked: records stored == records sent (no loss, no duplicates), and one round is sent
again: its photos must answer `exists` and its records `duplicate`.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = ROOT / ".venv" / "bin"
CHINA = timezone(timedelta(hours=8))
PASSWORD = "load-bench-12345"
GOAL_P95 = 1.0
DB_NAME = "jiafang_load"


# ---------------------------------------------------------------------------------------------------------- photos
def _make_photo(args) -> bytes:
    """One distinct phone-like JPEG: a noisy base picture with random shapes on it, EXIF time, GPS and camera."""
    seed, taken, gps, quality = args
    from PIL import Image, ImageDraw

    from tests import imaging

    # 4 base pictures x 8 flips/rotations, then shapes: distinct pictures, not near-copies by dHash.
    im = _base(seed % 4).transpose(Image.Transpose((seed // 4) % 7)) if (seed // 4) % 8 else _base(seed % 4).copy()
    if im.size != (1600, 1200):
        im = im.resize((1600, 1200))
    d = ImageDraw.Draw(im)
    rng = random.Random(seed)
    for _ in range(12):
        x, y, r = rng.randrange(1600), rng.randrange(1200), rng.randrange(40, 300)
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    d.text((rng.randrange(1400), rng.randrange(1100)), f"#{seed}", fill=(255, 255, 255))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, exif=imaging.exif_block(taken=taken, gps=gps))
    return out.getvalue()


_BASES: dict = {}


def _base(i: int):
    if i not in _BASES:
        from tests import imaging

        _BASES[i] = imaging.photo(900 + i, (1600, 1200))
    return _BASES[i]


# ------------------------------------------------------------------------------------------------------- database
def pg_urls(raw: str) -> tuple[str, str, str]:
    """(SQLAlchemy URL of the bench database, psycopg URL of it, psycopg URL of the maintenance database)."""
    from sqlalchemy.engine import make_url

    from app.config import sqlalchemy_url

    u = make_url(sqlalchemy_url(raw)).set(database=DB_NAME)
    plain = u.set(drivername="postgresql")
    return (u.render_as_string(hide_password=False), plain.render_as_string(hide_password=False),
            plain.set(database="postgres").render_as_string(hide_password=False))


def fresh_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def seed(sa_url: str, instance: Path, teachers: int, per_teacher: int, schools: int, hash_method: str) -> list[dict]:
    """Schools, villages, teachers (one password hash, computed once), children with a guardian, pairings."""
    from sqlalchemy import create_engine, insert
    from werkzeug.security import generate_password_hash

    from app.models import Child, County, Guardian, Pairing, School, User, Village

    pw_hash = generate_password_hash(PASSWORD, method=hash_method)
    now = datetime.now(timezone.utc)
    eng = create_engine(sa_url)
    out = []
    with eng.begin() as conn:
        county_id = conn.execute(insert(County).returning(County.id), [{"name": "负载测试县", "created_at": now}]).scalar()
        school_ids = [r[0] for r in conn.execute(insert(School).returning(School.id, sort_by_parameter_order=True),
                                                 [{"name": f"负载测试学校{s + 1}", "hotline": "0856-0000000", "created_at": now,
                                                   "county_id": county_id} for s in range(schools)])]
        vrows = [{"school_id": sid, "name": f"村{v + 1}", "lat": 27.70 + v * 0.03, "lon": 109.15 + v * 0.03}
                 for sid in school_ids for v in range(5)]
        vids = [r[0] for r in conn.execute(insert(Village).returning(Village.id, sort_by_parameter_order=True), vrows)]
        villages = defaultdict(list)
        for row, vid in zip(vrows, vids):
            villages[row["school_id"]].append((vid, row["lat"], row["lon"]))
        urows = [{"username": f"load{t + 1:03d}", "name": f"教师{t + 1}", "password_hash": pw_hash, "role": "teacher",
                  "school_id": school_ids[t % schools], "active": True, "phone": "13800000000", "created_at": now}
                 for t in range(teachers)]
        urows += [{"username": f"loadprincipal{s + 1}", "name": f"校长{s + 1}", "password_hash": pw_hash, "role": "principal",
                   "school_id": sid, "active": True, "phone": None, "created_at": now} for s, sid in enumerate(school_ids)]
        uids = [r[0] for r in conn.execute(insert(User).returning(User.id, sort_by_parameter_order=True), urows)]
        crows, owner = [], []
        for t in range(teachers):
            sid = school_ids[t % schools]
            for k in range(per_teacher):
                n = t * per_teacher + k
                vid = villages[sid][n % 5][0]
                crows.append({"school_id": sid, "village_id": vid, "student_no": f"L{n:06d}", "name": f"孩子{n}",
                              "sex": "male" if n % 2 else "female", "grade": f"{n % 6 + 1}年级",
                              "class_name": f"{n % 6 + 1}({n % 3 + 1})班", "boarding": False, "parents_away": "both",
                              "address": f"村{n % 5 + 1}{n % 9 + 1}组", "created_at": now, "updated_at": now})
                owner.append(t)
        cids = [r[0] for r in conn.execute(insert(Child).returning(Child.id, sort_by_parameter_order=True), crows)]
        conn.execute(insert(Guardian), [{"child_id": c, "role": "guardian", "name": "奶奶", "relationship": "奶奶",
                                         "phone": "13900000000", "work_place": None} for c in cids]
                     + [{"child_id": c, "role": "father", "name": "父亲", "relationship": "父亲", "phone": "13700000000",
                         "work_place": "广东省东莞市"} for c in cids])
        conn.execute(insert(Pairing), [{"teacher_id": uids[t], "child_id": c, "responsible": True, "created_at": now}
                                       for c, t in zip(cids, owner)])
        vil_of = {c: villages[r["school_id"]][[v[0] for v in villages[r["school_id"]]].index(r["village_id"])]
                  for c, r in zip(cids, crows)}
        for t in range(teachers):
            mine = [c for c, o in zip(cids, owner) if o == t]
            out.append({"username": urows[t]["username"], "user_id": uids[t], "children": mine,
                        "gps": [list(vil_of[c][1:]) for c in mine]})
    eng.dispose()
    return out


# ------------------------------------------------------------------------------------------------------- gunicorn
def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_gunicorn(env: dict, port: int, workers: int, threads: int, log_dir: Path) -> subprocess.Popen:
    cmd = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--access-logfile", str(log_dir / "access.log"), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",
           "--error-logfile", str(log_dir / "error.log"), "--backlog", "2048", "--timeout", "120"]
    if threads > 1:
        cmd += ["--threads", str(threads)]  # gunicorn picks the gthread worker
    cmd.append("app:create_app()")
    print("gunicorn:", " ".join(cmd[1:]))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.error
    import urllib.request

    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_dir / 'error.log'}:\n"
                             + (log_dir / "error.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/session", timeout=2)
        except urllib.error.HTTPError:
            break  # 401: the app answers
        except OSError:
            time.sleep(0.2)
            continue
        else:
            break
    else:
        raise SystemExit("gunicorn did not answer within 60 s")
    # Every worker up: one request each would not prove it; wait for the boot lines instead.
    for _ in range(100):
        if (log_dir / "error.log").read_text().count("Booting worker") >= workers:
            break
        time.sleep(0.1)
    return proc


def warm_up(base: str, n: int, quality: int) -> None:
    """Load every worker's lazy imports and caches (as a server that has been up a while has): a few concurrent
    principal sessions log in, read the roster and upload a photo. Untimed; these photos are not counted."""
    import requests

    def one(i):
        s = requests.Session()
        tok = s.post(base + "/api/v1/session", json={"username": "loadprincipal1", "password": PASSWORD}).json()["csrf_token"]
        s.get(base + "/api/v1/roster")
        data = _make_photo((10_000_000 + i, "2026:11:20 15:04:00", (27.7, 109.15), quality))
        s.put(base + f"/api/v1/photos/{hashlib.sha256(data).hexdigest()}", data=data,
              headers={"X-CSRFToken": tok, "Content-Type": "image/jpeg"})
        s.post(base + "/api/v1/records", json={"records": []}, headers={"X-CSRFToken": tok})

    ths = [threading.Thread(target=one, args=(i,)) for i in range(2 * n)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()


def stop_gunicorn(proc: subprocess.Popen) -> float:
    t = time.perf_counter()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return time.perf_counter() - t


def cpu_ticks() -> dict[str, int]:
    """CPU ticks (user+system) per command name, all processes we can read, plus the machine total and idle."""
    out: dict[str, int] = defaultdict(int)
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            raw = (p / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw[raw.rindex(")") + 2:].split()
        out[comm] += int(f[11]) + int(f[12])
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    out["__total"] = sum(int(x) for x in cpu[:8])
    out["__idle"] = int(cpu[3]) + int(cpu[4])
    for name, i in (("__user", 0), ("__system", 2), ("__iowait", 4), ("__softirq", 6), ("__steal", 7)):
        out[name] = int(cpu[i]) + (int(cpu[1]) if i == 0 else 0)
    return out


# --------------------------------------------------------------------------------------------------------- client
def client_main(base: str, work: str, conf: dict, q) -> None:
    """The second process: one thread per teacher, every request timed."""
    import requests

    plan = json.loads((Path(work) / "plan.json").read_text())
    photos = {}
    for t in plan:
        for rnd in t["rounds"]:
            for sha in rnd["photos"]:
                photos[sha] = (Path(work) / "photos" / sha).read_bytes()
    n = len(plan)
    samples: list[tuple] = []  # (phase, endpoint, status, seconds, ok, detail)
    lock = threading.Lock()
    start_gate = threading.Barrier(n + 1)
    resend_gate = threading.Barrier(n + 1)
    phase_marks = {}

    def rec(phase, ep, status, dt, ok, detail=""):
        with lock:
            samples.append((phase, ep, status, dt, ok, detail))

    def call(s, phase, ep, method, url, check=None, **kw):
        t0 = time.perf_counter()
        try:
            r = s.request(method, base + url, timeout=300, **kw)
        except Exception as e:  # noqa: BLE001  (a refused or dropped connection is an error like any other)
            rec(phase, ep, 0, time.perf_counter() - t0, False, repr(e)[:200])
            return None
        dt = time.perf_counter() - t0
        ok = 200 <= r.status_code < 300
        detail = "" if ok else r.text[:200]
        if ok and check:
            detail = check(r)
            ok = not detail
        rec(phase, ep, r.status_code, dt, ok, detail)
        return r

    def batch_check(expect):
        def check(r):
            res = r.json()["results"]
            bad = [x for x in res if x["status"] not in expect]
            return f"{len(bad)} records: {bad[0]}"[:200] if bad else ""
        return check

    def teacher(t):
        s = requests.Session()
        start_gate.wait()
        time.sleep(random.Random(t["username"]).random() * conf["ramp"])
        r = call(s, "sync", "POST /session", "POST", "/api/v1/session",
                 json={"username": t["username"], "password": PASSWORD})
        if r is None or r.status_code != 200:
            resend_gate.wait()
            return
        token = r.json()["csrf_token"]
        hdr = {"X-CSRFToken": token}

        def roster_check(r):
            got = sorted(c["id"] for c in r.json()["children"])
            return "" if got == sorted(t["children"]) else f"roster has {len(got)} children, expected {len(t['children'])}"

        call(s, "sync", "GET /roster", "GET", "/api/v1/roster", check=roster_check)
        for rnd in t["rounds"]:
            for sha in rnd["photos"]:
                call(s, "sync", "PUT /photos", "PUT", f"/api/v1/photos/{sha}", data=photos[sha],
                     headers={**hdr, "Content-Type": "image/jpeg"},
                     check=lambda r: "" if r.status_code == 201 else f"status {r.json().get('status')}")
            call(s, "sync", "POST /records", "POST", "/api/v1/records", json={"records": rnd["records"]}, headers=hdr,
                 check=batch_check({"created"}))
            if conf["think"]:
                time.sleep(conf["think"])
        resend_gate.wait()
        # The same first round again, as a phone that never heard the answers would: exists / duplicate.
        rnd = t["rounds"][0]
        for sha in rnd["photos"]:
            call(s, "resend", "PUT /photos", "PUT", f"/api/v1/photos/{sha}", data=photos[sha],
                 headers={**hdr, "Content-Type": "image/jpeg"},
                 check=lambda r: "" if r.status_code == 200 and r.json().get("status") == "exists" else f"{r.text[:100]}")
        call(s, "resend", "POST /records", "POST", "/api/v1/records", json={"records": rnd["records"]}, headers=hdr,
             check=batch_check({"duplicate"}))

    threads = [threading.Thread(target=teacher, args=(t,), daemon=True) for t in plan]
    for th in threads:
        th.start()
    cpu0 = os.times()
    start_gate.wait()
    phase_marks["sync_start"] = time.perf_counter()
    resend_gate.wait()
    phase_marks["sync_end"] = time.perf_counter()
    for th in threads:
        th.join()
    phase_marks["resend_end"] = time.perf_counter()
    cpu1 = os.times()
    q.put({"samples": samples, "sync_s": phase_marks["sync_end"] - phase_marks["sync_start"],
           "resend_s": phase_marks["resend_end"] - phase_marks["sync_end"],
           "client_cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)})


# ---------------------------------------------------------------------------------------------------------- report
def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def server_times(log: Path) -> dict[str, list[float]]:
    """Server-side time per request from gunicorn's access log (%(D)s µs), by endpoint."""
    out = defaultdict(list)
    if not log.exists():
        return out
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        m, path, _status, us = parts
        ep = {"/api/v1/session": "/session", "/api/v1/roster": "/roster", "/api/v1/records": "/records"}.get(path)
        if ep is None and path.startswith("/api/v1/photos/"):
            ep = "/photos"
        if ep:
            out[f"{m} {ep}"].append(int(us) / 1e6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teachers", type=int, default=200)
    ap.add_argument("--children", type=int, default=10, help="children per teacher")
    ap.add_argument("--schools", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="sync rounds per teacher (photos + one batch each)")
    ap.add_argument("--photos", type=int, default=2, help="photos per round")
    ap.add_argument("--batch", type=int, default=10, help="records per batch")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--threads", type=int, default=1, help=">1 selects gunicorn's gthread worker")
    ap.add_argument("--ramp", type=float, default=0.0, help="spread the teachers' start over this many seconds")
    ap.add_argument("--think", type=float, default=0.0, help="pause between a teacher's rounds, seconds")
    ap.add_argument("--hash", default="pbkdf2:sha256:1000",
                    help="password hash of the bench accounts (werkzeug method; 'scrypt' = the production default)")
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality of the generated photos")
    ap.add_argument("--engine-options", default="", help="JSON for SQLALCHEMY_ENGINE_OPTIONS in the instance config")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir and the database")
    a = ap.parse_args()

    raw = os.environ.get("BENCH_PG_URL") or os.environ.get("TEST_DATABASE_URL")
    if not raw or not raw.startswith("postgres"):
        raise SystemExit("set BENCH_PG_URL or TEST_DATABASE_URL to a PostgreSQL server "
                         "(or run: .ci/with-postgres .venv/bin/python bench/bench_load.py)")
    t_start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="jiafang-load-"))
    instance = work / "instance"
    instance.mkdir()
    (work / "photos").mkdir()
    sa_url, pg_url, admin_url = pg_urls(raw)
    conf_lines = ["# bench_load.py", "SECRET_KEY = 'load-bench'"]
    if a.engine_options:
        conf_lines.append(f"SQLALCHEMY_ENGINE_OPTIONS = {json.loads(a.engine_options)!r}")
    (instance / "config.py").write_text("\n".join(conf_lines) + "\n")
    env = {**os.environ, "DATABASE_URL": sa_url, "JIAFANG_INSTANCE": str(instance)}

    fresh_database(admin_url)
    t = time.perf_counter()
    subprocess.run([str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_migrate = time.perf_counter() - t
    t = time.perf_counter()
    teachers = seed(sa_url, instance, a.teachers, a.children, a.schools, a.hash)
    t_seed = time.perf_counter() - t

    # The plan: every teacher's rounds, with photos made now (EXIF time = the visit time, GPS = the child's village).
    t = time.perf_counter()
    day = datetime.now(CHINA).replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=1)
    jobs, plan = [], []
    for ti, te in enumerate(teachers):
        rounds = []
        for r in range(a.rounds):
            when = day - timedelta(days=r, minutes=ti % 60)
            shas_idx = []
            for p in range(a.photos):
                seed_no = (ti * a.rounds + r) * a.photos + p
                k = (ti + r * 3 + p) % len(te["children"])
                jobs.append((seed_no, when.strftime("%Y:%m:%d %H:%M:%S"), tuple(te["gps"][k]), a.quality))
                shas_idx.append(len(jobs) - 1)
            rounds.append({"when": when, "photo_jobs": shas_idx})
        plan.append({"username": te["username"], "children": te["children"], "rounds": rounds, "gps": te["gps"]})
    with mp.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        blobs = pool.map(_make_photo, jobs, chunksize=16)
    shas = []
    for b in blobs:
        sha = hashlib.sha256(b).hexdigest()
        (work / "photos" / sha).write_bytes(b)
        shas.append(sha)
    assert len(set(shas)) == len(shas), "photos must be distinct"
    visit_fields = {"purpose": "了解孩子在家学习和生活情况", "guardian_present": True, "met_person": "奶奶",
                    "told_guardian": "孩子在校表现稳定，作业能按时完成", "study_rating": "good", "life_rating": "good",
                    "psychology_rating": "fair", "safety_rating": "good", "follow_up": "每周谈心一次"}
    talk_fields = {"topic": "学习压力", "mood": "calm", "summary": "聊了本周的学习和生活，情绪平稳。", "follow_up": "下周继续"}
    sent_ids = []
    for te in plan:
        for r, rnd in enumerate(te.pop("rounds")):
            photos = [shas[i] for i in rnd["photo_jobs"]]
            when = rnd["when"]
            recs = []
            for i in range(a.batch):
                child = te["children"][(r * a.batch + i) % len(te["children"])]
                gps = te["gps"][te["children"].index(child)]
                # The first records are home visits, one per photo (each photo on one record); the rest are talks.
                is_visit = i < len(photos)
                recs.append({
                    "id": str(uuid.uuid4()), "kind": "home_visit" if is_visit else "talk", "child_id": child,
                    "occurred_at": (when + timedelta(minutes=i)).isoformat(timespec="seconds"),
                    "fields": visit_fields if is_visit else talk_fields,
                    "photos": [photos[i]] if is_visit else [],
                    "location": {"lat": gps[0] + 0.001, "lon": gps[1] + 0.001, "accuracy_m": 25} if is_visit else None,
                    "client": {"saved_at": (when + timedelta(minutes=30)).isoformat(), "online": False},
                })
                sent_ids.append(recs[-1]["id"])
            te.setdefault("rounds", []).append({"photos": photos, "records": recs})
    (work / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
    t_photos = time.perf_counter() - t
    sizes = [len(b) for b in blobs]
    del blobs
    print(f"setup: database {DB_NAME} migrated in {t_migrate:.1f} s, seeded {a.teachers} teachers x {a.children} children "
          f"in {a.schools} school(s) in {t_seed:.1f} s (password hash {a.hash}); {len(shas)} photos "
          f"(1600x1200 q{a.quality}, mean {statistics.mean(sizes) / 1024:.0f} KiB, EXIF time+GPS) made in {t_photos:.1f} s")

    port = free_port()
    proc = start_gunicorn(env, port, a.workers, a.threads, work)
    results = None
    try:
        warm_up(f"http://127.0.0.1:{port}", a.workers * max(1, a.threads), a.quality)
        ctx = mp.get_context("spawn")  # a clean second process: nothing of the parent's state
        q = ctx.Queue()
        cpu0 = cpu_ticks()
        client = ctx.Process(target=client_main, args=(f"http://127.0.0.1:{port}", str(work),
                                                       {"ramp": a.ramp, "think": a.think}, q))
        client.start()
        results = q.get()
        client.join()
        cpu1 = cpu_ticks()
    finally:
        t_stop = stop_gunicorn(proc)
    gunicorn_rc = proc.returncode

    # ----- figures
    samples = results["samples"]
    print(f"\n== {a.teachers} teachers at once, {a.rounds} rounds of {a.photos} photos + {a.batch} records "
          f"(ramp {a.ramp:g} s, think {a.think:g} s); gunicorn {a.workers} workers"
          + (f" x {a.threads} threads (gthread)" if a.threads > 1 else " (sync)"))
    srv = server_times(work / "access.log")
    hdr = f"{'phase':7} {'endpoint':15} {'count':>6} {'errors':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}   {'server mean/p95 s':>17}"
    print(hdr)
    by = defaultdict(list)
    for ph, ep, st, dt, ok, det in samples:
        by[(ph, ep)].append((st, dt, ok, det))
    goal_ok = True
    order = ["POST /session", "GET /roster", "PUT /photos", "POST /records"]
    for ph in ("sync", "resend"):
        for ep in order:
            rows = by.get((ph, ep))
            if not rows:
                continue
            lat = [r[1] for r in rows]
            errs = sum(1 for r in rows if not r[2])
            p95 = pct(lat, 95)
            goal_ok &= errs == 0 and p95 <= GOAL_P95
            s_note = ""
            if ph == "sync" and srv.get(ep):
                s_note = f"{statistics.mean(srv[ep]):8.3f} /{pct(srv[ep], 95):6.3f}"
            print(f"{ph:7} {ep:15} {len(rows):6d} {errs:6d} {pct(lat, 50):7.3f} {p95:7.3f} {max(lat):7.3f}   {s_note}")
    all_sync = [s[3] for s in samples if s[0] == "sync"]
    errors = [s for s in samples if not s[4]]
    n_sync = len(all_sync)
    print(f"{'sync':7} {'all':15} {n_sync:6d} {sum(1 for s in samples if s[0] == 'sync' and not s[4]):6d} "
          f"{pct(all_sync, 50):7.3f} {pct(all_sync, 95):7.3f} {max(all_sync):7.3f}")
    goal_ok &= not errors and pct(all_sync, 95) <= GOAL_P95
    if errors:
        kinds = defaultdict(int)
        for ph, ep, st, dt, ok, det in errors:
            kinds[(ph, ep, st, det[:120])] += 1
        print("errors (first kinds):")
        for (ph, ep, st, det), k in sorted(kinds.items(), key=lambda x: -x[1])[:8]:
            print(f"  {k:5d} x {ph} {ep} {st}: {det}")
    sync_s = results["sync_s"]
    n_photos = len(by[("sync", "PUT /photos")])
    n_batches = len(by[("sync", "POST /records")])
    print(f"throughput (sync phase, {sync_s:.1f} s wall): {n_sync / sync_s:.1f} requests/s, "
          f"{n_photos / sync_s:.1f} photos/s, {n_batches * a.batch / sync_s:.0f} records/s; "
          f"resend phase {results['resend_s']:.1f} s")
    dt = {k: cpu1.get(k, 0) - cpu0.get(k, 0) for k in set(cpu0) | set(cpu1)}
    hz = os.sysconf("SC_CLK_TCK")
    busy = 1 - dt["__idle"] / max(1, dt["__total"])
    ncpu = os.cpu_count() or 1
    wall = dt["__total"] / hz / ncpu
    print(f"CPU over the client's run ({wall:.1f} s x {ncpu} cores): machine {100 * busy:.0f}% busy; "
          f"gunicorn {dt.get('gunicorn', 0) / hz:.1f} s, postgres {dt.get('postgres', 0) / hz:.1f} s, "
          f"client {results['client_cpu_s']:.1f} s")
    tot = max(1, dt["__total"])
    top = sorted(((k, v) for k, v in dt.items() if not k.startswith("__") and v > 0), key=lambda x: -x[1])[:6]
    print("  machine split: " + ", ".join(f"{k[2:]} {100 * dt[k] / tot:.0f}%" for k in
                                          ("__user", "__system", "__softirq", "__iowait", "__steal"))
          + "; busiest commands: " + ", ".join(f"{k} {v / hz:.1f} s" for k, v in top))

    # ----- the database: every record sent stored once, nothing else
    import psycopg

    with psycopg.connect(pg_url) as c:
        stored = c.execute("SELECT count(*), count(DISTINCT client_id) FROM record").fetchone()
        ids = {r[0] for r in c.execute("SELECT client_id FROM record")}
        n_photo_rows = c.execute("SELECT count(*) FROM photo JOIN \"user\" u ON u.id = photo.uploader_id "
                                 "WHERE u.role = 'teacher'").fetchone()[0]
        n_links = c.execute("SELECT count(*) FROM record_photo").fetchone()[0]
        reused = c.execute("SELECT count(*) FROM record WHERE CAST(flags AS text) LIKE '%photo_reused%'").fetchone()[0]
        conns = c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (DB_NAME,)).fetchone()[0]
        max_conn = c.execute("SHOW max_connections").fetchone()[0]
    sent = set(sent_ids)
    lost, extra = sent - ids, ids - sent
    db_ok = stored[0] == stored[1] == len(sent) and not lost and not extra and n_photo_rows == len(shas)
    print(f"database: records stored {stored[0]} (distinct ids {stored[1]}) vs sent {len(sent)}: lost {len(lost)}, "
          f"unexpected {len(extra)}; photos {n_photo_rows} of {len(shas)}, record-photo links {n_links}; "
          f"{reused} records flagged photo_reused; PostgreSQL max_connections {max_conn}, "
          f"connections still open after gunicorn stopped: {conns}")
    print(f"gunicorn stopped (SIGTERM) in {t_stop:.1f} s, exit code {gunicorn_rc}")
    tail = [ln for ln in (work / "error.log").read_text().splitlines() if "ERROR" in ln or "CRITICAL" in ln
            or "Traceback" in ln or "WORKER TIMEOUT" in ln]
    if tail:
        print(f"gunicorn error log: {len(tail)} error lines, e.g. {tail[0][:200]}")
    all_p95 = pct(all_sync, 95)
    verdict = "MET" if goal_ok and db_ok else "NOT MET"
    print(f"\ngoal (0 errors, p95 <= {GOAL_P95:g} s for every endpoint, records stored == sent): {verdict} "
          f"— errors {len(errors)}, overall p95 {all_p95:.3f} s, worst endpoint p95 "
          f"{max(pct([r[1] for r in v], 95) for v in by.values()):.3f} s, database {'consistent' if db_ok else 'INCONSISTENT'}")
    print(f"bench run time {time.perf_counter() - t_start:.1f} s")
    if a.keep:
        print(f"kept: {work} and database {DB_NAME}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        drop_database(admin_url)


if __name__ == "__main__":
    main()
