"""The teacher's app on a 360 px phone: children first with an offline search, the record form led by its photo
button, a signature that fits the screen, sync notices that end with the sync, and the shell in English."""
import re

import pytest

from .conftest import AUTO_PIN, api_login, fill_required, open_app, wait_until, wait_waiting
from .test_verification import SIGNATURE, draw_signature

pytestmark = pytest.mark.e2e

NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@pytest.fixture
def phone(browser, problems):
    from .conftest import watch

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
    ctx.add_init_script(AUTO_PIN)  # the app opens locked: type the test PIN
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    watch(page, problems)
    yield ctx, page
    ctx.close()


@pytest.fixture
def more_children(build, people):
    """Two more of teachera's children, in another class and village, to search among."""
    v = build.village(people["school"], "B村")
    return [build.child(people["school"], v, people["teacher"], name="王小红", class_name="五(2)班"),
            build.child(people["school"], v, people["teacher"], name="李明", class_name="五(2)班")]


def visible_children(page) -> list[int]:
    return page.evaluate("() => [...document.querySelectorAll('#jf-children > li')].filter(li => !li.hidden).map(li => +li.dataset.child)")


def test_home_shows_children_first_with_a_summary_and_an_offline_search(live, phone, more_children):
    ctx, page = phone
    api_login(ctx, live, live.ids["teacher"])
    open_app(page, live)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#jf-children")
    c1, red, ming = live.ids["c1"], more_children[0].id, more_children[1].id
    # The summary line, then the children: no list of due items in between, the first child within the first screen.
    tops = page.evaluate("""() => Object.fromEntries(['jf-duties', 'jf-search', 'jf-children', 'jf-survey', 'jf-follow-ups']
        .map(id => [id, document.getElementById(id) ? document.getElementById(id).getBoundingClientRect().top : null]))""")
    assert tops["jf-duties"] < tops["jf-search"] < tops["jf-children"] < 740
    assert all(tops[k] is None or tops[k] > tops["jf-children"] for k in ("jf-survey", "jf-follow-ups"))
    assert re.fullmatch(r"本期待办 \d+", page.inner_text("#jf-duties-count"))
    # Every open duty is a chip on its child's row (the new visit's form one tap away), none elsewhere.
    chips = page.evaluate("() => [...document.querySelectorAll('[data-rule]')].map(a => [a.closest('#jf-children') !== null, a.getAttribute('href'), +a.dataset.child])")
    assert chips and all(inside and href.endswith(f"/{child}") for inside, href, child in chips)
    assert sorted(visible_children(page)) == sorted([c1, red, ming])

    page.fill("#jf-search", "王小")
    assert visible_children(page) == [red]
    page.fill("#jf-search", "b村")  # village, any case
    assert sorted(visible_children(page)) == sorted([red, ming])
    page.fill("#jf-search", "三(1)")  # class
    assert visible_children(page) == [c1]
    assert page.is_hidden("#jf-search-none")
    page.fill("#jf-search", "没有这个人")
    assert visible_children(page) == [] and page.is_visible("#jf-search-none")
    page.fill("#jf-search", "")
    assert len(visible_children(page)) == 3
    assert page.evaluate(NO_SIDEWAYS)


