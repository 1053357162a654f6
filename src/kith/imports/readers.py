"""Reading import files as a stream of rows: CSV (any delimiter, quoting, encoding), Excel .xlsx, vCard.

    sniff(path, file_name)            -> Sniff(format, encoding, delimiter)   (raises FileProblem)
    open_source(path, fmt, encoding, delimiter) -> Source
    source.columns                    -> unique column keys (header texts; "Column 3" when a header is empty)
    source.rows()                     -> iterator of (row number as in the file, [cell texts])
    source.count()                    -> number of data rows (one streaming pass)

Nothing here loads a whole file: CSV is decoded incrementally, .xlsx is read with openpyxl's read-only
(streaming) mode, vCards are parsed line by line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 64 * 1024
MAX_FIELD = 1024 * 1024  # one cell (and the header line) can be at most 1 MB
CHUNK_CHARS = 1024 * 1024  # characters read at a time (at most MAX_FIELD: see CsvSource._count_lines)
DELIMITERS = [",", ";", "\t", "|"]
CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}

csv.field_size_limit(MAX_FIELD)


class FileProblem(ValueError):
    """The file cannot be read; the message is meant for the user."""


@dataclass
class Sniff:
    format: str
    encoding: str = ""
    delimiter: str = ""


# --- detection -----------------------------------------------------------------------------------------


def detect_format(file_name: str, head: bytes) -> str:
    name = file_name.lower()
    if head.startswith(b"PK\x03\x04"):
        if name.endswith((".xlsx", ".xlsm")) or not name.endswith((".csv", ".txt", ".vcf", ".tsv")):
            return "xlsx"
        raise FileProblem("This file is a ZIP archive (perhaps an Excel file saved with the wrong name), not a CSV.")
    if name.endswith((".xls",)) and head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("Old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV.")
    if name.endswith((".vcf", ".vcard")):
        return "vcf"
    text = head[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if text.upper().startswith(b"BEGIN:VCARD") or text.replace(b"\x00", b"").upper().startswith(b"BEGIN:VCARD"):
        return "vcf"
    return "csv"


def detect_encoding(path: Path) -> str:
    """utf-8 / utf-8-sig / utf-16 (with or without a BOM) / cp1252 / latin-1, checked over the whole file."""
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        sample = head[:4000]
        odd, even = sample[1::2], sample[0::2]
        if len(sample) >= 4:
            # UTF-16 without a BOM: every other byte of (mostly Latin) text is zero, the others are not.
            odd_zeros, even_zeros = odd.count(b"\x00"), even.count(b"\x00")
            if odd_zeros > 0.6 * len(odd) and even_zeros < 0.1 * len(even):
                return "utf-16-le"
            if even_zeros > 0.6 * len(even) and odd_zeros < 0.1 * len(odd):
                return "utf-16-be"
        if b"\x00" in head:
            raise FileProblem("This file contains binary data (NUL bytes); it is not a text CSV file.")
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_high = bytearray(256)
    ok = True
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    ok = False
            if not ok:
                for b in set(chunk):
                    seen_high[b] = 1
        if ok:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                ok = False
    if ok:
        return encoding
    if b"\x00" in head:
        raise FileProblem("This file contains binary data (NUL bytes); it is not a text CSV file.")
    # Not UTF-8: Windows-1252 unless it uses a byte that code page leaves undefined, then Latin-1.
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for b in set(chunk):
                seen_high[b] = 1
    if any(seen_high[b] for b in CP1252_UNDEFINED):
        return "latin-1"
    return "cp1252"


def _first_lines(path: Path, encoding: str, n: int = 50) -> list[str]:
    lines: list[str] = []
    with open(path, encoding=encoding, newline="", errors="replace") as f:
        first = f.readline(MAX_FIELD + 1)
        if len(first) > MAX_FIELD:
            raise FileProblem("The first line is longer than 1 MB; this does not look like a header row.")
        lines.append(first)
        for _ in range(n - 1):
            line = f.readline(MAX_FIELD + 1)
            if not line:
                break
            lines.append(line)
    return lines


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample into the same number (> 1) of cells on most lines."""
    text = "".join(lines)
    best, best_score = ",", (-1, 0)
    for d in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(text), delimiter=d) if r]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = d, score
    return best


