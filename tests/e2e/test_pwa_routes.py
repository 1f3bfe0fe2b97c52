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
    precache = json.loads(re.search(r"const PRECACHE=(\[.*?\]);", body).group(1))
    paths = {u.split("?")[0] for u in precache}
    for url in ("/app/shell", "/offline", "/css/app.css", "/shell.js", "/manifest.webmanifest"):
        assert url in paths
    # static files are versioned by their bytes and may be cached for a year; pages are not
    assert all(re.search(r"\?v=[0-9a-f]{10}$", u) for u in precache if u.startswith(("/static/", "/css/", "/shell.js")))
    css = next(u for u in precache if u.startswith("/css/app.css"))
    assert "immutable" in client.get(css).headers["Cache-Control"]
    assert "Cookie" not in client.get(css).headers.get("Vary", "")  # the same for everyone: no refetch after login
    assert "immutable" not in client.get("/css/app.css").headers.get("Cache-Control", "")
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


def test_shell_scripts_are_one_bundle_in_order_compressed_once(client):
    """One request for the shell's scripts: SHELL_SCRIPTS joined in order, the page's behind a check for a document
    (the worker imports the same file), cached for a year by its hash, 304 on a matching ETag, the same for everyone."""
    client.application.config["SHELL_MINIFY"] = False  # as written, to find each script in it
    page = client.get("/app/shell").get_data(as_text=True)
    urls = re.findall(r'<script src="([^"]+)"', page)
    # Chinese, the default: the scripts' own words, no catalogue (app/shell_strings.py) to load first.
    assert len(urls) == 1 and urls[0].startswith("/shell.js?v=")
    urls.insert(0, None)
    r = client.get(urls[1], headers={"Accept-Encoding": "identity"})
    body = r.get_data(as_text=True)
    positions = [body.index((pwa.STATIC / "js" / name).read_text(encoding="utf-8")) for name in pwa.SHELL_SCRIPTS]
    assert positions == sorted(positions)
    guard = body.index('if (typeof document !== "undefined") {')
    assert positions[len(pwa.WORKER_SCRIPTS) - 1] < guard < positions[len(pwa.WORKER_SCRIPTS)]
    assert r.mimetype == "text/javascript" and "immutable" in r.headers["Cache-Control"]
    assert "Cookie" not in r.headers["Vary"] and "Content-Security-Policy" not in r.headers
    br = client.get(urls[1], headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["Content-Encoding"] == "br" and len(br.data) < len(r.data) / 3
    assert br.headers["ETag"] != r.headers["ETag"]  # one validator per representation
    again = client.get(urls[1], headers={"Accept-Encoding": "gzip, br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert "immutable" not in client.get("/shell.js").headers["Cache-Control"]  # without its hash: revalidate
    worker = client.get("/sw.js").get_data(as_text=True)
    assert urls[1] in worker and "importScripts(" in worker


def test_worker_update_check_is_a_304_while_the_worker_is_unchanged(client):
    r = client.get("/sw.js", headers={"Accept-Encoding": "br"})
    assert r.headers["Content-Encoding"] == "br" and r.headers["Cache-Control"] == "no-cache"
    assert "Content-Security-Policy" in r.headers  # a worker obeys its own script's policy
    again = client.get("/sw.js", headers={"Accept-Encoding": "br", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Service-Worker-Allowed"] == "/"


def test_the_bundle_is_served_minified(client):
    """Without comments and indentation (a third fewer bytes compressed); the e2e tests run it in Chromium."""
    source = pwa._join(pwa.SHELL_SCRIPTS)
    url = re.search(r'<script src="(/shell\.js\?v=\w+)"', client.get("/app/shell").get_data(as_text=True)).group(1)
    body = client.get(url, headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    assert len(body.encode()) < 0.7 * len(source)
    assert "/* 家访通" not in body and "\n  " not in body  # the files' header comments, the indentation
    assert 'if(typeof document!=="undefined"){' in body  # the worker still runs only the first scripts
    assert '"家访通"' in body  # strings kept as written
    br = client.get(url, headers={"Accept-Encoding": "br"}).data
    assert len(br) < 30_000


def test_stylesheets_are_served_minified(client):
    source = (pwa.STATIC / "css" / "app.css").read_text(encoding="utf-8")
    url = re.search(r'<link rel="stylesheet" href="(/css/app\.css\?v=\w+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.get(url)
    assert r.mimetype == "text/css" and "immutable" in r.headers["Cache-Control"]
    css = r.get_data(as_text=True)
    assert len(css) < 0.9 * len(source) and "/*" not in css and "\n  " not in css
    assert ".topbar{" in css.replace(" ", "")
    assert client.get("/css/nothing.css").status_code == 404 and client.get("/css/..%2Fjs%2Fapp.js").status_code == 404
