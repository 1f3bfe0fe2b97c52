"""The photo pipeline and the photo store, called directly: no Flask app, no database, no HTTP.

tests/test_sync.py covers the same ground through the API (status codes, nothing stored on rejection);
here we pin down what `app.photos.pipeline.process` and `app.photos.store.FileSystemStore` themselves promise.
"""
from __future__ import annotations

import io
import itertools
import os
import struct
import warnings
from datetime import datetime

import pytest
from PIL import Image, ImageDraw

from app.photos import store as storage_mod
from app.photos.pipeline import DISPLAY_LONG_SIDE, THUMB_LONG_SIDE, PhotoRejected, dhash, hamming, process
from app.photos.store import FileSystemStore

from . import imaging


# --- helpers ------------------------------------------------------------------------------------------

def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def _rejected(data: bytes, **kw) -> str:
    with pytest.raises(PhotoRejected) as e:
        process(data, **kw)
    assert e.value.reason and str(e.value) == e.value.reason
    return e.value.code


def _assert_clean(data: bytes, *secrets: bytes) -> None:
    """A re-encoded copy: a plain JPEG carrying pixels and nothing else."""
    im = _open(data)
    assert im.format == "JPEG" and im.mode == "RGB"
    assert not im.getexif(), "EXIF survived"
    for key in ("exif", "comment", "icc_profile", "xmp", "photoshop", "adobe"):
        assert key not in im.info, f"{key} survived"
    assert not any(k.startswith("APP") and k != "APP0" for k, _ in getattr(im, "applist", [])), im.applist
    for marker in (b"Exif\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"\xff\xfe"):  # \xff\xfe = COM segment
        assert marker not in data, marker
    for s in secrets:
        assert s not in data, s


def _sof_dimensions(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame header of a JPEG so it claims width x height (the scan data stays as it was)."""
    buf = bytearray(data)
    i = 2
    while i < len(buf):
        assert buf[i] == 0xFF
        marker, length = buf[i + 1], struct.unpack(">H", buf[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", buf, i + 5, height, width)
            return bytes(buf)
        i += 2 + length
    raise AssertionError("no SOF marker")


def _tiff_exif(ifd0=(), gps=()) -> bytes:
    """A hand-built little-endian EXIF block, so tags can carry types and values no camera library would write.

    Entries are (tag, type, count, payload); types: 2 ASCII, 4 LONG, 5 RATIONAL, 10 SRATIONAL.
    """
    def ifd(entries, start):
        data_at = start + 2 + 12 * len(entries) + 4
        head, extra = b"", b""
        for tag, typ, count, payload in sorted(entries):
            if len(payload) <= 4:
                head += struct.pack("<HHI", tag, typ, count) + payload.ljust(4, b"\0")
            else:
                head += struct.pack("<HHII", tag, typ, count, data_at + len(extra))
                extra += payload + b"\0" * (len(payload) % 2)
        return struct.pack("<H", len(entries)) + head + b"\0\0\0\0" + extra

    entries = list(ifd0)
    if gps:
        gps_at = 8 + len(ifd(entries + [(0x8825, 4, 1, b"")], 8))
        entries.append((0x8825, 4, 1, struct.pack("<I", gps_at)))
        body = ifd(entries, 8) + ifd(list(gps), gps_at)
    else:
        body = ifd(entries, 8)
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + body


def _asc(s: str):
    b = s.encode() + b"\0"
    return 2, len(b), b


def _rat(*vals, signed=False):
    return (10 if signed else 5), len(vals), b"".join(struct.pack("<ii" if signed else "<II", n, d) for n, d in vals)


def _gps(lat, lon, lat_ref="N", lon_ref="E"):
    return [(1, *_asc(lat_ref)), (2, *lat), (3, *_asc(lon_ref)), (4, *lon)]


GOOD_LON = _rat((109, 1), (25, 1), (12, 1))
# Pillow warns about the EXIF it cannot read; the pipeline's answer is the assertion, not the warning.
EXIF_WARNINGS = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning",
                                           "ignore:Truncated File Read:UserWarning")


# --- EXIF read back -----------------------------------------------------------------------------------

def test_exif_time_camera_and_gps_read_back():
    data = imaging.jpeg(seed=1, size=(640, 480), exif=imaging.exif_block(
        taken="2026:11:20 15:04:00", gps=(24.33, 109.42), make="Xiaomi", model="Redmi 9A"))
    p = process(data)
    assert p.taken_at == datetime(2026, 11, 20, 15, 4, 0) and p.taken_at.tzinfo is None
    assert p.gps_lat == pytest.approx(24.33, abs=1e-5) and p.gps_lon == pytest.approx(109.42, abs=1e-5)
    assert (p.camera_make, p.camera_model) == ("Xiaomi", "Redmi 9A")
    assert p.mime == "image/jpeg" and (p.orig_width, p.orig_height) == (640, 480) and (p.width, p.height) == (640, 480)


@pytest.mark.parametrize("lat,lon", [(24.33, 109.42), (-33.8688, 151.2093), (40.7128, -74.006), (-22.9068, -43.1729),
                                     (0.0, 0.0), (89.99, -179.99)])
def test_gps_signs_follow_the_hemisphere_refs(lat, lon):
    p = process(imaging.jpeg(seed=2, size=(160, 120), exif=imaging.exif_block(gps=(lat, lon))))
    assert p.gps_lat == pytest.approx(lat, abs=1e-5) and p.gps_lon == pytest.approx(lon, abs=1e-5)


def test_lowercase_refs_and_exact_dms():
    ex = _tiff_exif(gps=_gps(_rat((33, 1), (30, 1), (36, 1)), _rat((70, 1), (15, 1), (0, 1)), "s", "w"))
    p = process(imaging.jpeg(seed=3, size=(160, 120), exif=ex))
    assert p.gps_lat == pytest.approx(-33.51) and p.gps_lon == pytest.approx(-70.25)


def test_no_exif_means_no_metadata():
    p = process(imaging.jpeg(seed=4, size=(160, 120)))
    assert (p.taken_at, p.gps_lat, p.gps_lon, p.camera_make, p.camera_model) == (None, None, None, None, None)


def test_taken_at_falls_back_to_digitized_then_datetime():
    ex = Image.Exif()
    ex.get_ifd(0x8769)[0x9004] = "2025:03:01 08:00:00"  # DateTimeDigitized only
    assert process(imaging.jpeg(size=(64, 48), exif=ex)).taken_at == datetime(2025, 3, 1, 8, 0)
    ex = Image.Exif()
    ex[0x0132] = "2024-06-30 23:59:59"  # IFD0 DateTime, dashed as some apps write it
    assert process(imaging.jpeg(size=(64, 48), exif=ex)).taken_at == datetime(2024, 6, 30, 23, 59, 59)


def test_camera_text_is_trimmed_and_bounded():
    ex = Image.Exif()
    ex[0x010F] = "  HUAWEI\x00\x00 "
    ex[0x0110] = "M" * 500
    p = process(imaging.jpeg(size=(64, 48), exif=ex))
    assert p.camera_make == "HUAWEI" and p.camera_model == "M" * 64


# --- malformed EXIF: never raises, the field is just absent ------------------------------------------

@pytest.mark.parametrize("taken", ["not a date", "2026:13:45 25:61:00", "0000:00:00 00:00:00", "1850:01:01 00:00:00",
                                   "2999:01:01 00:00:00", "    ", "2026:11:20", "\x00\x00\x00"])
def test_bad_date_strings_give_no_time(taken):
    p = process(imaging.jpeg(size=(64, 48), exif=imaging.exif_block(taken=taken)))
    assert p.taken_at is None
    assert p.camera_make == "Xiaomi" and p.gps_lat == pytest.approx(24.33, abs=1e-5)  # the rest still read


def test_non_text_date_gives_no_time():
    ex = _tiff_exif(ifd0=[(0x0132, 4, 1, struct.pack("<I", 20261120))])  # DateTime as a LONG
    assert process(imaging.jpeg(size=(64, 48), exif=ex)).taken_at is None


BAD_GPS = {
    "impossible_latitude": _gps(_rat((500, 1), (0, 1), (0, 1)), GOOD_LON),
    "impossible_longitude": _gps(_rat((24, 1), (0, 1), (0, 1)), _rat((181, 1), (0, 1), (0, 1))),
    "negative_latitude_with_N": _gps(_rat((-45, 1), (0, 1), (0, 1), signed=True), GOOD_LON),
    "very_negative_latitude": _gps(_rat((-500, 1), (0, 1), (0, 1), signed=True), GOOD_LON, "S"),
    "zero_denominator": _gps(_rat((24, 0), (0, 1), (0, 1)), GOOD_LON),
    "zero_over_zero": _gps(_rat((0, 0), (0, 0), (0, 0)), GOOD_LON),
    "two_components": _gps(_rat((24, 1), (20, 1)), GOOD_LON),
    "four_components": _gps(_rat((24, 1), (20, 1), (0, 1), (0, 1)), GOOD_LON),
    "latitude_as_text": [(1, *_asc("N")), (2, *_asc("24.33")), (3, *_asc("E")), (4, *GOOD_LON)],
    "latitude_missing": [(1, *_asc("N")), (3, *_asc("E")), (4, *GOOD_LON)],
    "negative_minutes": _gps(_rat((24, 1), (-30, 1), (0, 1), signed=True), GOOD_LON),
    "nan_seconds": _gps(_rat((24, 1), (0, 1), (0, 0)), GOOD_LON),
    "offset_past_the_end": [(1, *_asc("N")), (2, 5, 3, b""), (3, *_asc("E")), (4, *GOOD_LON)],
}


@EXIF_WARNINGS
@pytest.mark.parametrize("case", list(BAD_GPS))
def test_garbage_gps_gives_no_position(case):
    entries = BAD_GPS[case]
    if case == "offset_past_the_end":  # a RATIONAL[3] whose value offset points far outside the block
        entries = [(t, ty, c, struct.pack("<I", 0xFFFF00) if not p else p) for t, ty, c, p in entries]
    ex = _tiff_exif(ifd0=[(0x010F, *_asc("Xiaomi"))], gps=entries)
    p = process(imaging.jpeg(seed=5, size=(160, 120), exif=ex))
    assert p.gps_lat is None and p.gps_lon is None  # both or neither: half a position is no position
    assert p.camera_make == "Xiaomi"


def test_garbage_gps_written_through_pillow():  # the case tests/test_sync.py sends over HTTP
    ex = Image.Exif()
    ex.get_ifd(0x8825).update({1: "Q", 2: (500.0, 0.0, 0.0), 3: "E", 4: (1.0,)})
    p = process(imaging.jpeg(seed=10, size=(400, 300), exif=ex))
    assert p.gps_lat is None and p.gps_lon is None


@EXIF_WARNINGS
@pytest.mark.parametrize("blob", [
    b"Exif\x00\x00",
    b"Exif\x00\x00garbage-not-tiff" * 10,
    b"Exif\x00\x00II*\x00\xff\xff\xff\xff",  # IFD0 offset far past the end
    b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",  # claims 65535 entries
    b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x25\x88\x04\x00\x01\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00",  # GPS IFD loops to IFD0
    b"Exif\x00\x00" + bytes(range(256)) * 4,
], ids=["empty", "not_tiff", "ifd_offset_out_of_range", "huge_entry_count", "gps_ifd_loop", "noise"])
def test_malformed_exif_blob_never_raises(blob):
    p = process(imaging.jpeg(seed=6, size=(160, 120), exif=blob))
    assert (p.width, p.height) == (160, 120)
    assert p.taken_at is None and p.gps_lat is None and p.gps_lon is None


def test_broken_orientation_keeps_the_photo():
    for orientation in (0, 9, 65535):
        ex = _tiff_exif(ifd0=[(0x0112, 3, 1, struct.pack("<H", orientation))])
        p = process(imaging.jpeg(seed=7, size=(160, 120), exif=ex))
        assert (p.width, p.height) == (160, 120)


# --- orientation and clean re-encoding ----------------------------------------------------------------

def _halves(size=(1600, 1200)) -> Image.Image:
    """Left half red, right half blue: after any rotation we can tell which way is up."""
    im = Image.new("RGB", size, (0, 0, 255))
    ImageDraw.Draw(im).rectangle([0, 0, size[0] // 2 - 1, size[1]], fill=(255, 0, 0))
    return im


def _is(px, colour) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(px, colour))


@pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
def test_orientation_6_comes_out_upright(size):
    data = _save(_halves(size), "JPEG", quality=85, exif=imaging.exif_block(orientation=6))
    p = process(data)
    assert (p.orig_width, p.orig_height) == size  # as stored
    assert (p.width, p.height) == (1200, 1600)  # as seen: portrait
    full, thumb = _open(p.display_jpeg), _open(p.thumb_jpeg)
    assert full.size == (1200, 1600) and thumb.size == (240, 320)
    # Orientation 6 = rotate 90 degrees clockwise to view: the stored left (red) half ends up on top.
    for im in (full, thumb):
        w, h = im.size
        assert _is(im.getpixel((w // 2, h // 8)), (255, 0, 0)) and _is(im.getpixel((w // 2, h * 7 // 8)), (0, 0, 255))
    assert not full.getexif().get(0x0112)  # so no viewer rotates it a second time


def test_display_and_thumb_carry_no_metadata():
    icc = _srgb_icc()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><exif:GPSLatitude>24,19.8N</exif:GPSLatitude></rdf:RDF></x:xmpmeta>'
    data = _save(imaging.photo(8, (2000, 1500)), "JPEG", quality=85, exif=imaging.exif_block(orientation=6),
                 comment=b"secret comment", icc_profile=icc, xmp=xmp)
    src = _open(data)
    assert src.getexif() and src.info.get("comment") == b"secret comment" and src.info.get("icc_profile") == icc
    assert "xmp" in src.info
    p = process(data)
    assert p.gps_lat is not None  # we read the evidence ...
    for out in (p.display_jpeg, p.thumb_jpeg):  # ... and serve none of it
        _assert_clean(out, b"secret comment", b"Xiaomi", b"Redmi", b"GPSLatitude", b"2026:11:20")


def test_png_metadata_is_not_carried_over():
    im = imaging.photo(9, (320, 240)).convert("RGBA")
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret xmp</x:xmpmeta>")
    data = _save(im, "PNG", pnginfo=info, icc_profile=_srgb_icc(), exif=imaging.exif_block())
    p = process(data)
    assert p.mime == "image/png" and p.camera_make == "Xiaomi"
    for out in (p.display_jpeg, p.thumb_jpeg):
        _assert_clean(out, b"secret comment", b"secret xmp", b"Xiaomi")


def _srgb_icc() -> bytes:
    try:
        from PIL import ImageCms
        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except Exception:  # pragma: no cover - Pillow without littlecms: any bytes make an ICC segment
        return b"\x00\x00\x02\x0cfake-icc-profile" + b"\x00" * 500


@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (4032, 3024), (1600, 1200), (1601, 1201), (6000, 1000),
                                  (900, 5000), (321, 200), (200, 150), (1, 1)])
def test_output_sizes_are_bounded_and_not_upscaled(size):
    data = _save(imaging.photo(10, size) if size[0] * size[1] > 4 else Image.new("RGB", size, "white"), "JPEG", quality=80)
    p = process(data)
    assert (p.orig_width, p.orig_height) == size
    long_side = max(size)
    assert max(p.width, p.height) == min(long_side, DISPLAY_LONG_SIDE)
    full, thumb = _open(p.display_jpeg), _open(p.thumb_jpeg)
    assert full.size == (p.width, p.height)
    assert max(thumb.size) == min(long_side, THUMB_LONG_SIDE)
    # aspect ratio kept (to rounding)
    for im in (full, thumb):
        assert abs(im.size[0] / im.size[1] - size[0] / size[1]) < 0.02 * size[0] / size[1] + 2 / min(im.size)
    assert len(p.thumb_jpeg) <= len(p.display_jpeg) or long_side <= THUMB_LONG_SIDE


@pytest.mark.parametrize("size,decoded", [((4000, 3000), (2000, 1500)), ((3000, 4000), (1500, 2000)),
                                           ((4032, 3024), (2016, 1512)), ((8000, 6000), (2000, 1500)),
                                           ((3000, 2000), (3000, 2000)), ((1600, 1200), (400, 300))])
def test_large_jpegs_are_decoded_reduced(monkeypatch, size, decoded):
    """draft() must get a box in the photo's own shape; a square 1600 box let a 4:3 photo's short side veto it.

    A JPEG already at display size is served stripped, not re-encoded: it is decoded only at the thumbnail's scale."""
    from PIL import JpegImagePlugin
    real, seen = JpegImagePlugin.JpegImageFile.draft, []

    def spy(self, mode, box):
        r = real(self, mode, box)
        seen.append(self.size)
        return r

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    p = process(_save(Image.new("RGB", size, "white"), "JPEG", quality=80), max_pixels=50_000_000)
    assert seen and set(seen) == {decoded}  # never below the display size (thumbnail() asks again: a no-op) ...
    assert max(p.width, p.height) == min(max(size), DISPLAY_LONG_SIDE)  # ... so the display is still full size


# --- formats --------------------------------------------------------------------------------------------

def test_png_with_alpha_is_flattened_on_white():
    p = process(imaging.png(size=(64, 48), mode="RGBA"))  # (10, 200, 30) at alpha 128
    assert p.mime == "image/png" and (p.width, p.height) == (64, 48)
    px = _open(p.display_jpeg).getpixel((32, 24))
    assert all(abs(a - b) <= 6 for a, b in zip(px, (132, 227, 142))), px


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "P", "I;16"])
def test_png_modes_become_rgb_jpegs(mode):
    im = imaging.photo(11, (200, 150)).convert("RGBA" if mode == "LA" else "RGB")
    im = im.convert(mode) if mode != "I;16" else im.convert("L").convert("I;16")
    p = process(_save(im, "PNG"))
    assert p.mime == "image/png" and _open(p.display_jpeg).mode == "RGB"


