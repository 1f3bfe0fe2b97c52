"""The principal's new pages of the file (classes and class teachers, the file with its history and leaving, the term
statistics table) on a 360 px phone: no horizontal scroll, no CSP violation."""
from __future__ import annotations

import os
from datetime import timedelta

from app.children.services import update_child
from app.clock import today_local
from app.extensions import db
from app.models import Term

from .conftest import api_login


def test_file_pages_fit_a_360px_phone(live, context, page, build, people):
    principal = build.user("principal", people["school"], username="principala")
    update_child(people["c1"], {"living_situation": "与奶奶同住，奶奶做饭，作业没人辅导", "parents_away": "father"}, principal)
    today = today_local()
    db.session.add(Term(school_id=people["school"].id, name="本学期", starts_on=today - timedelta(days=60),
                        ends_on=today + timedelta(days=60)))
    db.session.commit()
    api_login(context, live, principal.username)
    page.set_viewport_size({"width": 360, "height": 740})
    shots = os.environ.get("SHOT_DIR")
    for name, path in (("classes", "/children/classes"), ("child", f"/children/{people['c1'].id}"),
                       ("term_stats", "/reports/term-stats")):
        page.goto(live.url + path)
        assert page.locator("h1").count() >= 1, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        if shots:
            page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)
    page.goto(live.url + f"/children/{people['c1'].id}")
    assert page.locator("#file-history li").count() == 2
