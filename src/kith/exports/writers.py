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
import re
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


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(timezone.get_current_timezone()) if value.tzinfo is not None else value


def as_text(value: Any) -> str:
    """A value as CSV text: dates ISO, times in the workspace's time zone, lists comma-separated."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:f}"
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return str(value)


def csv_cell(value: Any) -> str:
    text = value if type(value) is str else as_text(value)
    return neutralise(text) if text and text[0] in FORMULA_CHARS else text


def xlsx_cell(value: Any) -> Any:
    """Numbers, dates and booleans stay typed (sortable in the sheet); text is neutralised."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        return _local(value).replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    return neutralise(ILLEGAL_XML.sub("", as_text(value)))


# --- CSV -----------------------------------------------------------------------------------------------


class _Line:
    """A file-like object for csv.writer that hands back what was written."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(header: list[str], rows: Iterable[list[Any]], *, bom: bool = True, batch: int = 200) -> Iterator[bytes]:
    """The CSV file in chunks of UTF-8 bytes (with a BOM so spreadsheets read non-Latin names right)."""
    writer = csv.writer(_Line())
    buf: list[str] = [("\ufeff" if bom else "") + writer.writerow([csv_cell(h) for h in header])]
    for row in rows:
        buf.append(writer.writerow([csv_cell(v) for v in row]))
        if len(buf) >= batch:
            yield "".join(buf).encode("utf-8")
            buf = []
    if buf:
        yield "".join(buf).encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------------------


def write_xlsx(out: IO[bytes], header: list[str], rows: Iterable[list[Any]], *, title: str = "Export") -> None:
    """Write an .xlsx to a binary file (openpyxl's write-only mode: rows go to disk as they come)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    bold = Font(bold=True)
    head = []
    for h in header:
        cell = WriteOnlyCell(ws, value=xlsx_cell(h))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    ws.freeze_panes = "A2"
    for row in rows:
        # Text never starts with "=" here (neutralise() quoted it), so openpyxl writes no formula.
        ws.append([xlsx_cell(v) for v in row])
    wb.save(out)


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