def test_palette_png_with_transparency():
    im = Image.new("P", (40, 30), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle([20, 0, 39, 29], fill=1)
    p = process(_save(im, "PNG", transparency=0))
    full = _open(p.display_jpeg)
    assert _is(full.getpixel((5, 15)), (255, 255, 255)) and _is(full.getpixel((35, 15)), (255, 0, 0))


@pytest.mark.parametrize("kw", [{"quality": 80}, {"lossless": True}])
def test_webp_accepted(kw):
    data = _save(imaging.photo(12, (800, 600)), "WEBP", **kw)
    p = process(data)
    assert p.mime == "image/webp" and (p.width, p.height) == (800, 600) and _open(p.display_jpeg).format == "JPEG"


def test_webp_with_alpha_accepted():
    p = process(_save(Image.new("RGBA", (50, 40), (10, 200, 30, 128)), "WEBP", lossless=True))
    assert p.mime == "image/webp" and _open(p.thumb_jpeg).mode == "RGB"


def _gif() -> bytes:
    return _save(Image.new("P", (10, 10)), "GIF")


@pytest.mark.parametrize("data", [
    _gif(),
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    b"<html><script>alert(1)</script></html>",
    b"<html><script>alert(1)</script></html>" + imaging.jpeg(seed=13, size=(64, 48)),  # polyglot, HTML first
    b"",
    b"\xff\xd8",  # a JPEG start marker and nothing else
    b"\x89PNG\r\n\x1a\n",
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
    bytes(range(256)) * 8,
], ids=["gif", "svg", "svg_xml", "html", "html_then_jpeg", "empty", "jpeg_soi_only", "png_magic_only", "pdf", "noise"])
def test_not_an_image(data):
    assert _rejected(data) == "not_an_image"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM"])
def test_other_real_image_formats_are_not_accepted(fmt):
    assert _rejected(_save(imaging.photo(14, (64, 48)), fmt)) == "not_an_image"


@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("WEBP", {"duration": 100, "loop": 0})])
def test_animated_images_rejected(fmt, kw):
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "green", "blue")]
    data = _save(frames[0], fmt, save_all=True, append_images=frames[1:], **kw)
    assert _rejected(data) == "image_rejected"


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_truncated_jpeg_rejected(fraction):
    base = imaging.jpeg(seed=15, size=(800, 600))
    assert _rejected(base[: int(len(base) * fraction)]) == "image_rejected"


