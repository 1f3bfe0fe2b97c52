"""Photos per second through PUT /api/v1/photos/{sha256} (the whole pipeline: size and hash check, sniff, decode,
evidence metadata, display copy (metadata stripped from the phone's own JPEG, or re-encoded), thumbnail, perceptual hash, content-addressed storage of all three,
database row), then through app.photos.process alone on one core, and what each photo costs in memory.

Two sets of synthetic phone photos with EXIF (time, GPS, camera; every fourth 12 Mpx one stored sideways with
orientation 6):
  * "12 Mpx"     4000x3000 JPEG, quality 85 (a photo straight off the phone, if the client could not shrink it)
  * "downscaled" 1600x1200 JPEG, quality 75 (what static/js/capture.js sends: ≤1600 px, toBlob(..., 0.75))

Each set is timed twice, with Image.draft working and with it disabled, each run in a forked child pinned to one
CPU so its peak RSS is its own, next to a bare decode (Image.open + load, nothing else) of the same files in the same
child: the decode is the limit, so the ratio is the figure that survives a busy machine. Targets for the downscaled
set: the pipeline at ≥ 0.6 x the bare decode rate, and ≥ 150 photos/s through the API.

Then the peak memory of one upload, each in a fresh forked child (getrusage's peak RSS above the RSS before, Pillow's
pixel blocks, tracemalloc's peak): a phone JPEG, a 12 Mpx JPEG, 6300x6300 bombs (a flat PNG is 130 KB, a WebP 1 KB)
refused at the header, and what they would have cost without the per-format limit.

Run from the repo root: .venv/bin/python bench/bench_photos.py [photos_per_set | memory]
"""
from __future__ import annotations

import cProfile
import ctypes
import io
import multiprocessing as mp
import os
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, JpegImagePlugin  # noqa: E402

from app.photos.pipeline import process  # noqa: E402
from tests import imaging  # noqa: E402

TARGET = 150.0  # downscaled photos per second through the API, one core
TARGET_RATIO = 0.6  # the pipeline's rate over a bare decode of the same files
TRACED = 10  # photos per set for the per-photo memory passes (RSS, tracemalloc)


