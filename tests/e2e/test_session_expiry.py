"""The session ends while records wait: the app asks (in Chinese) to log in again, keeps the queue, and syncs after."""
import re

import pytest

from .conftest import fill_record, form_login, local_records, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def test_expired_session_keeps_queue_and_syncs_after_login(live, context, page, offline_app, small_jpegs):
    offline_app()
    record_id = fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])
    wait_waiting(page, 1)

    context.clear_cookies()  # the session is gone (expired, or the server forgot it)
    context.set_offline(False)
    wait_until(page, "() => document.getElementById('jf-error').textContent === '登录已过期，请重新登录'", timeout=20000)
    assert page.get_attribute("#jf-error", "href") == "/login?next=/app/"
    assert [(r["id"], r["status"]) for r in local_records(page)] == [(record_id, "queued")]
    assert live.records() == []
    tried = page.evaluate("async () => (await JF.db.kvGet('sync')).error.at")
    page.click("#jf-sync")  # trying again changes nothing: still asked to log in, still kept
    wait_until(page, "t => JF.db.kvGet('sync').then(s => !s.error || s.error.at !== t)", tried)  # that try has ended
    assert page.inner_text("#jf-error") == "登录已过期，请重新登录" and len(local_records(page)) == 1

    page.click("#jf-error")
    page.wait_for_url(re.compile(r"/login\?next="))
    form_login(page, live.ids["teacher"])
    page.wait_for_url("**/app/")
    page.wait_for_selector("body[data-ready='1']")
    wait_waiting(page, 0, timeout=20000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0")
    assert page.is_hidden("#jf-error")
    rows = live.records()
    assert [r[0] for r in rows] == [record_id] and len(rows[0][3]) == 1