def test_truncated_large_jpeg_rejected_on_the_draft_path():
    base = imaging.jpeg(seed=16, size=(4000, 3000), quality=85)
    assert _rejected(base[: len(base) // 2]) == "image_rejected"


def test_truncated_png_rejected():
    base = _save(imaging.photo(17, (400, 300)), "PNG")
    assert _rejected(base[: len(base) // 2]) == "image_rejected"


def test_jpeg_with_trailing_bytes_is_reencoded_without_them():
    p = process(imaging.jpeg(seed=18, size=(400, 300)) + b"<script>alert(1)</script>")
    assert b"<script" not in p.display_jpeg and b"<script" not in p.thumb_jpeg


# --- size and pixel limits ------------------------------------------------------------------------------

def test_too_large_by_bytes():
    data = imaging.jpeg(seed=19, size=(300, 200))
    assert _rejected(data, max_bytes=len(data) - 1) == "too_large"
    assert process(data, max_bytes=len(data)).width == 300  # the limit itself is allowed
    assert _rejected(b"\x00" * 2000, max_bytes=1000) == "too_large"  # checked before anything is parsed


def test_max_pixels_boundary():
    data = imaging.jpeg(seed=20, size=(1600, 1200))
    assert process(data, max_pixels=1600 * 1200).width == 1600
    assert _rejected(data, max_pixels=1600 * 1200 - 1) == "image_rejected"


def test_png_header_claiming_more_than_max_pixels():
    assert _rejected(imaging.bomb_png(50_000_000)) == "image_rejected"  # over the default 40 Mpx, under Pillow's limit


def test_jpeg_header_claiming_more_than_max_pixels():
    small = imaging.jpeg(seed=21, size=(64, 48))
    assert _rejected(_sof_dimensions(small, 7000, 7000)) == "image_rejected"  # 49 Mpx > 40 Mpx default
    assert _rejected(_sof_dimensions(small, 65000, 65000)) == "image_rejected"  # > 2x Pillow's limit: its error


@pytest.mark.parametrize("factor", [1.01, 1.2, 1.9, 2.2, 10])
def test_pillow_bomb_band_rejected_even_with_a_generous_max_pixels(factor):
    """Between MAX_IMAGE_PIXELS and twice that Pillow only warns; process must still refuse, whatever max_pixels says."""
    claimed = int(Image.MAX_IMAGE_PIXELS * factor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning may leak out either
        assert _rejected(imaging.bomb_png(claimed), max_pixels=10 ** 12) == "image_rejected"
        side = int(claimed ** 0.5) + 1
        assert _rejected(_sof_dimensions(imaging.jpeg(seed=22, size=(64, 48)), side, side), max_pixels=10 ** 12) \
            == "image_rejected"


def test_bomb_check_does_not_change_global_warning_filters():
    before = list(warnings.filters)
    with pytest.raises(PhotoRejected):
        process(imaging.bomb_png(int(Image.MAX_IMAGE_PIXELS * 1.2)), max_pixels=10 ** 12)
    process(imaging.jpeg(seed=23, size=(64, 48)))
    assert warnings.filters == before


# --- dHash ----------------------------------------------------------------------------------------------

def _variants(seed: int) -> list[bytes]:
    """The same photo as a phone and a messenger app might re-encode it."""
    im = imaging.photo(seed, (1600, 1200))
    return [
        _save(im, "JPEG", quality=92),
        _save(im, "JPEG", quality=40),
        _save(im.resize((800, 600), Image.Resampling.LANCZOS), "JPEG", quality=60),
        _save(im.resize((640, 480), Image.Resampling.BILINEAR), "JPEG", quality=30),
        _save(im.resize((1200, 900), Image.Resampling.LANCZOS), "WEBP", quality=50),
        _save(im.resize((400, 300), Image.Resampling.LANCZOS), "PNG"),
    ]


@pytest.fixture(scope="module")
def hashes():
    return {seed: [process(v).phash for v in _variants(seed)] for seed in range(1, 7)}


def test_dhash_same_photo_reencoded_is_close(hashes):
    for seed, hs in hashes.items():
        for a, b in itertools.combinations(hs, 2):
            assert hamming(a, b) <= 6, (seed, hamming(a, b))


def test_dhash_different_photos_are_far(hashes):
    for s1, s2 in itertools.combinations(hashes, 2):
        assert hamming(hashes[s1][0], hashes[s2][0]) > 12, (s1, s2, hamming(hashes[s1][0], hashes[s2][0]))


def test_dhash_is_64_bit_and_deterministic():
    im = imaging.photo(24, (640, 480))
    h = dhash(im)
    assert 0 <= h < 2 ** 64 and dhash(im) == h and dhash(im.convert("L")) == h
    # The stored hash is the 320 px thumbnail's: the same picture within a few bits (equality depended on the noise).
    assert hamming(process(_save(im, "PNG")).phash, dhash(im)) <= 4
    assert dhash(Image.new("RGB", (50, 50), "grey")) == 0


def test_hamming():
    assert hamming(0, 0) == 0 and hamming(0, 2 ** 64 - 1) == 64 and hamming(0b1011, 0b0001) == 2
    assert hamming(5, 3) == hamming(3, 5)


def test_orientation_does_not_change_the_hash_of_what_is_seen():
    """A photo saved rotated with an orientation tag hashes like the same photo saved upright."""
    upright = imaging.photo(25, (1200, 1600))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone writes alongside orientation 6
    tagged = process(_save(stored, "JPEG", quality=85, exif=imaging.exif_block(orientation=6))).phash
    plain = process(_save(upright, "JPEG", quality=85)).phash
    assert hamming(tagged, plain) <= 4


# --- storage --------------------------------------------------------------------------------------------

H = imaging.sha(b"photo")


def _leftovers(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name.startswith(".tmp"))


def test_store_put_get_exists_path_delete(tmp_path):
    s = FileSystemStore(tmp_path / "up")
    for key, data in ((f"orig/{H}", b"original bytes"), (f"thumb/{H}.jpg", b"thumb"), (f"full/{H}.jpg", b"")):
        assert not s.exists(key) and s.get(key) is None and s.path(key) is None
        s.put(key, data)
        assert s.exists(key) and s.get(key) == data
        assert s.path(key) == tmp_path / "up" / key and s.path(key).read_bytes() == data
        s.delete(key)
        assert not s.exists(key) and s.get(key) is None and s.path(key) is None
        s.delete(key)  # deleting what is gone is fine
    assert _leftovers(tmp_path) == []


def test_store_put_replaces_whole_file(tmp_path):
    s = FileSystemStore(tmp_path)
    key = f"orig/{H}"
    s.put(key, b"a" * 100_000)
    s.put(key, b"b")
    assert s.get(key) == b"b" and _leftovers(tmp_path) == []
    assert sorted(p.name for p in (tmp_path / "orig").iterdir()) == [H]


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace"])
def test_store_failed_put_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, fail_at):
    s = FileSystemStore(tmp_path)
    key = f"orig/{H}"
    s.put(key, b"old")

    def boom(*a, **kw):
        raise OSError("disk full")

    if fail_at == "replace":
        monkeypatch.setattr(storage_mod.os, "replace", boom)
    elif fail_at == "fsync":
        monkeypatch.setattr(storage_mod.os, "fsync", boom)
    else:
        real_fdopen = os.fdopen

        class Failing:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, data):
                self.f.write(data[: len(data) // 2])
                raise OSError("disk full")

        monkeypatch.setattr(storage_mod.os, "fdopen", lambda fd, mode: Failing(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="disk full"):
        s.put(key, b"new and longer")
    monkeypatch.undo()
    assert s.get(key) == b"old"
    assert _leftovers(tmp_path) == [] and sorted(p.name for p in (tmp_path / "orig").iterdir()) == [H]


def test_store_interrupted_put_leaves_no_temp(tmp_path, monkeypatch):
    """Even a KeyboardInterrupt mid-write (BaseException, not Exception) cleans up."""
    s = FileSystemStore(tmp_path)

    def interrupt(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(storage_mod.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        s.put(f"orig/{H}", b"x")
    assert _leftovers(tmp_path) == [] and not s.exists(f"orig/{H}")


BAD_KEYS = [
    "", H, f"orig/{H[:-1]}", f"orig/{H}0", f"orig/{H.upper()}", f"orig/{'g' * 64}", f"orig/../{H}", f"../orig/{H}",
    f"../{H}", f"orig/../../{H}", f"/orig/{H}", f"/etc/{H}", f"orig//{H}", f"orig/{H}/", f"orig/{H}.png",
    f"orig/{H}.jpg/..", f"orig/sub/{H}", f"ORIG/{H}", f"orig\\{H}", f"orig/{H}\x00", f"orig/{H[:32]}/../{H[32:]}",
    f"or.ig/{H}", f"orig /{H}", f" orig/{H}",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_store_rejects_bad_keys(tmp_path, key):
    s = FileSystemStore(tmp_path / "up")
    for call in (lambda: s.put(key, b"x"), lambda: s.get(key), lambda: s.exists(key), lambda: s.delete(key),
                 lambda: s.path(key)):
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["up"])


def test_store_rejects_key_with_trailing_newline(tmp_path):
    with pytest.raises(ValueError):
        FileSystemStore(tmp_path).put(f"orig/{H}\n", b"x")


def test_store_keeps_everything_under_root(tmp_path):
    s = FileSystemStore(tmp_path / "up")
    s.put(f"orig/{H}", b"1")
    s.put(f"thumb/{H}.jpg", b"2")
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files == [tmp_path / "up" / "orig" / H, tmp_path / "up" / "thumb" / f"{H}.jpg"]
