"""Installable and offline: the manifest, the service worker, and the shell working without a network."""
import io

import pytest
from PIL import Image

from .conftest import api_login, open_app, wait_until

pytestmark = pytest.mark.e2e


def test_manifest_is_valid_and_linked(live, context, page):
    m = context.request.get(live.url + "/manifest.webmanifest")
    assert m.ok and m.headers["content-type"].startswith("application/manifest+json")
    body = m.json()
    assert body["name"] == "家访通" and body["short_name"] and body["display"] == "standalone"
    assert body["start_url"] == "/app/" and body["scope"] == "/" and body["theme_color"] == "#1f6f5c" and body["background_color"]
    sizes = {}
    for icon in body["icons"]:
        r = context.request.get(live.url + icon["src"])
        assert r.ok and r.headers["content-type"] == "image/png"
        im = Image.open(io.BytesIO(r.body()))
        assert icon["sizes"] == f"{im.width}x{im.height}"
        sizes.setdefault(icon["sizes"], set()).add(icon.get("purpose", "any"))
    assert "192x192" in sizes and "512x512" in sizes and "maskable" in set().union(*sizes.values())

    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    assert page.eval_on_selector('link[rel="manifest"]', "l => l.href") == live.url + "/manifest.webmanifest"
    # Server pages link it too (added by session.js), so the app installs from any page.
    page.goto(live.url + "/")
    wait_until(page, "() => document.querySelector('link[rel=\"manifest\"]') !== null")


def test_service_worker_controls_and_shell_works_offline(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
    assert scope == live.url + "/"
    page.wait_for_selector(f"#jf-children [data-child='{live.ids['c1']}']")

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.wait_for_selector(f"#jf-children [data-child='{live.ids['c1']}']")
    assert live.ids["c1_name"] in page.inner_text("#jf-children")
    assert "离线" in page.inner_text("#jf-status") or "待同步 0 条" in page.inner_text("#jf-status")

    page.click(f"#jf-children [data-child='{live.ids['c1']}'] a")
    page.wait_for_selector("#jf-card")
    tels = page.eval_on_selector_all("#jf-card a[href^='tel:']", "as => as.map(a => a.getAttribute('href'))")
    assert "tel:13900000000" in tels                      # the guardian
    assert "tel:" + live.ids["hotline"].replace("-", "") in tels  # the school hotline
    assert page.is_visible("a[data-kind='home_visit']")

    # A server page offline falls back to the offline page, not the browser's error.
    page.goto(live.url + "/children/")
    assert "没有网络" in page.inner_text("body")

    # Nothing personal in Cache Storage: only the shell.
    cached = page.evaluate("""async () => { const out = [];
        for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(k + ' ' + new URL(r.url).pathname);
        return out; }""")
    assert cached and all(c.startswith("jf-shell-") for c in cached)
    assert not [c for c in cached if "/api/" in c or "/photos/" in c or c.endswith(" /") or "/children" in c]


def test_new_deploy_replaces_the_worker_and_keeps_the_queue(live, context, page, small_jpegs, monkeypatch):
    from app import pwa

    from .conftest import fill_record, local_records, wait_waiting

    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    old = page.evaluate("caches.keys()")
    context.set_offline(True)
    record_id = fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])
    context.set_offline(False)
    live.gate.down = True  # the server is being redeployed: the record cannot go yet
    wait_until(page, "() => /服务器暂时不可用/.test(document.getElementById('jf-error').textContent)", timeout=20000)
    assert [r["id"] for r in local_records(page)] == [record_id]

    monkeypatch.setattr(pwa, "SHELL_VERSION", "next-deploy")
    live.gate.down = False
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    wait_until(page, "async () => (await caches.keys()).join() === 'jf-shell-next-deploy'")  # old shell cache gone
    assert old != ["jf-shell-next-deploy"]
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    wait_waiting(page, 0, timeout=20000)
    assert [r[0] for r in live.records()] == [record_id]
