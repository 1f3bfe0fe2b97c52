"""The sync contract over real HTTP calls: roster, photos, records; idempotency and concurrency."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Photo, Record, RecordPhoto

from . import imaging
from .builders import local_iso, post, put_photo, race, visit
from .conftest import login


def _files(app):
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def teacher(client, world):
    token = login(client, world["A"]["teacher"].username)
    return {"token": token, "user": world["A"]["teacher"], "child": world["A"]["c1"], "world": world}


# --- roster -------------------------------------------------------------------------------------------

def test_roster_scoped_with_etag(client, teacher):
    r = client.get("/api/v1/roster")
    assert r.status_code == 200
    body = r.get_json()
    assert [c["id"] for c in body["children"]] == [teacher["child"].id]
    c = body["children"][0]
    assert c["guardian"]["phone"] == "13900000000" and c["responsible_teacher"]["name"]
    assert body["school"]["hotline"]
    etag = r.headers["ETag"]
    r2 = client.get("/api/v1/roster", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    # A new visit changes what is due, so the roster changes.
    assert post(client, teacher["token"], [visit(teacher["child"])]).status_code == 200
    r3 = client.get("/api/v1/roster", headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["ETag"] != etag
    assert r3.get_json()["children"][0]["last"]["home_visit"]


def test_roster_needs_login(client):
    assert client.get("/api/v1/roster").status_code == 401


# --- photos -------------------------------------------------------------------------------------------

def test_photo_put_head_exists(client, app, teacher):
    data = imaging.jpeg(exif=imaging.exif_block())
    h = imaging.sha(data)
    assert client.head(f"/api/v1/photos/{h}").status_code == 404
    r = put_photo(client, teacher["token"], data)
    assert r.status_code == 201 and r.get_json() == {"sha256": h, "status": "stored"}
    assert client.head(f"/api/v1/photos/{h}").status_code == 200
    r = put_photo(client, teacher["token"], data)
    assert r.status_code == 200 and r.get_json()["status"] == "exists"
    p = db.session.scalar(select(Photo).where(Photo.sha256 == h))
    assert p.uploader_id == teacher["user"].id and p.taken_at is not None and p.gps_lat == pytest.approx(24.33, abs=1e-3)
    assert p.camera_make == "Xiaomi" and (p.orig_width, p.orig_height) == (1600, 1200)


def test_photo_head_is_per_user(client, teacher):
    data = imaging.jpeg(seed=3)
    put_photo(client, teacher["token"], data)
    login(client, teacher["world"]["A"]["other_teacher"].username)
    assert client.head(f"/api/v1/photos/{imaging.sha(data)}").status_code == 404


def test_photo_put_needs_csrf(client, teacher):
    data = imaging.jpeg(seed=4)
    r = client.put(f"/api/v1/photos/{imaging.sha(data)}", data=data, content_type="image/jpeg")
    assert r.status_code == 403 and r.get_json()["error"] == "csrf_failed"


def _hostile():
    base = imaging.jpeg(seed=9, size=(800, 600))
    big = Image.MAX_IMAGE_PIXELS
    malformed_gps = imaging.jpeg(seed=10, size=(400, 300), exif=_bad_gps_exif())
    return {
        "bomb_1x": (imaging.bomb_png(int(big * 1.2)), 422, "image_rejected"),
        "bomb_2x": (imaging.bomb_png(int(big * 2.2)), 422, "image_rejected"),
        "truncated": (base[: len(base) // 2], 422, "image_rejected"),
        "polyglot_html_first": (b"<html><script>alert(1)</script></html>" + base, 415, "not_an_image"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415, "not_an_image"),
        "zero_bytes": (b"", 415, "not_an_image"),
        "gif": (_gif(), 415, "not_an_image"),
        "malformed_gps": (malformed_gps, None, None),  # stored without GPS, or rejected: never a 500
    }


def _bad_gps_exif():
    ex = Image.Exif()
    g = ex.get_ifd(0x8825)
    g.update({1: "Q", 2: (500.0, 0.0, 0.0), 3: "E", 4: (1.0,)})  # impossible latitude, short longitude
    return ex


def _gif():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize("case", list(_hostile()))
def test_hostile_upload_corpus(client, app, teacher, case):
    data, status, code = _hostile()[case]
    r = put_photo(client, teacher["token"], data)
    if status is None:
        assert r.status_code in (201, 422), r.get_json()
        if r.status_code == 201:
            assert db.session.scalar(select(Photo.gps_lat)) is None
        return
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"] == code and r.get_json()["message"]
    assert _files(app) == []
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_wrong_hash_and_bad_name_and_too_large(client, app, teacher):
    data = imaging.jpeg(seed=5, size=(300, 200))
    r = put_photo(client, teacher["token"], data, name="0" * 64)
    assert r.status_code == 400 and r.get_json()["error"] == "hash_mismatch"
    r = put_photo(client, teacher["token"], data, name="not-a-hash")
    assert r.status_code == 400
    app.config["PHOTO_MAX_BYTES"] = 1000
    r = put_photo(client, teacher["token"], data)
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    assert _files(app) == [] and db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_jpeg_with_trailing_script_is_served_clean(client, teacher):
    data = imaging.jpeg(seed=6, size=(400, 300)) + b"<script>alert(1)</script>"
    r = put_photo(client, teacher["token"], data)
    if r.status_code == 201:  # decodable: the served copy is re-encoded and carries none of it
        post(client, teacher["token"], [visit(teacher["child"], [imaging.sha(data)])])
        served = client.get(f"/photos/{imaging.sha(data)}/full")
        assert served.status_code == 200 and b"<script" not in served.data
    else:
        assert r.status_code in (415, 422)


def test_served_copy_is_stripped(client, teacher):
    data = imaging.jpeg(seed=7, exif=imaging.exif_block(orientation=6), comment=b"secret comment")
    assert put_photo(client, teacher["token"], data).status_code == 201
    assert post(client, teacher["token"], [visit(teacher["child"], [imaging.sha(data)])]).get_json()["results"][0]["status"] == "created"
    for variant in ("full", "thumb"):
        r = client.get(f"/photos/{imaging.sha(data)}/{variant}")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff" and "private" in r.headers["Cache-Control"]
        im = Image.open(io.BytesIO(r.data))
        assert not im.getexif() and "exif" not in im.info and "comment" not in im.info and "icc_profile" not in im.info
        assert b"secret comment" not in r.data and b"Xiaomi" not in r.data
    full = Image.open(io.BytesIO(client.get(f"/photos/{imaging.sha(data)}/full").data))
    assert full.size == (1200, 1600)  # orientation 6 applied: upright portrait


def test_photos_served_only_through_access_checks(client, teacher):
    data = imaging.jpeg(seed=8, size=(300, 200))
    put_photo(client, teacher["token"], data)
    post(client, teacher["token"], [visit(teacher["child"], [imaging.sha(data)])])
    w = teacher["world"]
    for who, status in (("committee", 200), ("principal", 200), ("other_teacher", 404), ("admin", 404)):
        login(client, w["A"][who].username)
        assert client.get(f"/photos/{imaging.sha(data)}/thumb").status_code == status, who
    login(client, w["B"]["principal"].username)
    assert client.get(f"/photos/{imaging.sha(data)}/full").status_code == 404


# --- records ------------------------------------------------------------------------------------------

def test_record_statuses(client, teacher):
    w = teacher["world"]
    data = imaging.jpeg(seed=11, size=(400, 300))
    h = imaging.sha(data)
    rec = visit(teacher["child"], [h])
    r = post(client, teacher["token"], [rec])
    assert r.get_json()["results"] == [{"id": rec["id"], "status": "missing_photos", "errors": {"photos": [h]}}]
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0
    put_photo(client, teacher["token"], data)
    bad_child = visit(w["A"]["c2"])
    future = visit(teacher["child"], occurred_at=local_iso(timedelta(minutes=15)))
    near_future = visit(teacher["child"], occurred_at=local_iso(timedelta(minutes=8)))
    bad_kind = visit(teacher["child"], kind="gossip")
    counselling = {**visit(teacher["child"]), "kind": "counselling", "fields": {"topic": "x", "summary": "y"}}
    bad_fields = visit(teacher["child"], fields={"purpose": "", "study_rating": "excellent", "extra": 1})
    r = post(client, teacher["token"], [rec, bad_child, future, near_future, bad_kind, counselling, bad_fields, {"id": "nope"}])
    res = r.get_json()["results"]
    assert [x["status"] for x in res] == ["created", "rejected", "rejected", "created", "rejected", "rejected", "rejected", "rejected"]
    assert "child_id" in res[1]["errors"] and "occurred_at" in res[2]["errors"] and "kind" in res[4]["errors"]
    assert "kind" in res[5]["errors"]
    assert {"fields.purpose", "fields.study_rating", "fields.extra", "fields.met_person"} <= set(res[6]["errors"])
    assert "id" in res[7]["errors"]
    r = post(client, teacher["token"], [rec])
    assert r.get_json()["results"] == [{"id": rec["id"], "status": "duplicate"}]
    stored = db.session.scalar(select(Record).where(Record.client_id == rec["id"]))
    assert stored.author_id == teacher["user"].id and stored.received_at and stored.fields["safety_note"] == "家门口有水塘"
    assert [rp.photo.sha256 for rp in stored.photos] == [h] and stored.lat == pytest.approx(24.33)


def test_bad_bodies(client, teacher):
    r = client.post("/api/v1/records", data="not json", content_type="text/plain", headers={"X-CSRFToken": teacher["token"]})
    assert r.status_code == 400 and r.get_json()["error"] == "not_json"
    r = client.post("/api/v1/records", data="{broken", content_type="application/json", headers={"X-CSRFToken": teacher["token"]})
    assert r.status_code == 400
    r = post(client, teacher["token"], [visit(teacher["child"]) for _ in range(101)])
    assert r.status_code == 400 and r.get_json()["error"] == "too_many_records"
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0
    r = client.post("/api/v1/records", json={"records": []})
    assert r.status_code == 403 and r.get_json()["error"] == "csrf_failed"


def test_photo_of_another_user_cannot_be_attached(client, teacher):
    w = teacher["world"]
    data = imaging.jpeg(seed=12, size=(300, 200))
    token2 = login(client, w["A"]["other_teacher"].username)
    put_photo(client, token2, data)
    token = login(client, teacher["user"].username)
    r = post(client, token, [visit(teacher["child"], [imaging.sha(data)])])
    assert r.get_json()["results"][0]["status"] == "missing_photos"


def test_same_batch_ten_times_one_row_each(client, teacher):
    batch = [visit(teacher["child"]) for _ in range(5)]
    for i in range(10):
        res = post(client, teacher["token"], batch).get_json()["results"]
        assert {x["status"] for x in res} == ({"created"} if i == 0 else {"duplicate"})
    assert db.session.scalar(select(func.count()).select_from(Record)) == 5
    # The same id twice in one batch: stored once.
    rec = visit(teacher["child"])
    res = post(client, teacher["token"], [rec, rec]).get_json()["results"]
    assert [x["status"] for x in res] == ["created", "duplicate"]


def test_same_id_from_another_author_is_rejected(client, teacher):
    rec = visit(teacher["child"])
    post(client, teacher["token"], [rec])
    w = teacher["world"]
    token = login(client, w["A"]["principal"].username)
    res = post(client, token, [rec]).get_json()["results"][0]
    assert res["status"] == "rejected" and "id" in res["errors"]


def test_concurrent_posts_of_the_same_id_make_one_row(app, teacher):
    rec = visit(teacher["child"])
    answers = race(app, teacher["user"].username, lambda c, tok: post(c, tok, [rec]))
    statuses = [body["results"][0]["status"] for _, body in answers]
    assert sorted(statuses) == ["created"] + ["duplicate"] * 5
    assert db.session.scalar(select(func.count()).select_from(Record).where(Record.client_id == rec["id"])) == 1


def test_openapi_describes_contract_and_kinds(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/session", "/api/v1/roster", "/api/v1/photos/{sha256}", "/api/v1/records"):
        assert path in spec["paths"]
    assert set(spec["paths"]["/api/v1/photos/{sha256}"]) >= {"head", "put"}
    schemas = spec["components"]["schemas"]
    assert {"purpose", "study_rating", "safety_note", "next_visit_plan"} <= set(schemas["Fields_home_visit"]["properties"])
    contact = schemas["Fields_contact"]
    assert contact["properties"]["direction"]["enum"] == ["teacher_to_family", "child_to_parents", "family_to_teacher"]
    assert contact["properties"]["counterpart"]["enum"] == ["father", "mother", "both_parents", "guardian", "relative"]
    assert contact["properties"]["channel"]["enum"] == ["phone", "video", "wechat", "letter", "in_person"]
    assert set(contact["required"]) == {"counterpart", "direction", "channel", "summary"}  # a letter has no duration
    assert "Fields_parent_call" not in schemas and "parent_call" in spec["paths"]["/api/v1/records"]["post"]["description"]
    assert schemas["RecordResult"]["properties"]["status"]["enum"] == ["created", "duplicate", "missing_photos", "rejected", "held"]


def test_openapi_describes_every_api_route(app, client):
    """Every /api/v1 route the app serves, with each of its methods, is in the published document."""
    import re

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods - {"OPTIONS", "HEAD"}}
    described = {(p, m) for p, ops in paths.items() for m in ops if m != "parameters"}
    assert served and served - described == set()
    assert described - {(p, m) for p, m in described if m == "head"} <= served
    incident = paths["/api/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert incident == {"$ref": "#/components/schemas/Incident"}