def make_sets(n: int) -> dict[str, list[bytes]]:
    big, small = [], []
    for i in range(n):
        ex = imaging.exif_block(taken=f"2026:11:{1 + i % 28:02d} 15:04:00", gps=(24.33 + i / 1000, 109.42),
                                orientation=6 if i % 4 == 3 else None)
        im = imaging.photo(1000 + i, (4000, 3000))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85, exif=ex)
        big.append(out.getvalue())
        small.append(imaging.jpeg(seed=2000 + i, size=(1600, 1200), quality=75, exif=imaging.exif_block()))
    return {"12 Mpx 4000x3000 q85": big, "downscaled 1600x1200 q75": small}


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _reset_peak_rss() -> bool:
    """Give freed heap back to the OS (else the next photo reuses it unseen), then reset the peak RSS that
    getrusage reports to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _no_draft(self, mode, size):
    return None


def _run(photos: list[bytes], draft: bool, repeat: int, q) -> None:
    """In a forked child: one core, optionally no draft; time the set (best of `repeat`), then measure memory."""
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    if not draft:
        # JpegImageFile overrides draft(), so patching Image.Image.draft would change nothing for JPEGs.
        JpegImagePlugin.JpegImageFile.draft = _no_draft
    process(photos[0])  # warm up: codecs loaded, caches filled
    bare = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        for data in photos:
            Image.open(io.BytesIO(data)).load()
        bare = max(bare, len(photos) / (time.perf_counter() - t))
    best = None
    for _ in range(repeat):
        times, disp, thumb, sizes = [], [], [], set()
        t_all = time.perf_counter()
        for data in photos:
            t = time.perf_counter()
            p = process(data)
            times.append(time.perf_counter() - t)
            disp.append(len(p.display_jpeg))
            thumb.append(len(p.thumb_jpeg))
            sizes.add((p.width, p.height))
        wall = time.perf_counter() - t_all
        if best is None or wall < best["wall"]:
            best = {"wall": wall, "times": times, "disp": disp, "thumb": thumb, "sizes": sorted(sizes)}
    # Peak RSS per photo: reset the high-water mark, process one photo, read getrusage's ru_maxrss (KiB on Linux).
    growth = []
    for data in photos[:TRACED]:
        if not _reset_peak_rss():
            break
        before = _rss_kb()
        process(data)
        growth.append(max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before))
    best.update(bare_rate=bare, rss_growth_kb=growth, peak_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                cpus=len(os.sched_getaffinity(0)))
    q.put(best)


def run(photos: list[bytes], draft: bool, repeat: int) -> dict:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    child = ctx.Process(target=_run, args=(photos, draft, repeat, q))
    child.start()
    res = q.get()
    child.join()
    return res


def profile(photos: list[bytes]) -> list[tuple[str, float]]:
    """Where the time goes: the biggest self-time entries (mostly Pillow's C methods), in ms per photo."""
    pr = cProfile.Profile()
    pr.enable()
    for data in photos:
        process(data)
    pr.disable()
    stats = pstats.Stats(pr).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    rows = sorted(((name, tt) for (_, _, name), (_, _, tt, _, _) in stats.items()), key=lambda r: -r[1])
    return [(name, 1000 * tt / len(photos)) for name, tt in rows[:6]]


def traced(photos: list[bytes]) -> list[int]:
    """Peak Python-heap allocation per photo. Pillow's pixel buffers are malloc'd in C and not traced."""
    tracemalloc.start()
    peaks = []
    for data in photos:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        process(data)
        peaks.append(tracemalloc.get_traced_memory()[1] - start)
    tracemalloc.stop()
    return peaks


def api_rate(photos: list[bytes], draft: bool) -> tuple[float, float]:
    """PUT each photo through the Flask app (test client, one thread) as teacher1; return photos per second and this
    process's CPU ms per photo (robust on a busy machine, unlike the rate, which also waits on fsync)."""
    import hashlib
    import tempfile

    from app import create_app
    from app.demo import seed_demo
    from app.extensions import db

    tmp = Path(tempfile.mkdtemp())
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "UPLOAD_DIR": str(tmp / "up"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        seed_demo()
    client = app.test_client()
    token = client.post("/api/v1/session", json={"username": "teacher1", "password": "demo12345"}).get_json()["csrf_token"]
    headers = {"X-CSRFToken": token, "Content-Type": "image/jpeg"}
    shas = [hashlib.sha256(p).hexdigest() for p in photos]
    saved = JpegImagePlugin.JpegImageFile.draft
    if not draft:
        JpegImagePlugin.JpegImageFile.draft = _no_draft
    try:
        warm = imaging.jpeg(seed=99, size=(1600, 1200), quality=75, exif=imaging.exif_block())
        client.put(f"/api/v1/photos/{hashlib.sha256(warm).hexdigest()}", data=warm, headers=headers)
        t, cpu = time.perf_counter(), time.process_time()
        for sha, data in zip(shas, photos):
            r = client.put(f"/api/v1/photos/{sha}", data=data, headers=headers)
            assert r.status_code == 201, r.get_data()[:200]
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    finally:
        JpegImagePlugin.JpegImageFile.draft = saved
    stored = sum(1 for f in (tmp / "up").rglob("*") if f.is_file())
    assert stored >= 3 * len(photos), stored  # original, display copy and thumbnail of each
    return len(photos) / wall, 1000 * cpu / len(photos)


def draft_decode_ratio(photos: list[bytes]) -> tuple[float, float]:
    """Decodes per second of a 1600 px JPEG to thumbnail size: with draft (libjpeg scales while decoding) and
    with a full decode followed by a reduce."""
    def run(use_draft: bool) -> float:
        t = time.perf_counter()
        for data in photos:
            im = Image.open(io.BytesIO(data))
            if use_draft:
                im.draft("RGB", (320, 240))
            im.load()
            im.thumbnail((320, 320))
        return len(photos) / (time.perf_counter() - t)
    run(True), run(False)  # warm up
    return run(True), run(False)


def _flat(fmt: str, size, mode="RGB", **kw) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 200, 200, 255)[:len(mode)]).save(out, fmt, **kw)
    return out.getvalue()


