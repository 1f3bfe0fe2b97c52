"""A parent's or guardian's registration photo (row 6) and the employer's phone (row 3) on the child's file."""
import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.children.importer import import_file
from app.clock import utcnow
from app.extensions import db
from app.models import FileChange, Guardian, Photo
from app.photos.quota import housekeep

from . import imaging
from .conftest import login, page_csrf
from .test_import import csv_bytes, row
from .test_migrations import empty_app  # noqa: F401  (the migration test's fixture)


def _guardian(child) -> Guardian:
    return db.session.scalar(select(Guardian).where(Guardian.child_id == child.id).order_by(Guardian.id))


def _post_guardian(client, child, g, photo: bytes | None = None, name="photo.jpg", **over):
    token = page_csrf(client.get(f"/children/{child.id}/guardians/{g.id}").get_data(as_text=True))
    data = {"csrf_token": token, "role": g.role, "name": g.name, "relationship_": g.relationship_ or "",
            "phone": g.phone or "", **over}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), name)
    return client.post(f"/children/{child.id}/guardians/{g.id}", data=data, content_type="multipart/form-data")


def _stored(app) -> tuple[int, list[Path]]:
    root = Path(app.config["UPLOAD_DIR"])
    return (db.session.scalar(select(func.count()).select_from(Photo)),
            sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else [])


def test_principal_uploads_a_guardian_photo_shown_on_the_file_and_archive(app, client, world):
    a = world["A"]
    c, g = a["c1"], _guardian(a["c1"])
    login(client, a["principal"].username)
    data = imaging.jpeg(seed=41, size=(640, 480))
    sha = imaging.sha(data)
    r = _post_guardian(client, c, g, data)
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.expire_all()
    assert _guardian(c).photo_sha256 == sha
    photo = db.session.scalar(select(Photo).where(Photo.sha256 == sha))
    assert photo.uploader_id == a["principal"].id and photo.school_id == a["school"].id and photo.width == 640
    thumb = f"/photos/{sha}/thumb"
    for page in (f"/children/{c.id}", f"/reports/children/{c.id}/archive"):
        assert thumb in client.get(page).get_data(as_text=True), page
    r = client.get(thumb)
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data.startswith(b"\xff\xd8")
    # The history says a photo was set, by whom and from the edit page.
    change = db.session.scalar(select(FileChange).where(FileChange.field == f"guardian:{g.id}.photo_sha256"))
    assert (change.old, change.new, change.user_id, change.source) == (None, sha, a["principal"].id, "edit")
    page = client.get(f"/children/{c.id}").get_data(as_text=True)
    assert "登记照片" in page and f"照片 {sha[:8]}" in page  # the history names the photo, never shows the hash whole
    # Replacing it is a change from the old photo to the new one.
    other = imaging.jpeg(seed=42, size=(320, 240))
    assert _post_guardian(client, c, _guardian(c), other).status_code == 302
    changes = db.session.scalars(select(FileChange.new).where(FileChange.field == f"guardian:{g.id}.photo_sha256")
                                 .order_by(FileChange.id)).all()
    assert changes == [sha, imaging.sha(other)]
    # Saving the form without a new file keeps the photo.
    assert _post_guardian(client, c, _guardian(c), health="良好").status_code == 302
    db.session.expire_all()
    assert _guardian(c).photo_sha256 == imaging.sha(other)


def test_guardian_photo_is_seen_only_by_who_may_read_the_file(app, client, world):
    a, b = world["A"], world["B"]
    c, g = a["c1"], _guardian(a["c1"])
    login(client, a["principal"].username)
    data = imaging.jpeg(seed=43, size=(320, 240))
    assert _post_guardian(client, c, g, data).status_code == 302
    url = f"/photos/{imaging.sha(data)}/full"
    for user, code in ((a["teacher"], 200), (a["counsellor"], 200), (a["committee"], 200),
                       (a["other_teacher"], 404), (b["teacher"], 404), (b["principal"], 404)):
        client.delete("/api/v1/session")
        login(client, user.username)
        assert client.get(url).status_code == code, user.username


