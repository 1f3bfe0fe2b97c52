"""The photo pipeline: sniff, bound, decode, read the evidence metadata, make clean copies (stripped or re-encoded), hash.

Nothing here touches the database or the disk; `photos.services` stores what `process` returns.
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .jpeg_strip import strip_metadata

FORMATS = ("JPEG", "PNG", "WEBP")
MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
DISPLAY_LONG_SIDE = 1600
THUMB_LONG_SIDE = 320
DISPLAY_QUALITY = 80
THUMB_QUALITY = 70
# A JPEG already within the display size is served as sent, minus its metadata, unless it is heavier than this
# (capture.js sends ≈ 1 bit a pixel; a q95 photo is 2.5-4 and a re-encode at DISPLAY_QUALITY halves it for reviewers).
PASS_THROUGH_MAX_BITS_PER_PIXEL = 2.0


class PhotoRejected(Exception):
    """The bytes are not a photo we accept; `code` is the API's reason code."""

    def __init__(self, code: str, reason: str, message: str | None = None, **params):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.message = message  # which user-facing text (photos.services.REJECTIONS) when not the code's own
        self.params = params


@dataclass
class Processed:
    mime: str
    width: int
    height: int
    orig_width: int
    orig_height: int
    taken_at: datetime | None  # naive, as the camera wrote it (local time)
    gps_lat: float | None
    gps_lon: float | None
    camera_make: str | None
    camera_model: str | None
    display_jpeg: bytes
    thumb_jpeg: bytes
    phash: int  # unsigned 64-bit dHash


def process(data: bytes, max_bytes: int = 12 * 1024 * 1024, max_pixels: int = 40_000_000,
            max_full_pixels: int = 4096 * 4096, max_webp_pixels: int = 2896 * 2896) -> Processed:
    """Check and decode `data`, returning clean re-encoded copies and the metadata; raise PhotoRejected.

    `max_pixels` bounds baseline JPEGs, which libjpeg decodes at reduced size (draft); `max_full_pixels` bounds what
    is decoded at full size whatever we ask: PNG and progressive JPEG (its whole coefficient buffer); `max_webp_pixels`
    WebP, which libwebp decodes into its own canvas that Pillow then copies twice (~16 bytes a pixel, PNG ~6)."""
    if len(data) > max_bytes:
        raise PhotoRejected("too_large", f"photo larger than {max_bytes} bytes")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        # libwebp allocates two full canvases when Pillow merely opens the file: read the size ourselves first.
        size = _webp_canvas(data)
        if size is None:
            raise PhotoRejected("not_an_image", "not a JPEG, PNG or WebP image")
        _bound("WEBP", *size, max_webp_pixels)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a warning here is a rejection.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=FORMATS)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
                ValueError, SyntaxError) as e:
            if isinstance(e, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
                raise PhotoRejected("image_rejected", "too many pixels") from None
            raise PhotoRejected("not_an_image", "not a JPEG, PNG or WebP image") from None
        fmt = im.format
        orig_w, orig_h = im.size
        # Checked on the header's size, before a single pixel is decoded: a flat 6300x6300 PNG is 130 KB of bytes
        # and 200-600 MB of decoder memory (bench/bench_photos.py).
        full = fmt != "JPEG" or bool(im.info.get("progressive"))
        limit = max_webp_pixels if fmt == "WEBP" else max_full_pixels if full else max_pixels
        if orig_w <= 0 or orig_h <= 0:
            raise PhotoRejected("image_rejected", "empty image")
        _bound("progressive JPEG" if full and fmt == "JPEG" else fmt, orig_w, orig_h, limit)
        if getattr(im, "n_frames", 1) > 1:
            raise PhotoRejected("image_rejected", "animated images are not photos")
        meta = _metadata(im)  # the evidence, read before anything is stripped
        quick = _pass_through(im, data, meta)
        if quick is not None:
            return quick
        try:
            # draft() lets libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster, far less memory.
            if fmt == "JPEG":
                # Ask for the display size in the photo's own shape: with a square box the short side vetoes any
                # reduction (a 4000x3000 photo: 3000 // 1600 == 1, so it was decoded at full size).
                f = min(1.0, DISPLAY_LONG_SIDE / max(orig_w, orig_h))
                im.draft("RGB", (max(1, int(orig_w * f)), max(1, int(orig_h * f))))
            im.load()
        except DECODE_ERRORS:
            raise PhotoRejected("image_rejected", "the image is truncated or corrupt") from None
    try:
        ImageOps.exif_transpose(im, in_place=True)  # without in_place it copies the pixels even when upright
    except Exception:  # a broken orientation tag must not lose the photo; keep the pixels as stored
        pass
    display = _to_rgb(im)
    if display is not im:
        im.close()  # free the decoded original before the reductions below allocate theirs
    display.thumbnail((DISPLAY_LONG_SIDE, DISPLAY_LONG_SIDE), Image.Resampling.LANCZOS)  # in place; no-op if small
    f = THUMB_LONG_SIDE / max(display.size)
    thumb = display.resize((max(1, round(display.width * f)), max(1, round(display.height * f))),
                           Image.Resampling.BILINEAR, reducing_gap=2.0) if f < 1 else display.copy()
    return Processed(
        mime=MIMES[fmt], width=display.width, height=display.height, orig_width=orig_w, orig_height=orig_h,
        display_jpeg=_jpeg(display, DISPLAY_QUALITY), thumb_jpeg=_jpeg(thumb, THUMB_QUALITY),
        phash=dhash(thumb), **meta,  # the 320 px thumb hashes as well as the display, 20x cheaper
    )


DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                 MemoryError, EOFError)


