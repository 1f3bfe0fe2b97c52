"""A group activity recorded offline on the phone: attendance ticked from the roster, synced once when back online."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Activity, Record

from .conftest import wait_for, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def test_activity_recorded_offline_syncs_once(live, context, page, offline_app, problems):
    offline_app()
    page.click("#jf-activity")
    page.wait_for_selector("#jf-record-form #jf-attendance")
    page.check("input[name=type][value=guardian_training]")
    page.fill("#f-title", "本学期临时监护人培训")
    page.fill("#f-summary", "防溺水与家庭教育")
    c1 = live.ids["c1"]
    page.check(f"input[data-att-child='{c1}'][data-att-who='child']")
    page.check(f"input[data-att-child='{c1}'][data-att-who='guardian']")
    page.click("#jf-save")
    wait_until(page, "() => location.hash === '#/'")
    wait_waiting(page, 1)
    assert live.query(lambda: db.session.scalar(select(Activity.id))) is None  # nothing reached the server offline

    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0")
    page.evaluate("() => JF.app.trigger('button')")  # a second flush sends nothing again
    page.wait_for_timeout(500)

    def stored():
        acts = db.session.scalars(select(Activity)).all()
        rows = db.session.execute(select(Record.child_id, Record.fields).where(Record.kind == "activity")).all()
        return [(a.type, a.title) for a in acts], [(r.child_id, r.fields["child"], r.fields["guardian"]) for r in rows]

    wait_for(page, lambda: live.query(stored)[0])
    assert live.query(stored) == ([("guardian_training", "本学期临时监护人培训")], [(c1, "yes", "yes")])
    assert problems == []
