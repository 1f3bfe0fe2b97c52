"""A photo upload cut off half way over a flaky link goes on from where the server stopped and arrives exactly once
(issue 21, item 3): the phone sends 64 KB chunks and asks HEAD for the offset after the cut."""
import threading
from pathlib import Path

import pytest

from .conftest import fill_record, local_photos, wait_for, wait_waiting

pytestmark = pytest.mark.e2e


class BodyCounter:
    """WSGI middleware counting the photo bytes that reached the server."""

    def __init__(self, app):
        self.app, self.bytes, self.lock = app, 0, threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT" and environ.get("PATH_INFO", "").startswith("/api/v1/photos/"):
            with self.lock:
                self.bytes += int(environ.get("CONTENT_LENGTH") or 0)
        return self.app(environ, start_response)


def test_a_photo_cut_mid_upload_resumes_and_arrives_once(live, context, page, offline_app):
    from .. import imaging

    big = imaging.jpeg(seed=31, size=(1600, 1200), quality=92, exif=imaging.exif_block())
    offline_app()
    record_id = fill_record(page, "home_visit", live.ids["c1"], photos=[big])
    wait_waiting(page, 1)
    [photo] = local_photos(page)
    assert photo["size"] > 64 * 1024, photo["size"]  # the phone's copy still takes two chunks or more

    counter = BodyCounter(live.app.wsgi_app)
    live.app.wsgi_app = counter
    ranges, cut = [], []

    def handle(route):
        rng = route.request.headers.get("content-range")
        if route.request.method == "PUT":
            ranges.append(rng)
            if rng and not rng.startswith("bytes 0-") and not cut:  # the link drops during the second chunk
                cut.append(rng)
                route.abort("internetdisconnected")
                return
        route.continue_()

    context.route("**/api/v1/photos/**", handle)
    context.set_offline(False)
    wait_for(page, lambda: live.records(), timeout=45000)
    wait_waiting(page, 0, timeout=30000)

    assert cut, ranges
    assert all(r and r.startswith("bytes ") for r in ranges)  # chunks, never the whole file at once
    after = [r for r in ranges[ranges.index(cut[0]) + 1:]]
    assert after and after[0].split("-")[0] == cut[0].split("-")[0]  # went on at the server's offset, not from 0
    rows = live.records()
    assert [(r[0], r[3]) for r in rows] == [(record_id, [photo["sha"]])]
    assert live.photo_count() == 1
    assert counter.bytes <= 1.1 * photo["size"], (counter.bytes, photo["size"])
    partial = Path(live.app.config["UPLOAD_DIR"]) / "partial"
    assert not partial.exists() or not any(partial.iterdir())
