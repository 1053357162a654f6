"""Presentation helpers of the deal pages: money and durations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template

from kith.sales import money as money_rules

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """USD 1,250.00 (Decimal, rounded half up to the cent; never through float)."""
    if amount is None or amount == "":
        return ""
    return money_rules.fmt(Decimal(amount), currency or "")


def duration_text(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} day{'s' if days != 1 else ''}"
        if hours and days < 10:
            text += f" {hours} h"
        return text
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


@register.filter
def duration(delta) -> str:
    if not isinstance(delta, dt.timedelta):
        return ""
    return duration_text(delta)


@register.filter
def overdue(deal) -> bool:
    """An open deal whose expected close date has passed."""
    from django.utils import timezone

    close = getattr(deal, "expected_close_date", None)
    return bool(close and close < timezone.localdate() and deal.stage.is_open)
