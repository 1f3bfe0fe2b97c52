"""Data on the phone (step 15): a phone reported lost sends, then wipes; a failed IndexedDB write is told and loses
nothing; a child re-paired before the visit synced is accepted by the pairing history; a wrong clock is told."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.children.services import set_pairings
from app.clock import utcnow
from app.devices.services import order_wipe
from app.extensions import db
from app.models import Child, Device, PairingSpan, Record, User

from .conftest import api_login, fill_record, local_records, open_app, wait_for, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def test_phone_reported_lost_sends_its_records_then_wipes(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    phone_id = page.evaluate("() => JF.db.kvGet('device_id')")
    assert live.query(lambda: db.session.scalar(select(Device.client_id))) == phone_id
    context.set_offline(True)
    record_id = fill_record(page, "talk", live.ids["c1"])
    wait_waiting(page, 1)

    def lost():  # the teacher, on "my phones" from a computer
        device = db.session.scalar(select(Device))
        order_wipe(device, "lost", db.session.get(User, live.ids["teacher_id"]))
    live.query(lost)
    context.set_offline(False)
    page.wait_for_url("**/login*", timeout=30000)
    assert [r[0] for r in live.records()] == [record_id]  # sent first
    assert "这部手机已报告丢失" in page.inner_text("body")
    # Nothing of the children is left, and the server knows.
    left = page.evaluate("""async () => {
        if (!(await indexedDB.databases()).some(d => d.name === 'jiafang')) return [];
        const db = await new Promise(r => { const q = indexedDB.open('jiafang'); q.onsuccess = () => r(q.result); });
        const out = [];
        for (const name of db.objectStoreNames) {
            const all = await new Promise(r => { const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => r(q.result); });
            out.push(...all.map(v => JSON.stringify(v)));
        }
        db.close();
        return out;
    }""")
    assert not any(live.ids["c1_name"] in v or "13900000000" in v for v in left), left
    # That phone's row: a request already on its way when the phone forgot its id may note the wiped phone under a new
    # one (PostgreSQL returned that row first, unordered, and the test read its empty wiped_at).
    assert live.query(lambda: db.session.scalar(select(Device.wiped_at).where(Device.client_id == phone_id))) is not None
    r = context.request.get(live.url + "/api/v1/roster")
    assert r.status == 401


def test_failed_write_is_told_in_plain_chinese_and_nothing_is_lost(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    done = fill_record(page, "talk", live.ids["c1"])  # saved before the phone filled up
    page.evaluate("h => { location.hash = h }", f"#/new/talk/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    from .conftest import fill_required
    fill_required(page)
    # The phone is full: every IndexedDB put fails as Chromium fails it.
    page.evaluate("""() => { window.__put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function () { throw new DOMException('full', 'QuotaExceededError'); }; }""")
    page.click("#jf-save")
    wait_until(page, "() => !document.getElementById('jf-notice').hidden && document.getElementById('jf-notice').textContent.includes('手机存储空间不足')")
    text = page.inner_text("#jf-notice")
    assert "记录没有保存" in text and "再点一次保存" in text
    assert page.is_visible("#jf-record-form")  # what was typed is still there
    # Space freed: the same form saves, and both records reach the school.
    page.evaluate("() => { IDBObjectStore.prototype.put = window.__put; }")
    second = page.get_attribute("#jf-record-form", "data-id")
    page.click("#jf-save")
    wait_until(page, "h => location.hash === h", f"#/child/{live.ids['c1']}")
    context.set_offline(False)
    page.click("#jf-sync")
    wait_waiting(page, 0, timeout=30000)
    assert sorted(r[0] for r in live.records()) == sorted([done, second])


def test_outbox_drains_when_its_bookkeeping_cannot_be_written(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    first = fill_record(page, "talk", live.ids["c1"])
    second = fill_record(page, "talk", live.ids["c1"])
    # Full phone: the "acknowledged" list cannot grow; the confirmed records must leave anyway.
    page.evaluate("""() => { const put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (v, k) { if (k === 'acked') throw new DOMException('full', 'QuotaExceededError');
                                                         return put.apply(this, arguments); }; }""")
    context.set_offline(False)
    page.click("#jf-sync")
    wait_until(page, "async () => (await JF.db.all('records')).length === 0", timeout=30000)
    assert sorted(r[0] for r in live.records()) == sorted([first, second])
    assert local_records(page) == []


def test_visit_for_a_child_repaired_before_it_synced_is_accepted(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    record_id = fill_record(page, "talk", live.ids["c1"])

    def repair():  # the principal gives the child to the other teacher after the talk
        child = db.session.get(Child, live.ids["c1"])
        other = db.session.scalar(select(User.id).where(User.username == live.ids["other"]))
        set_pairings(child, [other], other, None)
        db.session.commit()
    live.query(repair)
    context.set_offline(False)
    page.click("#jf-sync")
    wait_waiting(page, 0, timeout=30000)
    assert [(r[0], r[2]) for r in live.records()] == [(record_id, live.ids["c1"])]
    author = live.query(lambda: db.session.scalar(select(Record.author_id)))
    assert author == live.ids["teacher_id"]


def test_a_phone_clock_a_day_ahead_is_told(live, context, page):
    context.add_init_script("(() => { const real = Date.now; Date.now = () => real() + 864e5; })()")
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    wait_until(page, "() => !document.getElementById('jf-phone').hidden")
    text = page.inner_text("#jf-phone")
    assert "手机时间不准" in text and "快约 24 小时" in text
    offset = live.query(lambda: db.session.scalar(select(Device.clock_offset_s)))
    assert offset is not None and abs(offset) < 600  # new Date() is not shifted by the override: the header is honest
