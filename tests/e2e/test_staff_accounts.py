"""A school admin adds a teacher in the app; the teacher sets their own password, syncs a record from the app shell;
once deactivated, the phone wipes its data at its next contact with the server."""
import re

import pytest

from app.children.services import set_pairings
from app.extensions import db
from app.models import Child, User

from .conftest import AUTO_PIN, fill_record, open_app, wait_for_worker, wait_until, watch

pytestmark = pytest.mark.e2e

DB_EXISTS = "async () => (await indexedDB.databases()).some(d => d.name === 'jiafang')"
NEW_PASSWORD = "wang-laoshi-2026"


def test_admin_adds_a_teacher_who_syncs_then_is_deactivated(live, browser, context, page, build, people):
    build.user("admin", people["school"], username="admina")
    # The admin, on a computer.
    page.goto(live.url + "/login")
    page.fill("#username", "admina")
    page.fill("#password", "test-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    page.click("text=教职工账号")
    page.click("text=添加账号")
    page.fill("#username", "wanglaoshi")
    page.fill("#name", "王老师")
    page.select_option("#role", "teacher")
    page.click("button[type=submit].primary")
    otp = page.inner_text("#one-time-password").strip()
    teacher_id = live.query(lambda: db.session.query(User.id).filter_by(username="wanglaoshi").scalar())
    live.query(lambda: (set_pairings(db.session.get(Child, live.ids["c1"]), [live.ids["teacher_id"], teacher_id],
                                     teacher_id, None), db.session.commit()))

    # The teacher, on their phone: the one-time password opens only the password form.
    phone_ctx = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
    phone_ctx.add_init_script(AUTO_PIN)  # types the PIN at the lock screen
    phone_ctx.set_default_timeout(15000)
    phone = phone_ctx.new_page()
    problems = []
    watch(phone, problems)
    try:
        phone.goto(live.url + "/login?next=/app/")
        # The worker installs from the login page; its precache requests must not race the login (see the note).
        wait_for_worker(phone)
        phone.fill("#username", "wanglaoshi")
        phone.fill("#password", otp)
        phone.click("button[type=submit]")
        phone.wait_for_url(re.compile(r"/account$"))
        phone.fill("#old_password", otp)
        phone.fill("#new_password", NEW_PASSWORD)
        phone.fill("#new_password2", NEW_PASSWORD)
        phone.click("form[action$='/account/password'] button[type=submit]")
        phone.wait_for_selector("text=密码已修改")
        open_app(phone, live)
        phone.wait_for_selector(f"#jf-children [data-child='{live.ids['c1']}']")
        record_id = fill_record(phone, "home_visit", live.ids["c1"])
        wait_until(phone, "async () => (await JF.db.all('records')).length === 0", timeout=30000)
        assert [r[0] for r in live.records()] == [record_id]
        assert phone.evaluate(DB_EXISTS)

        # The admin deactivates the account; the phone's next contact wipes what it holds.
        page.goto(live.url + f"/staff/{teacher_id}/edit")
        page.click("button.danger")
        page.wait_for_url(live.url + "/staff/")
        assert "已停用" in page.inner_text(f"#account-{teacher_id}")
        phone.reload()
        phone.wait_for_url(re.compile(r"/login"))
        wait_until(phone, "async () => !(await indexedDB.databases()).some(d => d.name === 'jiafang')")
        assert "这个账号已停用" in phone.inner_text("main")
        assert all(k.startswith("jf-shell-") for k in phone.evaluate("async () => caches.keys()"))
        assert not problems, problems
    finally:
        phone_ctx.close()