def memory_cases() -> list[tuple[str, bytes, dict]]:
    """(name, bytes, process() keywords): what phones send, what an attacker sends, and the limits' edges."""
    phone = imaging.jpeg(seed=7001, size=(1600, 1200), quality=75, exif=imaging.exif_block())
    out = io.BytesIO()
    imaging.photo(7002, (4000, 3000)).save(out, "JPEG", quality=85, exif=imaging.exif_block())
    png_bomb, webp_bomb = _flat("PNG", (6300, 6300)), _flat("WEBP", (6300, 6300), lossless=True)
    rgba_bomb = _flat("PNG", (6300, 6300), "RGBA")
    pjpeg = _flat("JPEG", (6300, 6300), quality=85, progressive=True)
    off = {"max_full_pixels": 10 ** 9, "max_webp_pixels": 10 ** 9}  # as before the per-format limits
    return [
        ("phone JPEG 1600x1200", phone, {}),
        ("JPEG 4000x3000 q85", out.getvalue(), {}),
        ("JPEG 6300x6300 (draft 1/2)", _flat("JPEG", (6300, 6300), quality=85), {}),
        ("PNG 4096x4096 RGB (at the limit)", _flat("PNG", (4096, 4096)), {}),
        ("PNG 4096x4096 RGBA (at the limit)", _flat("PNG", (4096, 4096), "RGBA"), {}),
        ("WebP 2896x2896 (at the limit)", _flat("WEBP", (2896, 2896), lossless=True), {}),
        ("WebP 4096x4096: refused", _flat("WEBP", (4096, 4096), lossless=True), {}),
        ("  the same without the limit", _flat("WEBP", (4096, 4096), lossless=True), {"max_webp_pixels": 10 ** 9}),
        ("PNG bomb 6300x6300 RGB: refused", png_bomb, {}),
        ("  the same without the limit", png_bomb, off),
        ("PNG bomb 6300x6300 RGBA: refused", rgba_bomb, {}),
        ("  the same without the limit", rgba_bomb, off),
        ("WebP bomb 6300x6300: refused", webp_bomb, {}),
        ("  the same without the limit", webp_bomb, off),
        ("progressive JPEG 6300x6300: refused", pjpeg, {}),
        ("  the same without the limit", pjpeg, off),
    ]


def _peak(data: bytes, kw: dict, q) -> None:
    """In a forked child: the memory one process() call takes above what the process held before it."""
    blocks = Image.core.get_stats()["allocated_blocks"]
    _reset_peak_rss()
    before = _rss_kb()
    tracemalloc.start()
    t = time.perf_counter()
    try:
        p = process(data, **kw)
        outcome = f"stored {p.width}x{p.height}"
    except Exception as e:  # PhotoRejected, or whatever the unbounded decode does
        outcome = f"{getattr(e, 'code', type(e).__name__)}"
    ms = 1000 * (time.perf_counter() - t)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    q.put({"rss_kb": max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before), "traced": traced, "ms": ms,
           "blocks": Image.core.get_stats()["allocated_blocks"] - blocks, "outcome": outcome})


def peak_memory() -> list[tuple[str, int, dict]]:
    """Each case in a fresh forked child, so one case's heap cannot hide the next one's peak; the lower of two runs
    (a child now and then faults in pages of heap its parent freed, up to 64 MiB more)."""
    ctx = mp.get_context("fork")
    rows = []
    for name, data, kw in memory_cases():
        runs = []
        for _ in range(2):
            q = ctx.Queue()
            child = ctx.Process(target=_peak, args=(data, kw, q))
            child.start()
            runs.append(q.get())
            child.join()
        rows.append((name, len(data), min(runs, key=lambda r: r["rss_kb"])))
    return rows


def mib(kb: float) -> str:
    return f"{kb / 1024:6.1f} MiB"


def print_memory() -> None:
    """The peak-memory table, and what the decode slots make of it."""
    print("\n== peak memory of one upload (app.photos.process, forked child each; RSS = getrusage peak above the RSS "
          "before; blocks = Pillow's 16 MiB pixel blocks allocated; tracemalloc sees only the Python heap)")
    print(f"  {'':38s} {'input':>9s} {'peak RSS':>10s} {'blocks':>6s} {'traced':>9s} {'ms':>6s}  outcome")
    worst = 0.0
    for name, size, r in peak_memory():
        if not name.startswith(" "):
            worst = max(worst, r["rss_kb"])
        print(f"  {name:38s} {size / 1024:7.0f} K {mib(r['rss_kb'])} {r['blocks']:6d} {mib(r['traced'] / 1024)} "
              f"{r['ms']:6.0f}  {r['outcome']}")
    from app.config import Config
    print(f"  at most {Config.PHOTO_DECODE_SLOTS} decodes at once per process (PHOTO_DECODE_SLOTS): worst case "
          f"≈ {Config.PHOTO_DECODE_SLOTS} x {worst / 1024:.0f} MiB = {Config.PHOTO_DECODE_SLOTS * worst / 1024:.0f} MiB "
          f"above the worker's own, however many uploads arrive")


