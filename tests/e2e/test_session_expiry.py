"""The session ends while records wait: the app asks (in Chinese) to log in again, keeps the queue, and syncs after."""
import re

import pytest

from app.auth.services import end_all_sessions
from app.extensions import db
from app.models import User

from .conftest import fill_record, form_login, local_records, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def _end_on_server(live):
    """The teacher logged out (or changed the password) on another phone: this phone's session ends on the server."""
    def end():
        end_all_sessions(db.session.get(User, live.ids["teacher_id"]))
        db.session.commit()
    live.query(end)


@pytest.mark.parametrize("ended", ["cookie_gone", "ended_on_server"])
def test_expired_session_keeps_queue_and_syncs_after_login(live, context, page, offline_app, small_jpegs, ended):
    offline_app()
    record_id = fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])
    wait_waiting(page, 1)

    if ended == "cookie_gone":
        context.clear_cookies()  # the session is gone (expired, or the server forgot it)
    else:
        _end_on_server(live)  # the cookie is still there, but the server no longer honours it
    context.set_offline(False)
    # Ended elsewhere, the phone is told so and forgets the children's data (tests/e2e/test_phone_data.py); the queue stays.
    told = "登录已过期，请重新登录" if ended == "cookie_gone" else "您已在其他设备上退出登录，请重新登录"
    wait_until(page, "t => document.getElementById('jf-error').textContent === t", told, timeout=20000)
    if ended == "ended_on_server":
        wait_until(page, "async () => !(await JF.db.kvGet('roster'))")
    assert page.get_attribute("#jf-error", "href") == "/login?next=/app/"
    assert [(r["id"], r["status"]) for r in local_records(page)] == [(record_id, "queued")]
    assert live.records() == []
    tried = page.evaluate("async () => (await JF.db.kvGet('sync')).error.at")
    page.click("#jf-sync")  # trying again changes nothing: still asked to log in, still kept
    wait_until(page, "t => JF.db.kvGet('sync').then(s => !s.error || s.error.at !== t)", tried)  # that try has ended
    assert page.inner_text("#jf-error") == told and len(local_records(page)) == 1

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
