"""File writers: CSV and XLSX (any record kind) and vCard 3.0 (contacts), streaming with flat memory.

CSV injection: a spreadsheet treats a cell starting with = + - @ (or a tab or carriage return before
one) as a formula, so `=HYPERLINK("http://evil","x")` in a contact's name would become a live link in
the exported file. `neutralise()` prefixes such a cell with a single quote, which spreadsheets show as
text. `+` and `-` also start phone numbers and negative amounts; they are left alone when the whole
value is a plausible number or phone number: one leading sign, then only digits, spaces, dots, commas,
slashes, hyphens and parentheses, with at least one digit ("+1 555 0100", "+49 (0)30 1234-5", "-12.50").
Such a value can at worst be read as arithmetic on constants: it has no letters, so no function, cell
reference or external link. Anything else starting with one of those characters is neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.utils import timezone

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMULA_CHARS = frozenset("".join(FORMULA_START))
PLAUSIBLE_NUMBER = re.compile(r"[+-][0-9 .,/()\-]*[0-9][0-9 .,/()\-]*")
# Characters XML 1.0 (and so XLSX) cannot hold.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}


def neutralise(text: str) -> str:
    if not text or not text.startswith(FORMULA_START):
        return text
    if text[0] in "+-" and PLAUSIBLE_NUMBER.fullmatch(text):
        return text
    return "'" + text


def _local(value: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(tz or timezone.get_current_timezone())


def as_text(value: Any, tz: dt.tzinfo | None = None) -> str:
    """A value as CSV text: dates ISO, times in the workspace's time zone (tz: that zone, looked up once by
    the writers; finding the current zone cost as much as the rest of a row), lists comma-separated."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _local(value, tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:f}"
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v, tz) for v in value)
    return str(value)


def csv_cell(value: Any, tz: dt.tzinfo | None = None) -> str:
    text = value if type(value) is str else as_text(value, tz)
    return neutralise(text) if text and text[0] in FORMULA_CHARS else text


def xlsx_cell(value: Any, tz: dt.tzinfo | None = None) -> Any:
    """Numbers, dates and booleans stay typed (sortable in the sheet); text is neutralised."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        return _local(value, tz).replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    return neutralise(ILLEGAL_XML.sub("", as_text(value, tz)))


# --- CSV -----------------------------------------------------------------------------------------------


class _Line:
    """A file-like object for csv.writer that hands back what was written."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(header: list[str], rows: Iterable[list[Any]], *, bom: bool = True, batch: int = 200) -> Iterator[bytes]:
    """The CSV file in chunks of UTF-8 bytes (with a BOM so spreadsheets read non-Latin names right)."""
    writer = csv.writer(_Line())
    tz = timezone.get_current_timezone()
    buf: list[str] = [("\ufeff" if bom else "") + writer.writerow([csv_cell(h) for h in header])]
    for row in rows:
        buf.append(writer.writerow([csv_cell(v, tz) for v in row]))
        if len(buf) >= batch:
            yield "".join(buf).encode("utf-8")
            buf = []
    if buf:
        yield "".join(buf).encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------------------