def _pass_through(im: Image.Image, data: bytes, meta: dict) -> Processed | None:
    """A phone JPEG within the display size: its own compressed pixels without the metadata, no re-encoding.

    The stripped bytes are decoded once, at the thumbnail's reduced scale (draft): libjpeg still reads every scan,
    so a truncated or corrupt file is refused as on the full path, and what is checked is exactly what is served.
    None when the photo needs the full path (too big, rotated by EXIF, not YCbCr, unusual structure, too heavy)."""
    w, h = im.size
    if im.format != "JPEG" or im.mode != "RGB" or max(w, h) > DISPLAY_LONG_SIDE or _orientation(im) not in (None, 1):
        return None
    display = strip_metadata(data)
    if display is None or len(display) * 8 > PASS_THROUGH_MAX_BITS_PER_PIXEL * w * h:
        return None
    try:
        small = Image.open(io.BytesIO(display), formats=["JPEG"])
        if small.size != (w, h) or small.mode != "RGB":
            return None
        f = min(1.0, THUMB_LONG_SIDE / max(w, h))
        size = (max(1, round(w * f)), max(1, round(h * f)))
        small.draft("RGB", size)
        small.load()
    except DECODE_ERRORS:
        raise PhotoRejected("image_rejected", "the image is truncated or corrupt") from None
    thumb = small.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0) if small.size != size else small
    return Processed(mime="image/jpeg", width=w, height=h, orig_width=w, orig_height=h, display_jpeg=display,
                     thumb_jpeg=_jpeg(thumb, THUMB_QUALITY), phash=dhash(thumb), **meta)


def _orientation(im: Image.Image) -> int | None:
    """The EXIF orientation tag; a broken one counts as rotated, which sends the photo down the full path."""
    try:
        return im.getexif().get(ExifTags.Base.Orientation)
    except Exception:
        return -1


def _bound(kind: str, w: int, h: int, limit: int) -> None:
    """Refuse an image of more than `limit` pixels, saying which format's limit it broke."""
    if w * h > limit:
        raise PhotoRejected("image_rejected", f"too many pixels for {kind}: {w}x{h} > {limit}",
                            message="too_many_pixels", kind=kind, w=w, h=h, limit=limit)


def _webp_canvas(data: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first chunk's header (lossy VP8, lossless VP8L or extended VP8X), no decoding."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg(im: Image.Image, quality: int) -> bytes:
    """Re-encode with nothing but pixels: no EXIF, no GPS, no ICC, no comment.

    Huffman-optimised (+4 ms for a 1600 px photo, 14 % smaller: principals review these on phones) but not
    progressive, which tripled the encoding time, the largest cost in the pipeline (bench/bench_photos.py), for
    no further gain."""
    im.info = {}  # Pillow would carry a JPEG comment (and more) over from the original's info
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # No copy of an RGBA original, and its own alpha band as the mask: two full-size images at once, not four
        # (a 4096x4096 RGBA PNG peaked at 209 MiB that way; bench/bench_photos.py).
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba)
        return bg
    return im.convert("RGB")


def dhash(im: Image.Image) -> int:
    """64-bit difference hash: 9x8 greyscale, one bit per horizontal neighbour comparison."""
    small = im.convert("L").resize((9, 8), Image.Resampling.BILINEAR)
    px = small.tobytes()
    h = 0
    for y in range(8):
        row = px[y * 9:(y + 1) * 9]
        for x in range(8):
            h = (h << 1) | (1 if row[x] > row[x + 1] else 0)
    return h


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def _metadata(im: Image.Image) -> dict:
    """DateTimeOriginal, GPS and camera from EXIF; anything malformed is simply absent."""
    out = {"taken_at": None, "gps_lat": None, "gps_lon": None, "camera_make": None, "camera_model": None}
    try:
        ex = im.getexif()
    except Exception:
        return out
    if not ex:
        return out
    out["camera_make"] = _text(ex.get(ExifTags.Base.Make))
    out["camera_model"] = _text(ex.get(ExifTags.Base.Model))
    try:
        sub = ex.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        sub = {}
    raw = sub.get(ExifTags.Base.DateTimeOriginal) or sub.get(ExifTags.Base.DateTimeDigitized) \
        or ex.get(ExifTags.Base.DateTime)
    out["taken_at"] = _exif_time(raw)
    try:
        gps = ex.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        gps = {}
    lat = _dms(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _dms(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is not None and lon is not None:
        out["gps_lat"], out["gps_lon"] = lat, lon
    return out


def _text(v) -> str | None:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if not isinstance(v, str):
        return None
    v = v.replace("\x00", "").strip()
    return v[:64] or None


def _exif_time(v) -> datetime | None:
    v = _text(v)
    if not v:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            t = datetime.strptime(v[:19], fmt)
        except ValueError:
            continue
        return t if 1990 <= t.year <= 2100 else None
    return None


def _dms(v, ref, limit: float) -> float | None:
    try:
        d, m, s = (float(x) for x in v)
    except Exception:
        return None
    deg = d + m / 60 + s / 3600
    if not (d >= 0 and m >= 0 and s >= 0 and deg <= limit):  # NaN, negative (the sign is the ref) or impossible
        return None
    ref = _text(ref) or ""
    if ref.upper() in ("S", "W"):
        deg = -deg
    return round(deg, 7)