def test_record_form_leads_with_photos_signature_fits_and_the_sync_notice_ends(live, phone, small_jpegs):
    ctx, page = phone
    api_login(ctx, live, live.ids["teacher"])
    open_app(page, live)
    c1 = live.ids["c1"]
    page.evaluate("h => { location.hash = h }", f"#/new/home_visit/{c1}")
    page.wait_for_selector("#jf-record-form")
    # The first control of the form is the photo picker, behind a large button at the top.
    assert page.evaluate("() => document.querySelector('#jf-record-form').querySelector('input, select, textarea, button').id") == "jf-photos"
    button = page.locator("#jf-photo-button").bounding_box()
    assert page.inner_text("#jf-photo-button") == "拍照 / 添加照片" and button["height"] >= 44 and button["width"] >= 300
    # Only the required fields and the evidence show; the rest is folded under 更多内容.
    assert page.inner_text("#jf-more > summary") == "更多内容" and not page.evaluate("() => document.getElementById('jf-more').open")
    assert page.evaluate("() => [...document.querySelectorAll('#jf-more [required]')].length") == 0

    page.set_input_files("#jf-photos", [{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": b} for i, b in enumerate(small_jpegs[:2])])
    wait_until(page, "() => document.querySelectorAll('#jf-thumbs figure img').length === 2", timeout=30000)
    page.click("#jf-thumbs figure:first-child button")
    wait_until(page, "() => document.querySelectorAll('#jf-thumbs figure').length === 1")

    fill_required(page)
    draw_signature(page)
    page.click(SIGNATURE + "-done")
    page.wait_for_selector(SIGNATURE + "-saved img.signature")
    wait_until(page, "() => document.querySelector('img.signature').complete")
    assert page.evaluate(NO_SIDEWAYS)
    assert page.evaluate("() => document.querySelector('img.signature').getBoundingClientRect().right") <= 360

    page.click("#jf-save")
    wait_until(page, "() => document.getElementById('jf-notice').textContent === '已同步 1 条'", timeout=30000)
    wait_waiting(page, 0)
    assert not page.is_hidden("#jf-notice") and "正在同步" not in page.inner_text("body")
    assert page.evaluate(NO_SIDEWAYS)


def test_the_retry_countdown_moves(live, phone, small_jpegs):
    ctx, page = phone
    api_login(ctx, live, live.ids["teacher"])
    open_app(page, live)
    live.gate.down = True
    page.evaluate("h => { location.hash = h }", f"#/new/talk/{live.ids['c1']}")
    page.wait_for_selector("#jf-record-form")
    fill_required(page)
    page.click("#jf-save")
    text = wait_until(page, "() => /约 \\d+ 秒后自动重试/.test(document.getElementById('jf-error').textContent) && document.getElementById('jf-error').textContent")
    # Neither "正在同步…" left over nor a frozen countdown: the notice says the record waits, the seconds go down.
    assert page.inner_text("#jf-notice") == "已保存在手机上，有网络后会自动同步。"
    first = int(re.search(r"约 (\d+) 秒", text).group(1))
    page.wait_for_timeout(2200)
    later = page.inner_text("#jf-error")
    assert "自动重试" not in later or int(re.search(r"约 (\d+) 秒", later).group(1)) < first
    live.gate.down = False


def test_english_shell_has_no_chinese_but_the_data(live, phone, more_children):
    ctx, page = phone
    api_login(ctx, live, live.ids["teacher"])
    open_app(page, live)
    page.wait_for_selector("#jf-children [data-rule]")
    assert "逾期" in page.inner_text("#jf-children")  # Chinese first, the default; then the user switches
    page.goto(live.url + "/lang/en?next=/app/")
    page.wait_for_selector("body[data-ready='1']")
    wait_until(page, "() => !/[\u4e00-\u9fff]/.test(document.querySelector('#jf-children [data-rule]').textContent)")
    data = live.query(_data_words)

    def leftover() -> list[str]:
        text = page.inner_text("body")
        for word in sorted(data, key=len, reverse=True):
            text = text.replace(word, "")
        return CJK.findall(text)

    assert page.inner_text("#jf-nav-outbox") == "To sync" and page.evaluate("() => document.documentElement.lang") == "en"
    assert page.get_attribute("#jf-search", "placeholder") == "Search name, class, village"
    assert leftover() == []
    for view in ("#/outbox", "#/notifications", f"#/child/{live.ids['c1']}", f"#/new/home_visit/{live.ids['c1']}", "#/incident/new"):
        page.evaluate("h => { location.hash = h }", view)
        page.wait_for_timeout(300)
        assert leftover() == [], view
    # Offline, from the worker's cache, still in English: the switch installed the English worker, which caches the words.
    wait_until(page, """async () => { const name = (await caches.keys()).find((k) => k.endsWith('-en'));
        return name && !!(await (await caches.open(name)).match('/app/strings.js', { ignoreSearch: true })); }""")
    ctx.set_offline(True)
    page.evaluate("h => { location.hash = h }", "#/")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#jf-children")
    assert page.inner_text("#jf-sync") == "Sync" and leftover() == []


def _data_words() -> set[str]:
    """What the school's data says in Chinese (names, classes, villages, guardians, term names): allowed in English mode."""
    from sqlalchemy import select

    from app import clock
    from app.duties.services import default_terms
    from app.extensions import db
    from app.models import Child, Guardian, School, Term, User, Village

    words = {name for year in (clock.today_local().year - 1, clock.today_local().year, clock.today_local().year + 1)
             for name, _start, _end in default_terms(year)}  # a school without its own terms: named in Chinese
    for model, attrs in ((Child, ("name", "class_name", "grade")), (Village, ("name",)), (School, ("name",)),
                         (User, ("name",)), (Term, ("name",)), (Guardian, ("name", "relationship_", "work_place"))):
        for row in db.session.scalars(select(model)):
            words |= {getattr(row, a) for a in attrs if getattr(row, a)}
    return words
