"""The installable app: manifest, service worker at /sw.js, the offline app shell and the offline page."""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import login_required

ROOT = Path(__file__).resolve().parent.parent
SW_FILE = ROOT / "service_worker" / "sw.js"
STATIC = ROOT / "static"
# Everything the shell is made of: a change to any byte here must produce a new service worker.
SHELL_SOURCES = [SW_FILE, *sorted((STATIC / "js").glob("*.js")), *sorted((STATIC / "css").glob("*.css")),
                 *sorted((STATIC / "icons").glob("*.png")), *sorted((ROOT / "templates" / "app").glob("*.html")),
                 *sorted((ROOT / "app" / "translations").glob("*/LC_MESSAGES/messages.po"))]
# Loaded by the shell page, in this order (classic scripts sharing the global JF): storage and sync, helpers, then one
# script per feature (each names what it owns in its header), the router (app.js) and the session.
SHELL_SCRIPTS = ["crypto.js", "db.js", "device.js", "outbox.js", "i18n.js", "storage.js", "capture.js", "ui.js", "data.js",
                 "home.js", "card.js", "outbox-view.js", "returns.js", "code.js", "notifications.js",
                 "form.js", "signature.js", "survey.js", "activity.js", "incident.js", "lock.js", "app.js", "session.js"]
# What the worker runs too (the sync engine: its keys, storage, this phone's id, the outbox). It imports the page's
# bundle, the copy the page has just loaded, in which every other script sits behind a check for a document.
WORKER_SCRIPTS = SHELL_SCRIPTS[:4]
# Served minified from /css/<name> (no url() in them: it would be relative to /css/, not /static/css/).
STYLESHEETS = frozenset(p.name for p in (STATIC / "css").glob("*.css"))
# Precached: the pages' icon only, a 48 px copy of the app icon (716 bytes against 1,620). The manifest's icons are for
# installing, which happens online; caching them would cost a first install ~12 KB on the wire for nothing offline.
ICONS = ["favicon-48.png"]
# The views that serve a file by the hash of its bytes, the same to everyone (no CSP, no Vary: Cookie, reachable while a
# password change is pending): the script bundle and the minified stylesheets.
HASHED_ENDPOINTS = ("pwa.shell_script", "pwa.stylesheet_file")

bp = Blueprint("pwa", __name__)


def _shell_version() -> str:
    h = hashlib.sha256()
    for path in SHELL_SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


# Computed once at startup: a deploy that changes the shell restarts the app and changes the worker.
SHELL_VERSION = _shell_version()


_ASSET_VERSIONS: dict[str, str] = {}


def asset(filename: str) -> str:
    """A static file's URL with a hash of its bytes (?v=…): browsers may keep it for a year, and the worker's install
    takes the copy the page has just loaded from the HTTP cache instead of downloading the shell a second time.
    A stylesheet comes minified from /css/<name> (stylesheet())."""
    if filename.startswith("css/") and filename[4:] in STYLESHEETS:
        return url_for("pwa.stylesheet_file", name=filename[4:], v=stylesheet(filename[4:]).tag)
    v = _ASSET_VERSIONS.get(filename)
    if v is None:
        path = STATIC / filename
        v = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
        _ASSET_VERSIONS[filename] = v
    return url_for("static", filename=filename, v=v)


def strings_url(lang: str | None = None) -> str | None:
    """The shell's translations (app/shell_strings.py), versioned with the shell, for a user of `lang` (the request's
    language by default); None in the default language, whose words are the scripts' own (~6 KB less to install)."""
    if (lang or str(get_locale())) == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return None
    return url_for("pwa.shell_strings", v=SHELL_VERSION)


@dataclass(frozen=True)
class Encoded:
    """A body made once per process, with its hash and its brotli and gzip encodings."""

    tag: str
    bodies: dict[str, bytes]  # Content-Encoding ("identity", "br", "gzip") -> bytes

    @classmethod
    def of(cls, body: bytes) -> Encoded:
        # Brotli's best level: ~0.3 s once per process, a fifth fewer bytes than the per-request level on every install.
        return cls(hashlib.sha256(body).hexdigest()[:10],
                   {"identity": body, "br": brotli.compress(body, quality=11), "gzip": gzip.compress(body, 9, mtime=0)})


_ENCODED_LOCK = threading.RLock()  # the worker's body asks for the bundle's hash


def _once(name: str, make) -> Encoded:
    """The body `name` of this app, made by `make()` at its first use (no build step; a deploy restarts the process)."""
    made = current_app.extensions.setdefault("pwa_encoded", {})
    with _ENCODED_LOCK:
        if name not in made:
            made[name] = Encoded.of(make())
        return made[name]


def _join(names: list[str]) -> bytes:
    return b"\n;\n".join((STATIC / "js" / name).read_bytes() for name in names)


def _bundle_body() -> bytes:
    # Each script is an IIFE with its own "use strict" and nothing else at the top level, so joining them, or putting
    # them in a block, changes no script's meaning. The worker imports this file too: the page's scripts need a
    # document, so they run only where there is one.
    body = (_join(WORKER_SCRIPTS) + b'\n;\nif (typeof document !== "undefined") {\n'
            + _join(SHELL_SCRIPTS[len(WORKER_SCRIPTS):]) + b"\n}\n")
    # Without comments and indentation: 38.6 -> 26.8 KB with brotli. SHELL_MINIFY = False serves it as written, to debug.
    return rjsmin.jsmin(body) if current_app.config["SHELL_MINIFY"] else body


