"""Reading files: encodings, delimiters, quoting, .xlsx, vCard, and broken files (no database needed for most)."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest

from kith.imports import readers

from .engine_helpers import FILES, isolated_uploads, upload  # noqa: F401 (autouse fixture)

TEXT = 'Name,Email,Note\n"Müller, Jürgen",jm@example.com,"line one\nline two"\nŽofie Dvořáková,zofie@example.cz,"say ""hi"""\n'


def read(path, name=None):
    s = readers.sniff(path, name or path.name)
    src = readers.open_source(path, s.format, s.encoding, s.delimiter)
    return s, src.columns, list(src.rows())


@pytest.mark.parametrize(
    "encoding, prefix, expected",
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-16-le", b"", "utf-16-le"),
        ("utf-16-be", b"", "utf-16-be"),
        ("cp1252", b"", "cp1252"),
    ],
)
def test_encodings_are_detected_and_text_read_exactly(tmp_path, encoding, prefix, expected):
    path = tmp_path / "people.csv"
    path.write_bytes(prefix + TEXT.replace("Ž", "Z").replace("ř", "r").encode(encoding)
                     if encoding == "cp1252" else prefix + TEXT.encode(encoding))
    sniffed, columns, rows = read(path)
    assert sniffed.encoding == expected
    assert columns == ["Name", "Email", "Note"]
    assert rows[0] == (2, ["Müller, Jürgen", "jm@example.com", "line one\nline two"])
    assert rows[1][0] == 4  # the quoted newline made row 2 span lines 2-3
    assert rows[1][1][2] == 'say "hi"'


