"""The bureau's pages: every figure checked against a small built county, sorting, the county total, the school's page
by class and by village, and no child's name or file anywhere in them."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.duties import services as duty
from app.duties.county import county_coverage, evidence
from app.extensions import db
from app.models import DutyRule, Record, Term, User
from app.verify.evidence import UNREMARKABLE_MAX_SCORE
from app.verify.services import confirm, return_for_correction

from .builders import ingest_ok, item, visit
from .conftest import login

CALLS = [{"counterpart": "mother", "direction": "child_to_parents", "channel": "video"},  # family_call
         {"counterpart": "mother", "direction": "teacher_to_family", "channel": "phone"},  # report_parents
         {"counterpart": "guardian", "direction": "teacher_to_family", "channel": "in_person"}]  # guardian_meeting


@pytest.fixture
def county(app, build):
    """Two schools of one county, both in term (a term around today, so no date makes a rule out of season).

    第一小学 (X): 三(1)班 x1 x2 x3 in village V1, 四(1)班 x4 in V2, x5 left the school. x1 has everything done (a visit the
    committee confirmed, a talk, the three calls); x2 a talk and a visit the principal returned; x3 a visit returned and
    corrected. 第二小学 (Y) asks for two talks a week and switched the guardian meeting off: y1 had two talks, y2 one."""
    today = clock.today_local()
    c = build.county("青溪县")
    x, y = build.school("第一小学", county=c), build.school("第二小学", county=c)
    for s in (x, y):
        db.session.add(Term(school_id=s.id, name="本学期", starts_on=today - timedelta(days=100),
                            ends_on=today + timedelta(days=100)))
    talk, meeting = (next(r for r in duty.DEFAULT_RULES if r.key == k) for k in ("talk", "guardian_meeting"))
    db.session.add(DutyRule(school_id=y.id, key="talk", kind="talk", period="week", times=2, season="term",
                            filter={}, label=str(talk.label)))
    db.session.add(DutyRule(school_id=y.id, key="guardian_meeting", kind=meeting.kind, period=meeting.period,
                            times=1, season=meeting.season, filter=meeting.filters, active=False))
    db.session.commit()
    v1, v2, vy = build.village(x, "东村"), build.village(x, "西村"), build.village(y, "南村")
    t, ty = build.user("teacher", x), build.user("teacher", y)
    principal, member = build.user("principal", x), build.user("committee", x, village=v1)
    kids = {k: build.child(x, v1, t, class_name="三(1)班") for k in ("x1", "x2", "x3")}
    kids["x4"] = build.child(x, v2, t, class_name="四(1)班")
    kids["x5"] = build.child(x, v1, t, class_name="三(1)班")
    kids |= {k: build.child(y, vy, ty, class_name="一(1)班") for k in ("y1", "y2")}
    at = f"{today.isoformat()}T00:05:00+08:00"
    at2 = f"{today.isoformat()}T00:10:00+08:00"
    v_x1, v_x2, v_x3 = ingest_ok(t, [visit(kids[k], occurred_at=at) for k in ("x1", "x2", "x3")])
    ingest_ok(t, [item("talk", kids["x1"], at), item("talk", kids["x2"], at), item("talk", kids["x5"], at)]
              + [item("contact", kids["x1"], at, fields=f | {"summary": "通话"}) for f in CALLS])
    ingest_ok(ty, [item("talk", kids["y1"], at), item("talk", kids["y1"], at2), item("talk", kids["y2"], at)])
    confirm(v_x1, member, True, None)
    return_for_correction(v_x2, principal, "请补充")
    return_for_correction(v_x3, principal, "请补充")
    db.session.commit()
    ingest_ok(t, [visit(kids["x3"], occurred_at=at, corrects_id=v_x3.id)])
    kids["x5"].left_on, kids["x5"].leave_reason = today, "transferred"  # after its talk: left today
    db.session.commit()
    x.county.name  # noqa: B018 - loaded while the session is open
    return {"x": x, "y": y, "kids": kids, "today": today, "bureau": build.user("bureau", None, county=c),
            "far": build.user("bureau", None, county=build.county("远方县"))}


def _cells(html: str, marker: str) -> dict[str, str]:
    """The figures of one table row (found by `marker` in its <tr>), as text: {column: "2 (50%)"}."""
    row = re.search(rf"<tr(?:(?!</tr>).)*?{re.escape(marker)}.*?</tr>", html, re.S).group(0)
    return {k: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", v)).strip()
            for k, v in re.findall(r'<td data-col="(\w+)">(.*?)</td>', row, re.S)}


def _expected_flagged(school_id: int) -> int:
    """The school's term visits as they stand that the evidence checks flagged, counted in Python."""
    return sum(1 for r in db.session.scalars(select(Record).where(Record.school_id == school_id,
                                                                  Record.kind == "home_visit"))
               if r.review_state != "corrected" and r.score > UNREMARKABLE_MAX_SCORE)


