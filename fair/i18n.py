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

from babel.messages.catalog import Catalog
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
def catalogue(locale: str) -> Catalog | None:
    """The messages of ``locale`` as Babel reads its ``.po`` file; None for a locale with none."""
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return None
    with po.open("rb") as source:
        return read_po(source, locale=locale)


@cache
def translations(locale: str) -> NullTranslations:
    catalogue_ = catalogue(locale)
    if catalogue_ is None:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalogue_)
    compiled.seek(0)
    return Translations(compiled)


@cache
def messages(locale: str) -> dict[str, str]:
    """Every message ``gettext`` translates for ``locale``, msgid to text: those ``write_mo`` compiles (translated,
    not fuzzy), read from Babel's catalogue rather than from the compiled ``Translations``' private table."""
    catalogue_ = catalogue(locale)
    if catalogue_ is None:
        return {}
    return {
        message.id: message.string
        for message in catalogue_
        if message.id
        and isinstance(message.id, str)
        and isinstance(message.string, str)
        and message.string
        and not message.fuzzy
        and not message.context
    }


def gettext(locale: str, msgid: str, **params: object) -> str:
    text = translations(locale).gettext(msgid)
    return text % params if params else text


def format_money(fen: int, locale: str) -> str:
    """¥ with thousands separators: 123456789 fen is ¥1,234,567.89."""
    return "¥" + format_decimal(Decimal(fen) / 100, format="#,##0.00", locale=locale)
