"""The teacher's duties on the phone (roster counts plus the outbox, offline) and emergencies reported offline."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app import clock
from app.duties.services import phone_plan
from app.extensions import db
from app.models import Child, DutyRule, Guardian, Incident, Pairing, User

from ..builders import ingest_ok, item
from .conftest import api_login, fill_record, open_app, wait_for, wait_until, wait_waiting

pytestmark = pytest.mark.e2e

TALK = {"topic": "学习", "mood": "calm", "summary": "聊了学习"}
CALL = {"counterpart": "father", "direction": "teacher_to_family", "channel": "phone", "duration_min": 5, "summary": "通话"}


def _add(live, kind, fields, days_ago, n=1):
    """n counting records of the teacher about c1, `days_ago` days before today (China time), at noon."""
    def go():
        teacher = db.session.get(User, live.ids["teacher_id"])
        day = clock.today_local() - timedelta(days=days_ago)
        ingest_ok(teacher, [item(kind, live.ids["c1"], f"{day.isoformat()}T12:00:00+08:00", fields) for _ in range(n)])
        db.session.commit()
    live.query(go)


def _rule(live, kind, period, times):
    """The school's own setting of the policy default of this kind (its key is the kind's name)."""
    def go():
        school_id = db.session.get(User, live.ids["teacher_id"]).school_id
        db.session.add(DutyRule(school_id=school_id, key=kind, kind=kind, period=period, times=times))
        db.session.commit()
    live.query(go)


def _last_week(live, kind="talk", fields=TALK, n=1):
    _add(live, kind, fields, clock.today_local().weekday() + 1, n)  # last Sunday


def duties(page) -> list[tuple]:
    """The home screen's duty chips on the children's rows, in order: (kind, child id, status, chip text)."""
    return page.evaluate("""() => [...document.querySelectorAll('#jf-children [data-rule]')].map(a =>
        [a.dataset.kind, Number(a.dataset.child), a.dataset.status, a.textContent])""")


def go_home(page):
    page.evaluate("() => { location.hash = '#/'; }")
    page.wait_for_selector("#jf-duties")


def talk_due(page, live):
    return [d for d in duties(page) if d[0] == "talk" and d[1] == live.ids["c1"]]


def test_talk_recorded_offline_clears_its_duty_at_once_and_stays_cleared(live, context, page, offline_app):
    _last_week(live)  # last week's talk done: this week's is due, not overdue
    offline_app()
    go_home(page)
    [due] = talk_due(page, live)
    assert due[:3] == ["talk", live.ids["c1"], "due"] and due[3].endswith("日前")

    fill_record(page, "talk", live.ids["c1"])
    go_home(page)
    assert talk_due(page, live) == []  # at once, before any sync
    assert len(live.records()) == 1

    # Synced, but the roster cannot be fetched again yet: the acknowledged talk still counts, once.
    context.route("**/api/v1/roster", lambda route: route.abort())
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0")
    assert len(live.records()) == 2
    go_home(page)
    assert talk_due(page, live) == []
    assert page.evaluate("() => JF.app.state.acked.length") == 1

    context.unroute("**/api/v1/roster")
    page.click("#jf-sync")
    wait_until(page, "async (id) => { const c = (await JF.db.kvGet('roster')).duties.counts[id];"
               " return c && c.talk.current === 1 && JF.app.state.acked.length === 0; }", str(live.ids["c1"]))
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    go_home(page)
    assert talk_due(page, live) == []


def test_an_acknowledged_record_is_not_counted_twice(live, context, page):
    _rule(live, "talk", "week", 2)
    _last_week(live, n=2)
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    fill_record(page, "talk", live.ids["c1"])
    go_home(page)
    assert talk_due(page, live)[0][2] == "due"  # one of two
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async (id) => (await JF.db.all('records')).length === 0 && JF.app.state.acked.length === 0"
               " && (await JF.db.kvGet('roster')).duties.counts[id].talk.current === 1", str(live.ids["c1"]))
    go_home(page)
    assert talk_due(page, live)[0][2] == "due"  # the roster's 1, not 1 + the acknowledged 1


def _visit_talk_and_monthly_call(live):
    """The policy's visit, talk and monthly report to the parents (any call), the other defaults switched off."""
    def go():
        school_id = db.session.get(User, live.ids["teacher_id"]).school_id
        for key in ("family_call", "guardian_meeting", "holiday_contact", "handover"):
            db.session.add(DutyRule(school_id=school_id, key=key, kind="contact", period="week", active=False))
        db.session.add(DutyRule(school_id=school_id, key="report_parents", kind="contact", period="month",
                                season="all_year", filter={}))
        db.session.commit()
    live.query(go)