def test_county_figures_per_school(county):
    x, y, today = county["x"], county["y"], county["today"]
    got = county_coverage([x.id, y.id], today)
    assert got[x.id] == {"children": 4, "overdue": 3, "home_visit": 2, "talk": 2, "family_call": 1,
                         "report_parents": 1, "guardian_meeting": 1, "holiday_contact": None, "handover": None}
    # Y judged by its own rules: two talks a week (y1 only), no guardian meeting, everyone short of a family call.
    assert got[y.id] == {"children": 2, "overdue": 2, "home_visit": 0, "talk": 1, "family_call": 0,
                         "report_parents": 0, "guardian_meeting": None, "holiday_contact": None, "handover": None}
    # The same figures as the school's own dashboard counts them, class by class.
    for school in (x, y):
        rows = duty.coverage(school.id, today, "class", with_overdue=True)
        for key, n in got[school.id].items():
            assert (sum(r[key] for r in rows) if n is not None else None) == n, (school.name, key)
        assert got[school.id]["overdue"] == duty.overdue_children(school.id, today)[0]
    q = evidence([x.id, y.id], today)
    assert q[x.id] == {"visits": 3, "confirmed": 1, "flagged": _expected_flagged(x.id), "returned": 2}
    assert y.id not in q


def test_bureau_page_cell_by_cell_with_county_total(client, county):
    x, y = county["x"], county["y"]
    login(client, county["bureau"].username)
    html = client.get("/bureau/").get_data(as_text=True)
    flagged = _expected_flagged(x.id)
    assert _cells(html, f'data-school="{x.id}"') == {
        "overdue": "3 (75%)", "home_visit": "2 (50%)", "talk": "2 (50%)", "family_call": "1 (25%)",
        "report_parents": "1 (25%)", "guardian_meeting": "1 (25%)", "visits": "3",
        "confirmed": "1 (33%)", "flagged": f"{flagged} ({round(100 * flagged / 3)}%)", "returned": "2 (67%)"}
    assert _cells(html, f'data-school="{y.id}"') == {
        "overdue": "2 (100%)", "home_visit": "0 (0%)", "talk": "1 (50%)", "family_call": "0 (0%)",
        "report_parents": "0 (0%)", "guardian_meeting": "—", "visits": "0",
        "confirmed": "—", "flagged": "—", "returned": "—"}
    # The total: a duty's share is out of the children of the schools where it runs (the meeting: X's 4 only).
    assert _cells(html, 'class="total"') == {
        "overdue": "5 (83%)", "home_visit": "2 (33%)", "talk": "3 (50%)", "family_call": "1 (17%)",
        "report_parents": "1 (17%)", "guardian_meeting": "1 (25%)", "visits": "3",
        "confirmed": "1 (33%)", "flagged": f"{flagged} ({round(100 * flagged / 3)}%)", "returned": "2 (67%)"}
    assert re.search(r'<tr class="total"><th scope="row">全县合计</th><td>6</td>', html)
    assert "holiday_contact" not in html and "handover" not in html  # out of season everywhere: no column
    assert html.count("<polyline") == len(duty.DUTY_KINDS)  # the county's 12-week trend, a line per duty kind


def _order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-school="(\d+)">', html)]


