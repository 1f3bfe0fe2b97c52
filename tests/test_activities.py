"""Group activities (活动): one record for many children, counted once per child, attendance only of one's own
children, guardian training as a duty, pages that name only the children the reader may see."""
import re
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from app.activities.services import month_news, school_counts, term_counts
from app.clock import CHINA, today_local
from app.duties.services import Window, counts_for, rules_for
from app.extensions import db
from app.models import Activity, ActivityPhoto, Child, DutyRule, Record
from app.photos.services import save_upload
from app.records.services import ingest

from . import imaging
from .builders import local_iso, post
from .conftest import login


def activity(children, type_="class_meeting", guardians=(), photos=(), **fields) -> dict:
    """An activity as the phone sends it: every child in `children` came, the guardians of `guardians` too."""
    g = {c.id for c in guardians}
    return {"id": str(uuid.uuid4()), "kind": "activity", "child_id": 0, "occurred_at": local_iso(timedelta(hours=-1)),
            "fields": {"type": type_, "title": "安全教育主题班会", "place": "三年级教室", "summary": "防溺水、交通安全",
                       "attendance": [{"child_id": c.id, "child": True, "guardian": c.id in g} for c in children], **fields},
            "photos": list(photos)}


def _class_of(build, world, n):
    """n more children paired with school A's teacher."""
    return [build.child(world["A"]["school"], world["A"]["v1"], world["A"]["teacher"], name=f"学生{i}") for i in range(n)]


def _month():
    today = today_local()
    return Window(today.replace(day=1), today + timedelta(days=1))


def test_an_activity_with_20_children_counts_once_per_child(app, build, world):
    teacher = world["A"]["teacher"]
    kids = _class_of(build, world, 20)
    a = activity(kids)
    assert [r["status"] for r in ingest(teacher, [a])] == ["created"]
    assert [r["status"] for r in ingest(teacher, [a])] == ["duplicate"]  # the phone sent it again
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
    rows = db.session.execute(select(Record.child_id, func.count()).where(Record.kind == "activity").group_by(Record.child_id)).all()
    assert sorted(c for c, _n in rows) == sorted(k.id for k in kids) and {n for _c, n in rows} == {1}
    # A second activity with 5 of them: they took part twice, but are reached once.
    ingest(teacher, [activity(kids[:5], type_="class_meeting")])
    counts = {c["type"]: c for c in term_counts(teacher.school_id, _month())}
    assert counts["class_meeting"]["activities"] == 2 and counts["class_meeting"]["children"] == 20
    assert counts["parents_meeting"] == {"type": "parents_meeting", "label": counts["parents_meeting"]["label"],
                                         "activities": 0, "children": 0, "guardians": 0}
    school = world["A"]["school"].id
    assert school_counts([school, world["B"]["school"].id], _month()) == {
        school: {"activities": 2, "children": 20}, world["B"]["school"].id: {"activities": 0, "children": 0}}


def test_attendance_only_of_children_the_author_may_see(app, world):
    teacher = world["A"]["teacher"]
    for stranger in (world["A"]["c2"], world["B"]["c1"]):  # another teacher's child; another school's
        [res] = ingest(teacher, [activity([world["A"]["c1"], stranger])])
        assert res["status"] == "rejected"
        assert "不能查看的学生" in res["errors"]["fields.attendance"]
    [res] = ingest(teacher, [activity([])])
    assert res["status"] == "rejected" and "签到表" in res["errors"]["fields.attendance"]
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 0
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0


def test_a_photo_of_the_sign_in_sheet_instead_of_ticks(app, client, world):
    teacher = world["A"]["teacher"]
    token = login(client, teacher.username)
    data = imaging.jpeg(seed=7)
    a = activity([], type_="guardian_training", photos=[imaging.sha(data)], signin_sheet=True)
    assert post(client, token, [a]).get_json()["results"][0]["status"] == "missing_photos"
    save_upload(teacher, imaging.sha(data), data)
    assert post(client, token, [a]).get_json()["results"][0]["status"] == "created"
    act = db.session.scalar(select(Activity))
    assert act.signin_sheet and [p.photo.sha256 for p in act.photos] == [imaging.sha(data)]
    [news] = month_news(teacher.school_id, _month())
    assert news["title"] == "安全教育主题班会" and news["photos"] == [imaging.sha(data)]
    # The principal sees the photo through the activity; another school's principal does not.
    login(client, world["A"]["principal"].username)
    assert client.get(f"/photos/{imaging.sha(data)}/thumb").status_code == 200
    login(client, world["B"]["principal"].username)
    assert client.get(f"/photos/{imaging.sha(data)}/thumb").status_code == 404


def test_guardian_training_is_a_duty_per_childs_guardian(app, build, world):
    teacher, school = world["A"]["teacher"], world["A"]["school"]
    c1, c3 = world["A"]["c1"], build.child(school, world["A"]["v1"], teacher, name="学生丙")
    db.session.add(DutyRule(school_id=school.id, kind="activity", period="quarter", times=1, season="all_year",
                            filter={"type": ["guardian_training"], "guardian": ["yes"]}, label="监护人培训"))
    db.session.commit()
    [rule] = [r for r in rules_for(school.id) if r.kind == "activity"]
    # Both children came; only c1's guardian did. A class meeting with c3's guardian does not count.
    ingest(teacher, [activity([c1, c3], type_="guardian_training", guardians=[c1]),
                     activity([c3], type_="class_meeting", guardians=[c3])])
    ids = select(Child.id).where(Child.id.in_([c1.id, c3.id]))
    counts = counts_for(ids, school.id, today_local())
    assert counts[c1.id][rule.key]["current"] == 1
    assert rule.key not in counts.get(c3.id, {})
    from app.duties.services import duties_for

    due = {(d["child"].id, d["rule"]) for d in duties_for(teacher, [c1, c3], today_local())}
    assert (c3.id, rule.key) in due and (c1.id, rule.key) not in due


