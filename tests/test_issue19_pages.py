"""Issue 19's server-page defects: each with the test that shows it fixed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Record
from app.verify import evidence

from .builders import item, post
from .conftest import login, page_csrf
from .test_verify import A, _at, _codes, _fresh, _photo, _send, teacher_token  # noqa: F401 (fixtures)


def test_distance_flag_only_for_home_visits(client, A, teacher_token):
    A["v1"].lat, A["v1"].lon = 25.5, 110.9  # the village far from where the teacher was
    db.session.commit()
    far = {"lat": 24.331, "lon": 109.421, "accuracy_m": 20}
    visit = _send(client, teacher_token, A["c1"], [_photo(51, _at(timedelta(hours=-2)))], location=far)
    assert "far_from_village" in _codes(visit)
    for kind in ("talk", "contact"):
        rec = item(kind, A["c1"], _at(timedelta(hours=-1)).isoformat(timespec="seconds"))
        rec["location"] = far  # held at school, or a call: the child's village says nothing about it
        assert post(client, teacher_token, [rec]).get_json()["results"][0]["status"] == "created"
        stored = db.session.scalar(select(Record).where(Record.client_id == rec["id"]))
        assert "far_from_village" not in _codes(stored), kind


def test_a_disputed_visit_shows_one_flag(client, A, teacher_token):
    rec = _send(client, teacher_token, A["c1"])
    assert "no_confirmation" in _codes(rec)
    login(client, A["committee"].username)
    token = page_csrf(client.get("/confirm/").get_data(as_text=True))
    client.post(f"/confirm/{rec.id}", data={"csrf_token": token, "action": "dispute", "comment": "那天孩子不在家"})
    codes = _codes(_fresh(rec))
    assert "disputed" in codes and "no_confirmation" not in codes
    login(client, A["principal"].username)
    page = client.get(f"/records/{rec.id}").get_data(as_text=True)
    assert str(evidence.RULES_BY_CODE["disputed"].title) in page and "村委会未确认</span>" not in page


def test_classes_sorted_by_grade_then_number(client, build, A):
    from app.children.class_teachers import school_classes
    from app.children.ordering import class_key

    names = ["六(2)班", "一(1)班", "三(1)班", "二(2)班", "五(1)班", "四(2)班", "一(2)班", "二(10)班"]
    school = A["c1"].school
    for n in names:
        build.child(school, A["v1"], A["teacher"], class_name=n)
    db.session.commit()
    want = ["一(1)班", "一(2)班", "二(2)班", "二(10)班", "三(1)班", "四(2)班", "五(1)班", "六(2)班"]
    assert sorted(names, key=class_key) == want
    assert school_classes(school.id) == want
    login(client, A["principal"].username)
    page = client.get("/dashboard/?by=class").get_data(as_text=True)
    at = [page.index(f'<th scope="row">{n}</th>') for n in want]
    assert at == sorted(at)
    page = client.get("/children/").get_data(as_text=True)
    at = [page.index(f'>{n}</option>') for n in want]
    assert at == sorted(at)


def test_audit_log_in_words_with_dropdown_filters(client, build, A):
    other = build.child(A["c1"].school, A["v1"], A["teacher"], name="别的孩子")
    db.session.commit()
    token = login(client, A["teacher"].username)
    client.get(f"/children/{A['c1'].id}")
    client.get(f"/children/{other.id}")
    rec = item("talk", A["c1"], _at(timedelta(hours=-1)).isoformat(timespec="seconds"))
    post(client, token, [rec])
    rid = db.session.scalar(select(Record.id).where(Record.client_id == rec["id"]))
    login(client, A["principal"].username)
    html = client.get("/audit/").get_data(as_text=True)
    assert "查看 儿童档案" in html and "新建 记录" in html and f">谈心 · {A['c1'].name}</a>" in html
    assert "view child" not in html and '<input name="action"' not in html
    assert '<select name="user"' in html and '<option value="view">查看</option>' in html
    # who, what, which child (their file and their records)
    html = client.get(f"/audit/?child={A['c1'].id}").get_data(as_text=True)
    assert f'href="/children/{A["c1"].id}"' in html and f'href="/records/{rid}"' in html
    assert f'href="/children/{other.id}"' not in html
    html = client.get(f"/audit/?user={A['teacher'].id}&action=create").get_data(as_text=True)
    assert f'href="/records/{rid}"' in html and f'href="/children/{A["c1"].id}"' not in html
    html = client.get(f"/audit/?user={A['principal'].id}&type=child").get_data(as_text=True)
    assert f'href="/children/{A["c1"].id}"' not in html
    # a code not in the list, or a child of another school: a clear 400, not an empty page
    r = client.get("/audit/?action=drop_table")
    assert r.status_code == 400 and "下拉" in r.get_data(as_text=True)
    assert client.get("/audit/?child=999999").status_code == 400


def test_emergency_page_has_numbers_to_tap_and_one_tap_notified(client, A):
    import uuid
    from datetime import datetime

    from app.models import Guardian, Incident

    from .builders import CHINA

    db.session.add(Guardian(child_id=A["c1"].id, role="father", name="爸爸", phone="13800000001"))
    A["c1"].school.county.bureau_phone = "0771-1234567"
    db.session.commit()
    login(client, A["teacher"].username)
    html = client.get(f"/incidents/new?child={A['c1'].id}").get_data(as_text=True)
    r = client.post("/incidents/new", data={
        "csrf_token": page_csrf(html), "client_id": str(uuid.uuid4()), "child_id": A["c1"].id, "category": "illness",
        "occurred_at": datetime.now(CHINA).strftime("%Y-%m-%dT%H:%M"), "description": "发高烧"})
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'href="tel:13800000001"' in page and 'href="tel:0771-1234567"' in page
    assert page.count(">已通知</button>") == 3
    inc = db.session.scalar(select(Incident))
    one_tap = page.split('id="clock-parents"')[1].split("</li>")[0]
    assert 'name="target" value="parents"' in one_tap and 'name="method" value="phone"' in one_tap
    r = client.post(f"/incidents/{inc.id}", data={"csrf_token": page_csrf(page), "what": "notice",
                                                  "target": "parents", "method": "phone"})
    assert r.status_code == 302
    page = client.get(f"/incidents/{inc.id}").get_data(as_text=True)
    assert page.count(">已通知</button>") == 2 and 'href="tel:13800000001"' not in page  # that clock is done


def _error_next_to(html: str, field_id: str) -> str:
    """The error shown right after the field with this id (empty when none)."""
    after = html.split(f'id="{field_id}"', 1)[1]
    return after.split("</div>", 1)[0] if f'id="{field_id}-error"' in after.split("</div>", 1)[0] else ""


def test_dispute_without_reason_is_shown_next_to_the_field(client, A, teacher_token):
    rec = _send(client, teacher_token, A["c1"])
    login(client, A["committee"].username)
    token = page_csrf(client.get("/confirm/").get_data(as_text=True))
    r = client.post(f"/confirm/{rec.id}", data={"csrf_token": token, "action": "dispute", "comment": " "})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#comment-{rec.id}")
    html = client.get(r.headers["Location"].split("#")[0]).get_data(as_text=True)
    near = _error_next_to(html, f"comment-{rec.id}")
    assert "请写明原因" in near and 'role="alert"' in near
    top = html.split("<main", 1)[1].split('id="r', 1)[0]
    assert 'class="flash' not in top  # not (only) at the top of the page, 1,300 px above
    assert _fresh(rec).confirm_state == "none"


def test_return_without_reason_is_shown_next_to_the_field(client, A, teacher_token):
    rec = _send(client, teacher_token, A["c1"])
    login(client, A["principal"].username)
    html = client.get("/review/").get_data(as_text=True)
    r = client.post(f"/review/{rec.id}/return", data={"csrf_token": page_csrf(html), "comment": "",
                                                      "next": f"/review/?state=received#r{rec.id}"})
    assert r.headers["Location"].endswith(f"/review/?state=received#rc-{rec.id}")
    html = client.get("/review/?state=received").get_data(as_text=True)
    assert _error_next_to(html, f"rc-{rec.id}") and f'<details class="return-box" open>' in html
    r = client.post(f"/review/{rec.id}/return", data={"csrf_token": page_csrf(html), "comment": ""})
    assert r.headers["Location"].endswith(f"/records/{rec.id}#review-comment")
    assert _error_next_to(client.get(f"/records/{rec.id}").get_data(as_text=True), "review-comment")


def test_review_queue_uses_thumbnails_with_srcset_and_the_first_photo_is_not_lazy(client, A, teacher_token):
    import re

    for seed in (61, 62):
        _send(client, teacher_token, A["c1"], [_photo(seed, _at(timedelta(hours=-2))), _photo(seed + 10, _at(timedelta(hours=-2)))])
    login(client, A["principal"].username)
    html = client.get("/review/").get_data(as_text=True)
    imgs = re.findall(r"<img [^>]*>", html.split('class="gallery"', 1)[1].replace("\n", " "))
    assert len(imgs) == 4
    assert all("/thumb" in re.search(r'src="([^"]+)"', i).group(1) for i in imgs)
    assert all(re.search(r'srcset="[^"]+/thumb 320w, [^"]+/full 1600w"', i) and "sizes=" in i for i in imgs)
    assert "loading=" not in imgs[0] and all('loading="lazy"' in i for i in imgs[1:])


def test_counsellor_home_links_to_a_counselling_record_and_the_monthly_report(client, build, A):
    counsellor = build.user("counsellor", A["c1"].school, username="counsellor19")
    db.session.commit()
    login(client, counsellor.username)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/records/new/counselling"' in html and 'href="/reports/monthly"' in html
    assert client.get("/records/new/counselling").status_code == 200
    assert client.get("/reports/monthly").status_code == 200
    login(client, A["principal"].username)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/reports/monthly"' in html and 'href="/records/new/counselling"' not in html


def test_session_tells_the_phone_the_roles_capabilities(client, A):
    from app.access import CAPABILITIES

    for who in ("teacher", "committee", "admin"):
        login(client, A[who].username)
        caps = client.get("/api/v1/session").get_json()["user"]["capabilities"]
        assert caps == sorted(c for c, roles in CAPABILITIES.items() if who in roles)
    assert "write_records" not in caps and "report_incidents" not in caps and "read_children" not in caps  # admin


def test_dashboard_maps_the_villages_with_this_terms_visits_and_flagged_ones(client, build, A, teacher_token):
    from app.villages.map import village_map
    from app.clock import today_local

    A["v1"].lat, A["v1"].lon = 24.33, 109.42
    build.village(A["c1"].school, "远村", lat=24.40, lon=109.50)
    build.village(A["c1"].school, "无坐标村")
    db.session.commit()
    _send(client, teacher_token, A["c1"], [_photo(81, _at(timedelta(hours=-2)))])    # a visit, nothing remarkable
    _send(client, teacher_token, A["c1"], [_photo(81, _at(timedelta(hours=-2)))])    # the same photo again: flagged
    m = village_map(A["c1"].school_id, today_local())
    by = {p["name"]: p for p in m["points"]}
    assert by[A["v1"].name]["visits"] == 2 and by[A["v1"].name]["flagged"] >= 1
    assert by["远村"]["visits"] == 0 and by["远村"]["flagged"] == 0 and "无坐标村" in [u["name"] for u in m["unplaced"]]
    assert all(0 <= p["x"] <= m["width"] and 0 <= p["y"] <= m["height"] for p in m["points"])
    assert by["远村"]["x"] > by[A["v1"].name]["x"] and by["远村"]["y"] < by[A["v1"].name]["y"]  # north-east is up-right
    assert by[A["v1"].name]["r"] > by["远村"]["r"]
    login(client, A["principal"].username)
    html = client.get("/dashboard/").get_data(as_text=True)
    svg = html.split('<svg class="vmap"', 1)[1].split("</svg>", 1)[0]
    assert svg.count('class="dot"') == 2 and svg.count('class="ring"') == 1 and "style=" not in svg
    assert "无坐标村" in html and "未设置位置" in html


def test_a_childs_photo_gallery_across_all_their_records(client, A, world, teacher_token):
    from .builders import put_photo
    from . import imaging

    first = _send(client, teacher_token, A["c1"], [_photo(91, _at(timedelta(days=-3)))], when=timedelta(days=-3))
    second = _send(client, teacher_token, A["c1"], [_photo(92, _at(timedelta(hours=-2))), _photo(93, _at(timedelta(hours=-2)))])
    data = _photo(94)
    put_photo(client, teacher_token, data)
    talk = item("talk", A["c1"], _at(timedelta(hours=-1)).isoformat(timespec="seconds"), photos=[imaging.sha(data)])
    assert post(client, teacher_token, [talk]).get_json()["results"][0]["status"] == "created"
    login(client, A["principal"].username)
    html = client.get(f"/children/{A['c1'].id}").get_data(as_text=True)
    assert f'href="/children/{A["c1"].id}/photos"' in html
    html = client.get(f"/children/{A['c1'].id}/photos").get_data(as_text=True)
    grid = html.split('class="photo-grid"', 1)[1].split("</ul>", 1)[0]
    assert grid.count("<img ") == 4 and "/thumb" in grid and "srcset=" in grid and "style=" not in grid
    assert grid.index(f'/records/{second.id}"') < grid.index(f'/records/{first.id}"')  # newest first
    # the village committee sees the home visits' photos only; another school's child is not found
    login(client, A["committee"].username)
    grid = client.get(f"/children/{A['c1'].id}/photos").get_data(as_text=True).split('class="photo-grid"', 1)[1]
    assert grid.split("</ul>", 1)[0].count("<img ") == 3
    assert client.get(f"/children/{world['B']['c1'].id}/photos").status_code == 404
