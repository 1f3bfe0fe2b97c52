"""Remove a JPEG's metadata segments without touching its compressed pixels (no decode, no re-encode).

Kept: the frame, the tables and the scans byte for byte, the JFIF header without its thumbnail, the ICC profile (the
colours depend on it) and Adobe's colour-transform flag. Dropped: EXIF (with GPS and its thumbnail), XMP, MPF, IPTC
and every other APPn, comments, and anything after the end-of-image marker.
"""
from __future__ import annotations

import re

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
FRAMES = {0xC0, 0xC1, 0xC2}  # baseline, extended and progressive Huffman: what every phone and browser writes
TABLES = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI
KEPT_APP = {0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
# Inside entropy-coded data 0xFF is followed by a stuffed 0x00, a restart marker or another fill 0xFF; anything else
# is the next segment's marker.
SCAN_END = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")


def strip_metadata(data: bytes) -> bytes | None:
    """The JPEG with its metadata segments removed, or None when it is not a plain one this can rewrite safely."""
    if data[:2] != b"\xff\xd8":
        return None
    out = [data[:2]]
    i, n = 2, len(data)
    frame = scanned = False
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == EOI:
            if not scanned:
                return None
            out.append(b"\xff\xd9")
            return b"".join(out)
        if i + 4 > n:
            return None
        end = i + 2 + int.from_bytes(data[i + 2:i + 4], "big")
        if end - i < 4 or end > n:
            return None
        if marker == SOS:
            m = SCAN_END.search(data, end) if frame else None
            if m is None:  # truncated inside the scan (or a scan before the frame): not ours to judge here
                return None
            out.append(data[i:m.start()])
            i, scanned = m.start(), True
            continue
        if marker in FRAMES and not frame:
            frame = True
            out.append(data[i:end])
        elif marker in TABLES:
            out.append(data[i:end])
        elif marker == 0xE0 and data[i + 4:i + 9] == b"JFIF\x00" and end - i >= 18:
            # The header (version, density) without the optional RGB thumbnail after it.
            out.append(b"\xff\xe0\x00\x10" + data[i + 4:i + 16] + b"\x00\x00")
        elif marker in KEPT_APP and data[i + 4:end].startswith(KEPT_APP[marker]):
            out.append(data[i:end])
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            pass  # metadata: EXIF, XMP, MPF, IPTC, comments, ...
        else:  # a second frame, arithmetic coding, hierarchical JPEG, a stray SOI or RST: let the decoder judge
            return None
        i = end
    return None
