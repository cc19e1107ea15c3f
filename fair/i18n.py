"""Translation catalogues and locale-aware formatting.

Every user-facing string is an English msgid looked up in a Babel catalogue;
Simplified Chinese is the default locale.  The ``.po`` files are read directly
at first use, so there is no compile step to forget.
"""

from __future__ import annotations

import io
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the fair's clock: times are kept in UTC and shown, and days counted, here
DEFAULT_LOCALE = "zh_CN"
CATALOGUES = Path(__file__).parent / "translations"


def normalise_locale(value: str | None) -> str:
    """Map what a browser or client says ("en-GB", "zh-Hans-CN", "zh") to a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    value = value.replace("-", "_").lower()
    return "en" if value.startswith("en") else DEFAULT_LOCALE


@cache
def translations(locale: str) -> NullTranslations:
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalogue = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def gettext(locale: str, msgid: str, **params: object) -> str:
    text = translations(locale).gettext(msgid)
    return text % params if params else text


def format_money(fen: int, locale: str) -> str:
    """¥ with thousands separators: 123456789 fen is ¥1,234,567.89."""
    return "¥" + format_decimal(Decimal(fen) / 100, format="#,##0.00", locale=locale)
