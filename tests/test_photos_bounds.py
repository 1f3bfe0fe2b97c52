"""What one upload may cost the server: pixels by format, checked before decoding, and decodes at once per process.

Memory is judged from Pillow itself: its arena counts every pixel block it allocates, and a spy on ImageFile.load
records the size each image was decoded at. (tracemalloc cannot see pixel buffers: Pillow allocates them with plain
malloc, so a 600 MB decode shows as a few KB there.)
"""
from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image, ImageFile
from sqlalchemy import func, select

from app.extensions import db
from app.models import Photo
from app.photos import services
from app.photos.pipeline import PhotoRejected, process

from . import imaging
from .builders import put_photo, race
from .conftest import login

LIMIT_SIDE = 4096  # the default PHOTO_MAX_PIXELS_FULL is 4096 x 4096
WEBP_SIDE = 2896  # and PHOTO_MAX_PIXELS_WEBP 2896 x 2896


def _flat(fmt: str, size, **kw) -> bytes:
    """A flat image compresses to almost nothing whatever its size: the attacker's cheap bomb."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 200, 200)).save(out, fmt, **kw)
    return out.getvalue()


@pytest.fixture(scope="module")
def png_bomb() -> bytes:
    data = _flat("PNG", (6300, 6300))
    assert len(data) < 200 * 1024  # ~130 KB on the wire, 160-600 MB once decoded
    return data


@contextmanager
def decodes(monkeypatch):
    """Record (format, decoded size, mode) of every image decoded inside, and the pixel bytes Pillow allocated."""
    seen = []
    real = ImageFile.ImageFile.load

    def load(self):
        pending = bool(self.tile)  # load() is called again on a decoded image: a no-op then
        out = real(self)
        if pending:
            seen.append((self.format, self.size, self.mode))
        return out

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    before = Image.core.get_stats()["allocated_blocks"]
    box = {"decoded": seen}
    yield box
    box["blocks"] = Image.core.get_stats()["allocated_blocks"] - before
    monkeypatch.setattr(ImageFile.ImageFile, "load", real)


def _files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _photos() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


@pytest.fixture
def teacher(client, world):
    return {"token": login(client, world["A"]["teacher"].username), "user": world["A"]["teacher"]}


# --- pixels by format, over HTTP ----------------------------------------------------------------------------

def test_png_bomb_refused_before_any_pixel_is_decoded(app, client, teacher, png_bomb, monkeypatch):
    with decodes(monkeypatch) as d:
        r = put_photo(client, teacher["token"], png_bomb, ctype="image/png")
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["error"] == "image_rejected" and "6300×6300" in body["message"] and "16.8 百万像素" in body["message"]
    assert d["decoded"] == [] and d["blocks"] == 0  # not one pixel block allocated
    assert _files(app) == [] and _photos() == 0


def test_webp_over_the_limit_refused(app, client, teacher, monkeypatch):
    data = _flat("WEBP", (WEBP_SIDE + 1, WEBP_SIDE), lossless=True)  # under 1 KB
    with decodes(monkeypatch) as d:
        r = put_photo(client, teacher["token"], data, ctype="image/webp")
    assert r.status_code == 422 and r.get_json()["error"] == "image_rejected", r.get_json()
    assert "WebP" in r.get_json()["message"]
    assert d["blocks"] == 0 and _files(app) == [] and _photos() == 0


def test_jpeg_of_the_same_pixel_count_accepted_and_decoded_reduced(app, client, teacher, monkeypatch):
    data = _flat("JPEG", (6300, 6300), quality=85)
    with decodes(monkeypatch) as d:
        r = put_photo(client, teacher["token"], data)
    assert r.status_code == 201, r.get_json()
    [(fmt, size, mode)] = d["decoded"]
    assert fmt == "JPEG" and mode == "RGB"
    assert size == (3150, 3150)  # libjpeg decoded at 1/2 scale: 40 MB of pixels instead of 160 MB
    assert _photos() == 1


def test_progressive_jpeg_over_the_full_decode_limit_refused(client, teacher, monkeypatch):
    """libjpeg keeps a progressive JPEG's whole coefficient buffer however small we ask for it (150 MB at 6300²)."""
    data = _flat("JPEG", (LIMIT_SIDE + 8, LIMIT_SIDE + 8), quality=85, progressive=True)
    with decodes(monkeypatch) as d:
        r = put_photo(client, teacher["token"], data)
    assert r.status_code == 422 and "渐进式 JPEG" in r.get_json()["message"], r.get_json()
    assert d["blocks"] == 0


def test_png_at_the_limit_accepted(client, teacher):
    data = _flat("PNG", (LIMIT_SIDE, LIMIT_SIDE))
    r = put_photo(client, teacher["token"], data, ctype="image/png")
    assert r.status_code == 201, r.get_json()
    p = db.session.scalar(select(Photo))
    assert (p.orig_width, p.orig_height, p.width) == (LIMIT_SIDE, LIMIT_SIDE, 1600)


def test_full_decode_limit_is_configurable(app, client, teacher):
    app.config["PHOTO_MAX_PIXELS_FULL"] = 1000 * 1000
    r = put_photo(client, teacher["token"], _flat("PNG", (1001, 1000)), ctype="image/png")
    assert r.status_code == 422 and "1.0 百万像素" in r.get_json()["message"]
    assert put_photo(client, teacher["token"], _flat("PNG", (1000, 1000)), ctype="image/png").status_code == 201


