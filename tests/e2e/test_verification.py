"""Verification on the spot, offline: a signature drawn on the teacher's phone and the committee member's one-time code."""
import re
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Photo, Record, User
from app.verify.totp import STEP_SECONDS, code_at

from .conftest import api_login, fill_required, open_app, wait_for_worker, wait_until, wait_waiting

pytestmark = pytest.mark.e2e

DB_EXISTS = "async () => (await indexedDB.databases()).some(d => d.name === 'jiafang')"
SIGNATURE = "#f-signature"


def draw_signature(page, shift=0.0):
    """Two strokes with the mouse (pointer events, as a finger would make); `shift` moves them for a different drawing."""
    pad = page.locator(SIGNATURE + "-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for (x0, y0), (x1, y1) in (((0.1, 0.3), (0.6, 0.7)), ((0.3, 0.8), (0.9, 0.2))):
        page.mouse.move(x + w * (x0 + shift), y + h * y0)
        page.mouse.down()
        page.mouse.move(x + w * (x1 - shift), y + h * y1, steps=12)
        page.mouse.up()


def test_offline_visit_with_signature_and_code_survives_reload_and_syncs(live, context, page, offline_app):
    offline_app()

    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    record_id = page.get_attribute("#jf-record-form", "data-id")
    fill_required(page)
    code = page.locator("#f-confirm_code")
    assert code.get_attribute("inputmode") == "numeric" and code.get_attribute("maxlength") == "6"
    assert "确认口令" in page.inner_text("#f-confirm_code-help")
    code.fill("１２３4５")  # an input method in full-width mode: still digits, but only five
    assert code.input_value() == "12345"
    page.evaluate("() => { window.refused = false; document.getElementById('f-confirm_code')"
                  ".addEventListener('invalid', () => { window.refused = true; }, {once: true}); }")
    page.click("#jf-save")
    wait_until(page, "() => window.refused")  # the browser checked the form and refused the code
    assert not page.evaluate("() => location.hash").startswith("#/child/")  # not 6 digits: the form will not save
    code.fill("123456")
    page.fill("#f-signed_by", "奶奶")

    page.click(SIGNATURE + "-done")  # nothing drawn yet
    assert "请先在框内签名" in page.inner_text(SIGNATURE + "-note")
    draw_signature(page)
    page.click(SIGNATURE + "-done")
    page.wait_for_selector(SIGNATURE + "-saved img.signature")
    sha = page.input_value(SIGNATURE)
    assert re.fullmatch(r"[0-9a-f]{64}", sha)

    # Drawn again: the new PNG replaces the first, whose Blob goes.
    page.click(SIGNATURE + "-redo")
    page.wait_for_selector(SIGNATURE + "-pad", state="visible")
    draw_signature(page, shift=0.05)
    page.click(SIGNATURE + "-done")
    page.wait_for_selector(SIGNATURE + "-saved img.signature")
    first, sha = sha, page.input_value(SIGNATURE)
    assert sha != first
    wait_until(page, """async ([id, sha]) => { const r = await JF.db.get('records', id);
        return r && r.fields.signature === sha && r.fields.confirm_code === '123456'; }""", [record_id, sha])

    stored = page.evaluate("""async () => Promise.all((await JF.db.all('photos')).map(async p => ({
        sha: p.sha, kind: p.kind, isBlob: p.blob instanceof Blob, type: p.blob.type,
        hash: await JF.capture.sha256Hex(new Uint8Array(await p.blob.arrayBuffer())) })))""")
    assert stored == [{"sha": sha, "kind": "signature", "isBlob": True, "type": "image/png", "hash": sha}]
    rec = page.evaluate("async id => JF.db.get('records', id)", record_id)
    assert rec["photos"] == [] and "base64" not in str(rec)  # a Blob of its own, not a data URL in the record

    # A reload offline comes back to the same draft, signature and code included.
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(SIGNATURE + "-saved img.signature")
    assert page.input_value("#f-confirm_code") == "123456" and page.input_value(SIGNATURE) == sha
    assert page.evaluate("() => document.querySelector('#f-signature-saved img').naturalWidth") == 600

    page.click("#jf-save")
    wait_until(page, "h => location.hash === h", f"#/child/{live.ids['c1']}")
    wait_waiting(page, 1)
    assert live.records() == []

    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    wait_until(page, "async () => (await JF.db.all('records')).length === 0 && (await JF.db.all('photos')).length === 0")

    def server_side():
        r = db.session.scalar(select(Record).where(Record.client_id == record_id))
        p = db.session.scalar(select(Photo).where(Photo.sha256 == r.fields["signature"]))
        return dict(r.fields), [rp.photo.sha256 for rp in r.photos], (p.kind, p.uploader_id) if p else None
    fields, photos, sig_photo = live.query(server_side)
    assert fields["signature"] == sha and fields["confirm_code"] == "123456" and fields["signed_by"] == "奶奶"
    assert photos == []  # a signature is not one of the record's photos
    assert sig_photo == ("signature", live.ids["teacher_id"])
    assert live.gate.count("PUT", "/api/v1/photos/") == 1 and live.gate.count("POST", "/api/v1/records") == 1


def test_signature_uploaded_when_the_server_says_missing(live, context, page):
    """The server forgot the signature (missing_photos): the outbox uploads it again and resends."""
    api_login(context, live, live.ids["teacher"])
    open_app(page, live)
    context.set_offline(True)
    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    fill_required(page)
    draw_signature(page)
    page.click("#jf-save")  # ink on the pad but "签好了" not pressed: kept anyway
    wait_until(page, "h => location.hash.startsWith(h)", "#/child/")
    # Pretend it went up once already: the outbox would skip it if it trusted that flag.
    page.evaluate("async () => { for (const p of await JF.db.all('photos')) { p.uploaded = true; await JF.db.put('photos', p); } }")
    context.set_offline(False)
    wait_waiting(page, 0, timeout=30000)
    kinds = live.query(lambda: [(p.kind, p.sha256) for p in db.session.scalars(select(Photo))])
    signature = live.query(lambda: db.session.scalar(select(Record)).fields.get("signature"))
    assert kinds == [("signature", signature)]
    assert live.gate.count("POST", "/api/v1/records") == 2 and live.gate.count("PUT", "/api/v1/photos/") == 1


@pytest.fixture
def member(live, build, people):
    """A committee member of the first child's village."""
    village = people["c1"].village
    u = build.user("committee", people["school"], village=village, username="cunwei1")
    return {"username": u.username, "id": u.id, "name": u.name, "village": village.name}


def test_committee_code_screen_works_offline_and_logout_wipes_the_secret(live, context, page, member):
    api_login(context, live, member["username"])
    page.goto(live.url + "/")
    link = page.locator("#open-code")
    assert link.inner_text() == "打开确认口令（离线可用）"
    link.click()
    wait_for_worker(page)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#jf-code[data-code]")
    assert page.is_hidden("#jf-nav-outbox") and page.is_visible("#jf-nav-code")

    secret = live.query(lambda: db.session.get(User, member["id"]).totp_secret)
    assert secret and page.evaluate("async () => (await JF.db.kvGet('confirm')).secret") == secret

    # The phone computes RFC 6238 exactly: the RFC's own SHA-1 vectors (30 s, 8 digits), incl. a counter above 2^32.
    rfc = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    vectors = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 20000000000: "65353130"}
    got = page.evaluate("async ([s, ts]) => Promise.all(ts.map(t => JF.code.totp(s, t, 30, 8)))", [rfc, list(vectors)])
    assert got == list(vectors.values())

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#jf-code[data-code]")
    shown = page.get_attribute("#jf-code", "data-code")
    now = time.time()
    assert shown in {code_at(secret, now + d) for d in (-STEP_SECONDS, 0, STEP_SECONDS)}
    card = page.inner_text("#jf-code-card")
    assert member["name"] in card and member["village"] in card
    assert re.search(r"\d+ 秒后更换", page.inner_text("#jf-code-left"))
    left = int(page.get_attribute("#jf-code-bar", "value"))
    assert 1 <= left <= STEP_SECONDS

    # The village's children are still reachable, without any form to write.
    page.click("#jf-nav-home")
    page.wait_for_selector(f"#jf-children [data-child='{live.ids['c1']}']")
    page.click(f"#jf-children [data-child='{live.ids['c1']}'] a")
    page.wait_for_selector("#jf-card")
    assert page.locator("[data-kind]").count() == 0

    context.set_offline(False)
    page.click("#jf-nav-code")
    page.wait_for_selector("#jf-code[data-code]")
    page.click("#jf-logout")
    page.wait_for_url(re.compile(r"/login"))
    assert not page.evaluate(DB_EXISTS)
