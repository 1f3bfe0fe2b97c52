"""The offline app offers what the server allows: the kinds a role may write, the due list while the roster's periods
last, the emergency categories and clocks the server publishes."""
import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Notification, Record, School

from .conftest import api_login, fill_record, fill_required, open_app, wait_until, wait_waiting

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
    assert kinds == ["home_visit", "talk", "contact", "handover", "survey", "follow_up"]  # the survey opens its own form
    # Not even through an address typed or kept from before.
    page.evaluate("h => { location.hash = h }", f"#/new/counselling/{live.ids['c1']}")
    page.wait_for_selector("#jf-not-writable")
    assert page.locator("#jf-record-form").count() == 0


def test_a_counsellors_offline_app_offers_counselling_and_the_server_takes_it(live, context, page, build):
    username = live.query(lambda: build.user("counsellor", db.session.scalar(select(School)), username="counsellora").username)
    kinds = offline_card(page, context, live, username, live.ids["c1"])
    assert kinds == ["counselling", "follow_up"]
    fill_record(page, "counselling", live.ids["c1"])
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    assert live.query(lambda: [(r.kind, r.child_id) for r in db.session.scalars(select(Record))]) == [
        ("counselling", live.ids["c1"])]


def test_the_counselling_risk_level_reaches_the_phone_and_high_alerts_the_principal(live, context, page, build, tmp_path):
    username = live.query(lambda: build.user("counsellor", db.session.scalar(select(School)), username="counsellorb").username)
    principal = live.query(lambda: build.user("principal", db.session.scalar(select(School)), username="principalb").id)
    page.set_viewport_size({"width": 360, "height": 780})
    api_login(context, live, username)
    open_app(page, live)
    page.evaluate("h => { location.hash = h }", f"#/new/counselling/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    # The field comes from /api/v1/kinds, with its default chosen: no change to the app was needed.
    assert page.evaluate("() => [...document.querySelectorAll('input[name=risk]')].map(i => i.value)") == [
        "none", "low", "medium", "high"]
    assert page.is_checked("input[name=risk][value=none]")
    fill_required(page)
    page.check("input[name=risk][value=high]")
    page.screenshot(path=str(tmp_path / "counselling-risk-360.png"), full_page=True)
    page.click("#jf-save")
    wait_until(page, "h => location.hash === h", f"#/child/{live.ids['c1']}")
    wait_waiting(page, 0, timeout=30000)
    assert live.query(lambda: [r.fields["risk"] for r in db.session.scalars(select(Record))]) == ["high"]
    assert live.query(lambda: [(n.user_id, n.kind) for n in db.session.scalars(select(Notification))]) == [
        (principal, "counselling")]


def test_the_due_list_asks_for_a_refresh_once_the_rosters_periods_run_out(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    page.wait_for_selector("#jf-children [data-rule]")
    page.evaluate("""async () => {
        const r = await JF.db.kvGet('roster');
        r.duties.valid_until = new Date(Date.now() - 3 * 864e5).toISOString().slice(0, 10);
        await JF.db.kvSet('roster', r);
        await JF.app.reload();
    }""")
    page.wait_for_selector("#jf-duties-stale")
    assert page.locator("#jf-children [data-rule]").count() == 0


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
    assert labels == ["injury", "illness", "missing", "safety", "crisis", "other", "flood"]
    wait_until(page, "() => document.body.dataset.ready === '1'")


def test_the_online_form_draws_with_the_apps_signature_pad(live, context, page):
    """One pad (static/js/signature.js) for both: on the web page the drawing is sent as a PNG with the form."""
    from app.models import Photo
    from app.records.kinds import HOME_VISIT

    from .conftest import form_login

    page.goto(live.url + "/login")
    form_login(page, live.ids["teacher"])
    page.goto(live.url + "/records/new/home_visit")
    page.select_option("#child_id", str(live.ids["c1"]))
    for f in HOME_VISIT.fields:
        if f.required and f.type in ("text", "longtext"):
            page.fill(f"#f-{f.name}", "测试内容")
        elif f.required and f.type == "enum":
            page.check(f"input[name={f.name}][value={f.choices[0][0]}]")
    canvas = page.locator(".sigpad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.7, steps=12)
    page.mouse.up()
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector(".flash.ok, .flash")

    def stored():
        r = db.session.scalar(select(Record))
        p = db.session.scalar(select(Photo).where(Photo.sha256 == r.fields.get("signature")))
        return r.fields.get("signature") is not None, p and p.kind, p and p.width
    assert live.query(stored) == (True, "signature", 600)


def test_the_phones_due_list_is_the_servers(live, context, page):
    """The due list the phone computes from the roster's periods and counts equals app/duties/services.py's."""
    from app.duties import services as duty
    from app.models import Child, User

    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    fill_record(page, "talk", live.ids["c1"])
    wait_waiting(page, 0, timeout=30000)
    page.click("#jf-sync")
    wait_until(page, "() => JF.app.state.acked.length === 0 && JF.app.state.records.length === 0")

    def server_rows():
        teacher = db.session.get(User, live.ids["teacher_id"])
        children = db.session.scalars(select(Child).where(Child.id == live.ids["c1"])).all()
        return sorted([r["kind"], r["child"].id, r["status"], r["due_on"].isoformat() if r["due_on"] else ""]
                      for r in duty.duties_for(teacher, children, clock.today_local()))
    phone = page.evaluate("() => JF.home.duties().map((x) => [x.kind, x.c.id, x.status, x.end])")
    assert sorted(phone) == server_rows() and "talk" not in {r[0] for r in phone}


def test_the_phones_due_list_is_the_servers_on_a_term_day_and_a_holiday(live, context, page):
    """On 18 November 2026 (term) and 12 August 2026 (summer holiday), with the roster's duty section the server made
    for that day, the phone lists exactly what duties_for() lists; a record the phone holds counts toward every rule
    whose filter it matches, and the server agrees once it has the record too."""
    from datetime import date

    from app.duties import services as duty
    from app.models import Child, User

    from ..builders import ingest_ok, item

    c1 = live.ids["c1"]
    call = lambda when, direction: item("contact", c1, when, {"direction": direction, "counterpart": "mother",  # noqa: E731
                                                             "channel": "phone", "duration_min": 5, "summary": "s"})

    def ingest(*items):
        live.query(lambda: (ingest_ok(db.session.get(User, live.ids["teacher_id"]), list(items)), db.session.commit()))

    ingest(call("2026-11-16T18:00:00+08:00", "child_to_parents"), call("2026-08-03T10:00:00+08:00", "teacher_to_family"))

    def server(day):
        def go():
            teacher = db.session.get(User, live.ids["teacher_id"])
            children = db.session.scalars(select(Child).where(Child.id == c1)).all()
            plan = duty.phone_plan(teacher.school_id, day, select(Child.id).where(Child.id == c1))
            rows = [[r["rule"], r["child"].id, r["status"], r["due_on"].isoformat()]
                    for r in duty.duties_for(teacher, children, day)]
            return plan, rows
        return live.query(go)

    def phone(day, plan, acked=()):
        return page.evaluate("""([day, plan, acked]) => {
            JF.app.state.roster.duties = plan; JF.app.state.records = []; JF.app.state.acked = acked;
            return JF.home.duties(day).map((x) => [x.rule, x.c.id, x.status, x.end]);
        }""", [day.isoformat(), plan, list(acked)])

    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    seen = {}
    for day in (date(2026, 11, 18), date(2026, 8, 12)):
        plan, rows = server(day)
        on_phone = phone(day, plan)
        print(f"\n{day} server: {rows}\n{day} phone:  {on_phone}")
        assert on_phone == rows
        seen[day] = rows
    # The holiday: no term-time rule, only the holiday contact and the quarterly guardian meeting (all year).
    assert {r[0] for r in seen[date(2026, 8, 12)]} == {"holiday_contact", "guardian_meeting"}
    assert "family_call" not in {r[0] for r in seen[date(2026, 11, 18)]}  # the child's call on the 16th counted
    assert {"talk", "report_parents", "home_visit"} <= {r[0] for r in seen[date(2026, 11, 18)]}
    # Records the server has not counted yet: a teacher's call clears the monthly report, not the weekly family call
    # (already done); a calm talk clears the talk. The phone matches "field value in the rule's list", nothing more.
    day = date(2026, 11, 18)
    plan, _rows = server(day)
    held = [{"kind": "contact", "child_id": c1, "occurred_at": "2026-11-17T02:00:00Z",
             "fields": {"direction": "teacher_to_family", "counterpart": "father", "channel": "phone"}},
            {"kind": "talk", "child_id": c1, "occurred_at": "2026-11-17T03:00:00Z", "fields": {"mood": "calm"}}]
    on_phone = phone(day, plan, held)
    assert not {"talk", "report_parents"} & {r[0] for r in on_phone}
    ingest(call("2026-11-17T10:00:00+08:00", "teacher_to_family"), item("talk", c1, "2026-11-17T11:00:00+08:00"))
    assert on_phone == server(day)[1]
