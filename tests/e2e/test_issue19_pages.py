"""Issue 19 in Chromium at 360 px: role-appropriate app controls (from the server's capabilities), and the pages this
branch changed fit the screen with no CSP violation. SHOT_DIR=<folder> saves a screenshot of each page."""
from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Incident, School, Village

from .conftest import api_login, open_app, wait_until

pytestmark = pytest.mark.e2e


def _user(live, build, role, username, **kw):
    return live.query(lambda: build.user(role, db.session.scalar(select(School)), username=username, **kw).username)


def _controls(page) -> dict:
    return page.evaluate("""() => {
      const shown = (id) => { const el = document.getElementById(id); return !!el && !el.hidden && el.offsetParent !== null; };
      return {sync: shown('jf-sync'), outbox: shown('jf-nav-outbox'), waiting: shown('jf-waiting'),
              home: shown('jf-nav-home'), report: !!document.getElementById('jf-report')}; }""")


def test_app_controls_follow_the_roles_capabilities(live, context, page, build):
    page.set_viewport_size({"width": 360, "height": 740})
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    wait_until(page, "() => !!document.getElementById('jf-report')")
    assert _controls(page) == {"sync": True, "outbox": True, "waiting": True, "home": True, "report": True}
    page.click("#jf-logout")
    page.wait_for_url("**/login**")
    member = live.query(lambda: build.user("committee", db.session.scalar(select(School)),
                                           village=db.session.scalar(select(Village)), username="cunwei19").username)
    api_login(context, live, member)
    open_app(page, live)
    wait_until(page, "() => document.getElementById('jf-sync').hidden")
    c = _controls(page)
    assert not c["sync"] and not c["outbox"] and not c["waiting"] and c["home"]
    page.click("#jf-logout")
    page.wait_for_url("**/login**")
    api_login(context, live, _user(live, build, "admin", "admin19"))
    open_app(page, live)
    wait_until(page, "() => document.getElementById('jf-sync').hidden")
    c = _controls(page)
    assert not c["sync"] and not c["home"] and not c["report"]
    assert "我的学生" not in page.inner_text("body")


def test_changed_pages_fit_360px(live, context, page, build):
    principal = _user(live, build, "principal", "principal19")

    def incident():
        school = db.session.scalar(select(School))
        from app.clock import today_local, utcnow
        from app.models import Child, Term, User
        child = db.session.scalar(select(Child))
        for v, (lat, lon) in zip(db.session.scalars(select(Village).order_by(Village.id)), ((24.33, 109.42), (24.36, 109.47))):
            v.lat, v.lon = lat, lon  # the dashboard draws the villages' map
        today = today_local()
        db.session.add(Term(school_id=school.id, name="本学期", starts_on=today - timedelta(days=60),
                            ends_on=today + timedelta(days=60)))
        inc = Incident(client_id=str(uuid.uuid4()), school_id=school.id, child_id=child.id, category="illness",
                       description="发高烧", occurred_at=utcnow() - timedelta(minutes=5),
                       reported_by_id=db.session.scalar(select(User.id).where(User.username == "principal19")))
        db.session.add(inc)
        db.session.commit()
        from ..builders import ingest_ok, local_iso, visit
        teacher = db.session.scalar(select(User).where(User.username == "teachera"))
        ingest_ok(teacher, [visit(child, occurred_at=local_iso(timedelta(days=-d))) for d in (1, 2, 3)])
        db.session.commit()
        return inc.id
    inc_id = live.query(incident)
    api_login(context, live, principal)
    page.set_viewport_size({"width": 360, "height": 740})
    shots = os.environ.get("SHOT_DIR")
    for name, path in (("audit", "/audit/"), ("term_record", f"/reports/term-record?teacher={live.ids['teacher_id']}"),
                       ("incident", f"/incidents/{inc_id}"), ("review", "/review/"), ("dashboard", "/dashboard/"),
                       ("home_principal", "/"), ("child_photos", f"/children/{live.ids['c1']}/photos")):
        page.goto(live.url + path)
        assert page.locator("h1").count() >= 1, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        if shots:
            page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)