def test_latin1_when_bytes_undefined_in_cp1252(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes("Name,City\nJosé,Genève\n".encode("latin-1") + b"Odd\x81,X\n")
    sniffed, _, rows = read(path)
    assert sniffed.encoding == "latin-1"
    assert rows[0][1] == ["José", "Genève"]


def test_not_utf8_late_in_a_big_file_is_still_detected(tmp_path):
    path = tmp_path / "big.csv"
    body = "".join(f"Person {i},p{i}@example.com\n" for i in range(20000))  # > 64 KB of ASCII first
    path.write_bytes(("Name,Email\n" + body + "Françoise,f@example.com\n").encode("cp1252"))
    sniffed, _, rows = read(path)
    assert sniffed.encoding == "cp1252"
    assert rows[-1][1] == ["Françoise", "f@example.com"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(delimiter.join(["First Name", "Last Name", "Email"]) + "\n"
                    + delimiter.join(["Ada", "Lovelace, Countess", "ada@example.com"]) + "\n", encoding="utf-8")
    if delimiter == ",":
        path.write_text('First Name,Last Name,Email\nAda,"Lovelace, Countess",ada@example.com\n', encoding="utf-8")
    sniffed, columns, rows = read(path)
    assert sniffed.delimiter == delimiter
    assert columns == ["First Name", "Last Name", "Email"]
    assert rows[0][1] == ["Ada", "Lovelace, Countess", "ada@example.com"]


def test_duplicate_and_empty_headers_get_unique_names(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("Email,,Email\na@example.com,x,b@example.com\n", encoding="utf-8")
    _, columns, _ = read(path)
    assert columns == ["Email", "Column 2", "Email (2)"]


def test_xlsx_streaming_reader(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([])  # a blank first row: the header is the first non-empty one
    ws.append(["First Name", "Last Name", "Email", "Employees", "Since"])
    ws.append(["Chidi", "Anagonye", "chidi@example.com", 12.0, dt.datetime(2024, 5, 1)])
    ws.append([None, None, None, None, None])
    ws.append(["Eleanor", "Shellstrop", "eleanor@example.com", 3.5, None])
    path = tmp_path / "people.xlsx"
    wb.save(path)
    sniffed, columns, rows = read(path)
    assert sniffed.format == "xlsx"
    assert columns == ["First Name", "Last Name", "Email", "Employees", "Since"]
    assert rows == [(3, ["Chidi", "Anagonye", "chidi@example.com", "12", "2024-05-01"]),
                    (5, ["Eleanor", "Shellstrop", "eleanor@example.com", "3.5"])]


def test_vcards_3_and_4_with_folding_and_escapes():
    sniffed, columns, rows = read(FILES / "contacts.vcf")
    assert sniffed.format == "vcf"
    cards = [dict(zip(columns, cells, strict=False)) for _, cells in rows]
    assert [n for n, _ in rows] == [1, 2, 3]
    hiro, zoe, folded = cards
    assert (hiro["First name"], hiro["Last name"], hiro["Email"]) == ("Hiro", "Nakamura", "hiro@kestrel.example")
    assert hiro["Other emails"] == "hiro@home.example"
    assert (hiro["Mobile"], hiro["Phone"]) == ("+81 90 1234 5678", "+81 3 5555 1234")
    assert (hiro["Organization"], hiro["Title"], hiro["City"], hiro["Country"]) == (
        "Kestrel Capital", "Analyst", "Tokyo", "Japan")
    assert hiro["Categories"] == "Investors, Asia"
    assert hiro["Note"] == "Met in Tokyo, 2024"
    assert (zoe["First name"], zoe["Last name"], zoe["Mobile"]) == ("Zoë", "Ångström", "+46-70-123-45-67")
    assert folded["Email"] == "folded@very-long-domain-name-that-is-folded.example"
    assert folded["Note"] == "first line\nsecond line"


def test_vcard_2_1_quoted_printable(tmp_path):
    path = tmp_path / "old.vcf"
    path.write_bytes(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BC=\r\n"
                     b"rgen\r\nTEL;CELL:+49 171 1234567\r\nEND:VCARD\r\n")
    _, columns, rows = read(path)
    card = dict(zip(columns, rows[0][1], strict=False))
    assert (card["First name"], card["Last name"], card["Mobile"]) == ("Jürgen", "Müller", "+49 171 1234567")


# --- broken files ----------------------------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(readers.FileProblem, match="empty"):
        readers.sniff(FILES / "empty.csv", "empty.csv")


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    with pytest.raises(readers.FileProblem, match="binary"):
        readers.sniff(path, "photo.csv")


def test_huge_looking_header_only_file_is_refused_quickly(tmp_path):
    """A header, then a 1 GB hole (a sparse file): refused from its first 64 KB, without reading 1 GB."""
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write(b"First Name,Last Name,Email\n")
        f.truncate(1 << 30)
    assert path.stat().st_size == 1 << 30
    with pytest.raises(readers.FileProblem, match="binary"):
        readers.sniff(path, "huge.csv")


def test_first_line_longer_than_a_megabyte_is_not_a_header(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"x" * (readers.MAX_FIELD + 10) + b"\n")
    with pytest.raises(readers.FileProblem, match="longer than 1 MB"):
        readers.sniff(path, "long.csv")


def test_zip_named_csv_is_explained(tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(readers.FileProblem, match="ZIP"):
        readers.sniff(path, "book.csv")


def test_ragged_rows_are_read_as_they_are():
    _, columns, rows = read(FILES / "ragged.csv")
    assert columns == ["First Name", "Last Name", "Email"]
    assert [len(cells) for _, cells in rows] == [3, 5, 1, 3]


@pytest.mark.django_db
def test_upload_refuses_empty_header_only_and_corrupt_xlsx(admin):
    from kith.core.errors import ValidationError
    from kith.imports.services import imports_dir

    stored_before = set(imports_dir().iterdir())
    for name, content, message in [
        ("empty.csv", b"", "empty"),
        ("header_only.csv", (FILES / "header_only.csv").read_bytes(), "no data rows"),
        ("blank_after_header.csv", b"Email,Name\n" + b",\r\n" * 200_000, "no data rows"),
        ("broken.xlsx", b"PK\x03\x04 not really a workbook", "not a readable .xlsx"),
        ("people.vcf", b"hello", "not a vCard"),
    ]:
        with pytest.raises(ValidationError) as exc:
            upload(admin, content, name)
        assert message in exc.value.message_dict["file"][0]
    assert set(imports_dir().iterdir()) == stored_before  # refused uploads are not kept


COUNT_CASES = {
    "plain": "Name,Email\nAda,a@x.io\nBo,b@x.io\n",
    "no final newline": "Name,Email\nAda,a@x.io\nBo,b@x.io",
    "windows lines": "Name,Email\r\nAda,a@x.io\r\nBo,b@x.io\r\n",
    "windows blank lines": "\r\nName,Email\r\n\r\n , \r\nAda,a@x.io\r\n\r\n,\r\nBo,b@x.io\r\n\r\n",
    "blank lines anywhere": "\n \n,,\nName,Email\n\nAda,a@x.io\n , \t,\n\n\nBo,b@x.io\n\n,\n",
    "blank last line without newline": "Name,Email\nAda,a@x.io\n , ",
    "unicode spaces are blank": "Name,Email\n\u00a0,\u2003\nAda,a@x.io\n",
    "other line separators are not lines": "Name,Note\nAda,one\u2028two\x1cthree\x85four\n",
    "header only": "Name,Email\n",
    "quoted newlines": 'Name,Note\nAda,"one\ntwo"\nBo,x\n',
    "lone carriage returns": "Name,Email\rAda,a@x.io\rBo,b@x.io\r",
    "mixed line ends": "Name,Email\r\nAda,a@x.io\rBo,b@x.io\n",
}


@pytest.mark.parametrize("name", list(COUNT_CASES))
@pytest.mark.parametrize("chunk", [3, 7, 1024 * 1024])
def test_count_equals_the_rows_read(tmp_path, monkeypatch, name, chunk):
    """count() (by lines where it can, for a file without quotes, lone carriage returns or NULs) gives the
    number of rows rows() yields, whatever the line ends, blank lines and where a chunk of the file ends."""
    monkeypatch.setattr(readers, "CHUNK_CHARS", chunk)
    path = tmp_path / "people.csv"
    path.write_text(COUNT_CASES[name], encoding="utf-8", newline="")
    src = readers.open_source(path, "csv", "utf-8", ",")
    by_lines = src._count_lines()
    assert (by_lines is None) == (name in ("quoted newlines", "lone carriage returns", "mixed line ends"))
    assert src.count() == len(list(src.rows())) == readers.Source.count(src)


def test_count_by_lines_of_other_delimiters(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Name|Email\n||\n | \nAda|a@x.io\n\t|\nBo|\n", encoding="utf-8")
    src = readers.open_source(path, "csv", "utf-8", "|")
    assert src._count_lines() == len(list(src.rows())) == 2


def test_count_leaves_files_it_cannot_count_by_lines_to_the_csv_reader(tmp_path):
    """A cell longer than the limit and bytes that are not the file's encoding are found by counting, with
    the line they are on, before anything is written."""
    path = tmp_path / "long.csv"
    path.write_text("Name,Note\nAda,short\nBo," + "x" * (readers.MAX_FIELD + 10) + "\n", encoding="utf-8")
    src = readers.open_source(path, "csv", "utf-8", ",")
    assert src._count_lines() is None
    with pytest.raises(readers.FileProblem, match="Line 3"):
        src.count()
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Name,Note\n" + b"Ada,fine\n" * 5000 + b"Bo,\xff\xfe broken\n")
    src = readers.open_source(path, "csv", "utf-8", ",")
    assert src._count_lines() is None
    with pytest.raises(readers.FileProblem, match="not valid utf-8"):
        src.count()
