"""The county tier's foundation: schools belong to a county, bureau staff to the county; a bureau sees its own
county's schools and no child, record, photo or file of any school (404, as for any other scope)."""
from app.access import children_query, records_query, schools_query
from app.extensions import db
from tests.conftest import login


def test_bureau_sees_its_county_schools_only(app, world):
    mine = {s.id for s in db.session.scalars(schools_query(world["bureau"]))}
    assert mine == {world["A"]["school"].id, world["B"]["school"].id}
    assert list(db.session.scalars(schools_query(world["far_bureau"]))) == []
    # A school's own staff see their school only.
    assert [s.id for s in db.session.scalars(schools_query(world["A"]["principal"]))] == [world["A"]["school"].id]


def test_bureau_reaches_no_child_or_record(app, client, world):
    for user in (world["bureau"], world["bureau_admin"]):
        assert list(db.session.scalars(children_query(user))) == []
        assert list(db.session.scalars(records_query(user))) == []
    login(client, "bureaua")
    c1 = world["A"]["c1"]
    for url in (f"/children/{c1.id}", f"/children/{c1.id}/card", f"/children/{c1.id}/edit", "/children/"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert c1.name not in r.get_data(as_text=True)


def test_file_changes_are_kept_with_who_and_old_and_new(app, world):
    from app.children.history import history
    from app.children.services import save_guardian, update_child

    child, principal = world["A"]["c1"], world["A"]["principal"]
    update_child(child, {"address": "青山村3组", "living_situation": "奶奶做饭，作业没人辅导", "name": child.name}, principal)
    save_guardian(child, {"phone": "13711112222"}, principal, guardian=child.guardians[0])
    db.session.commit()
    rows = [(r.field, r.old, r.new, r.user_id, r.source) for r in history(child)]
    g = child.guardians[0]
    assert sorted(rows) == sorted([
        ("address", None, "青山村3组", principal.id, "edit"),
        ("living_situation", None, "奶奶做饭，作业没人辅导", principal.id, "edit"),
        (f"guardian:{g.id}.phone", "13900000000", "13711112222", principal.id, "edit"),
    ])  # the unchanged name left no row


def test_bureau_home_is_the_county_page(app, client, world):
    login(client, "bureaua")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/bureau/")
    page = client.get("/bureau/").get_data(as_text=True)
    assert world["A"]["school"].name in page and world["B"]["school"].name in page
    login(client, "principala")
    assert client.get("/bureau/").status_code == 403
