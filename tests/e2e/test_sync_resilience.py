"""Sync that is cut off half way — the server gone after the first photo, or storing a batch but losing the answer —
loses nothing and duplicates nothing once it comes back."""
import pytest

from .conftest import api_login, fill_record, local_records, open_app, wait_for, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def last_error_at(page):
    return page.evaluate("async () => { const s = await JF.db.kvGet('sync'); return s && s.error ? s.error.at : null; }")


def wait_new_error(page, before):
    wait_until(page, """async (before) => { const s = await JF.db.kvGet('sync');
        return s && s.error && s.error.at !== before; }""", before, timeout=20000)


def error_text(page):
    return page.inner_text("#jf-error") if page.is_visible("#jf-error") else ""


def test_server_down_mid_sync_then_back(live, context, page, offline_app, small_jpegs):
    offline_app()
    record_id = fill_record(page, "home_visit", live.ids["c1"], photos=small_jpegs[:2])
    wait_waiting(page, 1)

    # The server goes away right after the first photo has been stored.
    live.gate.down_after_puts = 1
    context.set_offline(False)
    wait_until(page, "() => /服务器暂时不可用/.test(document.getElementById('jf-error').textContent)", timeout=20000)
    assert "自动重试" in error_text(page)  # backoff scheduled, said in Chinese
    assert live.gate.puts == 1 and live.photo_count() == 1 and live.records() == []
    assert [r["status"] for r in local_records(page)] == ["queued"]

    # Back up, but the first records POST is stored and its answer lost (a restart between commit and reply).
    live.gate.down = False
    live.gate.down_after_puts = None
    live.gate.lose_record_answers = 1
    before = last_error_at(page)
    page.click("#jf-sync")
    wait_new_error(page, before)
    assert "服务器暂时不可用" in error_text(page)
    assert len(live.records()) == 1
    assert [r["status"] for r in local_records(page)] == ["queued"]  # not confirmed yet: kept

    # Next sync: the server answers "duplicate"; the phone lets go of the record and its photos.
    page.click("#jf-sync")
    wait_waiting(page, 0)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")
    assert page.is_hidden("#jf-error"), error_text(page)
    rows = live.records()
    assert len(rows) == 1 and rows[0][0] == record_id and len(rows[0][3]) == 2
    assert live.photo_count() == 2
    assert live.gate.count("PUT", "/api/v1/photos/") == 2  # the stored photo was not sent again


def test_background_sync_sends_with_the_app_closed(live, context, page, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    record_id = fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])
    assert page.evaluate("async () => (await navigator.serviceWorker.ready).sync.getTags()") == ["jf-outbox"]
    page.close()  # the teacher closes the app in the village

    idle = context.new_page()  # about:blank: no app code runs; only the worker can send
    context.set_offline(False)
    wait_for(idle, live.records, timeout=10000)
    assert [r[0] for r in live.records()] == [record_id]
    assert live.gate.count("POST", "/api/v1/records") == 1
    idle.goto(live.url + "/offline")  # same origin, no app code: look at the local store directly
    left = idle.evaluate("""() => new Promise(ok => { const r = indexedDB.open('jiafang');
        r.onsuccess = () => { const c = r.result.transaction('records').objectStore('records').count();
                              c.onsuccess = () => ok(c.result); }; })""")
    assert left == 0


def test_missing_photos_are_uploaded_then_the_record_resent(live, context, page, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    record_id = fill_record(page, "home_visit", live.ids["c1"], photos=small_jpegs[:2])
    # The phone wrongly believes the photos are on the server (say, the server's disk was restored from a backup).
    page.evaluate("""async () => { for (const p of await JF.db.all('photos')) { p.uploaded = true; await JF.db.put('photos', p); } }""")
    context.set_offline(False)
    wait_waiting(page, 0, timeout=20000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")
    rows = live.records()
    assert [r[0] for r in rows] == [record_id] and len(rows[0][3]) == 2
    # First POST answered missing_photos, then both photos went up and the record was sent again, in one flush.
    assert live.gate.count("POST", "/api/v1/records") == 2 and live.gate.count("PUT", "/api/v1/photos/") == 2
