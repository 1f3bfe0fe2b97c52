"""A record the principal returned reaches the phone: shown offline with its reason and deadline, corrected from there
with the original's time and fields, and the correction sent once."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import as_utc, today_local
from app.extensions import db
from app.models import Record
from app.verify.services import return_for_correction

from ..builders import ingest_ok, visit
from .conftest import wait_until, wait_waiting

pytestmark = pytest.mark.e2e

REASON = "请补充见到的人"


def test_phone_shows_the_return_offline_and_sends_the_correction_once(live, context, page, build, people, offline_app):
    principal = build.user("principal", people["school"], username="principala")
    original = ingest_ok(people["teacher"], [visit(people["c1"])])[0]
    return_for_correction(original, principal, REASON)
    db.session.commit()
    rid, occurred = original.id, as_utc(original.occurred_at).replace(second=0, microsecond=0)  # forms keep minutes
    due = today_local() + timedelta(days=live.app.config["CORRECTION_DAYS"])

    offline_app()
    row = page.wait_for_selector(f"#jf-returned [data-returned='{rid}']")
    text = row.inner_text()
    assert REASON in text and f"请在 {due.month}月{due.day}日 前更正" in text and live.ids["c1_name"] in text

    # The child's card shows it too, and the review state of the teacher's records.
    page.evaluate("h => { location.hash = h }", f"#/child/{live.ids['c1']}")
    page.wait_for_selector(f"#jf-returned [data-returned='{rid}']")
    assert page.inner_text("#jf-reviews [data-review='returned']").endswith("已退回")

    page.click(f"[data-returned='{rid}'] a.button")
    page.wait_for_selector("#jf-correction-title")
    assert page.inner_text("#jf-correction-title").startswith("更正：家访记录")
    assert REASON in page.inner_text("#jf-correcting")
    assert page.input_value("#f-purpose") == "了解假期学习情况"  # the original's fields
    page.fill("#f-told_guardian", "补充：见到了奶奶")
    page.click("#jf-save")
    wait_waiting(page, 1)
    page.evaluate("h => { location.hash = h }", "#/")
    page.wait_for_selector(f"[data-returned='{rid}'] [data-corrected]")  # not offered twice
    assert not page.query_selector(f"[data-returned='{rid}'] a[href='#/correct/{rid}']")

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    wait_waiting(page, 0, timeout=20000)
    # Once synced the roster no longer lists it: the original is corrected.
    wait_until(page, "id => !document.querySelector(`[data-returned='${id}']`)", rid, timeout=20000)

    def server():
        rows = db.session.scalars(select(Record).where(Record.corrects_id == rid)).all()
        return ([(as_utc(r.occurred_at), r.child_id, r.kind, r.fields["told_guardian"], r.fields["purpose"]) for r in rows],
                db.session.get(Record, rid).review_state,
                db.session.scalar(select(func.count()).select_from(Record)))
    corrections, state, total = live.query(server)
    assert corrections == [(occurred, live.ids["c1"], "home_visit", "补充：见到了奶奶", "了解假期学习情况")]
    assert state == "corrected" and total == 2