def bundle() -> Encoded:
    """SHELL_SCRIPTS in one file: one request instead of eighteen, since on 2G a request's headers (~1.7 KB) weigh as
    much as a small script."""
    return _once("bundle", _bundle_body)


def stylesheet(name: str) -> Encoded:
    """static/css/<name> without comments and spaces (app.css: 2.7 -> 2.0 KB with brotli), made once per process."""
    def make() -> bytes:
        css = (STATIC / "css" / name).read_text(encoding="utf-8")
        return (rcssmin.cssmin(css) if current_app.config["SHELL_MINIFY"] else css).encode()

    return _once(f"css/{name}", make)


def bundle_url() -> str:
    """The bundle's URL with its hash (?v=…): immutable, like asset()."""
    return url_for("pwa.shell_script", v=bundle().tag)


def _precache(lang: str) -> list[str]:
    """URLs the worker of a `lang` user stores at install: the shell, the offline page, manifest, the shell's words
    (other languages than the default only), CSS, the script bundle, the icon."""
    return [
        url_for("pwa.shell_page"), url_for("pwa.offline"), url_for("pwa.manifest"),
        *filter(None, [strings_url(lang)]),
        asset("css/app.css"),
        bundle_url(),
        *[asset(f"icons/{name}") for name in ICONS],
    ]


def _send(e: Encoded, mimetype: str) -> Response:
    """`e` in the best encoding the client accepts, with a strong ETag per encoding (the compression module's marks),
    or 304 when the client holds it."""
    accepted = request.accept_encodings
    enc = next((name for name in ("br", "gzip") if accepted[name]), "identity")
    resp = Response(e.bodies[enc], mimetype=mimetype)
    resp.set_etag(e.tag if enc == "identity" else f"{e.tag}:{enc}")
    if enc != "identity":
        resp.headers["Content-Encoding"] = enc  # Flask-Compress leaves an encoded body alone
    resp.vary.add("Accept-Encoding")
    return resp


def _send_versioned(e: Encoded, mimetype: str, version: str) -> Response:
    """_send(), kept for a year when asked with ?v=`version`, revalidated otherwise (an old or missing version)."""
    resp = _send(e, mimetype)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable" if request.args.get("v") == version else "no-cache"
    return resp.make_conditional(request)


@bp.route("/shell.js")
def shell_script():
    """The shell's scripts in one file; for a year when asked by its hash."""
    b = bundle()
    return _send_versioned(b, "text/javascript", b.tag)


@bp.route("/css/<name>")
def stylesheet_file(name):
    """A stylesheet, minified; for a year when asked by its hash."""
    if name not in STYLESHEETS:
        abort(404)
    css = stylesheet(name)
    return _send_versioned(css, "text/css", css.tag)


@bp.record_once
def _immutable_assets_header(state):
    # Server pages load the shell's catalogue too: session.js and signature.js speak the user's language there.
    state.app.add_template_global(strings_url, "shell_strings_url")

    @state.app.after_request
    def _immutable_assets(resp):
        if request.path.startswith("/static/") and request.args.get("v") and resp.status_code in (200, 304):
            resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp


def _worker_body(lang: str) -> bytes:
    source = SW_FILE.read_text(encoding="utf-8")
    if current_app.config["SHELL_MINIFY"]:
        source = rjsmin.jsmin(source)  # 2.2 -> 1.3 KB with brotli
    return (source.replace("__SHELL_VERSION__", SHELL_VERSION).replace("__SHELL_LANG__", lang)
            .replace('"__PRECACHE__"', json.dumps(_precache(lang), separators=(",", ":"))).encode())


@bp.route("/sw.js")
def service_worker():
    """The worker for the language in ?lang= (session.js registers /sw.js?lang=en for an English user, so that a
    change of language installs a worker that caches the words of the new one), made once per process; its ETag turns
    the browser's update checks into 304s while it is unchanged."""
    lang = request.args.get("lang")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    resp = _send(_once(f"worker-{SHELL_VERSION}-{lang}", lambda: _worker_body(lang)), "application/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp.make_conditional(request)


def _icon(name: str, size: int, purpose: str = "any") -> dict:
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}


@bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "id": "/app/",
        "name": "家访通",
        "short_name": "家访通",
        "description": "留守儿童家访、谈心、家庭联系记录，离线可用",
        "lang": "zh-CN",
        "start_url": "/app/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#1f6f5c",
        "background_color": "#f4f6f5",
        "icons": [_icon("icon-192.png", 192), _icon("icon-512.png", 512), _icon("icon-maskable-512.png", 512, "maskable")],
    }
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _shell() -> str:
    return render_template("app/shell.html", script=bundle_url(), strings=strings_url())


@bp.route("/app/")
@login_required
def app_shell():
    return _shell()


# The same page without the login check: this is what the worker precaches (it may install on the
# login page, before anyone is logged in). The page holds no personal data; it reads it from IndexedDB.
@bp.route("/app/shell")
def shell_page():
    return _shell()


# No login: like the shell, the worker fetches it at install, and it holds only the app's own words.
@bp.route("/app/strings.js")
def shell_strings():
    from .shell_strings import script

    return _send_versioned(_once("strings", lambda: script().encode()), "application/javascript", SHELL_VERSION)


@bp.route("/offline")
def offline():
    return render_template("app/offline.html")


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="icons/icon-192.png"), 301)