# An .xlsx is a zip of a few XML parts. The sheet is written here as SpreadsheetML text, row by row, straight
# into the zip (memory stays flat): openpyxl's write-only mode spent about 30 µs a cell building and
# serialising an element per cell (a 100,000-contact export took 90 s). Strings are inline (no shared
# string table to hold in memory); dates and times are numbers with a date format, as Excel stores them.

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
    # cell styles: 0 plain, 1 bold (the header), 2 a date, 3 a date and time
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_NS}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_SHEET_START = (
    f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetData>')
_SHEET_END = "</sheetData></worksheet>"
_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
MAX_CELL_TEXT = 32_767  # Excel refuses to open a file with a longer cell
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _xlsx_cell(ref: str, value: Any, style: str = "") -> str:
    """One <c> element for an xlsx_cell() value ("" for an empty cell)."""
    if value is None:
        return ""
    if type(value) is str:
        if not value:
            return ""
        text = _xml_text(value[:MAX_CELL_TEXT])
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"><v>{value!r}</v></c>' if math.isfinite(value) else ""
    if isinstance(value, decimal.Decimal):
        return f'<c r="{ref}"><v>{value:f}</v></c>' if value.is_finite() else ""
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="3"><v>{(value - _EPOCH).total_seconds() / 86400!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="2"><v>{(value - _EPOCH.date()).days}</v></c>'
    return _xlsx_cell(ref, str(value), style)


def write_xlsx(out: IO[bytes], header: list[str], rows: Iterable[list[Any]], *, title: str = "Export",
               batch: int = 500) -> None:
    """Write an .xlsx to a binary file (it need not be seekable): a bold, frozen header row, then the rows."""
    tz = timezone.get_current_timezone()
    name = SHEET_NAME_FORBIDDEN.sub(" ", title)[:31].strip() or "Export"
    letters = [_column_letters(i) for i in range(len(header))]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for part, xml in _XLSX_PARTS.items():
            zf.writestr(part, _XML + xml)
        zf.writestr("xl/workbook.xml", _XML + (
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets><sheet name="{_xml_text(name).replace(chr(34), "&quot;")}" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>'))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = "".join(_xlsx_cell(f"{c}1", xlsx_cell(h, tz), ' s="1"') for c, h in zip(letters, header, strict=True))
            buf = [_XML, _SHEET_START, f'<row r="1">{head}</row>']
            for number, row in enumerate(rows, start=2):
                # Text never starts with "=" here (neutralise() quoted it), and no cell is a formula anyway.
                cells = "".join(_xlsx_cell(f"{c}{number}", xlsx_cell(v, tz)) for c, v in zip(letters, row, strict=True))
                buf.append(f'<row r="{number}">{cells}</row>')
                if len(buf) >= batch:
                    sheet.write("".join(buf).encode("utf-8"))
                    buf = []
            buf.append(_SHEET_END)
            sheet.write("".join(buf).encode("utf-8"))


# --- vCard 3.0 (RFC 2426) ------------------------------------------------------------------------------


def vcard_escape(value: Any) -> str:
    text = str(value or "")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (UTF-8), never inside a character; CRLF line ends."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line + "\r\n"
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += ch
        size += n
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


def vcard(contact) -> str:
    from kith.core.countries import country_name

    lines = ["BEGIN:VCARD", "VERSION:3.0"]
    n = ";".join(vcard_escape(p) for p in (contact.last_name, contact.first_name, "", "", ""))
    lines.append(f"N:{n}")
    lines.append(f"FN:{vcard_escape(str(contact))}")
    if contact.company_id:
        lines.append(f"ORG:{vcard_escape(contact.company.name)}")
    if contact.job_title:
        lines.append(f"TITLE:{vcard_escape(contact.job_title)}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET,PREF:{vcard_escape(contact.email)}")
    for email in contact.additional_emails or []:
        lines.append(f"EMAIL;TYPE=INTERNET:{vcard_escape(email)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{vcard_escape(contact.phone)}")
    if contact.mobile:
        lines.append(f"TEL;TYPE=CELL:{vcard_escape(contact.mobile)}")
    if any((contact.street, contact.city, contact.region, contact.postal_code, contact.country)):
        adr = ";".join(vcard_escape(p) for p in ("", "", contact.street, contact.city, contact.region,
                                                 contact.postal_code, country_name(contact.country)))
        lines.append(f"ADR;TYPE=WORK:{adr}")
    tags = contact.tag_names
    if tags:
        lines.append("CATEGORIES:" + ",".join(vcard_escape(t) for t in tags))
    lines.append(f"UID:kith-contact-{contact.pk}")
    lines.append(f"REV:{contact.updated_at.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def vcard_chunks(contacts: Iterable[Any], *, batch: int = 200) -> Iterator[bytes]:
    buf: list[str] = []
    for contact in contacts:
        buf.append(vcard(contact))
        if len(buf) >= batch:
            yield "".join(buf).encode("utf-8")
            buf = []
    if buf:
        yield "".join(buf).encode("utf-8")

