"""A follow-up agreed in the village without signal: made on the phone offline, synced once, then on the to-do."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FollowUp

from .conftest import fill_record, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def test_follow_up_created_offline_syncs_once_and_joins_the_phones_to_do(live, context, page, offline_app):
    offline_app()
    c1 = live.ids["c1"]
    fill_record(page, "follow_up", c1, before_save=lambda: page.fill("#f-due_on", "2030-01-15"))
    assert live.query(lambda: db.session.scalar(select(FollowUp.id))) is None
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0")
    rows = live.query(lambda: [(f.child_id, f.due_on.isoformat(), f.status, f.what, f.assignee_id)
                               for f in db.session.scalars(select(FollowUp))])
    assert rows == [(c1, "2030-01-15", "open", "测试内容", live.ids["teacher_id"])]
    page.click("#jf-sync")  # a fresh roster lists it on the home screen
    page.evaluate("() => { location.hash = '#/'; }")
    page.wait_for_selector("#jf-follow-ups summary")  # folded below the children, its count in the summary
    assert page.inner_text("#jf-follow-ups summary") == "我的跟进事项 1"
    page.click("#jf-follow-ups summary")
    assert "2030-01-15" in page.inner_text("#jf-follow-ups li")
