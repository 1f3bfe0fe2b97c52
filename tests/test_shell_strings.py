"""The offline app's strings in English: every Chinese text of the shell translated, and no Chinese punctuation in
any English string of the catalogue."""
import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from app.shell_strings import msgids

PO = Path(__file__).resolve().parent.parent / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
CHINESE_PUNCTUATION = re.compile(r"[，。：；（）、！？【】《》「」]")
HAN = re.compile(r"[\u3400-\u9fff]")


def test_no_chinese_punctuation_in_any_english_string():
    with PO.open("rb") as f:
        catalogue = read_po(f)
    bad = [(m.id, m.string) for m in catalogue if m.id and m.string and CHINESE_PUNCTUATION.search(
        m.string if isinstance(m.string, str) else " ".join(m.string))]
    assert not bad, bad


def test_every_shell_string_has_an_english_translation_without_chinese(app):
    ids = msgids()
    assert "拍照 / 添加照片" in ids and "已同步 {n} 条" in ids and "同步" in ids  # scripts and the shell page's data-t
    assert "{kind}：{who}" in ids  # Chinese punctuation alone makes a string Chinese
    assert "请先修改密码：点此打开“我的账号”设置新密码" in ids  # outbox.js's messages too, though it has no t()
    with app.test_request_context(), force_locale("en"):
        missing = [m for m in ids if gettext(m) == m]
        chinese = [(m, gettext(m)) for m in ids if HAN.search(gettext(m)) or CHINESE_PUNCTUATION.search(gettext(m))]
        placeholders = [m for m in ids if set(re.findall(r"\{\w+\}", m)) != set(re.findall(r"\{\w+\}", gettext(m)))]
    assert not missing, missing
    assert not chinese, chinese
    assert not placeholders, placeholders


def test_the_catalogue_is_served_with_the_shell_and_precached(client):
    client.get("/lang/en")
    shell = client.get("/app/shell").get_data(as_text=True)
    url = re.search(r'<script src="(/app/strings\.js\?v=\w+)"', shell).group(1)
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "application/javascript"
    assert "immutable" in r.headers["Cache-Control"]
    body = r.get_data(as_text=True)
    assert body.startswith("self.JF_I18N = ") and '"拍照 / 添加照片": "Take / add photos"' in body
    assert '"default": "zh"' in body
    assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    # The English phone's worker (session.js registers /sw.js?lang=en) caches it with the shell.
    worker = client.get("/sw.js?lang=en").get_data(as_text=True)
    assert url in worker and 'const LANG="en";' in worker
    # An unversioned or old URL is revalidated, never kept for a year.
    assert client.get("/app/strings.js?v=old").headers["Cache-Control"] == "no-cache"
    # The shell's script loads first, before the scripts that use it.
    assert shell.index("/app/strings.js") < shell.index("/shell.js")  # i18n.js, then home.js, inside the bundle
    assert "/app/strings.js" in client.get("/login").get_data(as_text=True)  # server pages' scripts speak English too


def test_a_chinese_user_is_never_sent_the_catalogue(client):
    """Chinese, the default, is the scripts' own words: 7.9 KB less for its users' first install."""
    for page in ("/app/shell", "/login", "/offline"):
        assert "/app/strings.js" not in client.get(page).get_data(as_text=True), page
    for worker in ("/sw.js", "/sw.js?lang=zh", "/sw.js?lang=xx"):
        body = client.get(worker).get_data(as_text=True)
        assert "/app/strings.js" not in body and 'const LANG="zh";' in body, worker
    client.get("/lang/en")
    client.get("/lang/zh")
    assert "/app/strings.js" not in client.get("/app/shell").get_data(as_text=True)


def test_the_language_cookie_is_readable_by_the_shell(client):
    r = client.get("/lang/en?next=/app/")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "HttpOnly" not in cookie and "SameSite=Lax" in cookie