def sniff(path: Path, file_name: str) -> Sniff:
    size = path.stat().st_size
    if size == 0:
        raise FileProblem("The file is empty.")
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    fmt = detect_format(file_name, head)
    if fmt == "xlsx":
        return Sniff("xlsx")
    encoding = detect_encoding(path)
    if fmt == "vcf":
        return Sniff("vcf", encoding)
    lines = _first_lines(path, encoding)
    if not "".join(lines).strip():
        raise FileProblem("The file has no header row (it is blank).")
    return Sniff("csv", encoding, detect_delimiter(lines))


# --- sources -------------------------------------------------------------------------------------------


def unique_columns(header: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = " ".join(str(raw or "").replace("\ufeff", "").split()) or f"Column {i + 1}"
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate = f"{name} ({n})"
            n += 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


class Source:
    columns: list[str]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        raise NotImplementedError

    def count(self, limit: int | None = None) -> int:
        """The data rows (at most ``limit``)."""
        return sum(1 for _ in itertools.islice(self.rows(), limit))


class CsvSource(Source):
    def __init__(self, path: Path, encoding: str, delimiter: str):
        self.path, self.encoding, self.delimiter = path, encoding or "utf-8", delimiter or ","
        self.columns = []
        self._header_line = 1
        with self._open() as f:
            for line_no, row in self._reader(f):
                if any(c.strip() for c in row):
                    self.columns = unique_columns(row)
                    self._header_line = line_no
                    break
        if not self.columns:
            raise FileProblem("The file has no header row.")

    def _open(self):
        return open(self.path, encoding=self.encoding, newline="")

    def count(self, limit: int | None = None) -> int:
        if limit is None:
            counted = self._count_lines()
            if counted is not None:
                return counted
        return super().count(limit)

    def _count_lines(self) -> int | None:
        """The data rows of a file that has no quote character, no lone carriage return and no NUL, counted by
        its lines (each line is one row: a tenth of the time of parsing it); None for any other file, which
        the CSV reader counts (and whose errors it reports, with their line numbers). A blank line (nothing
        but spaces and delimiters) is not a row; the first non-blank line is the header."""
        gap = rf"(?:[^\S\n]|{re.escape(self.delimiter)})*\n"  # the rest of a blank line
        blank_first, blank_after = re.compile(gap), re.compile(rf"\n(?={gap})")  # (the line after a newline)
        rows, rest = 0, ""
        try:
            with self._open() as f:
                while chunk := f.read(CHUNK_CHARS):
                    if '"' in chunk or "\0" in chunk:
                        return None
                    text = rest + chunk if rest else chunk
                    cut = text.rfind("\n") + 1  # whole lines before it (read without copying them)
                    rest = text[cut:]
                    if len(rest) > MAX_FIELD or text.count("\r", 0, cut) != text.count("\r\n", 0, cut):
                        return None  # (a carriage return that does not end a line with the newline after it)
                    if text.find("\n", 0, cut) > MAX_FIELD:  # (the one line that can be: rest's)
                        return None  # (a cell may be too long: the CSV reader says so)
                    blank = len(blank_after.findall(text, 0, cut)) + (blank_first.match(text, 0, cut) is not None)
                    rows += text.count("\n", 0, cut) - blank
        except UnicodeDecodeError:
            return None
        if "\r" in rest.removesuffix("\r"):
            return None
        if rest.replace(self.delimiter, "").strip():
            rows += 1
        return max(0, rows - 1)  # (less the header)

    def _reader(self, f) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(f, delimiter=self.delimiter, strict=False)
        while True:
            try:
                start = reader.line_num + 1
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem(f"Line {reader.line_num}: the file cannot be read as CSV ({exc}).") from None
            except UnicodeDecodeError:
                raise FileProblem(
                    f"Near line {reader.line_num + 1}: the file is not valid {self.encoding} text."
                ) from None
            yield start, row

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        with self._open() as f:
            seen_header = False
            for line_no, row in self._reader(f):
                if not seen_header:
                    if line_no >= self._header_line and any(c.strip() for c in row):
                        seen_header = True
                    continue
                if not "".join(row).strip():
                    continue  # blank line
                yield line_no, row


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class XlsxSource(Source):
    """The first worksheet; the header is its first non-empty row."""

    def __init__(self, path: Path):
        import openpyxl

        self.path = path
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise FileProblem(f"This is not a readable .xlsx workbook ({type(exc).__name__}).") from None
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            if ws is None:
                raise FileProblem("The workbook has no worksheet.")
            self.columns = []
            self._header_row = 0
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if any(v not in (None, "") for v in values):
                    header = list(values)
                    while header and header[-1] in (None, ""):
                        header.pop()
                    self.columns = unique_columns([_cell_text(v) for v in header])
                    self._header_row = n
                    break
            self._max_row = ws.max_row
        finally:
            wb.close()
        if not self.columns:
            raise FileProblem("The first worksheet is empty.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        import openpyxl

        wb = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            for n, values in enumerate(ws.iter_rows(min_row=self._header_row + 1, values_only=True),
                                       start=self._header_row + 1):
                cells = [_cell_text(v) for v in values]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    yield n, cells
        finally:
            wb.close()


# --- vCard ---------------------------------------------------------------------------------------------

VCARD_COLUMNS = [
    "Full name", "First name", "Last name", "Email", "Other emails", "Phone", "Mobile", "Organization",
    "Title", "Street", "City", "Region", "Postal code", "Country", "Categories", "UID", "URL", "Note",
]


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split(value: str, sep: str = ";") -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            cur.append(value[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append(_unescape("".join(cur)))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append(_unescape("".join(cur)))
    return parts


def _qp_decode(value: str, charset: str) -> str:
    import quopri

    return quopri.decodestring(value.encode("latin-1", "replace")).decode(charset or "utf-8", "replace")


def parse_vcards(lines: Iterator[str]) -> Iterator[tuple[int, dict[str, list[tuple[dict, str]]]]]:
    """(card number, {PROPERTY: [(params, raw value)]}) for each BEGIN:VCARD … END:VCARD."""
    card: dict | None = None
    number = 0
    logical: str | None = None

    def handle(line: str):
        nonlocal card, number
        if not line.strip():
            return None
        name_part, sep, value = line.partition(":")
        if not sep:
            return None
        bits = name_part.split(";")
        prop = bits[0].split(".")[-1].upper()  # item1.EMAIL → EMAIL
        if prop == "BEGIN" and value.strip().upper() == "VCARD":
            card = {}
            number += 1
            return None
        if prop == "END" and value.strip().upper() == "VCARD":
            done = card
            card = None
            return done
        if card is None:
            return None
        params: dict[str, str] = {}
        for p in bits[1:]:
            k, eq, v = p.partition("=")
            if eq:
                params[k.upper()] = params.get(k.upper(), "") + ("," if k.upper() in params else "") + v.strip('"')
            else:  # vCard 2.1 bare types: TEL;CELL:…
                params["TYPE"] = params.get("TYPE", "") + ("," if "TYPE" in params else "") + k
        if params.get("ENCODING", "").upper() in ("QUOTED-PRINTABLE", "QP"):
            value = _qp_decode(value, params.get("CHARSET", "utf-8"))
        card.setdefault(prop, []).append((params, value))
        return None

    for raw in lines:
        line = raw.rstrip("\r\n")
        if line[:1] in (" ", "\t") and logical is not None:
            logical += line[1:]
            continue
        if logical is not None and logical.endswith("=") and "QUOTED-PRINTABLE" in logical.upper().split(":")[0]:
            logical = logical[:-1] + line  # vCard 2.1 soft line break
            continue
        if logical is not None:
            done = handle(logical)
            if done is not None:
                yield number, done
        logical = line
    if logical is not None:
        done = handle(logical)
        if done is not None:
            yield number, done


def _types(params: dict) -> set[str]:
    return {t.strip().lower() for t in params.get("TYPE", "").split(",") if t.strip()}


def vcard_row(card: dict[str, list[tuple[dict, str]]]) -> list[str]:
    get = dict.fromkeys(VCARD_COLUMNS, "")
    if "FN" in card:
        get["Full name"] = _unescape(card["FN"][0][1]).strip()
    if "N" in card:
        parts = _split(card["N"][0][1]) + [""] * 5
        get["Last name"], get["First name"] = parts[0].strip(), " ".join(p for p in (parts[1], parts[2]) if p).strip()
    emails = sorted(card.get("EMAIL", []), key=lambda pv: 0 if "pref" in _types(pv[0]) or "PREF" in pv[0] else 1)
    emails_text = [_unescape(v).strip() for _, v in emails if v.strip()]
    if emails_text:
        get["Email"] = emails_text[0]
        get["Other emails"] = ", ".join(emails_text[1:])
    for params, value in card.get("TEL", []):
        value = _unescape(value).strip()
        if value.lower().startswith("tel:"):
            value = value[4:]
        key = "Mobile" if _types(params) & {"cell", "mobile", "iphone"} else "Phone"
        if not get[key]:
            get[key] = value
        elif not get["Phone" if key == "Mobile" else "Mobile"]:
            get["Phone" if key == "Mobile" else "Mobile"] = value
    if "ORG" in card:
        get["Organization"] = _split(card["ORG"][0][1])[0].strip()
    if "TITLE" in card:
        get["Title"] = _unescape(card["TITLE"][0][1]).strip()
    if "ADR" in card:
        adr = sorted(card["ADR"], key=lambda pv: 0 if "work" in _types(pv[0]) else 1)[0][1]
        parts = _split(adr) + [""] * 7
        get["Street"] = " ".join(p for p in (parts[2], parts[1]) if p.strip()).strip()
        get["City"], get["Region"], get["Postal code"], get["Country"] = (p.strip() for p in parts[3:7])
    if "CATEGORIES" in card:
        get["Categories"] = ", ".join(c.strip() for c in _split(card["CATEGORIES"][0][1], ",") if c.strip())
    for prop, col in (("UID", "UID"), ("URL", "URL"), ("NOTE", "Note")):
        if prop in card:
            get[col] = _unescape(card[prop][0][1]).strip()
    return [get[c] for c in VCARD_COLUMNS]


class VcfSource(Source):
    def __init__(self, path: Path, encoding: str):
        self.path, self.encoding = path, encoding or "utf-8"
        self.columns = list(VCARD_COLUMNS)
        with open(path, encoding=self.encoding, errors="replace") as f:
            head = f.read(SAMPLE_BYTES).lstrip("\ufeff").lstrip()
        if not head.upper().startswith("BEGIN:VCARD"):
            raise FileProblem("This is not a vCard file: it does not start with BEGIN:VCARD.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as f:
            for number, card in parse_vcards(f):
                yield number, vcard_row(card)

    def count(self, limit: int | None = None) -> int:
        n = 0
        with open(self.path, encoding=self.encoding, errors="replace") as f:
            for line in f:
                if line[:11].upper() == "BEGIN:VCARD":
                    n += 1
                    if n == limit:
                        break
        return n


def open_source(path: Path | str, fmt: str, encoding: str = "", delimiter: str = "") -> Source:
    path = Path(path)
    if fmt == "xlsx":
        return XlsxSource(path)
    if fmt == "vcf":
        return VcfSource(path, encoding)
    return CsvSource(path, encoding, delimiter)
