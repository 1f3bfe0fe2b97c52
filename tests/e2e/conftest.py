"""Browser tests: the real app on a loopback werkzeug server, driven by Debian's headless Chromium through Playwright.

One browser for the session, a fresh context (profile) and server per test. The server runs behind `Gate`, a WSGI
switch the tests use to play a server that goes away mid-sync or loses its answers.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Photo, Record

from ..conftest import PASSWORD
from .. import imaging

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Gate:
    """WSGI middleware between the server and the app: up, down (503), or storing records but losing the answer."""

    def __init__(self, app):
        self.app = app
        self.down = False
        self.down_after_puts: int | None = None  # go down once this many photo PUTs have been answered
        self.lose_record_answers = 0             # POST /api/v1/records: store, then answer 503 instead
        self.refuse_puts: tuple[int, dict] | None = None  # answer photo PUTs with this (status, JSON body)
        self.puts = 0
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @staticmethod
    def _unavailable(start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", "11")])
        return [b"unavailable"]

    def _run_and_discard(self, environ):
        body = self.app(environ, lambda *a, **k: (lambda data: None))
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()

    @staticmethod
    def _logged_method(method, environ) -> str:
        """"PUT" for a whole photo or the last chunk of one, "PUT-part" for an earlier chunk: tests count photos sent."""
        rng = environ.get("HTTP_CONTENT_RANGE", "")
        if method != "PUT" or not rng.startswith("bytes "):
            return method
        last, total = rng[6:].split("-", 1)[-1].split("/", 1)
        return "PUT" if last.isdigit() and total.isdigit() and int(last) + 1 == int(total) else "PUT-part"

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        logged = self._logged_method(method, environ)
        with self.lock:
            self.log.append((logged, path))
            down = self.down
            lose = path == "/api/v1/records" and method == "POST" and self.lose_record_answers > 0
            if lose:
                self.lose_record_answers -= 1
        if down:
            return self._unavailable(start_response)
        if self.refuse_puts and method == "PUT" and path.startswith("/api/v1/photos/"):
            status, payload = self.refuse_puts
            body = json.dumps(payload, ensure_ascii=False).encode()
            start_response(f"{status} Refused", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if lose:
            self._run_and_discard(environ)  # the server stored it; the phone never hears so
            return self._unavailable(start_response)
        result = self.app(environ, start_response)
        if logged == "PUT" and path.startswith("/api/v1/photos/"):
            with self.lock:
                self.puts += 1
                if self.down_after_puts is not None and self.puts >= self.down_after_puts:
                    self.down = True
        return result

    def count(self, method, path_prefix) -> int:
        return sum(1 for m, p in self.log if m == method and p.startswith(path_prefix))


@dataclass
class Live:
    url: str
    app: object
    gate: Gate
    ids: dict = field(default_factory=dict)

    def query(self, fn):
        """Run fn() against the database in a context of its own, so the test never holds a stale session."""
        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    def records(self) -> list:
        return self.query(lambda: [(r.client_id, r.kind, r.child_id, [rp.photo.sha256 for rp in r.photos])
                                   for r in db.session.scalars(select(Record))])

    def photo_count(self) -> int:
        return self.query(lambda: db.session.scalar(select(func.count()).select_from(Photo)))

    def photos(self) -> list[dict]:
        return self.query(lambda: [{"sha": p.sha256, "width": p.width, "height": p.height, "orig_width": p.orig_width,
                                    "orig_height": p.orig_height, "taken_at": p.taken_at, "gps_lat": p.gps_lat,
                                    "gps_lon": p.gps_lon, "size": p.size}
                                   for p in db.session.scalars(select(Photo))])


@pytest.fixture
def people(build):
    """Just who the browser tests need (every user costs a password hash): a school, two teachers, a child each."""
    school = build.school("学校A")
    v1, v2 = build.village(school, "A1村"), build.village(school, "A2村")
    teacher = build.user("teacher", school, username="teachera")
    other = build.user("teacher", school, username="teacherax")
    return {"school": school, "teacher": teacher, "other_teacher": other,
            "c1": build.child(school, v1, teacher), "c2": build.child(school, v2, other)}


@pytest.fixture
def live(app, people):
    """The app (file SQLite under tmp_path, tests/conftest.py) served on 127.0.0.1 (a secure context) behind a Gate."""
    gate = Gate(app.wsgi_app)
    app.wsgi_app = gate
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    a = people
    ids = {"teacher": a["teacher"].username, "other": a["other_teacher"].username, "teacher_id": a["teacher"].id,
           "c1": a["c1"].id, "c1_name": a["c1"].name, "c2": a["c2"].id, "c2_name": a["c2"].name,
           "hotline": a["school"].hotline}
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app, gate, ids)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


# Every test but the lock screen's own (tests/e2e/test_lock.py) types the PIN the way a teacher would, at once.
TEST_PIN = "123456"
AUTO_PIN = """(() => { setInterval(() => {
  const f = document.getElementById("jf-lock");
  if (!f || f.tagName !== "FORM" || f.dataset.auto) return;
  f.dataset.auto = "1";
  for (const i of f.querySelectorAll("input[inputmode=numeric]")) i.value = "%s";
  f.requestSubmit();
}, 30); })();""" % TEST_PIN


def new_context(browser, auto_pin=True):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780})
    ctx.set_default_timeout(15000)
    if auto_pin:
        ctx.add_init_script(AUTO_PIN)
    return ctx


@pytest.fixture
def context(browser):
    ctx = new_context(browser)
    yield ctx
    ctx.close()


def watch(page, problems: list) -> None:
    """Collect uncaught errors and CSP violations (no inline scripts or styles may sneak in)."""
    page.on("pageerror", lambda err: problems.append(f"{page.url}: {err}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)


@pytest.fixture
def problems():
    found: list[str] = []
    yield found
    assert not found, "errors in the page:\n" + "\n".join(found)


@pytest.fixture
def page(context, problems):
    p = context.new_page()
    watch(p, problems)
    return p


# --- helpers the tests share -------------------------------------------------------------------------------------

def api_login(context, live, username):
    """Log in through the session API; the browser context shares the cookie."""
    r = context.request.post(live.url + "/api/v1/session", data=json.dumps({"username": username, "password": PASSWORD}),
                             headers={"Content-Type": "application/json"})
    assert r.ok, r.text()


def form_login(page, username):
    """Log in through the normal login page the page is on."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def wait_until(page, js, arg=None, timeout=15000):
    """Poll a JS function until it returns something truthy (CSP forbids eval, which page.wait_for_function uses)."""
    waited = 0
    while True:
        value = page.evaluate(js, arg)
        if value:
            return value
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout} ms waiting for {js} ({arg!r})")
        page.wait_for_timeout(50)
        waited += 50


