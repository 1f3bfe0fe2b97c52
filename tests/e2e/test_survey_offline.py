"""The start-of-term survey on the phone: filled offline with a photo, synced when back online, applied by the
principal; and two phones proposing the same field, shown to the principal as a conflict."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import today_local
from app.extensions import db
from app.models import Child, Pairing, SurveyChange, Term

from .. import imaging
from .conftest import AUTO_PIN, api_login, open_app, wait_for, wait_until, wait_waiting, watch

pytestmark = pytest.mark.e2e


@pytest.fixture
def principal(build, people):
    today = today_local()
    db.session.add(Term(school_id=people["school"].id, name="本学期", starts_on=today - timedelta(days=10),
                        ends_on=today + timedelta(days=60)))
    db.session.commit()
    return build.user("principal", people["school"], username="principala")


def changes(live):
    return live.query(lambda: [(c.field, c.base, c.new, c.state) for c in db.session.scalars(select(SurveyChange).order_by(SurveyChange.id))])


def open_survey(page, child_id):
    page.evaluate("h => { location.hash = h }", f"#/survey/{child_id}")
    page.wait_for_selector("#jf-survey-form")


def review_page(browser, live, problems):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 780})
    ctx.add_init_script(AUTO_PIN)  # types the PIN at the lock screen
    api_login(ctx, live, "principala")
    page = ctx.new_page()
    watch(page, problems)
    page.goto(live.url + "/surveys/")
    return ctx, page


def test_survey_offline_then_sync_then_the_principal_applies(live, browser, context, page, offline_app, principal, problems):
    c1 = live.ids["c1"]
    offline_app()
    wait_until(page, "() => !!document.querySelector('#jf-survey li[data-child]')")
    open_survey(page, c1)
    assert page.input_value("[name='guardian.phone']") == "13900000000"  # prefilled from the file
    page.fill("[name='living_situation']", "奶奶做饭，周末去姑姑家")
    page.fill("[name='guardian.phone']", "13911112222")
    page.set_input_files("#jf-photos", [{"name": "c.jpg", "mimeType": "image/jpeg", "buffer": imaging.jpeg(31)}])
    wait_until(page, "() => !!document.querySelector('#jf-survey-photo img')", timeout=30000)
    page.click("#jf-save")
    wait_until(page, "h => location.hash === h", f"#/child/{c1}")
    wait_waiting(page, 1)
    assert changes(live) == []  # offline: nothing reached the school

    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_for(page, lambda: len(changes(live)) == 3)
    got = {f: (b, n, s) for f, b, n, s in changes(live)}
    assert got["living_situation"] == (None, "奶奶做饭，周末去姑姑家", "pending")
    assert got["guardian.phone"] == ("13900000000", "13911112222", "pending")
    assert got["photo"][2] == "pending"
    # Synced: the roster says surveyed, the home screen no longer lists the child.
    page.evaluate("h => { location.hash = h }", "#/")
    wait_until(page, "() => !document.querySelector('#jf-survey li[data-child]')")

    ctx, review = review_page(browser, live, problems)
    try:
        assert review.locator(".change").count() == 3 and review.locator(".conflict").count() == 0
        review.click(".apply-all")
        review.wait_for_selector("#no-surveys")
    finally:
        ctx.close()
    child = live.query(lambda: db.session.get(Child, c1))
    assert child.living_situation == "奶奶做饭，周末去姑姑家" and child.photo_sha256 == got["photo"][1]
    assert live.query(lambda: db.session.get(Child, c1).entrusted_guardian.phone) == "13911112222"


def test_two_phones_proposing_one_field_are_shown_as_a_conflict(live, browser, page, context, principal, problems):
    c1 = live.ids["c1"]
    live.query(lambda: (db.session.add(Pairing(teacher_id=db.session.scalar(
        select(Pairing.teacher_id).where(Pairing.child_id == live.ids["c2"])), child_id=c1)), db.session.commit()))
    other_ctx = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 780})
    other_ctx.add_init_script(AUTO_PIN)  # types the PIN at the lock screen
    try:
        other = other_ctx.new_page()
        watch(other, problems)
        for ctx, p, who, text in ((context, page, live.ids["teacher"], "数学进步明显"), (other_ctx, other, live.ids["other"], "语文需要辅导")):
            api_login(ctx, live, who)
            open_app(p, live)
            open_survey(p, c1)
            p.fill("[name='study']", text)
        page.click("#jf-save")
        other.click("#jf-save")
        wait_for(page, lambda: len(changes(live)) == 2)
    finally:
        other_ctx.close()
    ctx, review = review_page(browser, live, problems)
    try:
        assert review.locator(".conflict-twin").count() == 2
        review.click(".apply-all >> nth=0")  # apply-all never chooses between two
        assert review.locator(".conflict-twin").count() == 2
        review.click("li.change:has-text('语文需要辅导') button.apply")
        review.wait_for_selector("#no-surveys")
        review.set_viewport_size({"width": 360, "height": 780})
        assert review.evaluate("() => document.documentElement.scrollWidth") <= 360
    finally:
        ctx.close()
    assert live.query(lambda: db.session.get(Child, c1).study) == "语文需要辅导"
    assert sorted(s for *_x, s in changes(live)) == ["applied", "superseded"]
