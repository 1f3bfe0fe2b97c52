"""The CSP (style-src 'self'; script-src 'self') blocks inline styles and scripts: none may be written at all.

The browser tour (tests/e2e/test_a11y.py) fails on any CSP violation in the console of the pages it visits; this
check covers every template and script, including pages the tour cannot reach.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js")) + [ROOT / "service_worker" / "sw.js"]

STYLE_ATTR = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S)
HANDLER_ATTR = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.S)
JS_STYLE_ATTR = re.compile(r"""setAttribute\(\s*["']style["']|[{,]\s*["']?style["']?\s*:|\.cssText\s*=""")


def problems(path: Path, patterns) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)[-40:]!r}"
            for pattern in patterns for m in pattern.finditer(text)]


def test_templates_have_no_inline_styles_handlers_or_scripts():
    assert len(TEMPLATES) > 40
    found = [p for path in TEMPLATES for p in problems(path, (STYLE_ATTR, HANDLER_ATTR, INLINE_SCRIPT))]
    assert not found, "blocked by the CSP:\n" + "\n".join(found)


def test_scripts_never_write_a_style_attribute():
    assert len(SCRIPTS) > 10
    found = [p for path in SCRIPTS for p in problems(path, (JS_STYLE_ATTR,))]
    assert not found, "blocked by the CSP (set el.style.x from the script instead):\n" + "\n".join(found)


@pytest.mark.parametrize("markup,pattern", [
    ('<div class="bar"><span style="width: 40%"></span></div>', STYLE_ATTR),
    ('<button type="button" onclick="go()">', HANDLER_ATTR),
    ("<script>window.x = 1</script>", INLINE_SCRIPT),
    ('h("span", { class: "bar", style: "width: 4%" })', JS_STYLE_ATTR),
    ('el.setAttribute("style", "width: 4%")', JS_STYLE_ATTR),
])
def test_the_checks_catch_what_the_csp_blocks(markup, pattern):
    assert pattern.search(markup)


@pytest.mark.parametrize("markup,pattern", [
    ('<script src="/static/js/app.js" defer></script>', INLINE_SCRIPT),
    ('<a href="/x" class="on">', HANDLER_ATTR),
    ("el.style.width = pct + '%'", JS_STYLE_ATTR),
])
def test_the_checks_leave_what_the_csp_allows(markup, pattern):
    assert not pattern.search(markup)