# --- the pipeline's own boundaries ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,kw,limit", [("PNG", {}, "max_full_pixels"), ("JPEG", {"progressive": True}, "max_full_pixels"),
                                          ("WEBP", {"lossless": True}, "max_webp_pixels")])
def test_full_decode_boundary(fmt, kw, limit):
    under = _flat(fmt, (100, 100), **kw)
    generous = {"max_pixels": 10 ** 9, "max_full_pixels": 10 ** 9, "max_webp_pixels": 10 ** 9}
    assert process(under, **{**generous, limit: 100 * 100}).orig_width == 100
    with pytest.raises(PhotoRejected) as e:
        process(under, **{**generous, limit: 100 * 100 - 1})
    assert e.value.code == "image_rejected" and e.value.message == "too_many_pixels"


def test_webp_at_its_limit_accepted():
    assert process(_flat("WEBP", (WEBP_SIDE, WEBP_SIDE), lossless=True)).orig_width == WEBP_SIDE


def test_baseline_jpeg_keeps_the_higher_limit():
    data = _flat("JPEG", (100, 100))
    assert process(data, max_pixels=100 * 100, max_full_pixels=1, max_webp_pixels=1).orig_width == 100
    with pytest.raises(PhotoRejected):
        process(data, max_pixels=100 * 100 - 1, max_full_pixels=10 ** 9, max_webp_pixels=10 ** 9)


# --- decode slots ----------------------------------------------------------------------------------------------

def test_busy_when_every_decode_slot_is_held(app, client, teacher):
    app.config.update(PHOTO_DECODE_SLOTS=1, PHOTO_DECODE_WAIT=0.05)
    app.extensions.pop("photo_decode_slots", None)
    slots = services.decode_slots()
    assert slots.acquire(timeout=1)  # another upload is decoding
    data = imaging.jpeg(seed=31, size=(800, 600))
    try:
        t = time.perf_counter()
        r = put_photo(client, teacher["token"], data)
        waited = time.perf_counter() - t
    finally:
        slots.release()
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["error"] == "busy" and r.get_json()["message"] == "服务器正忙，请稍后再试。"
    assert r.headers["Retry-After"] == "5" and waited < 1.0
    assert _files(app) == [] and _photos() == 0
    assert put_photo(client, teacher["token"], data).status_code == 201  # the phone's retry, once a slot is free


def test_busy_message_in_english(app, client, teacher):
    app.config.update(PHOTO_DECODE_SLOTS=1, PHOTO_DECODE_WAIT=0.01)
    app.extensions.pop("photo_decode_slots", None)
    slots = services.decode_slots()
    assert slots.acquire(timeout=1)
    try:
        data = imaging.jpeg(seed=32, size=(80, 60))
        client.set_cookie("lang", "en")
        r = put_photo(client, teacher["token"], data)
    finally:
        slots.release()
    assert r.status_code == 503 and r.get_json()["message"] == "The server is busy; please try again shortly."


def test_concurrent_uploads_never_decode_more_than_the_slots(app, teacher, monkeypatch):
    app.config.update(PHOTO_DECODE_SLOTS=2, PHOTO_DECODE_WAIT=30)
    app.extensions.pop("photo_decode_slots", None)
    lock, now, peak = threading.Lock(), [0], [0]
    real = services.process

    def counting(data, **kw):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            time.sleep(0.05)  # long enough for the other threads to pile up
            return real(data, **kw)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(services, "process", counting)
    photos = iter([imaging.jpeg(seed=40 + i, size=(160, 120)) for i in range(6)])
    plock = threading.Lock()

    def upload(c, token):
        with plock:
            data = next(photos)
        return put_photo(c, token, data)

    answers = race(app, teacher["user"].username, upload, n=6)
    assert sorted(s for s, _ in answers) == [201] * 6, answers
    assert peak[0] == 2



@pytest.mark.parametrize("kw", [{"lossless": True}, {"quality": 60}, {"quality": 60, "exif": b"Exif\x00\x00II*\x00"}])
def test_webp_over_its_limit_never_reaches_libwebp(monkeypatch, kw):
    """Pillow's WebP opener makes libwebp allocate two full canvases before any size check of ours could run."""
    from PIL import WebPImagePlugin

    made = []
    real = WebPImagePlugin._webp.WebPAnimDecoder
    monkeypatch.setattr(WebPImagePlugin._webp, "WebPAnimDecoder", lambda data: made.append(1) or real(data))
    over = _flat("WEBP", (WEBP_SIDE, WEBP_SIDE + 1), **kw)  # lossy VP8, lossless VP8L, extended VP8X
    with pytest.raises(PhotoRejected) as e:
        process(over)
    assert e.value.params["w"] == WEBP_SIDE and e.value.params["h"] == WEBP_SIDE + 1 and made == []
    assert process(_flat("WEBP", (300, 200), **kw)).orig_width == 300 and made == [1]  # read the same way


def test_webp_with_an_unreadable_header_is_not_an_image():
    data = bytearray(_flat("WEBP", (30, 20), lossless=True))
    data[20] = 0  # the VP8L signature byte
    with pytest.raises(PhotoRejected) as e:
        process(bytes(data))
    assert e.value.code == "not_an_image"