def test_overdue_first_and_marked_windows_recomputed_when_the_roster_is_stale(live, context, page):
    _visit_talk_and_monthly_call(live)
    _add(live, "contact", CALL, clock.today_local().day + 2)  # last month's call: this month's is due
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    go_home(page)
    rows = duties(page)
    c1 = live.ids["c1"]
    end_of_month = (clock.today_local().replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    # Overdue first (visit and talk, by due date), then the call due at the end of the month.
    assert [r[2] for r in rows] == ["overdue", "overdue", "due"] and {r[0] for r in rows[:2]} == {"home_visit", "talk"}
    assert rows[2][:2] == ["contact", c1]
    assert [r[3].split(" ")[-1] for r in rows] == ["逾期", "逾期", f"{end_of_month.month}月{end_of_month.day}日前"]
    assert page.locator("#jf-children a[data-status=overdue][href='#/new/talk/%d']" % c1).count() == 1
    assert page.inner_text("#jf-duties-count") == "本期待办 3" and page.inner_text("#jf-duties-late") == "逾期 2"

    # Everything counted: nothing owed.
    page.evaluate("""async () => {
        const r = await JF.db.kvGet('roster');
        const counts = r.duties.counts;
        const all = {current: 9, previous: 9};
        r.duties.counts = Object.fromEntries(r.children.map((c) => [String(c.id), {home_visit: all, talk: all, report_parents: all}]));
        await JF.db.kvSet('roster', r);
        await JF.app.reload();
        r.duties.counts = counts;
        await JF.db.kvSet('roster', r);
    }""")
    assert page.inner_text("#jf-duties-done") == "本期都完成了"

    # A roster fetched a week ago, when last week's talk had been done: the phone's week has moved on, so last week
    # becomes the previous period (done) and this week's talk is due, not overdue. The periods are the server's.
    def plan_a_week_ago():
        teacher = db.session.get(User, live.ids["teacher_id"])
        return phone_plan(teacher.school_id, clock.today_local() - timedelta(days=7),
                               select(Child.id).where(Child.id == c1))
    old = live.query(plan_a_week_ago)
    for counts in old["counts"].values():
        counts.pop("talk", None)
    old["counts"].setdefault(str(c1), {})["talk"] = {"current": 1, "previous": 0}
    page.evaluate("""async (duties) => {
        const r = await JF.db.kvGet('roster');
        r.duties = duties;
        await JF.db.kvSet('roster', r);
        await JF.app.reload();
    }""", old)
    assert talk_due(page, live)[0][2] == "due"


def _report(page, child_id, category="injury"):
    page.click("#jf-report")
    page.wait_for_selector("#jf-incident-form")
    page.select_option("#i-child", str(child_id))
    page.check(f"#jf-incident-form input[name=category][value={category}]")
    page.fill("#i-desc", "课间在操场摔倒，额头出血")
    when = datetime.fromisoformat(page.input_value("#i-time"))
    page.click("#jf-incident-save")
    page.wait_for_selector("#jf-clocks")
    return when


def incidents(live):
    return live.query(lambda: db.session.scalars(select(Incident)).all())


def test_emergency_reported_offline_syncs_once_with_its_deadlines(live, context, page, offline_app):
    live.query(lambda: (db.session.add(Guardian(child_id=live.ids["c1"], role="father", name="父亲甲", phone="13700000001")),
                        db.session.commit()))
    offline_app()
    when = _report(page, live.ids["c1"])

    assert page.get_attribute("#jf-incident-status", "data-status") == "queued"
    clocks = page.evaluate("() => [...document.querySelectorAll('#jf-clocks li')].map(li => [li.dataset.clock, li.querySelector('strong').textContent.slice(-5)])")
    assert clocks == [[k, (when + timedelta(minutes=m)).strftime("%H:%M")] for k, m in (("guardian", 30), ("parents", 60), ("bureau", 120))]
    assert page.locator("a.tel[href='tel:13900000000']").count() == 1  # the guardian
    assert page.locator("a.tel[href='tel:13700000001']").count() == 1  # the father
    wait_waiting(page, 1)
    assert incidents(live) == []

    context.set_offline(False)
    wait_until(page, "() => document.getElementById('jf-incident-status').dataset.status === 'sent'", timeout=30000)
    wait_waiting(page, 0)
    page.evaluate("() => Promise.all([JF.outbox.flush(), JF.outbox.flush(), JF.app.trigger('button')])")
    rows = incidents(live)
    assert len(rows) == 1 and rows[0].category == "injury" and rows[0].child_id == live.ids["c1"]
    assert page.get_attribute("#jf-incident-status a", "href") == f"/incidents/{rows[0].id}"
    go_home(page)
    assert page.get_attribute("#jf-incidents li .chip", "class") == "chip"


def test_a_lost_answer_is_resent_and_counted_once(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    posts, answered = [], []

    def lose_first_answer(route):
        posts.append(1)
        if len(posts) == 1:
            route.fetch()  # the server stores it; the phone never hears so
            answered.append(1)  # only now is the row there (checking on `posts` raced the server)
            route.abort()
        else:
            route.continue_()
    context.route("**/api/v1/incidents", lose_first_answer)
    _report(page, live.ids["c1"], "illness")
    wait_for(page, lambda: answered, timeout=10000)
    assert posts and answered and len(incidents(live)) == 1
    page.click("#jf-sync")
    wait_until(page, "() => document.getElementById('jf-incident-status').dataset.status === 'sent'")
    assert len(posts) >= 2 and len(incidents(live)) == 1


def test_emergency_about_a_child_no_longer_theirs_is_kept_with_the_reason(live, context, page):
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    _report(page, live.ids["c1"], "missing")
    # Meanwhile the principal paired the child with another teacher.
    live.query(lambda: (db.session.execute(delete(Pairing).where(Pairing.child_id == live.ids["c1"])), db.session.commit()))
    context.set_offline(False)
    wait_until(page, "() => document.getElementById('jf-incident-status').dataset.status === 'rejected'", timeout=30000)
    assert "请选择您负责的学生" in page.inner_text("#jf-incident-status")
    assert live.query(lambda: db.session.scalar(select(func.count()).select_from(Incident))) == 0
    kept = page.evaluate("async () => (await JF.db.kvGet('incidents')).map(x => [x.status, x.description])")
    assert kept == [["rejected", "课间在操场摔倒，额头出血"]]
    go_home(page)
    assert page.get_attribute("#jf-incidents li .chip", "class") == "chip err"
    page.click("#jf-incidents a")
    page.click("#jf-incident-status a")
    assert page.input_value("#i-desc") == "课间在操场摔倒，额头出血"
    assert "请选择您负责的学生" in page.inner_text("#jf-incident-error")
