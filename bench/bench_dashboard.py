"""The principal's dashboard and overdue list at city scale: p50/p95 per query, and how they grow with the city.

Builds synthetic cities (bench/city.py) of 10k, 50k and 135k children (300 schools, ~22 records per child over the
term: 3M records at full size) in SQLite — and in PostgreSQL too when BENCH_PG_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5433/bench) — and times, for the largest school and for the whole city:
coverage by class / teacher / village, the overdue list, the 12-week trend; then the same for a page through the
Flask test client; then the bureau's pages, all 300 schools in one county (bureau_pages). Goal: p95 ≤ 300 ms on this
2-core machine.

Run: .venv/bin/python bench/bench_dashboard.py [sizes, e.g. 10000,50000,135000] [runs]
PostgreSQL only, on a throwaway cluster:
  .ci/with-postgres sh -c 'BENCH_PG_URL=$TEST_DATABASE_URL BENCH_ONLY_PG=1 .venv/bin/python bench/bench_dashboard.py 135000' 
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import today_local  # noqa: E402
from app.duties import services as duty  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import School, User  # noqa: E402
from bench.city import build_city  # noqa: E402

CHINA = timezone(timedelta(hours=8))
GOAL_MS = 300.0


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm: plans cached, pages in memory
    xs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        xs.append(1000 * (time.perf_counter() - t))
    xs.sort()
    return statistics.median(xs), xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def one(url: str, children: int, runs: int) -> list[tuple[str, float, float]]:
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": tempfile.mkdtemp(),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rows = []
    with app.app_context():
        if not url.startswith("sqlite"):
            db.drop_all()
        db.create_all()
        records = int(children * 3_000_000 / 135_000)
        city = build_city(db, children=children, schools=300, records=records, verbose=False)
        print(f"  built {children:,} children, {city['records']:,} records, {city['teachers']:,} teachers in "
              f"{city['total_s']} s; largest school {city['largest_size']:,} children", flush=True)
        db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        else:
            # The steady state of a live database: autovacuum (PostgreSQL 13+ also runs it after inserts) keeps the
            # visibility map set, so index-only scans need no heap visits. Right after a bulk load it is not set yet.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(db.text("VACUUM ANALYZE"))
        today = today_local()
        s = city["largest_school"]
        for by in ("class", "teacher", "village"):
            rows.append((f"school coverage by {by}", *timed(lambda: duty.coverage(s, today, by), runs)))
        rows.append(("school overdue list (first 200)", *timed(lambda: duty.overdue_children(s, today), runs)))
        rows.append(("school 12-week trend", *timed(lambda: duty.trend(s, today), runs)))
        rows.append(("city coverage by school", *timed(lambda: duty.city_coverage(today), runs)))
        rows.append(("city overdue count", *timed(lambda: duty.city_overdue_count(today), runs)))
        principal = db.session.scalar(select(User).where(User.school_id == s, User.role == "principal"))
        principal.set_password("bench-pass-1")
        db.session.commit()
        client = app.test_client()
        client.post("/api/v1/session", json={"username": principal.username, "password": "bench-pass-1"})
        rows.append(("GET /dashboard/ (whole page)", *timed(lambda: client.get("/dashboard/"), runs)))
        rows += bureau_pages(app, s, runs)
        db.session.remove()
        if not url.startswith("sqlite"):  # SQLite: a throwaway file (dropping 3M rows with FK checks takes minutes)
            db.drop_all()
        db.engine.dispose()
    return rows


def bureau_pages(app, largest: int, runs: int) -> list[tuple[str, float, float]]:
    """The bureau's pages for a county of all the city's schools: the county page (reading the schools' snapshots, as
    `flask county-figures` from cron leaves them), the largest school's page (counted live), and one refresh of every
    school's snapshot (what the cron job costs; not a page, timed once)."""
    from app.duties.county import refresh

    # The city's rows came with explicit ids (PostgreSQL's sequence did not move): name this one's id too.
    bureau = User(id=db.session.scalar(select(db.func.max(User.id))) + 1, username="bench-bureau", name="教育局",
                  role="bureau", county_id=1)
    bureau.set_password("bench-pass-1")
    db.session.add(bureau)
    db.session.commit()
    today = today_local()
    ids = list(db.session.scalars(select(School.id)))
    t = time.perf_counter()
    for sid in ids:
        refresh(sid, today)
    db.session.commit()
    refresh_ms = 1000 * (time.perf_counter() - t)
    client = app.test_client()
    client.post("/api/v1/session", json={"username": bureau.username, "password": "bench-pass-1"})
    assert client.get("/bureau/").status_code == 200
    return [("county figures refresh, all schools", refresh_ms, refresh_ms),
            ("GET /bureau/ (county page)", *timed(lambda: client.get("/bureau/?sort=overdue&dir=desc"), runs)),
            ("GET /bureau/schools/<largest>", *timed(lambda: client.get(f"/bureau/schools/{largest}"), runs)),
            ("GET /bureau/schools/<largest>?by=village",
             *timed(lambda: client.get(f"/bureau/schools/{largest}?by=village"), runs))]


def main() -> None:
    sizes = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "10000,50000,135000").split(",")]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    targets = [("SQLite", lambda: f"sqlite:///{tempfile.mkdtemp()}/city.db")]
    pg = os.environ.get("BENCH_PG_URL")
    if pg:
        from app.config import sqlalchemy_url

        targets.append(("PostgreSQL", lambda: sqlalchemy_url(pg)))
        if os.environ.get("BENCH_ONLY_PG"):
            targets = targets[1:]
    worst = 0.0
    for name, url in targets:
        for n in sizes:
            print(f"\n== {name}, {n:,} children ({runs} runs each; ms)", flush=True)
            for label, p50, p95 in one(url(), n, runs):
                if not label.startswith("county figures refresh"):  # a cron job's run, not a page
                    worst = max(worst, p95)
                print(f"  {label:34s} p50 {p50:7.1f}   p95 {p95:7.1f}")
    print(f"\nworst p95 {worst:.1f} ms -> {'MET' if worst <= GOAL_MS else 'NOT MET'} (goal p95 <= {GOAL_MS:.0f} ms)")


if __name__ == "__main__":
    main()
