"""360 px screenshots of every main screen of every role, to look at the product without setting up a phone.

Starts the app on a temporary SQLite database loaded with the demo (`flask db upgrade`, `flask seed-demo`), logs in as
each demo account in Debian's headless Chromium, and saves one full-page PNG per page (the pages the accessibility
test tours: tests/e2e/tour.py) under instance/screenshots/ (git-ignored), named role-NN-page.png.

Run: make screenshots   (or .venv/bin/python bench/screenshots.py [output folder])
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import DEMO_PASSWORD  # noqa: E402
from tests.e2e import tour  # noqa: E402
from tests.e2e.conftest import ARGS, AUTO_PIN, CHROMIUM  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(tmp: Path) -> tuple[subprocess.Popen, str]:
    """Migrate and seed a fresh database under tmp, then serve it on loopback; returns the server and its URL."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp / 'demo.db'}", JIAFANG_INSTANCE=str(tmp / "instance"))
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for cmd in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/login", timeout=2)
            return server, url
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the demo server did not start")


def slug(where: str) -> str:
    """A file-name part from a path or an app view: ids stay (no names ever appear in paths)."""
    return re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") or "home"


def shoot(url: str, out: Path) -> list[Path]:
    """Log in as every demo role and save a full-page PNG of each of its main pages and app views."""
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for role, username in tour.ROLES:
            context = browser.new_context(locale="zh-CN", viewport={"width": tour.WIDTH, "height": tour.HEIGHT})
            context.add_init_script(AUTO_PIN)  # the app opens locked: type the PIN it is given
            page = context.new_page()
            tour.login(page, url, username, DEMO_PASSWORD)
            shots = [(path, lambda path=path: page.goto(url + path)) for path in tour.main_pages(page, url)]
            shots += [("app" + view, lambda view=view: tour.open_view(page, view, url))
                      for view in tour.shell_views(page, url, role)]
            for n, (where, show) in enumerate(shots, 1):
                show()
                path = out / f"{role}-{n:02d}-{slug(where)}.png"
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)
            context.close()
        browser.close()
    return saved


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "instance" / "screenshots"
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"Chromium is missing at {CHROMIUM} (make system-deps)")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="jiafang-shots-") as tmp:
        server, url = start_demo(Path(tmp))
        try:
            saved = shoot(url, out)
        finally:
            server.terminate()
            server.wait(10)
    print(f"{len(saved)} screenshots at {tour.WIDTH} px in {out} ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
