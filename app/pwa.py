"""The installable app: manifest, service worker at /sw.js, the offline app shell and the offline page."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, request, url_for
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
SHELL_SCRIPTS = ["i18n.js", "crypto.js", "db.js", "device.js", "storage.js", "outbox.js", "capture.js", "ui.js", "data.js",
                 "home.js", "card.js", "outbox-view.js", "returns.js", "code.js", "notifications.js",
                 "form.js", "signature.js", "survey.js", "activity.js", "incident.js", "lock.js", "app.js", "session.js"]
ICONS = ["icon-192.png", "icon-512.png", "icon-maskable-512.png"]

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
    takes the copy the page has just loaded from the HTTP cache instead of downloading the shell a second time."""
    v = _ASSET_VERSIONS.get(filename)
    if v is None:
        path = STATIC / filename
        v = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
        _ASSET_VERSIONS[filename] = v
    return url_for("static", filename=filename, v=v)


def strings_url() -> str:
    """The shell's translations (app/shell_strings.py), versioned with the shell."""
    return url_for("pwa.shell_strings", v=SHELL_VERSION)


def _precache() -> list[str]:
    """URLs the worker stores at install: the shell, the offline page, CSS, JS, icons, manifest."""
    return [
        url_for("pwa.shell_page"), url_for("pwa.offline"), url_for("pwa.manifest"), strings_url(),
        asset("css/app.css"),
        *[asset(f"js/{name}") for name in SHELL_SCRIPTS],
        *[asset(f"icons/{name}") for name in ICONS],
    ]


@bp.record_once
def _immutable_assets_header(state):
    # Server pages load the shell's catalogue too: session.js and signature.js speak the user's language there.
    state.app.add_template_global(strings_url, "shell_strings_url")

    @state.app.after_request
    def _immutable_assets(resp):
        if request.path.startswith("/static/") and request.args.get("v") and resp.status_code in (200, 304):
            resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp


@bp.route("/sw.js")
def service_worker():
    source = SW_FILE.read_text(encoding="utf-8")
    body = source.replace("__SHELL_VERSION__", SHELL_VERSION).replace('"__PRECACHE__"', json.dumps(_precache()))
    resp = Response(body, mimetype="application/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


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
    return render_template("app/shell.html", scripts=SHELL_SCRIPTS, strings=strings_url())


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

    resp = Response(script(), mimetype="application/javascript")
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable" if request.args.get("v") == SHELL_VERSION else "no-cache"
    return resp


@bp.route("/offline")
def offline():
    return render_template("app/offline.html")


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="icons/icon-192.png"), 301)
