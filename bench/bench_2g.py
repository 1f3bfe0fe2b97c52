"""A day's work over 2G: 5 home visits with 3 photos each, recorded offline, then synced over an emulated 2G link
(50 kbit/s up, 250 kbit/s down, 300 ms latency; Chromium's DevTools network emulation) with the link cut twice.

Real Chromium (Debian's /usr/bin/chromium) drives the real app against a loopback server. A WSGI middleware counts
the bytes the phone sent (request lines, headers and the body bytes that actually arrived). Prints the time to sync
everything, the bytes sent, the payload (photo bytes as stored on the phone + the records' JSON) and checks that all 5
visits arrived exactly once. Goals: bytes sent ≤ 1.2 × payload; time within 20 % of payload ÷ uplink.

The service worker is blocked here so that every sync request comes from the page, whose link is the emulated one
(DevTools emulation is per target: the worker's Background Sync would go round it).

Run from the repo root: python bench/bench_2g.py [--photo-px 1600] [--cut-s 2]
(--photo-px is the long side of the camera's originals: 1600 gives ~100 KB phone photos, ~5 min of upload; 800 gives
~30 KB and under 2 minutes.)
"""
import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Photo, Record  # noqa: E402
from tests import imaging  # noqa: E402
from tests.conftest import Builders  # noqa: E402
from tests.e2e.conftest import ARGS, AUTO_PIN, CHROMIUM, api_login, fill_record, wait_until  # noqa: E402

UP_BPS, DOWN_BPS, LATENCY_MS = 50_000, 250_000, 300
VISITS, PHOTOS_EACH = 5, 3


class Counting:
    """A wsgi.input that counts the bytes read from it."""

    def __init__(self, stream, meter):
        self.stream, self.meter = stream, meter

    def read(self, *a):
        data = self.stream.read(*a)
        self.meter.add(len(data))
        return data

    def readline(self, *a):
        data = self.stream.readline(*a)
        self.meter.add(len(data))
        return data


class UpMeter:
    """WSGI middleware adding up what the phone sent: request line, headers and the body bytes that arrived."""

    def __init__(self, app):
        self.app, self.sent, self.lock = app, 0, threading.Lock()

    def add(self, n):
        with self.lock:
            self.sent += n

    def __call__(self, environ, start_response):
        self.add(len(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')} HTTP/1.1\r\n")
                 + sum(len(k) - 5 + len(v) + 4 for k, v in environ.items() if k.startswith("HTTP_")) + 2)
        environ["wsgi.input"] = Counting(environ["wsgi.input"], self)
        return self.app(environ, start_response)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photo-px", type=int, default=1600, help="long side of the camera originals")
    ap.add_argument("--cut-s", type=float, default=2.0, help="seconds each cut lasts")
    opts = ap.parse_args()

    tmp = Path(tempfile.mkdtemp())
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "UPLOAD_DIR": str(tmp / "up")})
    with app.app_context():
        db.create_all()
        build = Builders()
        school = build.school("红岩乡中心小学")
        teacher = build.user("teacher", school, username="bench_teacher")
        village = build.village(school)
        children = [build.child(school, village, teacher).id for _ in range(VISITS)]
    meter = UpMeter(app.wsgi_app)
    app.wsgi_app = meter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    live = SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}")
    w, h = opts.photo_px, opts.photo_px * 3 // 4
    originals = [imaging.jpeg(100 + i, size=(w, h), quality=90, exif=imaging.exif_block()) for i in range(VISITS * PHOTOS_EACH)]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", service_workers="block")
        context.add_init_script(AUTO_PIN)  # the app opens locked: type the test PIN
        context.set_default_timeout(60000)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")

        def link(offline: bool):
            cdp.send("Network.emulateNetworkConditions", {"offline": offline, "latency": LATENCY_MS,
                                                         "downloadThroughput": DOWN_BPS / 8, "uploadThroughput": UP_BPS / 8})

        api_login(context, live, "bench_teacher")
        page.goto(live.url + "/app/")
        page.wait_for_selector("body[data-ready='1']")
        link(offline=True)
        context.set_offline(True)  # navigator.onLine false: the app saves to the outbox and waits
        ids = []
        for i, child_id in enumerate(children):
            ids.append(fill_record(page, "home_visit", child_id, photos=originals[i * PHOTOS_EACH:(i + 1) * PHOTOS_EACH]))
        photo_bytes = sum(page.evaluate("async () => (await JF.db.all('photos')).map(p => p.size)"))
        records_json = page.evaluate("async () => (await JF.db.all('records')).map(r => JSON.stringify({records: [JF.outbox.payload(r)]}).length)")
        payload = photo_bytes + sum(records_json)
        sent_before = meter.sent

        t0 = time.monotonic()
        context.set_offline(False)
        link(offline=False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # Playwright's switch may not fire it under CDP
        cuts = []
        for share in (0.35, 0.7):  # cut the link when this share of the payload has arrived
            while meter.sent - sent_before < share * payload:
                page.wait_for_timeout(200)
            cuts.append(round(time.monotonic() - t0, 1))
            link(offline=True)  # only the emulated link: Playwright's own switch would reset the 2G throttling
            page.wait_for_timeout(opts.cut_s * 1000)
            link(offline=False)
        wait_until(page, "async () => (await JF.db.all('records')).length === 0", timeout=30 * 60 * 1000)
        elapsed = time.monotonic() - t0
        sent = meter.sent - sent_before
        browser.close()
    server.shutdown()

    with app.app_context():
        rows = db.session.execute(select(Record.client_id)).scalars().all()
        photos = db.session.scalar(select(db.func.count()).select_from(Photo))
    ideal = payload * 8 / UP_BPS
    print(f"link: {UP_BPS // 1000} kbit/s up, {DOWN_BPS // 1000} kbit/s down, {LATENCY_MS} ms latency; "
          f"cut twice for {opts.cut_s:.0f} s (at {cuts[0]} s and {cuts[1]} s)")
    print(f"photos: {VISITS * PHOTOS_EACH} from {w}x{h} originals, {photo_bytes} bytes on the phone "
          f"({photo_bytes // (VISITS * PHOTOS_EACH)} each); records JSON {sum(records_json)} bytes")
    print(f"payload_bytes: {payload}")
    print(f"bytes_sent: {sent}  ({sent / payload:.3f} x payload; goal <= 1.2)")
    print(f"time_to_sync_s: {elapsed:.1f}  (payload / uplink = {ideal:.1f} s; ratio {elapsed / ideal:.3f}; goal <= 1.2; "
          f"the cuts themselves {2 * opts.cut_s:.0f} s)")
    ok = sorted(rows) == sorted(ids) and len(set(rows)) == VISITS and photos == VISITS * PHOTOS_EACH
    print(f"visits_arrived: {len(rows)} ({len(set(rows))} distinct of {VISITS}); photos stored {photos}: "
          + ("exactly once" if ok else "MISMATCH"))
    print(json.dumps({"payload": payload, "sent": sent, "seconds": round(elapsed, 1), "ideal_seconds": round(ideal, 1)}))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
