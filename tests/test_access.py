"""The access matrix: every route × every role, including children of another village and another school."""
from datetime import timedelta

import pytest

from app.access import children_query
from app.extensions import db
from app.photos.services import save_upload

from . import imaging
from .builders import ingest_ok, item, local_iso
from .conftest import Builders, Snapshot, build_world, fresh_database, login, make_app

ROLES = ["teacher", "committee", "principal", "counsellor", "admin"]

# (url template, {role: expected status}); {c1} is paired with the teacher and in the committee's village,
# {c2} is in the other village with another teacher, {b1} belongs to school B.
MATRIX = [
    ("/", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=200)),
    ("/children/", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=403)),
    ("/children/{c1}", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=403)),
    ("/children/{c2}", dict(teacher=404, committee=404, principal=200, counsellor=200, admin=403)),
    ("/children/{b1}", dict(teacher=404, committee=404, principal=404, counsellor=404, admin=403)),
    ("/children/999999", dict(teacher=404, committee=404, principal=404, counsellor=404, admin=403)),
    ("/children/{c1}/card", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=403)),
    ("/children/{c2}/card", dict(teacher=404, committee=404, principal=200, counsellor=200, admin=403)),
    ("/children/{b1}/card", dict(teacher=404, committee=404, principal=404, counsellor=404, admin=403)),
    ("/children/new", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{c1}/edit", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{b1}/edit", dict(teacher=403, committee=403, principal=404, counsellor=403, admin=403)),
    ("/children/{c1}/guardians/new", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{b1}/guardians/new", dict(teacher=403, committee=403, principal=404, counsellor=403, admin=403)),
    ("/children/{c1}/pairings", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{b1}/pairings", dict(teacher=403, committee=403, principal=404, counsellor=403, admin=403)),
    ("/children/{c1}/consent", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/import", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/import/template.xlsx", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/audit/", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/api/v1/session", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=200)),
    ("/confirm/", dict(teacher=403, committee=200, principal=403, counsellor=403, admin=403)),
    ("/review/", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/records/returned", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/villages/", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=200)),
    ("/api/v1/confirm/secret", dict(teacher=404, committee=200, principal=404, counsellor=404, admin=404)),
    ("/duties/", dict(teacher=200, committee=403, principal=403, counsellor=403, admin=403)),
    ("/dashboard/", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/duties/settings", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/incidents/", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/incidents/new", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/reports/roster.xlsx", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=403)),
    ("/reports/monthly", dict(teacher=403, committee=403, principal=200, counsellor=200, admin=403)),
    ("/reports/monthly.xlsx", dict(teacher=403, committee=403, principal=200, counsellor=200, admin=403)),
    ("/reports/children/{c1}/archive", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=403)),
    ("/reports/children/{c2}/archive", dict(teacher=404, committee=404, principal=200, counsellor=200, admin=403)),
    ("/reports/children/{b1}/archive", dict(teacher=404, committee=404, principal=404, counsellor=404, admin=403)),
    ("/reports/term-record", dict(teacher=200, committee=403, principal=200, counsellor=403, admin=403)),
    ("/notifications/", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=200)),
    ("/api/v1/notifications", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=200)),
    # A counselling note about c1 with a photo: the principal sees that it took place, only counsellors its content.
    ("/records/{cr}", dict(teacher=404, committee=404, principal=200, counsellor=200, admin=404)),
    ("/photos/{cp}/thumb", dict(teacher=404, committee=404, principal=404, counsellor=200, admin=404)),
    ("/photos/{cp}/full", dict(teacher=404, committee=404, principal=404, counsellor=200, admin=404)),
    # The teacher's home visit the principal returned: only its author may open the correction form.
    ("/records/new/home_visit?corrects={rv}", dict(teacher=200, committee=403, principal=404, counsellor=404, admin=403)),
    ("/records/{rv}", dict(teacher=200, committee=200, principal=200, counsellor=200, admin=404)),
    # Group activities: {a1} by the teacher with c1, {a2} by the other teacher with c2 only, {ab} in school B.
    ("/activities/", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/activities/{a1}", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/activities/{a2}", dict(teacher=404, committee=403, principal=200, counsellor=200, admin=403)),
    ("/activities/{ab}", dict(teacher=404, committee=403, principal=404, counsellor=404, admin=403)),
    ("/activities/999999", dict(teacher=404, committee=403, principal=404, counsellor=404, admin=403)),
    # Categories and plans (step 13): the school's staff, not the village; the teacher only their children's.
    ("/care/categories", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{c1}/categories", dict(teacher=403, committee=403, principal=200, counsellor=403, admin=403)),
    ("/children/{b1}/categories", dict(teacher=403, committee=403, principal=404, counsellor=403, admin=403)),
    ("/children/{c1}/plan", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/children/{c2}/plan", dict(teacher=404, committee=403, principal=200, counsellor=200, admin=403)),
    ("/children/{b1}/plan", dict(teacher=404, committee=403, principal=404, counsellor=404, admin=403)),
    # Step 13: the needs-attention list and follow-ups ({fu} about c1 by the teacher, {fu2} about c2 by the other
    # teacher, {fub} about school B's child).
    ("/attention/", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/follow-ups/{fu}", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
    ("/follow-ups/{fu2}", dict(teacher=404, committee=403, principal=200, counsellor=200, admin=403)),
    ("/follow-ups/{fub}", dict(teacher=404, committee=403, principal=404, counsellor=404, admin=403)),
    ("/follow-ups/999999", dict(teacher=404, committee=403, principal=404, counsellor=404, admin=403)),
    ("/records/new/follow_up", dict(teacher=200, committee=403, principal=200, counsellor=200, admin=403)),
]


def _ids(world):
    return {"c1": world["A"]["c1"].id, "c2": world["A"]["c2"].id, "b1": world["B"]["c1"].id}


def _counselling_note(world) -> dict:
    """A counselling note with a photo, written by school A's counsellor about c1."""
    counsellor = world["A"]["counsellor"]
    data = imaging.jpeg(seed=31)
    save_upload(counsellor, imaging.sha(data), data)
    [rec] = ingest_ok(counsellor, [item("counselling", world["A"]["c1"], local_iso(timedelta(hours=-1)),
                                        photos=[imaging.sha(data)])])
    return {"cr": rec.id, "cp": imaging.sha(data)}


def _activities(world) -> dict:
    """A class meeting of c1 by the teacher, one of c2 by the other teacher, and one in school B."""
    from app.models import Activity

    from .test_activities import activity

    made = [(world["A"]["teacher"], world["A"]["c1"]), (world["A"]["other_teacher"], world["A"]["c2"]),
            (world["B"]["teacher"], world["B"]["c1"])]
    ids = []
    for author, child in made:
        a = activity([child])
        ingest_ok_activity(author, a)
        ids.append(db.session.scalar(db.select(Activity.id).where(Activity.client_id == a["id"])))
    return dict(zip(("a1", "a2", "ab"), ids))


def ingest_ok_activity(author, a) -> None:
    from app.records.services import ingest

    assert ingest(author, [a])[0]["status"] == "created"


def _follow_ups(world) -> dict:
    """Follow-ups about c1 (by the teacher), c2 (by the other teacher) and school B's child."""
    from app.models import FollowUp

    due = {"what": "再次家访", "due_on": "2030-01-01"}
    out = {}
    for key, school, author, child in (("fu", "A", "teacher", "c1"), ("fu2", "A", "other_teacher", "c2"),
                                       ("fub", "B", "teacher", "c1")):
        [rec] = ingest_ok(world[school][author], [item("follow_up", world[school][child], local_iso(), fields=due)])
        out[key] = db.session.scalar(db.select(FollowUp.id).where(FollowUp.record_id == rec.id))
    return out


def _returned_visit(world) -> dict:
    """A home visit by school A's teacher about c1, returned by the principal."""
    from app.verify.services import return_for_correction

    [rec] = ingest_ok(world["A"]["teacher"], [item("home_visit", world["A"]["c1"], local_iso(timedelta(hours=-1)))])
    return_for_correction(rec, world["A"]["principal"], "请补充")
    db.session.commit()
    return {"rv": rec.id}


@pytest.fixture(scope="module")
def matrix_world(tmp_path_factory):
    """The world built once for every matrix case (building it per case took most of the matrix's time)."""
    with fresh_database(make_app(tmp_path_factory.mktemp("matrix"))) as app:
        w = build_world(Builders())
        usernames = {role: w["A"][role].username for role in ROLES}
        ids = _ids(w) | _counselling_note(w) | _returned_visit(w) | _activities(w) | _follow_ups(w)
        snapshot = Snapshot()
        db.session.remove()
        yield app, usernames, ids, snapshot


@pytest.fixture
def matrix(matrix_world):
    """A fresh client on the shared world, its rows put back first: no case sees what another one wrote."""
    app, usernames, ids, snapshot = matrix_world
    with app.app_context():
        snapshot.restore()
    return app.test_client(), usernames, ids


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_route_role_matrix(matrix, role, url, expected):
    # A role that may never use a page gets 403 before any lookup; a child outside one's scope is a 404.
    client, usernames, ids = matrix
    login(client, usernames[role])
    r = client.get(url.format(**ids))
    assert r.status_code == expected[role], f"{role} GET {url}: {r.status_code}"


@pytest.mark.parametrize("url", [m[0] for m in MATRIX])
def test_anonymous_is_sent_to_login(matrix, url):
    client, _, ids = matrix
    r = client.get(url.format(**ids))
    if url.startswith("/api/"):
        assert r.status_code == 401
    else:
        assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("role,expected", [
    ("teacher", {"c1"}), ("committee", {"c1"}), ("principal", {"c1", "c2"}), ("counsellor", {"c1", "c2"}), ("admin", set()),
])
def test_scoped_query(world, role, expected):
    ids = set(db.session.scalars(children_query(world["A"][role]).with_only_columns(db.text("child.id"))))
    assert ids == {world["A"][k].id for k in expected}


def test_lists_show_only_scoped_children(client, world):
    a = world["A"]
    names = {k: a[k].name for k in ("c1", "c2")} | {"b1": world["B"]["c1"].name}
    login(client, a["teacher"].username)
    html = client.get("/children/").get_data(as_text=True)
    assert names["c1"] in html and names["c2"] not in html and names["b1"] not in html
    login(client, a["committee"].username)
    html = client.get("/children/").get_data(as_text=True)
    assert names["c1"] in html and names["c2"] not in html and names["b1"] not in html
    login(client, a["principal"].username)
    html = client.get("/children/").get_data(as_text=True)
    assert names["c1"] in html and names["c2"] in html and names["b1"] not in html


def test_post_to_other_schools_child_is_404(client, world):
    token = login(client, world["A"]["principal"].username)
    b1 = world["B"]["c1"]
    r = client.post(f"/children/{b1.id}/edit", data={"csrf_token": token, "name": "改名", "student_no": "X", "sex": "male"})
    assert r.status_code == 404
    db.session.refresh(b1)
    assert b1.name != "改名"


# --- class teachers (班主任): every child of their classes, no other class, no other school ------------------------

@pytest.fixture
def class_world(build, world):
    """School A's class 三(1)班 (c1 paired with the teacher, c2 with the other one) has a class teacher who is paired
    with nobody; c3 is in 四(1)班; school B's c1 is in a class of the same name."""
    from app.children.class_teachers import set_class_teachers

    a = world["A"]
    ct = build.user("teacher", a["school"], username="classteachera")
    set_class_teachers(a["school"].id, "三(1)班", [ct.id], a["principal"])
    c3 = build.child(a["school"], a["v1"], a["other_teacher"], class_name="四(1)班")
    [rec] = ingest_ok(a["other_teacher"], [item("home_visit", a["c2"], local_iso(timedelta(hours=-1)))])
    db.session.commit()
    return {"ct": ct, "c1": a["c1"], "c2": a["c2"], "c3": c3, "b1": world["B"]["c1"], "rec": rec}


CLASS_MATRIX = [
    ("/children/{c1}", 200), ("/children/{c2}", 200), ("/children/{c3}", 404), ("/children/{b1}", 404),
    ("/children/{c2}/card", 200), ("/children/{c3}/card", 404), ("/children/{b1}/card", 404),
    ("/children/{c2}/records", 200), ("/children/{c3}/records", 404), ("/children/{b1}/records", 404),
    ("/reports/children/{c2}/archive", 200), ("/reports/children/{c3}/archive", 404),
    ("/reports/children/{b1}/archive", 404),
    ("/records/{rec}", 200),  # another teacher's visit to a child of the class
    ("/children/{c2}/edit", 403), ("/children/classes", 403),  # seeing a file is not managing it
]


def test_class_teacher_sees_every_child_of_the_class_only(client, class_world):
    ids = {k: v.id for k, v in class_world.items()}
    login(client, class_world["ct"].username)
    for url, expected in CLASS_MATRIX:
        assert client.get(url.format(**ids)).status_code == expected, url
    scoped = set(db.session.scalars(children_query(class_world["ct"]).with_only_columns(db.text("child.id"))))
    assert scoped == {ids["c1"], ids["c2"]}
    # The roster the phone gets and the roster export hold the class, nothing else.
    roster = client.get("/api/v1/roster").get_json()
    assert {c["id"] for c in roster["children"]} == {ids["c1"], ids["c2"]}
    from openpyxl import load_workbook
    import io

    rows = list(load_workbook(io.BytesIO(client.get("/reports/roster.xlsx").data)).active.iter_rows(values_only=True))
    assert {r[0] for r in rows[1:]} == {class_world["c1"].student_no, class_world["c2"].student_no}


def test_removing_a_class_teacher_ends_the_view(client, class_world, world):
    from app.children.class_teachers import set_class_teachers

    set_class_teachers(world["A"]["school"].id, "三(1)班", [], None)
    db.session.commit()
    login(client, class_world["ct"].username)
    assert client.get(f"/children/{class_world['c2'].id}").status_code == 404


def test_principal_sets_class_teachers_on_the_classes_page(client, world):
    from app.models import ClassTeacher
    from sqlalchemy import select

    from .conftest import page_csrf

    a = world["A"]
    login(client, a["principal"].username)
    page = client.get("/children/classes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "三(1)班" in html
    token = page_csrf(html)
    r = client.post("/children/classes", data={"csrf_token": token, "class_name": "三(1)班",
                                               "teacher_ids": [str(a["teacher"].id)]})
    assert r.status_code == 302
    rows = db.session.execute(select(ClassTeacher.class_name, ClassTeacher.teacher_id)).all()
    assert rows == [("三(1)班", a["teacher"].id)]
    # Another school's teacher cannot be made class teacher: refused, nothing changes.
    r = client.post("/children/classes", data={"csrf_token": token, "class_name": "三(1)班",
                                               "teacher_ids": [str(world["B"]["teacher"].id)]})
    assert r.status_code == 400 and "本校教师" in r.get_data(as_text=True)
    assert db.session.execute(select(ClassTeacher.teacher_id)).scalars().all() == [a["teacher"].id]
# --- the county's staff: every route of a school that shows or changes a child, a record, a photo or an export -----

# The blueprints whose routes hold a school's children, records, photos and exports. Walked from the url_map, so a
# route added to one of them later is covered without being listed here.
SCHOOL_BLUEPRINTS = {"children", "records", "reports", "photos", "verify", "duties", "incidents", "audit", "villages",
                     "sync", "surveys", "attention", "followups", "care", "activities"}
# Not a school's data: the record kinds' form definitions and the API's description, the same for everyone.
NOT_SCHOOL_DATA = {"sync.kinds", "sync.openapi"}


def _school_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every school-scoped route, each method on its own."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in SCHOOL_BLUEPRINTS and rule.endpoint not in NOT_SCHOOL_DATA:
            out += [(m, rule.rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(set(out))


def _fill(rule: str, ids: dict) -> str:
    """The route with real ids of school A in it: a child, its guardian and consent, a record, a photo, an incident."""
    values = {"child_id": ids["c1"], "guardian_id": ids["g1"], "consent_id": ids["k1"], "record_id": ids["rv"],
              "incident_id": ids["inc"], "sha256": ids["cp"], "variant": "thumb", "kind_name": "home_visit",
              "action": "approve"}
    import re

    # Any other id (an activity, a follow-up, a survey change, a news photo...): the first row of its table.
    return re.sub(r"<(?:[a-z]+:)?([a-z_0-9]+)>", lambda m: str(values.get(m.group(1), 1)), rule)


@pytest.fixture(scope="module")
def county_world(tmp_path_factory):
    """School A's child, guardian, consent, records, a photo and an incident; the county's and a far county's staff."""
    from app.incidents.services import report

    with fresh_database(make_app(tmp_path_factory.mktemp("county"))) as app:
        w = build_world(Builders())
        c1 = w["A"]["c1"]
        ids = _ids(w) | _counselling_note(w) | _returned_visit(w)
        inc, _new = report(w["A"]["teacher"], {"id": "6f1c2a52-6a51-4d0e-9a7b-3f4f5c6d7e80", "child_id": c1.id,
                                               "category": "injury", "description": "摔伤了膝盖",
                                               "occurred_at": local_iso(timedelta(hours=-1))})
        db.session.commit()
        ids |= {"g1": c1.guardians[0].id, "k1": c1.consents[0].id, "inc": inc.id, "name": c1.name}
        snapshot = Snapshot()
        db.session.remove()
        yield app, ids, snapshot


@pytest.mark.parametrize("username", ["bureaua", "bureauadmina", "bureaufar"])
def test_county_staff_get_404_on_every_school_route(county_world, username):
    app, ids, snapshot = county_world
    with app.app_context():
        snapshot.restore()
    client = app.test_client()
    token = login(client, username)
    routes = _school_routes(app)
    assert len(routes) > 40 and ("GET", "/children/<id:child_id>") in routes  # the walk found the school's routes
    wrong = []
    for method, rule in routes:
        r = client.open(_fill(rule, ids), method=method, headers={"X-CSRFToken": token}, data={"csrf_token": token})
        if r.status_code != 404 or ids["name"] in r.get_data(as_text=True):
            wrong.append((method, rule, r.status_code))
    assert wrong == [], wrong
    with app.app_context():  # and nothing was written on the way
        from app.models import Record

        assert db.session.get(Record, ids["rv"]).review_state == "returned"
