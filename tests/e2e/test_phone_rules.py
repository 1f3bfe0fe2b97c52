"""The offline app offers what the server allows: the kinds a role may write, the due list while the roster's periods
last, the emergency categories and clocks the server publishes."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Record, School

from .conftest import api_login, fill_record, open_app, wait_until, wait_waiting

pytestmark = pytest.mark.e2e


def offline_card(page, context, live, username, child_id) -> list[str]:
    """Log in, open the app, go offline, reload, open a child's card: the kinds it offers to start."""
    api_login(context, live, username)
    open_app(page, live)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.evaluate("h => { location.hash = h }", f"#/child/{child_id}")
    page.wait_for_selector("#jf-card")
    return page.evaluate("() => [...document.querySelectorAll('a[data-kind]')].map(a => a.dataset.kind)")


def test_a_teachers_offline_app_does_not_offer_counselling(live, context, page):
    kinds = offline_card(page, context, live, live.ids["teacher"], live.ids["c1"])
    assert kinds == ["home_visit", "talk", "parent_call"]
    # Not even through an address typed or kept from before.
    page.evaluate("h => { location.hash = h }", f"#/new/counselling/{live.ids['c1']}")
    page.wait_for_selector("#jf-not-writable")
    assert page.locator("#jf-record-form").count() == 0


def test_a_counsellors_offline_app_offers_counselling_and_the_server_takes_it(live, context, page, build):
    username = live.query(lambda: build.user("counsellor", db.session.scalar(select(School)), username="counsellora").username)
    kinds = offline_card(page, context, live, username, live.ids["c1"])
    assert kinds == ["counselling"]
    fill_record(page, "counselling", live.ids["c1"])
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    assert live.query(lambda: [(r.kind, r.child_id) for r in db.session.scalars(select(Record))]) == [
        ("counselling", live.ids["c1"])]


def test_the_due_list_asks_for_a_refresh_once_the_rosters_periods_run_out(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    page.wait_for_selector("#jf-duties li")
    page.evaluate("""async () => {
        const r = await JF.db.kvGet('roster');
        r.duties.valid_until = new Date(Date.now() - 3 * 864e5).toISOString().slice(0, 10);
        await JF.db.kvSet('roster', r);
        await JF.app.reload();
    }""")
    page.wait_for_selector("#jf-duties-stale")
    assert page.locator("#jf-duties li").count() == 0


def test_emergency_categories_and_clocks_are_the_servers(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    rules = page.evaluate("async () => JF.db.kvGet('incident')")
    assert [c["target"] for c in rules["clocks"]] == ["guardian", "parents", "bureau"]
    # A category the server adds shows in the offline form without a new app.
    page.evaluate("""async () => {
        const rules = await JF.db.kvGet('incident');
        rules.categories.push({value: 'flood', label: '洪水'});
        await JF.db.kvSet('incident', rules);
        await JF.app.reload();
        location.hash = '#/incident/new';
    }""")
    page.wait_for_selector("#jf-incident-form")
    labels = page.evaluate("() => [...document.querySelectorAll('#jf-incident-form input[name=category]')].map(i => i.value)")
    assert labels == ["injury", "illness", "missing", "safety", "other", "flood"]
    wait_until(page, "() => document.body.dataset.ready === '1'")
