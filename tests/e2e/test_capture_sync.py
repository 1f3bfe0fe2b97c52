"""Offline capture of a home visit with two photos, then sync: small upright photos that keep their EXIF evidence."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Record

from .. import imaging
from .conftest import AUTO_PIN, api_login, fill_record, local_photos, local_records, open_app, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def phone_photos():
    """A 4000×3000 phone JPEG shot sideways (orientation 6) with time and GPS, and a second one without EXIF."""
    sideways = imaging.jpeg(21, size=(4000, 3000), exif=imaging.exif_block(orientation=6))
    plain = imaging.jpeg(22, size=(4000, 3000))
    return sideways, plain


def test_offline_home_visit_with_two_photos_syncs_once(live, context, page, offline_app, phone_photos):
    offline_app()

    record_id = fill_record(page, "home_visit", live.ids["c1"], photos=phone_photos)
    wait_waiting(page, 1)

    recs = local_records(page)
    assert [(r["id"], r["status"], len(r["photos"])) for r in recs] == [(record_id, "queued", 2)]
    photos = {p["sha"]: p for p in local_photos(page)}
    assert set(photos) == set(recs[0]["photos"])
    for sha, p in photos.items():
        assert p["isBlob"] and p["type"] == "image/jpeg" and p["hash"] == sha  # Blobs, named by their bytes
        assert max(p["width"], p["height"]) <= 1600 and p["size"] <= 250 * 1024
    sideways, plain = (photos[s] for s in recs[0]["photos"])
    assert sideways["height"] > sideways["width"]  # upright: 4000×3000 shot with orientation 6 is portrait
    assert plain["width"] > plain["height"]
    assert live.records() == []

    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")

    rows = live.records()
    assert len(rows) == 1 and rows[0][0] == record_id and rows[0][3] == recs[0]["photos"]
    server = {p["sha"]: p for p in live.photos()}
    assert set(server) == set(recs[0]["photos"]) and live.photo_count() == 2
    exif_photo = server[recs[0]["photos"][0]]
    assert exif_photo["taken_at"] is not None and exif_photo["taken_at"].strftime("%Y-%m-%d") == "2026-11-20"
    assert exif_photo["gps_lat"] == pytest.approx(24.33, abs=1e-3) and exif_photo["gps_lon"] == pytest.approx(109.42, abs=1e-3)
    assert exif_photo["orig_height"] > exif_photo["orig_width"]  # what the server received is upright
    assert server[recs[0]["photos"][1]]["taken_at"] is None
    # Photos first, then the record, once each.
    assert live.gate.count("PUT", "/api/v1/photos/") == 2 and live.gate.count("POST", "/api/v1/records") == 1
    assert "上次同步" in page.inner_text("#jf-last") and "—" not in page.inner_text("#jf-last")


def test_location_is_recorded_when_allowed(live, browser):
    context = browser.new_context(locale="zh-CN", geolocation={"latitude": 24.3301, "longitude": 109.4202, "accuracy": 18},
                                  permissions=["geolocation"])
    context.add_init_script(AUTO_PIN)  # types the PIN at the lock screen
    try:
        page = context.new_page()
        api_login(context, live, live.ids["teacher"])
        open_app(page, live)
        record_id = fill_record(page, "contact", live.ids["c1"], before_save=lambda: wait_until(
            page, "() => /位置已记录/.test(document.getElementById('jf-location').textContent)"))
        wait_waiting(page, 0)
        wait_until(page, "async () => (await JF.db.all('records')).length === 0")
    finally:
        context.close()
    lat, lon, acc, meta = live.query(lambda: db.session.execute(
        select(Record.lat, Record.lon, Record.accuracy_m, Record.client_meta).where(Record.client_id == record_id)).one())
    assert lat == pytest.approx(24.3301) and lon == pytest.approx(109.4202) and acc == 18
    assert meta["online"] is True and meta["saved_at"]
