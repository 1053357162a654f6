"""Money is Decimal end to end, never float. The rounding rules, in one place:

- Amounts are stored with 2 decimal places; every rounding is ROUND_HALF_UP to the cent.
- A line total = quantity × unit price × (1 − discount % / 100), rounded once, per line.
- A deal's amount, with line items, is the sum of its rounded line totals (no further rounding).
- Tax on a quote is computed per line (line total × tax rate %), rounded per line, then summed.
- Conversion to the default currency multiplies by the exchange rate (8 decimals) and rounds once.
- A weighted amount = amount × stage probability / 100, rounded once.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse(value, *, field: str, minimum: Decimal | None = Decimal("0"), maximum: Decimal | None = None,
          places: int = 2) -> Decimal:
    """A Decimal from user input or raise ValueError naming the problem (never via float)."""
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, bool) or value is None:
        raise ValueError("Enter an amount such as 1250.00.")
    text = str(value).strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter an amount such as 1250.00.") from None
    if not amount.is_finite():
        raise ValueError("Enter an amount such as 1250.00.")
    if amount.as_tuple().exponent < -places:  # type: ignore[operator]
        raise ValueError(f"Use at most {places} decimal places.")
    if minimum is not None and amount < minimum:
        raise ValueError(f"Must be at least {minimum}.")
    if maximum is not None and amount > maximum:
        raise ValueError(f"Must be at most {maximum}.")
    if abs(amount) >= Decimal(10) ** 15:
        raise ValueError("That amount is too large.")
    return amount


def line_total(quantity: Decimal, unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    return q(Decimal(quantity) * Decimal(unit_price) * (HUNDRED - Decimal(discount_pct)) / HUNDRED)


def tax(amount: Decimal, rate_pct: Decimal) -> Decimal:
    return q(Decimal(amount) * Decimal(rate_pct) / HUNDRED)


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    return q(Decimal(amount) * Decimal(rate))


def weighted(amount: Decimal, probability: int) -> Decimal:
    return q(Decimal(amount) * Decimal(probability) / HUNDRED)


def fmt(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return ""
    text = f"{q(Decimal(amount)):,.2f}"
    return f"{currency} {text}".strip()
