"""Every message the code can show exists in Chinese, with the same placeholders as in English."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from fair.i18n import CATALOGUES, LOCALES, format_money, gettext, messages, normalise_locale
from fair.settings import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def code_msgids() -> set[str]:
    found = set()
    for folder, method, keywords in (
        ("fair", "python", {"N_": None, "_": None, "gettext": None}),
        ("templates", "jinja2", {"_": None, "gettext": None}),
        ("static/js", "javascript", {"t": None}),
    ):
        extracted = extract_from_dir(ROOT / folder, method_map=[("**.*", method)], keywords=keywords)
        found |= {message for _file, _line, message, _comments, _context in extracted}
    return found


def test_the_extractor_sees_every_message_of_the_scripts():
    """Babel's JavaScript extractor misses t() inside a template literal or inside another t() call."""
    for script in (ROOT / "static" / "js").glob("*.js"):
        source = script.read_text(encoding="utf-8")
        assert "${t(" not in source, f"{script.name}: t() inside a template literal"
        assert not re.search(r't\("[^"]*", \{[^}]*\bt\(', source), f"{script.name}: t() inside another t()"


def test_every_message_in_the_code_is_translated_into_chinese():
    with (CATALOGUES / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source, locale="zh_CN")
    translated = {message.id: message.string for message in catalogue if message.id and message.string}
    missing = sorted(code_msgids() - set(translated))
    assert not missing, f"run scripts/translations and translate: {missing}"
    for msgid, msgstr in translated.items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def test_money_is_shown_in_yuan_with_separators():
    assert format_money(123_456_789, "zh_CN") == "¥1,234,567.89"
    assert format_money(5, "en") == "¥0.05"


def test_locales_follow_what_browsers_say():
    assert normalise_locale("en-GB,en;q=0.9") == "en"
    assert normalise_locale("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert normalise_locale(None) == "zh_CN"


def test_the_screens_catalogue_is_every_message_gettext_translates():
    """``messages`` (what the pages hand the scripts' ``t()``) is read from Babel's public catalogue; it must say
    what ``gettext`` says, for every message of the ``.po`` file that has a translation."""
    for locale in LOCALES:
        shown = messages(locale)
        with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalogue = read_po(source, locale=locale)
        translated = {m.id for m in catalogue if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
        assert set(shown) == translated, locale
        assert all(gettext(locale, msgid) == text for msgid, text in shown.items()), locale
    assert len(messages("zh_CN")) > 500  # the Chinese screens are translated (a catalogue lost reads as empty)
