"""The phone's data at rest: a PIN set at first login, locked at start and when idle, 5 wrong PINs wipe all but the
unsent records (which sync after a fresh login), an expired session shows no child, and IndexedDB holds no child in clear."""

import pytest

from ..conftest import PASSWORD
from .conftest import (TEST_PIN, api_login, fill_record, form_login, local_records, new_context, open_app, wait_until,
                       wait_waiting, watch)

pytestmark = pytest.mark.e2e

# Every store read raw (no key): ArrayBuffers and Blobs decoded as UTF-8, so plaintext anywhere would show.
DUMP = """async () => {
  const db = await new Promise((ok, ko) => { const r = indexedDB.open('jiafang'); r.onsuccess = () => ok(r.result); r.onerror = ko; });
  const out = [];
  const text = async (v) => {
    if (v instanceof Blob) return new TextDecoder().decode(await v.arrayBuffer());
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return new TextDecoder().decode(v);
    if (Array.isArray(v)) return (await Promise.all(v.map(text))).join('|');
    if (v && typeof v === 'object') return (await Promise.all(Object.entries(v).map(async ([k, x]) => k + ':' + await text(x)))).join('|');
    return String(v);
  };
  for (const name of db.objectStoreNames) {
    const t = db.transaction(name);
    const [keys, values] = await Promise.all([t.objectStore(name).getAllKeys(), t.objectStore(name).getAll()].map(
      (r) => new Promise((ok) => { r.onsuccess = () => ok(r.result); })));
    for (let i = 0; i < keys.length; i++) out.push(name + '/' + keys[i] + '=' + await text(values[i]));
  }
  db.close();
  return out.join('\\n');
}"""


@pytest.fixture
def bare(browser, problems):
    """A phone whose teacher types the PIN in the test (no automatic PIN)."""
    ctx = new_context(browser, auto_pin=False)
    page = ctx.new_page()
    watch(page, problems)
    yield ctx, page
    ctx.close()


def _type_pin(page, pin=TEST_PIN):
    page.fill("#jf-pin", pin)
    page.click("#jf-lock button[type=submit]")


def _set_pin(page, pin=TEST_PIN):
    page.wait_for_selector("#jf-pin1")
    page.fill("#jf-pin1", pin)
    page.fill("#jf-pin2", pin)
    page.click("#jf-lock button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")


def test_pin_set_at_first_login_unlocks_and_idle_locks(live, bare):
    context, page = bare
    api_login(context, live, live.ids["teacher"])
    page.goto(live.url + "/app/")
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    _set_pin(page)
    page.wait_for_selector(f"text={live.ids['c1_name']}")
    assert page.evaluate("async () => (await JF.db.vaultGet('pin')).iterations") == 600000

    page.evaluate("() => JF.lock.setIdle(800)")  # the test hook: 0.8 s without a touch
    page.wait_for_selector("#jf-pin", timeout=15000)
    assert live.ids["c1_name"] not in page.inner_text("body")
    assert page.evaluate("() => JF.crypt.ready()") is False

    _type_pin(page, "000000")
    page.wait_for_selector("text=还可以再试 4 次")
    assert live.ids["c1_name"] not in page.inner_text("body")
    _type_pin(page)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"text={live.ids['c1_name']}")


def test_wrong_pins_wipe_all_but_unsent_records_which_sync_after_a_fresh_login(live, bare, small_jpegs):
    context, page = bare
    api_login(context, live, live.ids["teacher"])
    page.goto(live.url + "/app/")
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    _set_pin(page)
    context.set_offline(True)
    record_id = fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])
    wait_waiting(page, 1)
    page.reload()
    for n in range(5):
        _type_pin(page, "99999" + str(n))
        if n < 4:
            page.wait_for_selector(f"text=还可以再试 {4 - n} 次")
    page.wait_for_selector("text=PIN 错误次数过多")
    dump = page.evaluate(DUMP)
    assert "records/" + record_id in dump  # the unsent record stayed (sealed)
    assert "kv/roster" not in dump and "vault/pin" not in dump and "photos/" in dump
    assert live.records() == []

    context.set_offline(False)
    assert page.get_attribute("#jf-lock a", "href") == "/app/"
    page.goto(live.url + "/app/")
    if page.wait_for_selector("#jf-password, #jf-lock a").get_attribute("id") != "jf-password":
        page.click("#jf-lock a")  # the wipe ended the session too: log in again first
        form_login(page, live.ids["teacher"])
    page.wait_for_selector("#jf-password")
    page.fill("#jf-password", PASSWORD)
    page.fill("#jf-pin1", "246810")
    page.fill("#jf-pin2", "246810")
    page.click("#jf-lock button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    wait_until(page, "async () => (await JF.db.all('records')).length === 0", timeout=30000)
    rows = live.records()
    assert [r[0] for r in rows] == [record_id] and len(rows[0][3]) == 1


def test_expired_session_shows_login_and_no_child(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    page.wait_for_selector(f"text={live.ids['c1_name']}")
    context.clear_cookies()
    page.goto(live.url + f"/app/shell#/child/{live.ids['c1']}")
    wait_until(page, "() => !!document.getElementById('jf-lock') || location.pathname === '/login'")
    assert live.ids["c1_name"] not in page.inner_text("body")
    assert "13900000000" not in page.content()
    if page.url.endswith("/app/shell#/child/%d" % live.ids["c1"]):
        assert "登录已过期" in page.inner_text("#jf-lock")


def test_indexeddb_holds_no_child_in_clear_after_a_days_work(live, offline_app, small_jpegs):
    page = offline_app()
    fill_record(page, "talk", live.ids["c1"], photos=small_jpegs[:1])  # queued with a photo
    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    page.fill("#jf-record-form textarea", live.ids["c1_name"] + " 13900000000")  # a draft naming the child
    wait_until(page, "async () => (await JF.db.all('records')).some(r => r.status === 'draft')", timeout=20000)
    roster = page.evaluate("async () => JSON.stringify(await JF.db.kvGet('roster'))")
    assert live.ids["c1_name"] in roster and "13900000000" in roster  # the unlocked app reads it

    dump = page.evaluate(DUMP)
    assert "kv/roster=" in dump and "photos/" in dump and len([r for r in local_records(page)]) == 2
    for secret in (live.ids["c1_name"], "13900000000", "A1村", "奶奶", "测试内容", "\xff\xd8\xff"):
        assert secret not in dump, secret
