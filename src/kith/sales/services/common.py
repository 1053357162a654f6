"""Helpers shared by the sales services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pycountry

from kith.core.errors import ValidationError

from ..models import ExchangeRate, SalesSettings


def clean_currency(value: Any, *, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if not code:
        return SalesSettings.get().default_currency
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError({field: [f"“{value}” is not an ISO 4217 currency code such as EUR or USD."]})
    return code


def rate_for(currency: str) -> Any:
    """Exchange rate from currency to the default currency, or ValidationError when none is set."""
    from decimal import Decimal

    default = SalesSettings.get().default_currency
    if currency == default:
        return Decimal("1")
    rate = ExchangeRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    if rate is None:
        raise ValidationError(
            {"currency": [f"No exchange rate from {currency} to {default} is set; add one in Sales settings."]}
        )
    return rate


def clean_date(value: Any, *, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError({field: ["Enter a date as YYYY-MM-DD."]}) from None


def unknown_fields(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed - {"version"})
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
