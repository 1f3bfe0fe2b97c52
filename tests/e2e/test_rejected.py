"""A record the server refuses stays on the phone with the reason in Chinese, to fix and resubmit or to discard."""
import pytest
from sqlalchemy import delete

from app.children.services import set_pairings
from app.extensions import db
from app.models import Child, Pairing, PairingSpan

from .conftest import api_login, fill_record, local_records, open_app, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def test_rejected_record_is_kept_with_reason(live, context, page, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    first = fill_record(page, "home_visit", live.ids["c1"], photos=small_jpegs[:1])
    second = fill_record(page, "talk", live.ids["c1"])
    wait_waiting(page, 2)

    # Meanwhile the school moves the child to another teacher, and no pairing history says the teacher ever had it
    # (with it, the records would be accepted: tests/e2e/test_phone_data.py).
    def unpair():
        db.session.execute(delete(Pairing).where(Pairing.child_id == live.ids["c1"], Pairing.teacher_id == live.ids["teacher_id"]))
        db.session.execute(delete(PairingSpan).where(PairingSpan.child_id == live.ids["c1"]))
        db.session.commit()
    live.query(unpair)

    context.set_offline(False)
    wait_until(page, "async () => (await JF.db.all('records')).every(r => r.status === 'rejected')", timeout=20000)
    assert live.records() == []
    recs = {r["id"]: r for r in local_records(page)}
    assert set(recs) == {first, second}
    assert recs[first]["errors"]["child_id"] == "未知的学生，或不是您结对的学生。"
    wait_waiting(page, 2)  # still counted as not synced
    assert "2 条记录被退回" in page.inner_text("#jf-error")

    page.click("#jf-error")
    page.wait_for_selector(f"[data-record='{first}'][data-status='rejected']")
    text = page.inner_text(f"[data-record='{first}']")
    assert "学生：未知的学生，或不是您结对的学生。" in text and "被退回" in text

    # Discard one (after confirming), fix nothing but the pairing and resubmit the other.
    page.once("dialog", lambda d: d.accept() if "确定删除" in d.message else d.dismiss())
    page.click(f"[data-record='{second}'] .jf-discard")
    wait_until(page, "id => !document.querySelector(`[data-record='${id}']`)", second)
    assert [r["id"] for r in local_records(page)] == [first]

    def repair():
        set_pairings(db.session.get(Child, live.ids["c1"]), [live.ids["teacher_id"]], live.ids["teacher_id"], None)
        db.session.commit()
    live.query(repair)
    page.click(f"[data-record='{first}'] a.button")
    page.wait_for_selector("#jf-rejected")
    assert "未知的学生" in page.inner_text("#jf-rejected")
    page.click("#jf-save")
    wait_waiting(page, 0, timeout=20000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")
    assert [r[0] for r in live.records()] == [first]


def test_refused_photo_keeps_record_for_correction(live, context, page, small_jpegs):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    record_id = fill_record(page, "home_visit", live.ids["c1"], photos=small_jpegs[:1])
    live.gate.refuse_puts = (422, {"error": "image_rejected", "message": "图片已损坏或尺寸过大，无法处理。"})
    context.set_offline(False)
    wait_until(page, "async () => (await JF.db.all('records'))[0].status === 'rejected'", timeout=20000)
    [rec] = local_records(page)
    assert rec["errors"] == {"photos": "图片已损坏或尺寸过大，无法处理。"}
    assert live.records() == [] and live.gate.count("POST", "/api/v1/records") == 0

    # The teacher removes the bad photo and resubmits; the record goes without it.
    live.gate.refuse_puts = None
    page.evaluate("h => { location.hash = h }", f"#/record/{record_id}")
    page.wait_for_selector("#jf-rejected")
    assert "照片：图片已损坏" in page.inner_text("#jf-rejected")
    page.click("#jf-thumbs figure button")
    wait_until(page, "() => document.querySelectorAll('#jf-thumbs figure').length === 0")
    page.click("#jf-save")
    wait_waiting(page, 0, timeout=20000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")
    assert [(r[0], r[3]) for r in live.records()] == [(record_id, [])]
