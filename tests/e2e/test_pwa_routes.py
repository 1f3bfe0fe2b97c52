"""The PWA's server side without a browser: worker headers and version, manifest, shell access, nothing personal cached."""
import json
import re

from app import pwa

from ..conftest import login


def test_service_worker_is_versioned_and_not_cached(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "application/javascript"
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["Service-Worker-Allowed"] == "/"
    body = r.get_data(as_text=True)
    assert pwa.SHELL_VERSION in body and "__SHELL_VERSION__" not in body and "__PRECACHE__" not in body
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    paths = {u.split("?")[0] for u in precache}
    for url in ("/app/shell", "/offline", "/static/css/app.css", "/static/js/outbox.js", "/manifest.webmanifest"):
        assert url in paths
    # static files are versioned by their bytes and may be cached for a year; pages are not
    assert all(re.search(r"\?v=[0-9a-f]{10}$", u) for u in precache if u.startswith("/static/"))
    css = next(u for u in precache if u.startswith("/static/css/app.css"))
    assert "immutable" in client.get(css).headers["Cache-Control"]
    assert "Cookie" not in client.get(css).headers.get("Vary", "")  # the same for everyone: no refetch after login
    assert "immutable" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
    assert "/app/" not in precache and not [u for u in precache if u.startswith("/api/")]


def test_shell_version_follows_the_shell_bytes(tmp_path, monkeypatch):
    a, b = tmp_path / "a.js", tmp_path / "b.js"
    a.write_text("one")
    b.write_text("two")
    monkeypatch.setattr(pwa, "SHELL_SOURCES", [a, b])
    before = pwa._shell_version()
    assert pwa._shell_version() == before
    b.write_text("two!")
    assert pwa._shell_version() != before


def test_manifest(client):
    r = client.get("/manifest.webmanifest")
    assert r.mimetype == "application/manifest+json"
    m = r.get_json()
    assert m["name"] == "家访通" and m["start_url"] == "/app/" and m["scope"] == "/" and m["display"] == "standalone"
    assert {i["sizes"] for i in m["icons"]} == {"192x192", "512x512"} and any(i["purpose"] == "maskable" for i in m["icons"])


def test_app_needs_login_but_the_cached_shell_and_offline_page_do_not(client, people):
    r = client.get("/app/")
    assert r.status_code == 302 and "/login?next=/app/" in r.location
    assert client.get("/offline").status_code == 200
    anonymous = client.get("/app/shell").get_data(as_text=True)
    login(client, people["teacher"].username)
    r = client.get("/app/")
    assert r.status_code == 200
    # The same page whoever asks: no name, no child, no CSRF token in what gets cached.
    assert r.get_data(as_text=True) == anonymous
    for secret in (people["teacher"].name, people["c1"].name, "csrf"):
        assert secret not in anonymous


def test_favicon_points_at_the_app_icon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith("/static/icons/icon-192.png")
