"""`make serve`: gunicorn with app/gunicorn_conf.py stores a photo sent at 2G speed instead of killing its worker."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Photo

from . import imaging
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CONF = "app/gunicorn_conf.py"
RATE = 8 * 1024  # bytes per second: a 2G link


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_recipe() -> str:
    return re.search(r"^serve:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)


def _wait_until_up(proc, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/session")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 60 s:\n" + log.read_text()[-3000:])


def test_make_serve_runs_gunicorn_with_the_config():
    recipe = _serve_recipe()
    assert "gunicorn" in recipe and f"--config {CONF}" in recipe
    assert "--worker-class" not in recipe and "--timeout" not in recipe  # one place decides: the config file


def test_photo_at_8_kb_per_second_is_stored_under_make_serve(app, world, tmp_path):
    teacher = world["A"]["teacher"]
    data = imaging.jpeg(seed=7, size=(1024, 768), quality=85)
    assert 90_000 < len(data) < 110_000
    sha = imaging.sha(data)
    port, log = _free_port(), tmp_path / "gunicorn.log"
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], WORKERS="1")  # the test's database
    # The kill timeout cut to 5 s: the 13 s upload is well past it, so the test shows the worker type (not a long
    # timeout) is what lets a slow body through; under the old sync workers the upload is cut off after 5 s.
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--config", CONF, "--timeout", "5",
           "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log), "app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(proc, port, log)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/v1/session", json.dumps({"username": teacher.username, "password": PASSWORD}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 200, body
        cookies = "; ".join(c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie"))

        conn.putrequest("PUT", f"/api/v1/photos/{sha}")
        for k, v in {"Content-Type": "image/jpeg", "Content-Length": str(len(data)), "Cookie": cookies,
                     "X-CSRFToken": body["csrf_token"]}.items():
            conn.putheader(k, v)
        conn.endheaders()
        start = time.monotonic()
        for at in range(0, len(data), 1024):
            time.sleep(max(0.0, start + at / RATE - time.monotonic()))
            conn.send(data[at:at + 1024])
        resp = conn.getresponse()
        answer = resp.read()
        took = time.monotonic() - start
        conn.close()
    finally:
        proc.terminate()
        proc.wait(30)
    assert resp.status == 201, (answer, log.read_text()[-3000:])
    assert json.loads(answer)["status"] == "stored"
    assert took > len(data) / RATE - 1  # it really came in slowly
    db.session.expire_all()
    assert db.session.scalar(select(Photo.uploader_id).where(Photo.sha256 == sha)) == teacher.id
