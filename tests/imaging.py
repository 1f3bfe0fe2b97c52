"""Images made in the tests: phone-like JPEGs with EXIF, and a hostile corpus."""
from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

from PIL import Image, ImageDraw


def photo(seed: int = 1, size=(1600, 1200)) -> Image.Image:
    """A synthetic 'photo': gradient, shapes and noise, different for every seed."""
    rng = random.Random(seed)
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    d = ImageDraw.Draw(im)
    for _ in range(25):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(20, max(21, w // 5))
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    noise = Image.effect_noise(size, 20).convert("RGB")
    return Image.blend(im, noise, 0.15)


def exif_block(taken="2026:11:20 15:04:00", gps=(24.33, 109.42), make="Xiaomi", model="Redmi 9A", orientation=None) -> Image.Exif:
    """EXIF with DateTimeOriginal, GPS, camera and optional orientation."""
    ex = Image.Exif()
    ex[0x010F] = make
    ex[0x0110] = model
    if orientation:
        ex[0x0112] = orientation
    if taken:
        ex.get_ifd(0x8769)[0x9003] = taken
    if gps:
        def dms(v):
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60, 2)
            return (float(d), float(m), float(s))

        g = ex.get_ifd(0x8825)
        g.update({1: "N" if gps[0] >= 0 else "S", 2: dms(gps[0]), 3: "E" if gps[1] >= 0 else "W", 4: dms(gps[1])})
    return ex


def jpeg(seed=1, size=(1600, 1200), quality=75, exif=None, comment: bytes | None = None) -> bytes:
    """A phone-like JPEG, optionally with EXIF and a JPEG comment."""
    out = io.BytesIO()
    kw = {"quality": quality}
    if exif is not None:
        kw["exif"] = exif
    if comment is not None:
        kw["comment"] = comment
    photo(seed, size).save(out, "JPEG", **kw)
    return out.getvalue()


def png(size=(64, 48), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 30, 128) if mode == "RGBA" else 0).save(out, "PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bomb_png(pixels: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims `pixels` pixels (1-bit grey), as an attacker would send."""
    side = int(pixels ** 0.5) + 1

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (1 + (side + 7) // 8) * 64)  # a few rows of zeros; the rest is missing
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
