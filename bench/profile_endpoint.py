"""Where one endpoint's CPU goes: cProfile over bench_cpu's steps, printing the top entries of the chosen ones.

    .ci/with-postgres .venv/bin/python bench/profile_endpoint.py "GET /roster" [--sort tottime] [--top 30]
    .venv/bin/python bench/profile_endpoint.py "POST /records" "PUT /photos"      # SQLite

Times are this process's CPU (time.process_time), so waits on the database do not count. Every step runs in bench_cpu's order (a roster needs a session); only the named ones are profiled.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_cpu import build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("steps", nargs="+", help="step names as bench_cpu prints them, e.g. 'GET /roster'")
    ap.add_argument("--teachers", type=int, default=20)
    ap.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime", "ncalls"])
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--callers", help="also print who calls functions matching this pattern")
    a = ap.parse_args()
    app, url, teachers, photos, steps = build(a.teachers)
    known = {name for name, _, _ in steps}
    if unknown := set(a.steps) - known:
        raise SystemExit(f"unknown step(s) {sorted(unknown)}; known: {sorted(known)}")
    for name, fn, expect in steps:
        # CPU time, not wall: waiting for the database (or a busy machine) is not this process's cost.
        pr = cProfile.Profile(time.process_time) if name in a.steps else None
        if pr:
            pr.enable()
        for i in range(len(teachers)):
            r = fn(i)
            if r.status_code != expect:
                raise SystemExit(f"{name}: {r.status_code} (expected {expect}): {r.get_data(as_text=True)[:200]}")
        if pr:
            pr.disable()
            print(f"\n===== {name}: {len(teachers)} requests, {url.split(':')[0]} =====")
            st = pstats.Stats(pr).strip_dirs().sort_stats(a.sort)
            st.print_stats(a.top)
            if a.callers:
                st.print_callers(a.callers)


if __name__ == "__main__":
    main()