def test_sorting_by_each_column_server_side(client, county):
    x, y = county["x"].id, county["y"].id
    login(client, county["bureau"].username)
    get = lambda q: client.get(f"/bureau/?{q}").get_data(as_text=True)  # noqa: E731
    assert _order(get("")) == [x, y]  # by name: 第一 before 第二
    assert _order(get("sort=name&dir=desc")) == [y, x]
    assert _order(get("sort=overdue&dir=desc")) == [y, x]  # 100 % before 75 %
    assert _order(get("sort=overdue&dir=asc")) == [x, y]
    assert _order(get("sort=children&dir=desc")) == [x, y]
    assert _order(get("sort=home_visit&dir=desc")) == [x, y]
    assert _order(get("sort=guardian_meeting&dir=asc")) == [x, y]  # Y has none: last either way
    assert _order(get("sort=guardian_meeting&dir=desc")) == [x, y]
    assert _order(get("sort=confirmed&dir=asc")) == [x, y]  # Y has no visits: last
    assert _order(get("sort=nonsense&dir=sideways")) == [x, y]  # unknown: by name
    html = get("sort=talk&dir=desc")
    assert 'href="/bureau/?sort=talk&amp;dir=asc" class="sorted"' in html  # the sorted column's link flips it
    assert 'href="/bureau/?sort=overdue&amp;dir=desc"' in html


def test_school_page_by_class_and_village_hides_small_groups(client, county):
    x = county["x"]
    login(client, county["bureau"].username)
    html = client.get(f"/bureau/schools/{x.id}").get_data(as_text=True)
    big = re.search(r"<tr><th scope=\"row\">三\(1\)班</th>.*?</tr>", html, re.S).group(0)
    assert "<td>3</td>" in big
    assert _cells(big, "三(1)班") == {
        "overdue": "2 (67%)", "home_visit": "2 (67%)", "talk": "2 (67%)", "family_call": "1 (33%)",
        "report_parents": "1 (33%)", "guardian_meeting": "1 (33%)", "visits": "3",
        "confirmed": "1 (33%)", "flagged": _cells(html, 'class="total"')["flagged"], "returned": "2 (67%)"}
    small = re.search(r"<tr><th scope=\"row\">四\(1\)班</th>.*?</tr>", html, re.S).group(0)
    assert "不足 3 人" in small and "data-col" not in small  # x4 alone: no figure at all
    total = _cells(html, 'class="total"')
    assert total["overdue"] == "3 (75%)" and total["visits"] == "3" and "全校合计" in html
    html = client.get(f"/bureau/schools/{x.id}?by=village").get_data(as_text=True)
    assert _cells(html, "东村")["home_visit"] == "2 (67%)"
    assert "不足 3 人" in re.search(r"<tr><th scope=\"row\">西村</th>.*?</tr>", html, re.S).group(0)


def test_no_child_name_or_file_on_any_bureau_page(client, county):
    login(client, county["bureau"].username)
    pages = ["/bureau/", "/bureau/?sort=overdue&dir=desc"] + [
        f"/bureau/schools/{county[s].id}?by={by}" for s in ("x", "y") for by in ("class", "village")]
    for url in pages:
        r = client.get(url)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, url
        for child in county["kids"].values():
            assert child.name not in html and child.student_no not in html, url
        assert "/children/" not in html and "/records/" not in html, url


def test_far_bureau_sees_none_of_the_county(client, county):
    login(client, county["far"].username)
    html = client.get("/bureau/").get_data(as_text=True)
    assert "第一小学" not in html and "第二小学" not in html and "data-school" not in html
    assert client.get(f"/bureau/schools/{county['x'].id}").status_code == 404
    login(client, county["bureau"].username)
    assert client.get("/bureau/schools/99999999").status_code == 404
    assert client.get(f"/bureau/schools/{county['x'].id}?by=teacher").status_code == 200  # unknown grouping: by class


def test_county_trend_is_the_sum_of_the_schools(county):
    x, y, today = county["x"], county["y"], county["today"]
    both = duty.trend([x.id, y.id], today)
    for i, week in enumerate(both):
        for kind in duty.DUTY_KINDS:
            assert week[kind] == duty.trend(x.id, today)[i][kind] + duty.trend(y.id, today)[i][kind]
    assert sum(w["talk"] for w in both) == 6  # x1, x2, x5 (left since, still written) and y's three