def test_a_bad_upload_is_a_clear_chinese_error_and_stores_nothing(app, client, world):
    a = world["A"]
    c, g = a["c1"], _guardian(a["c1"])
    login(client, a["principal"].username)
    before = _stored(app)
    whole = imaging.jpeg(seed=44, size=(640, 480))
    for data, name in ((b"%PDF-1.4 not a photo", "form.pdf"), (whole[: len(whole) // 2], "cut.jpg")):
        r = _post_guardian(client, c, g, data, name=name, phone="13911112222")
        assert r.status_code == 400
        html = r.get_data(as_text=True)
        assert "照片无法使用" in html and ("不是 JPEG、PNG 或 WebP 图片" in html or "图片已损坏" in html), html
        db.session.expire_all()
        assert _stored(app) == before
        assert _guardian(c).photo_sha256 is None and _guardian(c).phone != "13911112222"  # nothing of the form saved
    assert db.session.scalar(select(func.count()).select_from(FileChange).where(
        FileChange.field.like("guardian:%"))) == 0


def test_housekeeping_keeps_a_guardian_photo(app, client, world):
    a = world["A"]
    c, g = a["c1"], _guardian(a["c1"])
    login(client, a["principal"].username)
    kept = imaging.jpeg(seed=45, size=(320, 240))
    assert _post_guardian(client, c, g, kept).status_code == 302
    # An upload nothing uses, for contrast: the same age, removed.
    from app.models import User
    from app.photos.services import save_upload

    loose = imaging.jpeg(seed=46, size=(320, 240))
    save_upload(db.session.get(User, a["principal"].id), imaging.sha(loose), loose)
    for p in db.session.scalars(select(Photo)):
        p.uploaded_at = utcnow() - timedelta(days=30)
    db.session.commit()
    result = housekeep(utcnow())
    assert result["photos"] == 1
    assert set(db.session.scalars(select(Photo.sha256))) == {imaging.sha(kept)}
    assert client.get(f"/photos/{imaging.sha(kept)}/thumb").status_code == 200


def test_employer_phone_round_trips_through_import_file_page_and_export(app, client, world):
    a = world["A"]
    login(client, a["principal"].username)
    data = csv_bytes([row(学号="E001", 父亲单位电话="0" * 33)])
    result = import_file(a["school"].id, a["principal"], "r.csv", data)
    assert result.created == 0 and "父亲单位电话太长" in result.errors[0].reason  # checked as the other phones are
    data = csv_bytes([row(学号="E001", 父亲单位电话="0769-22223333", 父亲职业="建筑工人")])
    result = import_file(a["school"].id, a["principal"], "r.csv", data)
    assert (result.created, result.errors) == (1, [])
    father = db.session.scalar(select(Guardian).where(Guardian.role == "father", Guardian.name == "王大山"))
    assert father.employer_phone == "0769-22223333"
    page = client.get(f"/children/{father.child_id}").get_data(as_text=True)
    assert "单位电话" in page and 'href="tel:0769-22223333"' in page
    archive = client.get(f"/reports/children/{father.child_id}/archive").get_data(as_text=True)
    assert "0769-22223333" in archive and "建筑工人" in archive  # row 3: the occupation printed too
    ws = load_workbook(io.BytesIO(client.get("/reports/roster.xlsx").data)).active
    headers = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    mine = next(r for r in rows if r[headers.index("学号")] == "E001")
    assert mine[headers.index("父亲单位电话")] == "0769-22223333"
    # The import template has the column too.
    template = load_workbook(io.BytesIO(client.get("/children/import/template.xlsx").data)).active
    assert "父亲单位电话" in [c.value for c in template[1]]


def test_employer_phone_on_the_form_is_checked_like_every_phone(app, client, world):
    a = world["A"]
    c, g = a["c1"], _guardian(a["c1"])
    login(client, a["principal"].username)
    r = _post_guardian(client, c, g, employer_phone="call me")
    assert r.status_code == 400 and "电话号码格式不正确" in r.get_data(as_text=True)
    assert _post_guardian(client, c, g, employer_phone="0769-2222 3333").status_code == 302
    db.session.expire_all()
    assert _guardian(c).employer_phone == "0769-2222 3333"
    change = db.session.scalar(select(FileChange).where(FileChange.field == f"guardian:{g.id}.employer_phone"))
    assert change.new == "0769-2222 3333"
    assert "单位电话" in client.get(f"/children/{c.id}").get_data(as_text=True)


def test_migration_0015f_adds_and_drops_both_columns_keeping_the_guardians(empty_app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from .test_migrations import Legacy

    upgrade(revision="0015a")
    old = Legacy()
    county = old.insert("county", name="旧县", bureau_name="县教育局")
    school = old.insert("school", name="旧学校", hotline="0856-0000000", county_id=county.id)
    child = old.child(school, old.village(school), old.user("teacher", school))
    upgrade(revision="0015f")

    def columns():
        return {c["name"] for c in inspect(db.engine).get_columns("guardian")}

    assert {"photo_sha256", "employer_phone"} <= columns()
    assert "ix_guardian_photo_sha256" in {i["name"] for i in inspect(db.engine).get_indexes("guardian")}
    assert "ix_child_photo_sha256" in {i["name"] for i in inspect(db.engine).get_indexes("child")}
    g = db.session.scalar(select(Guardian).where(Guardian.child_id == child.id))
    assert (g.photo_sha256, g.employer_phone) == (None, None)
    g.photo_sha256, g.employer_phone = "a" * 64, "0769-1"
    db.session.commit()
    db.session.remove()
    downgrade(revision="0015a")
    assert not {"photo_sha256", "employer_phone"} & columns()
    assert "ix_child_photo_sha256" not in {i["name"] for i in inspect(db.engine).get_indexes("child")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM guardian WHERE child_id = :c"), {"c": child.id}).scalar() is not None
    upgrade()
    assert {"photo_sha256", "employer_phone"} <= columns()


def test_the_childs_own_photo_is_on_the_file_for_its_readers_only(app, client, world):
    from app.models import Child, User
    from app.photos.services import save_upload

    a, b = world["A"], world["B"]
    data = imaging.jpeg(seed=47, size=(320, 240))
    save_upload(db.session.get(User, a["teacher"].id), imaging.sha(data), data)  # as a survey's photo arrives
    db.session.get(Child, a["c1"].id).photo_sha256 = imaging.sha(data)
    db.session.commit()
    url = f"/photos/{imaging.sha(data)}/thumb"
    for user, code in ((a["principal"], 200), (a["other_teacher"], 404), (b["teacher"], 404)):
        client.delete("/api/v1/session")
        login(client, user.username)
        assert client.get(url).status_code == code, user.username
    client.delete("/api/v1/session")
    login(client, a["principal"].username)
    for page in (f"/children/{a['c1'].id}", f"/reports/children/{a['c1'].id}/archive"):
        assert url in client.get(page).get_data(as_text=True), page