def wait_for_worker(page):
    """Wait until the service worker is installed and active, whether or not it already controls this page.

    A page whose navigation started while the worker was still installing may stay uncontrolled: Chromium's
    clients.claim() can miss a document that is still being created. Its next load is controlled either way.
    """
    wait_until(page, "() => navigator.serviceWorker.getRegistration()"
                     ".then(r => !!(r && r.active && r.active.state === 'activated'))")


def open_app(page, live, path="/app/"):
    """Open the shell and wait until the service worker controls it and the app has booted."""
    page.goto(live.url + path)
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    page.wait_for_selector("body[data-ready='1']")


@pytest.fixture
def offline_app(live, context, page):
    """Call to log in, open the app, go offline and reload: from then on the shell and data come from the phone.

    A call, not a plain fixture, so a test can first put on the server what the phone should pick up.
    """
    def _open(username=None):
        api_login(context, live, username or live.ids["teacher"])
        open_app(page, live)
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        return page

    return _open


def wait_for(page, condition, timeout=15000):
    """Poll a Python condition (what a route or dialog handler saw, the server's database) while the page runs."""
    waited = 0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout} ms waiting for {condition}")
        page.wait_for_timeout(50)
        waited += 50


def fill_required(page):
    """Fill every required field of the open record form (text, then the first choice of each group)."""
    page.evaluate("() => { const more = document.getElementById('jf-more'); if (more) more.open = true; }")  # folded fields
    for el in page.query_selector_all("#jf-record-form textarea[required], #jf-record-form input[type=text][required]"):
        el.fill("测试内容")
    for el in page.query_selector_all("#jf-record-form input[type=number][required]"):
        el.fill("5")
    for fs in page.query_selector_all("#jf-record-form fieldset"):
        first = fs.query_selector("input[type=radio]")
        if first:
            first.check()


def fill_record(page, kind, child_id, photos=(), before_save=None):
    """Open a new-record form, fill every required field, attach photos and save."""
    page.evaluate("h => { location.hash = h }", f"#/new/{kind}/{child_id}")
    page.wait_for_selector("#jf-record-form")
    fill_required(page)
    if photos:
        files = [{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": data} for i, data in enumerate(photos)]
        page.set_input_files("#jf-photos", files)
        wait_until(page, "n => document.querySelectorAll('#jf-thumbs figure').length === n", len(photos), timeout=30000)
    record_id = page.get_attribute("#jf-record-form", "data-id")
    if before_save:
        before_save()
    page.click("#jf-save")
    wait_until(page, "h => location.hash === h", f"#/child/{child_id}")
    return record_id


def local_records(page) -> list[dict]:
    return page.evaluate("""async () => (await JF.db.all('records')).map(r => (
        {id: r.id, status: r.status, photos: r.photos, errors: r.errors, child_id: r.child_id}))""")


def local_photos(page) -> list[dict]:
    """The photo Blobs in IndexedDB, with their decoded size and the SHA-256 of their bytes."""
    return page.evaluate("""async () => Promise.all((await JF.db.all('photos')).map(async p => {
        const bmp = await createImageBitmap(p.blob);
        const bytes = new Uint8Array(await p.blob.arrayBuffer());
        return {sha: p.sha, isBlob: p.blob instanceof Blob, type: p.blob.type, size: p.blob.size,
                width: bmp.width, height: bmp.height, hash: await JF.capture.sha256Hex(bytes), uploaded: p.uploaded};
    }))""")


def wait_waiting(page, n, timeout=20000):
    wait_until(page, "t => document.getElementById('jf-waiting').textContent === t", f"待同步 {n} 条", timeout=timeout)


@pytest.fixture(scope="session")
def small_jpegs():
    """Phone-like JPEGs small enough to keep most tests quick."""
    return [imaging.jpeg(seed, size=(1600, 1200), exif=imaging.exif_block()) for seed in (11, 12, 13)]
