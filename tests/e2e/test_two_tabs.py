"""Two tabs (and the service worker) flushing at once send each record once: the Web Locks API serialises them."""
import pytest

from .conftest import api_login, fill_record, local_records, open_app, wait_until, wait_waiting, watch

pytestmark = pytest.mark.e2e


def test_two_tabs_flush_at_once_without_duplicates(live, context, page, problems, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    other = context.new_page()
    watch(other, problems)
    open_app(other, live)

    context.set_offline(True)
    page.bring_to_front()  # the teacher types in the tab in front (background tabs get throttled timers)
    ids = [fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1]),
           fill_record(page, "contact", live.ids["c1"], photos=small_jpegs[1:3])]
    wait_waiting(page, 2)
    wait_waiting(other, 2)  # the other tab sees the same queue

    # Back online: both tabs hear `online`, the worker gets its Background Sync; and both are told to sync now.
    context.set_offline(False)
    page.evaluate("() => { JF.app.trigger('button'); }")
    other.evaluate("() => { JF.app.trigger('button'); }")
    for p in (page, other):
        wait_waiting(p, 0, timeout=20000)
        wait_until(p, "async () => (await JF.db.all('records')).length === 0")
    assert local_records(other) == []

    rows = live.records()
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert live.photo_count() == 3
    # One flush did the work; the others found an empty queue.
    assert live.gate.count("POST", "/api/v1/records") == 1
    assert live.gate.count("PUT", "/api/v1/photos/") == 3
