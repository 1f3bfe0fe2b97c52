"""The sync status is always on screen: how many wait (待同步), the last successful sync, progress and errors in Chinese."""
import re

import pytest

from .conftest import api_login, fill_record, open_app, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def status(page):
    return page.inner_text("#jf-status")


def test_status_bar_shows_waiting_last_sync_progress_and_errors(live, context, page, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    wait_until(page, "() => /上次同步 \\d\\d:\\d\\d/.test(document.getElementById('jf-last').textContent)")
    assert "待同步 0 条" in status(page)
    page.evaluate("""() => { window.seen = [];
        new MutationObserver(() => { const t = document.getElementById('jf-progress').textContent; if (t) window.seen.push(t); })
          .observe(document.getElementById('jf-progress'), {childList: true, characterData: true, subtree: true}); }""")

    context.set_offline(True)
    fill_record(page, "home_visit", live.ids["c1"], photos=small_jpegs[:2])
    wait_waiting(page, 1)
    assert page.inner_text("#jf-error") == "离线：有网络后自动同步"

    # Always visible: the bar stays on screen on a long page scrolled to the bottom.
    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    wait_until(page, "() => window.scrollY > 0")
    box = page.locator("#jf-waiting").bounding_box()
    assert box and 0 <= box["y"] < 780 and page.is_visible("#jf-sync")

    live.gate.down = True
    context.set_offline(False)
    wait_until(page, "() => /服务器暂时不可用.*秒后自动重试/.test(document.getElementById('jf-error').textContent)", timeout=20000)
    assert "待同步 1 条" in status(page)

    live.gate.down = False
    page.click("#jf-sync")
    wait_waiting(page, 0, timeout=20000)
    assert page.is_hidden("#jf-error") and page.is_hidden("#jf-progress")
    assert re.search(r"上次同步 \d\d:\d\d", page.inner_text("#jf-last"))
    seen = page.evaluate("window.seen")
    assert "正在上传照片 1/2" in seen and "正在上传照片 2/2" in seen


def test_warns_when_storage_runs_low(live, context, page):
    # A phone with 100 MB for the browser and 95 MB used.
    context.add_init_script("StorageManager.prototype.estimate = async () => ({quota: 100 * 2 ** 20, usage: 95 * 2 ** 20});")
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    wait_until(page, "() => !document.getElementById('jf-notice').hidden")
    assert "存储空间不足" in page.inner_text("#jf-notice") and "5 MB" in page.inner_text("#jf-notice")
    # Persistent storage is asked for at every start (app/static/js/storage.js); the answer is kept for the warning.
    assert page.evaluate("JF.storage.persisted") is not None
