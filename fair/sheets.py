"""Spreadsheets: the core's tables written as CSV or XLSX, in the reader's language.

CSV is UTF-8 with a byte-order mark: Excel on a Chinese Windows reads a CSV
without one as GBK and shows the names as mojibake.  Money in CSV is yuan with
two decimals and no thousands separator, so that it stays a number in any
program; XLSX carries numbers with a ¥ format, times in the fair's clock
(Asia/Shanghai) with a date format, a frozen header and filters.  Text that
a spreadsheet would take for a formula is written as text (a quote before it
in CSV, a string cell in XLSX): names and titles come from many hands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter

from fair.core.reports import Table
from fair.i18n import SHANGHAI, gettext

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = '"¥"#,##0.00'
TIME_FORMAT = "yyyy-mm-dd hh:mm"
SHARE_FORMAT = "0.0%"
# A CSV cell starting with one of these is a formula to Excel: a title such as "=HYPERLINK(…)" would run.
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time on the fair's clock, without a zone (spreadsheets have none)."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def _cell_text(kind: str, value: Any, locale: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value) / 100:.2f}"
    if kind == "time":
        return local_time(value).strftime("%Y-%m-%d %H:%M")
    if kind == "share":
        return f"{Decimal(value) / 100:.1f}%"
    text = gettext(locale, value) if kind == "label" else str(value)
    return "'" + text if text.startswith(FORMULA_SIGNS) else text


def to_csv(table: Table, locale: str) -> bytes:
    """One table as CSV (UTF-8 with BOM), the header in ``locale``."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([gettext(locale, column.header) for column in table.columns])
    for row in table.rows:
        writer.writerow(
            [_cell_text(column.kind, value, locale) for column, value in zip(table.columns, row, strict=True)]
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(tables: Sequence[Table], locale: str) -> bytes:
    """Tables as the sheets of one workbook: typed cells, ¥ and date formats, a frozen header, filters."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    header = book.add_format({"bold": True, "bg_color": "#EFEFEF", "bottom": 1})
    formats = {
        "money": book.add_format({"num_format": MONEY_FORMAT}),
        "time": book.add_format({"num_format": TIME_FORMAT}),
        "share": book.add_format({"num_format": SHARE_FORMAT}),
    }
    for table in tables:
        sheet = book.add_worksheet(_sheet_name(gettext(locale, table.title)))
        widths = []
        for col, column in enumerate(table.columns):
            title = gettext(locale, column.header)
            sheet.write_string(0, col, title, header)
            widths.append(_width(title))
        for row_number, row in enumerate(table.rows, start=1):
            for col, (column, value) in enumerate(zip(table.columns, row, strict=True)):
                shown = _write(sheet, row_number, col, column.kind, value, locale, formats)
                widths[col] = max(widths[col], shown)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(width + 2, 48))
        sheet.freeze_panes(1, 0)
        if table.columns:
            sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
    book.close()
    return out.getvalue()


def _write(sheet, row: int, col: int, kind: str, value: Any, locale: str, formats: dict) -> int:
    """Write one typed cell; the width it needs, in characters."""
    if value is None:
        sheet.write_blank(row, col, None)
        return 0
    if kind == "money":
        sheet.write_number(row, col, value / 100, formats["money"])
        return len(f"¥{value / 100:,.2f}")
    if kind == "time":
        sheet.write_datetime(row, col, local_time(value), formats["time"])
        return 16
    if kind == "share":
        sheet.write_number(row, col, value / 10_000, formats["share"])
        return 7
    if kind == "int" or (kind == "text" and isinstance(value, int)):
        sheet.write_number(row, col, value)
        return len(str(value))
    text = gettext(locale, value) if kind == "label" else str(value)
    sheet.write_string(row, col, text)  # never a formula, whatever it starts with
    return _width(text)


def _width(text: str) -> int:
    """Columns are measured in Latin characters; a CJK character takes two."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _sheet_name(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


XLSX_MAGIC = b"PK\x03\x04"  # an XLSX file is a zip archive


class Unreadable(ValueError):
    """The upload is neither a CSV nor an XLSX file we can read."""


def read_table(body: bytes, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    """The header (first row) and rows of the first sheet of an XLSX file, or of a CSV file (UTF-8 or GBK).

    A CSV cell that this module quoted against formulas (``'=…``) comes back as it was written.
    """
    read = _xlsx_rows if body.startswith(XLSX_MAGIC) else _csv_rows
    rows = read(body, max_rows + 1)  # blank rows stay, so that every row keeps its line number
    if not rows or not any(cell not in (None, "") for cell in rows[0]):
        raise Unreadable("no header")
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    return header, rows[1:]


def _csv_rows(body: bytes, limit: int) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable("encoding")
    if "\x00" in text:
        raise Unreadable("binary")
    rows = []
    for row in csv.reader(io.StringIO(text, newline="")):
        rows.append([_unquoted(cell) for cell in row])
        if len(rows) > limit:
            break
    return rows


def _unquoted(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2].startswith(FORMULA_SIGNS) else cell


def _xlsx_rows(body: bytes, limit: int) -> list[list[Any]]:
    import openpyxl  # only for imports: a rare, organiser-only request

    try:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as error:  # a damaged or foreign zip: openpyxl raises many kinds
        raise Unreadable("xlsx") from error
    try:
        rows = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > limit:
                break
        return rows
    finally:
        book.close()
