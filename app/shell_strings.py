"""The offline app's own strings: the Chinese in the shell's scripts and page, translated for each non-default language."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "static" / "js"
SHELL_PAGE = ROOT / "templates" / "app" / "shell.html"
# Tokens of a script: a string literal (group 1 or 2) or a comment (skipped, so a quote in a comment is no string).
_TOKEN = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`(?:[^`\\]|\\.)*`|/\*[\s\S]*?\*/|//[^\n]*""")
# Chinese characters, and Chinese punctuation alone ("{kind}：{who}") is Chinese too.
_HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_DATA_T = re.compile(r"data-t>([^<]+)<")


@lru_cache(maxsize=1)
def msgids() -> tuple[str, ...]:
    """Every distinct string literal with Chinese (or Chinese punctuation) in it in static/js, and the shell page's data-t texts, in file order.

    All of them, not only t("…") arguments: outbox.js also runs in the worker (no catalogue) and the page translates
    its messages when it shows them."""
    seen: dict[str, None] = {}
    for path in sorted(JS_DIR.glob("*.js")):
        for m in _TOKEN.finditer(path.read_text(encoding="utf-8")):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            if raw and _HAN.search(raw):
                seen.setdefault(json.loads('"' + raw.replace("\\'", "'") + '"'))
    for text in _DATA_T.findall(SHELL_PAGE.read_text(encoding="utf-8")):
        seen.setdefault(text.strip())
    return tuple(seen)


def catalogue() -> dict[str, dict[str, str]]:
    """{locale: {msgid: translation}} for every language but the default (whose words are the msgids)."""
    out = {}
    for lang in current_app.config["LANGUAGES"]:
        if lang == current_app.config["BABEL_DEFAULT_LOCALE"]:
            continue
        with force_locale(lang):
            out[lang] = {m: gettext(m) for m in msgids() if gettext(m) != m}
    return out


def script() -> str:
    """The catalogue as a classic script the shell loads before its own (cached with the shell by the worker)."""
    body = json.dumps({"default": current_app.config["BABEL_DEFAULT_LOCALE"], "strings": catalogue()},
                      ensure_ascii=False, sort_keys=True)
    return "self.JF_I18N = " + body + ";\n"
