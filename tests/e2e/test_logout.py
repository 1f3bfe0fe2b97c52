"""Logout on a shared phone: warn about unsynced work, wipe the local copy, and show the next teacher nothing of it."""
import re

import pytest

from .conftest import api_login, form_login, local_records, open_app, wait_for, wait_until

pytestmark = pytest.mark.e2e

DB_EXISTS = "async () => (await indexedDB.databases()).some(d => d.name === 'jiafang')"


def test_logout_wipes_local_data_for_the_next_teacher(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    page.wait_for_selector(f"#jf-children [data-child='{live.ids['c1']}']")
    # A visit started but not finished: a draft that would be lost.
    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{live.ids['c1']}")
    page.fill("#f-purpose", "了解孩子近况")
    wait_until(page, "async () => (await JF.db.all('records')).length === 1")

    page.goto(live.url + "/")  # a server page, with the normal logout form
    dialogs = []
    page.once("dialog", lambda d: (d.dismiss(), dialogs.append(d.message)))
    page.click("#logout-form button[type=submit]")
    wait_for(page, lambda: dialogs)  # cancelling returns from the handler at once: nothing else is coming
    assert dialogs == ["还有 1 条记录未同步，退出后将丢失，确定退出吗？"]
    assert page.url == live.url + "/" and page.evaluate("JF.session.countLocal()") == 1  # cancelled: nothing lost

    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click("#logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/login"))
    assert len(dialogs) == 2
    assert not page.evaluate(DB_EXISTS)
    caches = page.evaluate("async () => caches.keys()")
    assert all(k.startswith("jf-shell-") for k in caches)

    # The next teacher on the same phone and browser.
    form_login(page, live.ids["other"])
    page.wait_for_url(live.url + "/")
    open_app(page, live)
    page.wait_for_selector(f"#jf-children [data-child='{live.ids['c2']}']")
    view = page.inner_text("#jf-view")
    assert live.ids["c2_name"] in view and live.ids["c1_name"] not in view
    assert local_records(page) == []
    roster = page.evaluate("async () => (await JF.db.kvGet('roster')).children.map(c => c.id)")
    assert roster == [live.ids["c2"]]
    page.goto(live.url + f"/app/#/child/{live.ids['c1']}")
    page.wait_for_selector("body[data-ready='1']")
    assert live.ids["c1_name"] not in page.inner_text("#jf-view")


def test_shell_logout_button(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    messages = []
    page.once("dialog", lambda d: (d.accept(), messages.append(d.message)))
    page.click("#jf-logout")
    wait_for(page, lambda: messages)  # the handler returns right after the alert
    assert messages == ["请连接网络后再退出登录。"] and page.evaluate(DB_EXISTS)

    context.set_offline(False)
    page.click("#jf-logout")  # nothing waiting: no question asked
    page.wait_for_url(re.compile(r"/login"))
    assert not page.evaluate(DB_EXISTS)
    r = context.request.get(live.url + "/api/v1/session")
    assert r.status == 401  # the server session ended too
