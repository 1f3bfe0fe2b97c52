"""Every main page of every role, on a 360 px phone, in the demo county: axe-core finds no serious or critical
violation, the console stays free of errors (CSP violations included) and nothing scrolls sideways."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.demo import DEMO_PASSWORD, seed_demo, seed_demo_records, seed_demo_submission

from ..conftest import fresh_database, make_app
from . import tour
from .conftest import AUTO_PIN

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent.parent / "assets" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
# Serious and critical violations, and these whatever axe's impact: unnamed duplicate landmarks, empty table headers,
# images and icons without a text alternative.
ALWAYS = ["landmark-unique", "empty-table-header", "image-alt", "svg-img-alt", "role-img-alt", "input-image-alt"]
AXE_RUN = """async always => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical' || always.includes(v.id)).map(v =>
    `${v.impact} ${v.id}: ${v.help} -> ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""
# The top bar's links and buttons, tabs and pager links smaller than 44 x 44 CSS px (what a thumb needs).
SMALL_TARGETS = """() => [...document.querySelectorAll('.topbar a, .topbar button, .tabs a, .pager a')].filter(el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && (r.width < 44 || r.height < 44);
}).map(el => `${el.id || el.textContent.trim().slice(0, 12)} ${Math.round(el.getBoundingClientRect().width)}x${Math.round(el.getBoundingClientRect().height)}`)"""


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """The demo county (app/demo.py, as `flask seed-demo` loads it) served on loopback for the whole module."""
    with fresh_database(make_app(tmp_path_factory.mktemp("a11y"))) as app:
        seed_demo()
        seed_demo_records()
        seed_demo_submission()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(5)
            server.server_close()


def check(page, where: str, errors: list, found: list) -> None:
    """Run axe on the page as it is and note what is wrong with it."""
    page.evaluate(AXE)  # through the debugger protocol: the page's CSP (script-src 'self') does not apply
    found += [f"{where}: {v}" for v in page.evaluate(AXE_RUN, ALWAYS)]
    found += [f"{where}: tap target under 44 px: {t}" for t in page.evaluate(SMALL_TARGETS)]
    if (extra := tour.overflow(page)) > 0:
        found.append(f"{where}: {extra} px wider than the screen")
    found += [f"{where}: console: {e}" for e in errors]
    errors.clear()


@pytest.mark.parametrize("role,username", tour.ROLES, ids=[r for r, _ in tour.ROLES])
def test_every_main_page_is_accessible_at_360px(browser, demo_url, role, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": tour.WIDTH, "height": tour.HEIGHT})
    context.add_init_script(AUTO_PIN)  # the app opens locked: type the test PIN
    context.set_default_timeout(20000)
    errors: list[str] = []
    found: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tour.login(page, demo_url, username, DEMO_PASSWORD)
        paths = tour.main_pages(page, demo_url)
        assert len(paths) >= 3, paths  # home, the bell, the account page at least
        for path in paths:
            response = page.goto(demo_url + path)
            assert response.ok and "text/html" in response.headers.get("content-type", ""), (path, response.status)
            check(page, path, errors, found)
        views = tour.shell_views(page, demo_url, role)
        assert bool(views) == (role in tour.SHELL_VIEWS)
        for view in views:
            tour.open_view(page, view)
            check(page, "/app/" + view, errors, found)
    finally:
        context.close()
    assert not found, f"{role}: {len(found)} problems on {len(paths)} pages and {len(views)} app views:\n" + "\n".join(found)