def test_county_page_reads_snapshots_and_refreshes_stale_ones(client, runner, county):
    from app.duties.county import MAX_AGE, figures_for
    from app.models import SchoolFigures

    x = county["x"]
    login(client, county["bureau"].username)
    assert _cells(client.get("/bureau/").get_data(as_text=True), f'data-school="{x.id}"')["talk"] == "2 (50%)"
    assert db.session.get(SchoolFigures, x.id).on_day == county["today"]  # the first view counted and stored it
    teacher = db.session.scalar(select(User).where(User.role == "teacher", User.school_id == x.id))
    ingest_ok(teacher, [item("talk", county["kids"]["x3"], f"{county['today'].isoformat()}T00:20:00+08:00")])
    db.session.commit()
    # Fresh: the snapshot is shown as it was (at most MAX_AGE old), even with no time to refresh anything.
    assert _cells(client.get("/bureau/").get_data(as_text=True), f'data-school="{x.id}"')["talk"] == "2 (50%)"
    old = db.session.get(SchoolFigures, x.id)
    old.computed_at -= MAX_AGE + timedelta(minutes=1)
    db.session.commit()
    figures, counted = figures_for([x.id], county["today"], budget_s=-1)  # no budget: the stale one is kept
    assert figures[x.id]["coverage"]["talk"] == 2 and counted == db.session.get(SchoolFigures, x.id).computed_at
    assert _cells(client.get("/bureau/").get_data(as_text=True), f'data-school="{x.id}"')["talk"] == "3 (75%)"
    result = runner.invoke(args=["county-figures"])
    assert result.exit_code == 0 and "schools counted" in result.output
    assert db.session.scalar(select(db.func.count()).select_from(SchoolFigures)) >= 2


def test_demo_gives_the_smaller_schools_work_that_differs(app, client):
    from app.demo import seed_demo, seed_demo_records, seed_small_school_records
    from app.models import School

    seed_demo()
    seed_demo_records()  # the main school's photos: the smaller schools' must not look like reused ones
    assert seed_small_school_records() == 35  # 8 + 2 visits, 12 + 4 talks, 3 children × 3 calls
    schools = {s.name: s for s in db.session.scalars(select(School))}
    today = clock.today_local()
    q = evidence([s.id for s in schools.values()], today)
    shimen, liulin = q[schools["石门乡小学"].id], q[schools["柳林镇中心小学"].id]
    assert (shimen["visits"], shimen["confirmed"], shimen["returned"], shimen["flagged"]) == (8, 3, 1, 1)
    assert (liulin["visits"], liulin["confirmed"], liulin["returned"], liulin["flagged"]) == (2, 1, 0, 1)
    figures = county_coverage([s.id for s in schools.values()], today)
    assert figures[schools["石门乡小学"].id]["overdue"] == 13  # three children have every duty done
    login(client, "bureau1", "demo12345")
    html = client.get("/bureau/").get_data(as_text=True)
    assert all(name in html for name in schools)


def test_the_term_page_adds_up_surveys_dropouts_attention_and_activities_without_names(client, world):
    """/bureau/care: per school this term, from the services the schools' own pages use; no child named."""
    import re

    from app.children.services import leave_child
    from app.clock import today_local

    from .builders import ingest_ok, visit
    from .conftest import login

    a = world["A"]
    ingest_ok(a["teacher"], [visit(a["c1"])])  # rates safety 需关注
    leave_child(a["c2"], today_local(), "dropped_out", a["principal"])
    db.session.commit()
    login(client, "bureaua")
    html = client.get("/bureau/care").get_data(as_text=True)

    def cells(school):
        row = re.search(rf'<tr data-school="{school.id}">(.*?)</tr>', html, re.S).group(1)
        return {k: v.strip() for k, v in re.findall(r'data-col="(\w+)">(.*?)</td>', row, re.S)}

    mine, other = cells(a["school"]), cells(world["B"]["school"])
    assert (mine["dropouts"], mine["attention_children"], mine["children"]) == ("1", "1", "1")  # c2 left
    assert (other["dropouts"], other["attention_children"]) == ("0", "0")
    for child in (a["c1"], a["c2"], world["B"]["c1"]):
        assert child.name not in html and child.student_no not in html
    login(client, "bureaufar")
    far = client.get("/bureau/care").get_data(as_text=True)
    assert a["school"].name not in far
    login(client, a["principal"].username)
    assert client.get("/bureau/care").status_code == 403
