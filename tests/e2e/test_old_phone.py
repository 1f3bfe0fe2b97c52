"""A phone that was offline when the server replaced parent_call by contact still holds parent_call records in its
outbox: they sync, as contacts, and leave the phone only once stored."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Record

from .conftest import api_login, open_app, wait_until

pytestmark = pytest.mark.e2e


def test_a_parent_call_left_in_the_outbox_syncs_as_a_contact(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    # The record exactly as the old app's form saved it into the outbox.
    rid = page.evaluate("""async (child) => {
        const now = new Date();
        const r = {id: crypto.randomUUID(), user_id: JF.app.state.user.id, kind: "parent_call", child_id: child,
                   child_name: "", occurred_at: new Date(now - 36e5).toISOString(),
                   fields: {direction: "child_to_parent", parent: "mother", duration_min: 9, summary: "想妈妈"},
                   photos: [], location: null, status: "queued", errors: null, created_at: now.toISOString(),
                   saved_at: now.toISOString(), persisted: true};
        await JF.db.put("records", r);
        return r.id;
    }""", live.ids["c1"])
    page.evaluate("() => { JF.app.trigger('button'); }")
    wait_until(page, "async () => (await JF.db.all('records')).length === 0", timeout=20000)
    kind, fields = live.query(lambda: db.session.execute(
        select(Record.kind, Record.fields).where(Record.client_id == rid)).one())
    assert kind == "contact" and fields == {"counterpart": "mother", "direction": "child_to_parents", "channel": "phone",
                                            "duration_min": 9, "summary": "想妈妈"}
