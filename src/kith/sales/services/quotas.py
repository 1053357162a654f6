"""Sales quotas: how much each person should win per month or quarter, in the default currency.

Admins and managers set them. period_start is normalised to the first day of its month or quarter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from kith.core import events, permissions
from kith.core.errors import ValidationError
from kith.core.models import User

from .. import money
from ..choices import PeriodKind
from ..models import Quota
from .common import clean_date


def period_start_of(day: dt.date, kind: str) -> dt.date:
    if kind == PeriodKind.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, day.month, 1)


def add_periods(start: dt.date, kind: str, count: int) -> dt.date:
    """The start of the period `count` periods after (or before, when negative) the one starting at start."""
    months = count * (3 if kind == PeriodKind.QUARTER else 1)
    index = start.year * 12 + (start.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def clean_period_kind(value: Any) -> str:
    kind = str(value or "").strip().lower()
    if kind not in PeriodKind.values:
        raise ValidationError({"period_kind": [f"Must be one of: {', '.join(PeriodKind.values)}."]})
    return kind


def _clean_user(user: Any) -> User:
    if isinstance(user, User):
        return user
    try:
        return User.objects.get(pk=int(user))
    except (User.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"user": [f"No user with id {user}."]}) from None


def set_quota(*, actor, user, period_kind: str, period_start, amount) -> Quota:
    """Create or change the quota of a user for the month or quarter containing period_start."""
    permissions.require_settings(actor)
    errors: dict[str, list[str]] = {}
    target = kind = start = value = None
    try:
        target = _clean_user(user)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        kind = clean_period_kind(period_kind)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        start = clean_date(period_start, field="period_start")
        if start is None:
            errors["period_start"] = ["Enter the first day of the period as YYYY-MM-DD."]
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if amount in (None, ""):
        errors["amount"] = ["Enter an amount such as 50000.00."]
    else:
        try:
            value = money.parse(amount, field="amount", minimum=Decimal("0"))
        except ValueError as exc:
            errors["amount"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    # each of them is set or its error was collected above
    assert target is not None and kind is not None and start is not None and value is not None
    start = period_start_of(start, kind)
    with transaction.atomic():
        quota, created = Quota.objects.select_for_update().get_or_create(
            user=target, period_kind=kind, period_start=start, defaults={"amount": value}
        )
        if not created and quota.amount != value:
            quota.amount = value
            quota.save(update_fields=["amount"])
        events.emit("quota.updated", {
            "user_id": target.pk, "period_kind": kind, "period_start": start.isoformat(), "amount": str(value),
            "actor_id": getattr(actor, "pk", None),
        })
    return quota


def delete_quota(*, actor, quota: Quota) -> None:
    permissions.require_settings(actor)
    with transaction.atomic():
        payload = {"user_id": quota.user_id, "period_kind": quota.period_kind,
                   "period_start": quota.period_start.isoformat(), "actor_id": getattr(actor, "pk", None)}
        Quota.objects.filter(pk=quota.pk).delete()
        events.emit("quota.deleted", payload)


def quota_amounts(*, kind: str, start: dt.date, user_ids=None) -> dict[int, Decimal]:
    """Quota per user for one period. A quarter without a quarterly quota adds up its monthly quotas."""
    qs = Quota.objects.all()
    if user_ids is not None:
        qs = qs.filter(user_id__in=list(user_ids))
    out: dict[int, Decimal] = {}
    if kind == PeriodKind.QUARTER:
        months = {add_periods(start, PeriodKind.MONTH, i) for i in range(3)}
        quarterly = dict(qs.filter(period_kind=PeriodKind.QUARTER, period_start=start).values_list("user_id", "amount"))
        for user_id, amount in qs.filter(period_kind=PeriodKind.MONTH, period_start__in=months).values_list(
            "user_id", "amount"
        ):
            if user_id not in quarterly:
                out[user_id] = out.get(user_id, Decimal("0.00")) + amount
        out.update(quarterly)
    else:
        out.update(qs.filter(period_kind=PeriodKind.MONTH, period_start=start).values_list("user_id", "amount"))
    return out
