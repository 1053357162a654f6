"""The money rules of kith.sales.money: Decimal end to end, half-up at the cent, each line rounded once,
tax per line, one rounding for conversion and weighting, input parsed without ever going through float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.sales import money

D = Decimal


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("0.125", "0.13"),  # banker's rounding would give 0.12
        ("2.675", "2.68"),  # round(2.675, 2) on a float gives 2.67
        ("1.004999", "1.00"),
        ("-0.005", "-0.01"),  # half away from zero
        ("1234567890123.455", "1234567890123.46"),
        ("7", "7.00"),
    ],
)
def test_rounding_is_half_up_at_the_cent(value, rounded):
    result = money.q(D(value))
    assert result == D(rounded) and str(result) == rounded


def test_a_line_total_is_rounded_once_per_line():
    assert money.line_total(D("3"), D("99.99"), D("10")) == D("269.97")  # 269.973
    assert money.line_total(D("0.5"), D("0.01"), D("0")) == D("0.01")  # 0.005 rounds up
    assert money.line_total(D("7"), D("123.45"), D("12.5")) == D("756.13")  # 756.13125
    assert money.line_total(D("1"), D("19.99"), D("100")) == D("0.00")
    # Three half-cent lines: 0.01 each, 0.03 in all (rounding the sum instead would give 0.02).
    lines = [money.line_total(D("0.5"), D("0.01"), D("0")) for _ in range(3)]
    assert sum(lines, D("0.00")) == D("0.03") and money.q(D("0.015")) == D("0.02")


def test_sums_of_many_lines_are_exact():
    lines = [money.line_total(D("1"), D("0.10"), D("0")) for _ in range(30)]
    assert sum(lines, D("0.00")) == D("3.00")
    assert sum([0.10] * 30) != 3.0  # what floats would have done


def test_tax_is_per_line_then_summed():
    lines = [money.line_total(D("1"), D("0.05"), D("0")) for _ in range(3)]
    per_line = sum((money.tax(total, D("10")) for total in lines), D("0.00"))
    assert per_line == D("0.03")  # 0.005 → 0.01 on each line
    assert money.tax(sum(lines, D("0.00")), D("10")) == D("0.02")  # not how quotes do it
    assert money.tax(D("269.97"), D("19")) == D("51.29")  # 51.2943
    assert money.tax(D("100.00"), D("0")) == D("0.00")


def test_conversion_multiplies_by_the_rate_and_rounds_once():
    assert money.convert(D("100.00"), D("1.08345678")) == D("108.35")  # 108.345678
    assert money.convert(D("0.04"), D("1.125")) == D("0.05")  # 0.045
    assert money.convert(D("1000.01"), D("1.125")) == D("1125.01")  # 1125.01125
    assert money.convert(D("12.34"), D("1")) == D("12.34")


def test_weighting_rounds_once():
    assert money.weighted(D("0.05"), 10) == D("0.01")  # 0.005
    assert money.weighted(D("333.33"), 10) == D("33.33")
    assert money.weighted(D("0.05"), 75) == D("0.04")  # 0.0375
    assert money.weighted(D("1000.00"), 0) == D("0.00")
    assert money.weighted(D("1000.00"), 100) == D("1000.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1250", "1250"),
        ("1250.5", "1250.5"),
        (" 1,250.50 ", "1250.50"),
        (1250, "1250"),
        (D("99.99"), "99.99"),
        (0.1, "0.1"),  # a float is read by its shortest repr, never by its binary value
        (19.99, "19.99"),
        (2.675, None),  # 3 places: refused, not silently 2.67 or 2.68
        ("0", "0"),
    ],
)
def test_parse_reads_decimals_without_float(value, expected):
    if expected is None:
        with pytest.raises(ValueError, match="at most 2 decimal places"):
            money.parse(value, field="amount")
        return
    parsed = money.parse(value, field="amount")
    assert isinstance(parsed, Decimal) and parsed == D(expected) and str(parsed) == expected


def test_parse_never_takes_the_binary_value_of_a_float():
    assert money.parse(0.1, field="amount") + money.parse(0.2, field="amount") == D("0.3")
    assert money.parse(2.675, field="rate", places=3) == D("2.675")  # D(2.675) would be 2.67499999…
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        money.parse(0.1 + 0.2, field="amount")  # 0.30000000000000004 is not a price


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        ("abc", {}, "Enter an amount such as 1250.00."),
        ("", {}, "Enter an amount such as 1250.00."),
        (None, {}, "Enter an amount such as 1250.00."),
        (True, {}, "Enter an amount such as 1250.00."),
        ("NaN", {}, "Enter an amount such as 1250.00."),
        ("Infinity", {}, "Enter an amount such as 1250.00."),
        (float("inf"), {}, "Enter an amount such as 1250.00."),
        ("1e3", {}, None),
        ("12.345", {}, "Use at most 2 decimal places."),
        ("1.123456789", {"places": 8}, "Use at most 8 decimal places."),
        ("-0.01", {}, "Must be at least 0."),
        ("0.00", {"minimum": D("0.01")}, "Must be at least 0.01."),
        ("100.01", {"maximum": D("100")}, "Must be at most 100."),
        ("1000000000000000", {}, "That amount is too large."),
        ("-1000000000000000", {"minimum": None}, "That amount is too large."),
    ],
)
def test_parse_limits(value, kwargs, message):
    if message is None:
        assert money.parse(value, field="amount", **kwargs) == D("1000")
        return
    with pytest.raises(ValueError) as excinfo:
        money.parse(value, field="amount", **kwargs)
    assert str(excinfo.value) == message


def test_parse_accepts_the_edges_of_its_limits():
    assert money.parse("999999999999999.99", field="amount") == D("999999999999999.99")
    assert money.parse("-5.25", field="amount", minimum=None) == D("-5.25")
    assert money.parse("100", field="pct", maximum=D("100")) == D("100")
    assert money.parse("0.01", field="qty", minimum=D("0.01")) == D("0.01")
    assert money.parse("1.08345678", field="rate", places=8) == D("1.08345678")


def test_format_for_people():
    assert money.fmt(D("1234567.891"), "USD") == "USD 1,234,567.89"
    assert money.fmt(D("0.005")) == "0.01"
    assert money.fmt(D("12"), "EUR") == "EUR 12.00"
    assert money.fmt(None, "USD") == ""
