"""The cell rules against spreadsheet formula injection, and vCard line folding."""

from __future__ import annotations

import pytest

from kith.exports import writers

from .conftest import EVIL


@pytest.mark.parametrize(("value", "expected"), [
    (EVIL, "'" + EVIL),
    ("=1+1", "'=1+1"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("+SUM(A1)", "'+SUM(A1)"),
    ("-2+3", "'-2+3"),
    ("-", "'-"),
    ("+", "'+"),
    ("\t=cmd|' /C calc'!A0", "'\t=cmd|' /C calc'!A0"),
    ("\r=1", "'\r=1"),
    ("+1 555 0100 x12", "'+1 555 0100 x12"),  # letters: not a plain number, so quoted
    ("+1 555 0100", "+1 555 0100"),  # phone numbers stay usable
    ("+14155550100", "+14155550100"),
    ("+49 (0)30 1234-5", "+49 (0)30 1234-5"),
    ("-12.50", "-12.50"),
    ("-1,234.50", "-1,234.50"),
    ("Ada", "Ada"),
    ("a=b", "a=b"),
    ("", ""),
])
def test_neutralise(value, expected):
    assert writers.neutralise(value) == expected
    assert writers.csv_cell(value) == expected


def test_typed_values_in_xlsx_are_left_typed():
    import datetime as dt
    from decimal import Decimal

    assert writers.xlsx_cell(-5) == -5
    assert writers.xlsx_cell(Decimal("-1.50")) == Decimal("-1.50")
    assert writers.xlsx_cell(dt.date(2026, 1, 2)) == dt.date(2026, 1, 2)
    assert writers.xlsx_cell(True) is True
    assert writers.xlsx_cell(["=a", "b"]) == "'=a, b"
    assert writers.xlsx_cell("bell\x07") == "bell"  # characters XML cannot hold are dropped


def test_csv_text_of_values():
    import datetime as dt
    from decimal import Decimal

    assert writers.as_text(None) == ""
    assert writers.as_text(False) == "false"
    assert writers.as_text(Decimal("1250.50")) == "1250.50"
    assert writers.as_text(dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)) == "2026-03-04 05:06:07"
    assert writers.as_text(["vip", "b2b"]) == "vip, b2b"


def test_vcard_lines_fold_at_75_octets_without_splitting_characters():
    line = "NOTE:" + "山" * 60  # 185 octets
    folded = writers.fold(line)
    parts = folded.split("\r\n")[:-1]
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    assert writers.vcard_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_xlsx_sheet_reads_back_typed_escaped_and_within_excel_limits():
    import datetime as dt
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    out = io.BytesIO()
    header = ["text", "spaced", "number", "amount", "flag", "day", "time", "empty", "long", "nan"]
    rows = [["a & b <c> \"d\"", "  two spaces", 1200, Decimal("-1.50"), True, dt.date(2026, 1, 2),
             dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC), None, "x" * 40_000, float("nan")],
            ["=cmd|' /C calc'!A0", "", 0, Decimal("0"), False, None, None, "", "", 2.5]]
    writers.write_xlsx(out, header, rows, title="Deals: Q1/Q2")
    wb = load_workbook(io.BytesIO(out.getvalue()))
    ws = wb.worksheets[0]
    assert wb.sheetnames == ["Deals  Q1 Q2"]  # characters a sheet name cannot hold are replaced
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert got[0][:7] == ["a & b <c> \"d\"", "  two spaces", 1200, -1.5, True, dt.datetime(2026, 1, 2),
                          dt.datetime(2026, 3, 4, 5, 6, 7)]
    assert ws["F2"].is_date and ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["G2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert got[0][7] is None and len(got[0][8]) == writers.MAX_CELL_TEXT and got[0][9] is None
    assert got[1][0] == "'=cmd|' /C calc'!A0" and ws["A3"].data_type == "s"  # text, never a formula
    assert got[1][2:5] == [0, 0, False] and got[1][9] == 2.5