def test_the_guardian_training_rule_can_be_set_on_the_settings_page(app):
    from app.duties.services import check_rule

    values, errors = check_rule("activity", "term", 1, "term", {"type": ["guardian_training"], "guardian": ["yes"]}, "")
    assert errors == [] and values["filter"] == {"type": ["guardian_training"], "guardian": ["yes"]}
    _v, errors = check_rule("activity", "term", 1, "term", {"mood": ["low"]}, "")
    assert errors


def test_pages_name_only_the_children_the_reader_may_see(app, client, world):
    c1, c2 = world["A"]["c1"], world["A"]["c2"]
    principal = world["A"]["principal"]
    a = activity([c1, c2], type_="parents_meeting", guardians=[c2])
    assert ingest(principal, [a])[0]["status"] == "created"
    act_id = db.session.scalar(select(Activity.id))
    login(client, principal.username)
    html = client.get(f"/activities/{act_id}").get_data(as_text=True)
    assert c1.name in html and c2.name in html and 'id="others"' not in html
    assert "安全教育主题班会" in client.get("/activities/").get_data(as_text=True)
    login(client, world["A"]["teacher"].username)  # c1's teacher: sees the meeting, names c1 only
    html = client.get(f"/activities/{act_id}").get_data(as_text=True)
    assert c1.name in html and c2.name not in html and 'id="others"' in html
    assert "安全教育主题班会" not in client.get("/activities/?mine=1").get_data(as_text=True)
    login(client, world["B"]["principal"].username)
    assert client.get(f"/activities/{act_id}").status_code == 404


def test_the_kinds_offer_the_activity_as_a_group_form(app, client, world):
    login(client, world["A"]["teacher"].username)
    kinds = {k["name"]: k for k in client.get("/api/v1/kinds").get_json()["kinds"]}
    assert kinds["activity"]["group"] is True and kinds["home_visit"]["group"] is False
    assert "attendance" in [f["type"] for f in kinds["activity"]["fields"]]
    assert client.get("/records/new/activity").status_code in (403, 404)


def test_the_month_s_activities_appear_in_the_monthly_report_by_type(client, build, world):
    """Reporting (step 13): the monthly report counts the month's activities by type, each child once."""
    import re

    from app.records.services import ingest

    from .conftest import login

    a = world["A"]
    kids = _class_of(build, world, 3)
    for _ in range(2):  # two parents' meetings with the same children: 2 activities, 3 children, 1 guardian
        assert ingest(a["teacher"], [activity(kids, "parents_meeting", guardians=kids[:1])])[0]["status"] == "created"
    db.session.commit()
    login(client, a["principal"].username)
    held = db.session.scalar(select(Activity.occurred_at))  # the month it was held in (China time)
    month = held.astimezone(CHINA).strftime("%Y-%m")
    html = client.get(f"/reports/monthly?month={month}").get_data(as_text=True)
    row = re.search(r'<tr data-type="parents_meeting">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "3", "1"]
    other = re.search(r'<tr data-type="lecture">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', other) == ["0", "0", "0"]
    assert not any(k.name in html for k in kids)


def test_a_parents_meeting_keeps_its_opinion_book_and_discussions_count_per_term(app, client, build, world):
    """Row 72: the parents' opinions of a meeting (家长意见记录簿) are kept with it and shown to who may read it; row 76:
    the discussion meetings with left-behind children (座谈会) are a type a term rule can ask four of."""
    from app.duties.services import check_rule

    principal, c1 = world["A"]["principal"], world["A"]["c1"]
    said = "希望学校每周安排一次视频通话\n作业辅导请多关心"
    assert ingest(principal, [activity([c1], type_="parents_meeting", guardians=[c1], opinions=said)])[0]["status"] == "created"
    act = db.session.scalar(select(Activity))
    assert act.opinions == said
    login(client, principal.username)
    html = client.get(f"/activities/{act.id}").get_data(as_text=True)
    assert "家长意见记录" in html and "希望学校每周安排一次视频通话" in html
    client.get("/lang/en")
    html = client.get(f"/activities/{act.id}").get_data(as_text=True)
    assert 'lang="en"' in html and "<dt>Parents' opinions</dt>" in html, re.findall(r"<dt>[^<]*</dt>", html)
    # Too long is refused like any long text, and nothing is stored.
    assert ingest(principal, [activity([c1], type_="parents_meeting", opinions="意" * 4001)])[0]["status"] == "rejected"
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1

    values, errors = check_rule("activity", "term", 4, "term", {"type": ["discussion"], "child": ["yes"]}, "座谈会")
    assert errors == [] and values["times"] == 4
    teacher = world["A"]["teacher"]
    for _ in range(2):
        assert ingest(teacher, [activity([c1], type_="discussion")])[0]["status"] == "created"
    counts = {c["type"]: c for c in term_counts(teacher.school_id, _month())}
    assert counts["discussion"]["activities"] == 2 and counts["discussion"]["children"] == 1
