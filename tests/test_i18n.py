"""The English catalogue covers every string of the UI (Chinese is the source language)."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def test_every_ui_string_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    wanted = {m.id for m in read_po(pot.open("rb")) if m.id}
    assert len(wanted) > 300 and "待审核" in wanted  # the extraction really ran over app/ and templates/
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        have = {m.id: m.string for m in read_po(f) if m.id}
    missing = sorted(i for i in wanted if not have.get(i))
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing[:10]}"
    for msgid in wanted:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(have[msgid])), msgid


def test_default_term_names_are_in_the_readers_language(app):
    """A school that entered no terms gets the default calendar; its names were Chinese on English pages."""
    from datetime import date

    from flask_babel import refresh

    from app.duties.services import default_terms

    with app.test_request_context(headers={"Cookie": "lang=en"}):
        refresh()  # the test's app context is shared by the contexts below: the locale is chosen anew in each
        assert [t[0] for t in default_terms(2027)] == ["2026-2027 term 2 (spring)", "2027-2028 term 1 (autumn)"]
    with app.test_request_context():
        refresh()
        names = default_terms(2027)
        assert [t[0] for t in names] == ["2026-2027 第二学期", "2027-2028 第一学期"]
        assert [t[1:] for t in names] == [(date(2027, 2, 20), date(2027, 7, 10)), (date(2027, 9, 1), date(2028, 1, 20))]
    with app.app_context():  # the CLI (county figures, seed): the default language
        refresh()
        assert default_terms(2027)[1][0] == "2027-2028 第一学期"
