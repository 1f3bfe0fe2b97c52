"""A phone JPEG within the display size is served as sent minus its metadata: same pixels, no EXIF/GPS/XMP/comment."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from app.photos.jpeg_strip import strip_metadata
from app.photos.pipeline import DISPLAY_LONG_SIDE, PhotoRejected, process

from . import imaging
from .builders import post, put_photo, visit
from .conftest import login

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>24,19.8N</exif:GPSLatitude></x:xmpmeta>'
SECRETS = (b"secret comment", b"Xiaomi", b"Redmi", b"GPSLatitude", b"2026:11:20", b"Exif\x00", b"http://ns.adobe.com/xap")


def _pixels(data: bytes) -> tuple:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im.size, im.mode, im.tobytes()


def _icc() -> bytes:
    from PIL import ImageCms
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _phone(size=(1600, 1200), **kw) -> bytes:
    out = io.BytesIO()
    imaging.photo(41, size).save(out, "JPEG", quality=75, exif=imaging.exif_block(), comment=b"secret comment",
                                 xmp=XMP, **kw)
    return out.getvalue()


def _assert_stripped(served: bytes) -> None:
    im = Image.open(io.BytesIO(served))
    assert im.format == "JPEG" and not im.getexif()
    assert not {"exif", "comment", "xmp"} & set(im.info), im.info.keys()
    assert [k for k, _ in im.applist if k not in ("APP0", "APP2", "APP14")] == []
    for s in SECRETS + (b"\xff\xfe",):  # \xff\xfe: a COM segment
        assert s not in served, s


@pytest.mark.parametrize("kw", [{}, {"icc_profile": None}, {"progressive": True}, {"restart_marker_blocks": 4}],
                         ids=["baseline", "with_icc", "progressive", "restart_markers"])
def test_within_display_size_same_pixels_without_metadata(kw):
    if "icc_profile" in kw:
        kw = {"icc_profile": _icc()}
    data = _phone(**kw)
    p = process(data)
    assert (p.taken_at.isoformat(), p.camera_make) == ("2026-11-20T15:04:00", "Xiaomi")  # evidence read first
    assert p.gps_lat == pytest.approx(24.33, abs=1e-3) and p.gps_lon == pytest.approx(109.42, abs=1e-3)
    assert _pixels(p.display_jpeg) == _pixels(data)  # not re-encoded: the same compressed pixels
    assert len(p.display_jpeg) < len(data)
    _assert_stripped(p.display_jpeg)
    if "icc_profile" in kw:  # the colours depend on it
        assert Image.open(io.BytesIO(p.display_jpeg)).info["icc_profile"] == kw["icc_profile"]
    thumb = Image.open(io.BytesIO(p.thumb_jpeg))
    assert thumb.size == (320, 240) and not thumb.getexif()


def test_thumbnail_and_hash_match_the_re_encoding_path():
    """The reduced decode gives the same dHash (within a bit or two) as decoding the display copy at full size."""
    from app.photos.pipeline import dhash, hamming
    data = _phone()
    full = Image.open(io.BytesIO(data)).convert("RGB").resize((320, 240), Image.Resampling.BILINEAR, reducing_gap=2.0)
    assert hamming(process(data).phash, dhash(full)) <= 3


def test_trailing_bytes_and_jfif_thumbnail_are_dropped():
    data = _phone()
    # A JFIF header carrying a 2x1 RGB thumbnail, and a second image appended after EOI (as MPF cameras do).
    jfif = b"\xff\xe0\x00\x16JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x01" + b"GPSGPS"
    hacked = data[:2] + jfif + data[2:] + _phone(size=(64, 48))
    p = process(hacked)
    assert _pixels(p.display_jpeg) == _pixels(data)
    assert b"GPSGPS" not in p.display_jpeg and p.display_jpeg.count(b"\xff\xd8") == 1
    assert p.display_jpeg.endswith(b"\xff\xd9") and p.display_jpeg.count(b"\xff\xd9") == 1
    _assert_stripped(p.display_jpeg)


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95, 0.999])
def test_truncated_jpeg_within_display_size_refused(fraction):
    data = _phone()
    with pytest.raises(PhotoRejected) as e:
        process(data[: int(len(data) * fraction)])
    assert e.value.code == "image_rejected"


def test_corrupt_scan_in_the_stripped_copy_is_refused():
    """The integrity check decodes the bytes that will be served: a scan that cannot decode is refused."""
    data = bytearray(_phone())
    sos = data.index(b"\xff\xda")
    data[sos + 4] = 9  # the scan header claims 9 components
    with pytest.raises(PhotoRejected):
        process(bytes(data))


def test_larger_than_display_size_still_resized_and_re_encoded():
    data = _phone(size=(DISPLAY_LONG_SIDE + 100, 1200))
    p = process(data)
    assert (p.width, p.height) == (1600, 1129) and _pixels(p.display_jpeg)[0] == (1600, 1129)
    _assert_stripped(p.display_jpeg)
    assert "APP2" not in dict(Image.open(io.BytesIO(p.display_jpeg)).applist)


def test_rotated_or_heavy_photos_take_the_re_encoding_path():
    rotated = io.BytesIO()
    imaging.photo(42, (1600, 1200)).save(rotated, "JPEG", quality=75, exif=imaging.exif_block(orientation=6))
    assert process(rotated.getvalue()).width == 1200  # rotated upright: pixels changed, so re-encoded
    heavy = imaging.jpeg(seed=43, size=(1600, 1200), quality=97)
    p = process(heavy)
    assert _pixels(p.display_jpeg)[0] == (1600, 1200) and len(p.display_jpeg) < len(heavy) // 2


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x08", b"\xff\xd8\xff\xe1\xff\xff",
                                  b"\xff\xd8\xff\xcc\x00\x04\xff\xd9", b"\xff\xd8\x00\xff\xd9"])
def test_strip_metadata_declines_what_it_cannot_rewrite(data):
    assert strip_metadata(data) is None


@pytest.fixture
def teacher(client, world):
    token = login(client, world["A"]["teacher"].username)
    return {"token": token, "child": world["A"]["c1"]}


def test_served_copy_read_back_has_no_gps(client, teacher):
    data = _phone()
    assert put_photo(client, teacher["token"], data).status_code == 201
    assert post(client, teacher["token"], [visit(teacher["child"], [imaging.sha(data)])]).status_code == 200
    served = client.get(f"/photos/{imaging.sha(data)}/full")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    exif = Image.open(io.BytesIO(served.data)).getexif()
    assert not exif and not exif.get_ifd(0x8825)  # no EXIF, so no GPS IFD
    _assert_stripped(served.data)
    assert _pixels(served.data) == _pixels(data)