def main(n: int = 40) -> None:
    t0 = time.perf_counter()
    sets = make_sets(n)
    print(f"generated {2 * n} photos in {time.perf_counter() - t0:.1f} s; Pillow {Image.__version__}, "
          f"Python {sys.version.split()[0]}")
    down_name = next(k for k in sets if k.startswith("downscaled"))
    fresh = [imaging.jpeg(seed=5000 + i, size=(1600, 1200), quality=75,
                          exif=imaging.exif_block(taken=f"2026:11:{1 + i % 28:02d} 09:30:00", gps=(24.33, 109.42)))
             for i in range(len(sets[down_name]))]
    api_on, api_cpu = api_rate(sets[down_name], draft=True)
    api_off, _cpu = api_rate(fresh, draft=False)
    big_name = next(k for k in sets if k.startswith("12 Mpx"))
    api_big, big_cpu = api_rate(sets[big_name][: max(4, n // 4)], draft=True)
    d_on, d_off = draft_decode_ratio(sets[down_name])
    print(f"\n== through PUT /api/v1/photos/{{sha256}} (Flask test client, one thread, SQLite, files under a temp dir)")
    print(f"  1600 px phone JPEG  {api_on:8.1f} photos/s, {api_cpu:.1f} ms CPU each   (draft disabled: {api_off:.1f}/s; "
          f"already at display size: served stripped, decoded only at the thumbnail's scale)")
    print(f"  12 Mpx original     {api_big:8.1f} photos/s, {big_cpu:.1f} ms CPU each   (a phone that could not downscale)")
    print(f"  draft() decode of a 1600 px JPEG to thumbnail size: {d_on:.0f}/s vs full decode + reduce "
          f"{d_off:.0f}/s -> speed-up {d_on / d_off:.2f}x")
    results = {}
    for name, photos in sets.items():
        repeat = 2 if name.startswith("downscaled") else 1  # the fast set is noisy: best of two
        on, off = run(photos, draft=True, repeat=repeat), run(photos, draft=False, repeat=repeat)
        results[name] = on
        peaks = traced(photos[:TRACED])
        rate, rate_off = len(photos) / on["wall"], len(photos) / off["wall"]
        print(f"\n== {name}: {len(photos)} photos, mean input {statistics.mean(map(len, photos)) / 1024:.0f} KiB "
              f"(pinned to {on['cpus']} CPU)")
        print(f"  photos/s            {rate:8.1f}    (draft disabled: {rate_off:.1f}); bare decode of the same files "
              f"{on['bare_rate']:.1f}/s -> pipeline at {rate / on['bare_rate']:.2f}x the decode")
        print(f"  mean ms/photo       {1000 * statistics.mean(on['times']):8.1f}    (draft disabled: "
              f"{1000 * statistics.mean(off['times']):.1f}; median {1000 * statistics.median(on['times']):.1f}, "
              f"max {1000 * max(on['times']):.1f})")
        note = "   (already at display size: draft decodes at the thumbnail's 1/4 scale)" if "1600x1200" in name else ""
        print(f"  draft speed-up      {rate / rate_off:8.2f}x{note}")
        if on["rss_growth_kb"]:
            print(f"  peak RSS per photo  {mib(statistics.mean(on['rss_growth_kb']))}  above the RSS before it (mean of "
                  f"{len(on['rss_growth_kb'])}, max {mib(max(on['rss_growth_kb'])).strip()}; draft disabled: mean "
                  f"{mib(statistics.mean(off['rss_growth_kb'])).strip()}); child's peak RSS "
                  f"{mib(on['peak_rss_kb']).strip()}")
        else:
            print(f"  peak RSS            {mib(on['peak_rss_kb'])}  (whole child; /proc/self/clear_refs unavailable)")
        print(f"  peak traced memory  {mib(statistics.mean(peaks) / 1024)}  per photo (mean of {len(peaks)}, max "
              f"{mib(max(peaks) / 1024).strip()}; Python heap only, Pillow's pixel buffers are not traced)")
        print(f"  mean display JPEG   {statistics.mean(on['disp']) / 1024:8.1f} KiB   sizes {on['sizes']}")
        print(f"  mean thumb JPEG     {statistics.mean(on['thumb']) / 1024:8.1f} KiB")
    down = next(k for k in results if k.startswith("downscaled"))
    print(f"\nwhere the time goes, {down} (cProfile self time, ms/photo, unpinned, profiler overhead included):")
    for fn, ms in profile(sets[down][:20]):
        print(f"  {ms:6.1f}  {fn}")
    rate = len(sets[down]) / results[down]["wall"]
    ratio = rate / results[down]["bare_rate"]
    print_memory()
    print(f"\ntarget ≥ {TARGET:.0f} phone photos/s through the API: {api_on:.1f} -> "
          f"{'MET' if api_on >= TARGET else 'NOT MET'}")
    print(f"target pipeline ≥ {TARGET_RATIO} x bare decode (one core, same run): {rate:.1f}/s vs "
          f"{results[down]['bare_rate']:.1f}/s = {ratio:.2f}x -> {'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["memory"]:
        print_memory()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
