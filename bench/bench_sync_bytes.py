"""Bytes on the wire: syncing one home visit with three phone photos, and installing the app shell the first time.

Drives the real app in headless Chromium (Debian's /usr/bin/chromium) against a loopback server; a WSGI middleware
counts what crosses the wire: request line, headers and body, response status line, headers and body (no TLS; bodies as
sent, i.e. compressed by the app itself when Chromium accepts br or gzip, app/compression.py).
Goals: ≤ 600 KB for the visit (the originals weigh ≥ 9 MB) and ≤ 50 KB for the shell's first install, compressed; the
same files without compression are printed next to it.

Run from the repo root: python bench/bench_sync_bytes.py
"""
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests import imaging  # noqa: E402
from tests.conftest import Builders  # noqa: E402
from tests.e2e.conftest import ARGS, AUTO_PIN, CHROMIUM, api_login, fill_record, open_app, wait_until  # noqa: E402


class Meter:
    """WSGI middleware adding up the bytes of every request and response, by path."""

    def __init__(self, app):
        self.app = app
        self.rows: list[tuple[str, str, int]] = []
        self.encodings: dict[str, str] = {}  # path -> Content-Encoding of its last response
        self.accept = ""  # the Accept-Encoding Chromium sent
        self.head_rows: list[tuple[str, int]] = []  # path, bytes of its request and response lines and headers
        self.lock = threading.Lock()

    def reset(self):
        with self.lock:
            self.rows = []
            self.head_rows = []

    def total(self, keep=lambda method, path: True) -> int:
        return sum(n for m, p, n in self.rows if keep(m, p))

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        self.accept = environ.get("HTTP_ACCEPT_ENCODING", self.accept)
        up = len(f"{environ['REQUEST_METHOD']} {path} HTTP/1.1\r\n")
        up += sum(len(k) - 5 + len(v) + 4 for k, v in environ.items() if k.startswith("HTTP_"))
        up += int(environ.get("CONTENT_LENGTH") or 0)
        head = {}

        def counting_start(status, headers, exc_info=None):
            head["n"] = len(f"HTTP/1.1 {status}\r\n") + sum(len(k) + len(v) + 4 for k, v in headers) + 2
            head["enc"] = next((v for k, v in headers if k.lower() == "content-encoding"), "identity")
            return start_response(status, headers, exc_info)

        body = self.app(environ, counting_start)
        down = 0
        try:
            for chunk in body:
                down += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                self.rows.append((environ["REQUEST_METHOD"], path, up + head.get("n", 0) + down))
                if down or path not in self.encodings:  # a later 304 has no body to encode
                    self.encodings[path] = head.get("enc", "identity")
                self.head_rows.append((path, up - int(environ.get("CONTENT_LENGTH") or 0) + head.get("n", 0)))


def identity_bytes(app, by_path: dict[str, list[int]]) -> int:
    """What the shell's bodies weigh without compression: each path fetched once without Accept-Encoding."""
    client = app.test_client()
    # /app/ needs a login; the shell page it renders is /app/shell's, which needs none.
    return sum(len(client.get("/app/shell" if path == "/app/" else path).get_data()) for path in by_path)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "UPLOAD_DIR": str(tmp / "up")})
    with app.app_context():
        db.create_all()
        build = Builders()
        school = build.school("红岩乡中心小学")
        teacher = build.user("teacher", school, username="bench_teacher")
        child_id = build.child(school, build.village(school), teacher).id
    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    live = SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}")

    # Phone-like originals: 4000×3000, high quality, EXIF with time, GPS and a sideways orientation.
    originals = [imaging.jpeg(seed, size=(4000, 3000), quality=95, exif=imaging.exif_block(orientation=6)) for seed in (31, 32, 33)]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN")
        context.add_init_script(AUTO_PIN)  # the app opens locked: type the test PIN
        page = context.new_page()
        api_login(context, live, "bench_teacher")
        meter.reset()
        open_app(page, live)
        page.wait_for_timeout(500)  # let the worker finish precaching
        shell = meter.total(lambda m, path: not path.startswith("/api/"))
        shell_requests = sum(1 for m, p, n in meter.rows if not p.startswith("/api/"))
        shell_headers = sum(n for p, n in meter.head_rows if not p.startswith("/api/"))
        by_path: dict[str, list[int]] = {}
        for m, path, n in meter.rows:
            if not path.startswith("/api/"):
                by_path.setdefault(path, []).append(n)
        labels = dict(meter.encodings)  # before identity_bytes fetches the same paths again, uncompressed
        uncompressed = identity_bytes(app, by_path)
        data = meter.total(lambda m, path: path.startswith("/api/"))

        context.set_offline(True)
        fill_record(page, "home_visit", child_id, photos=originals)
        sizes = page.evaluate("async () => (await JF.db.all('photos')).map(p => p.size)")
        meter.reset()
        context.set_offline(False)
        wait_until(page, "async () => (await JF.db.all('records')).length === 0", timeout=60000)
        page.wait_for_timeout(500)  # any follow-up calls (roster refresh, a second trigger) count too
        synced = meter.total()
        photo_puts = meter.total(lambda m, path: m == "PUT")
        browser.close()
    server.shutdown()

    print(f"originals_total_bytes: {sum(len(o) for o in originals)}  ({', '.join(str(len(o)) for o in originals)})")
    print(f"compressed_photos_bytes: {sum(sizes)}  ({', '.join(str(s) for s in sizes)})")
    print(f"sync_bytes_one_visit_3_photos: {synced}  (photo PUTs {photo_puts}; goal <= 600000)")
    print(f"Chromium's Accept-Encoding on loopback HTTP: {meter.accept!r}")
    verdict = "MET" if shell <= 50_000 else "NOT MET"
    print(f"app_shell_first_install_bytes: {shell}  (compressed by the app; goal <= 50000 -> {verdict}; "
          f"the same bodies uncompressed: {uncompressed}; plus roster/kinds/session API {data})")
    print(f"  of which request and response lines and headers: {shell_headers} over {shell_requests} requests; "
          f"bodies: {shell - shell_headers}")
    for path, ns in sorted(by_path.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {sum(ns):7d}  {labels.get(path, ''):8s} {path}"
              + (f"  ({len(ns)} requests: {', '.join(map(str, ns))})" if len(ns) > 1 else ""))


if __name__ == "__main__":
    main()
