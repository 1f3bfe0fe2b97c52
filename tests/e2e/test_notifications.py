"""The in-app notification centre: reminders made on the server show up with an unread badge, stay readable offline,
and marking them read clears the badge (on the phone and on the server)."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.notify.services import notify

from .conftest import api_login, open_app, wait_until

pytestmark = pytest.mark.e2e

BADGE = "() => { const b = document.getElementById('jf-unread'); return b.hidden ? '' : b.textContent; }"


def remind(live, key, text):
    def make():
        notify(live.ids["teacher_id"], key, "duties_due", text, None)
        db.session.commit()
    live.query(make)


def test_reminders_show_with_badge_offline_and_mark_read(live, context, page):
    remind(live, "due-1", "本周还有 1 名学生需要家访")
    remind(live, "due-2", "本月还有 2 次亲情电话")
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    wait_until(page, f"() => ({BADGE})() === '2'")

    page.click("#jf-nav-notes")
    page.wait_for_selector("#jf-notes li[data-read='0']")
    text = page.inner_text("#jf-view")
    assert "本周还有 1 名学生需要家访" in text and "本月还有 2 次亲情电话" in text
    assert "所有提醒都会显示在这里" in page.inner_text("#jf-settings")

    # Offline, after a reload: the list and the badge come from the phone.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#jf-notes")
    assert "本周还有 1 名学生需要家访" in page.inner_text("#jf-notes")
    assert page.evaluate(BADGE) == "2"

    context.set_offline(False)
    page.click("#jf-notes li[data-read='0'] button")
    wait_until(page, f"() => ({BADGE})() === '1'")
    page.click("#jf-read-all")
    wait_until(page, f"() => ({BADGE})() === ''")
    assert page.query_selector_all("#jf-notes li[data-read='0']") == []
    unread = live.query(lambda: db.session.scalars(select(Notification).where(Notification.read_at.is_(None))).all())
    assert unread == []

    # A new reminder arrives: opening the centre online fetches it.
    remind(live, "due-3", "有 1 条记录被退回")
    page.evaluate("() => { location.hash = '#/' }")
    page.click("#jf-nav-notes")
    wait_until(page, "() => (document.getElementById('jf-notes') || {textContent: ''}).textContent.includes('有 1 条记录被退回')")
    assert page.evaluate(BADGE) == "1"


def test_push_switch_explains_when_push_is_unavailable(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live, "/app/#/notifications")
    page.wait_for_selector("#jf-push")
    assert "不论推送是否可用，所有提醒都会显示在这里" in page.inner_text("#jf-settings")
    # Headless Chromium has no push service and no permission: the switch stays off and the app says why.
    page.click("#jf-push")
    wait_until(page, "() => document.getElementById('jf-push-note').textContent.includes('应用内提醒不受影响')", timeout=20000)
    assert not page.is_checked("#jf-push")
    assert live.gate.count("POST", "/api/v1/push/subscriptions") == 0
