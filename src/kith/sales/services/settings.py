"""Sales settings (admins): default currency, exchange rates, first-response time, quote defaults, default team.

Exchange rates say what 1 unit of a currency is worth in the default currency (up to 8 decimals).
Changing a rate recomputes Deal.amount_default of the open deals in that currency; changing the default
currency rebases every rate on the new currency and recomputes all open deals. Closed (won/lost) deals keep
the amount they were converted at when they closed; when the default currency changes, that amount (and every
quota, also kept in the default currency) is converted to the new currency at the old default's new rate.
The recomputation runs in batches of BATCH_SIZE deals, in the service's transaction.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kith.core import events
from kith.core.errors import PermissionDenied, ValidationError

from .. import money
from ..choices import StageKind
from ..models import Deal, ExchangeRate, Quota, SalesSettings, Team
from .common import clean_currency, unknown_fields

BATCH_SIZE = 1000
RATE_PLACES = Decimal("0.00000001")
MAX_RATE = Decimal("999999999999")  # ExchangeRate.rate: 20 digits, 8 of them decimals
SETTINGS_FIELDS = {
    "default_currency", "first_response_minutes", "quote_terms", "quote_validity_days", "default_team_id",
}
MAX_TERMS = 10_000


def require_sales_admin(user) -> None:
    if user is None or not user.is_authenticated or not user.is_admin:
        raise PermissionDenied("Only admins can change the sales settings.")


def _locked_settings() -> SalesSettings:
    SalesSettings.get()  # make sure the row exists
    return SalesSettings.objects.select_for_update().get(pk=1)


def clean_rate(value: Any, *, field: str = "rate") -> Decimal:
    try:
        rate = money.parse(value, field=field, minimum=None, places=8)
    except ValueError as exc:
        raise ValidationError({field: [str(exc).replace("amount such as 1250.00", "rate such as 1.0825")]}) from None
    if rate <= 0:
        raise ValidationError({field: ["A rate must be greater than 0."]})
    if rate > MAX_RATE:
        raise ValidationError({field: [f"A rate must be at most {MAX_RATE}."]})
    return rate


def _int(value: Any, *, field: str, minimum: int, maximum: int, errors: dict[str, list[str]]) -> int | None:
    try:
        if isinstance(value, bool | float):
            raise ValueError
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = ["Enter a whole number."]
        return None
    if not minimum <= number <= maximum:
        errors[field] = [f"Enter a number from {minimum} to {maximum}."]
        return None
    return number


# --- recomputing converted amounts ------------------------------------------------------------------------


def recompute_open_deals(*, currencies: list[str] | None = None, batch_size: int | None = None) -> int:
    """Set amount_default = convert(amount, current rate) on open deals (in those currencies, or all).

    Walks the deals by id in batches; returns how many deals changed. Deals in a currency without a
    rate keep their amount (the rate services refuse to leave open deals without one).
    """
    batch_size = batch_size or BATCH_SIZE
    default = SalesSettings.get().default_currency
    rates = {r.currency: r.rate for r in ExchangeRate.objects.all()}
    rates[default] = Decimal("1")
    qs = Deal.all_objects.filter(stage__kind=StageKind.OPEN)
    if currencies is not None:
        qs = qs.filter(currency__in=currencies)
    changed = 0
    last_id = 0
    while True:
        batch = list(
            qs.filter(pk__gt=last_id).order_by("pk").values_list("pk", "amount", "currency", "amount_default")[:batch_size]
        )
        if not batch:
            break
        last_id = batch[-1][0]
        updates = []
        for pk, amount, currency, current in batch:
            rate = rates.get(currency)
            if rate is None:
                continue
            new = money.convert(amount, rate)
            if new != current:
                updates.append(Deal(pk=pk, amount_default=new))
        if updates:
            Deal.all_objects.bulk_update(updates, ["amount_default"])
            changed += len(updates)
    return changed


def _rescale_closed_deals_and_quotas(factor: Decimal) -> None:
    """Closed deals and quotas keep their default-currency amounts, expressed in the new currency."""
    batch_size = BATCH_SIZE
    qs = Deal.all_objects.exclude(stage__kind=StageKind.OPEN)
    last_id = 0
    while True:
        batch = list(qs.filter(pk__gt=last_id).order_by("pk").values_list("pk", "amount_default")[:batch_size])
        if not batch:
            break
        last_id = batch[-1][0]
        Deal.all_objects.bulk_update(
            [Deal(pk=pk, amount_default=money.convert(value, factor)) for pk, value in batch], ["amount_default"]
        )
    quotas = list(Quota.objects.all())
    for quota in quotas:
        quota.amount = money.convert(quota.amount, factor)
    Quota.objects.bulk_update(quotas, ["amount"], batch_size=batch_size)


def _currencies_in_open_deals() -> set[str]:
    return set(
        Deal.all_objects.filter(stage__kind=StageKind.OPEN).order_by().values_list("currency", flat=True).distinct()
    )


def _change_default_currency(settings_row: SalesSettings, new: str) -> None:
    old = settings_row.default_currency
    rates = {r.currency: r for r in ExchangeRate.objects.select_for_update()}
    pivot = rates.get(new)
    if pivot is None:
        needed = (set(rates) | _currencies_in_open_deals() | {old}) - {new}
        has_money = bool(rates) or Deal.all_objects.exists() or Quota.objects.exists()
        if needed and has_money:
            raise ValidationError({"default_currency": [
                f"Add an exchange rate for {new} (what 1 {new} is worth in {old}) first, "
                "so the other rates and the deal amounts can be converted."
            ]})
        settings_row.default_currency = new
        settings_row.save(update_fields=["default_currency"])
        return
    now = timezone.now()
    # 1 X = r_X old, 1 new = p old  =>  1 X = r_X / p new; 1 old = 1 / p new.
    old_in_new = (Decimal(1) / pivot.rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    if old_in_new <= 0:
        raise ValidationError({"default_currency": [f"The rate of {new} is too large to convert {old} to it."]})
    for currency, row in rates.items():
        if currency == new:
            continue
        row.rate = (row.rate / pivot.rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
        if row.rate <= 0:
            raise ValidationError({"default_currency": [
                f"{currency} would have a rate of 0 in {new}; change its rate first."
            ]})
        row.updated_at = now
        row.save(update_fields=["rate", "updated_at"])
    pivot.delete()
    ExchangeRate.objects.update_or_create(currency=old, defaults={"rate": old_in_new, "updated_at": now})
    settings_row.default_currency = new
    settings_row.save(update_fields=["default_currency"])
    _rescale_closed_deals_and_quotas(old_in_new)
    recompute_open_deals()


# --- settings -----------------------------------------------------------------------------------------------


def update_sales_settings(*, actor, data: dict[str, Any]) -> SalesSettings:
    """data: default_currency, first_response_minutes (1-43200), quote_terms, quote_validity_days (1-3650),
    default_team_id (a Team id, or empty for none)."""
    require_sales_admin(actor)
    unknown_fields(data, SETTINGS_FIELDS)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "default_currency" in data:
        if not str(data["default_currency"] or "").strip():
            errors["default_currency"] = ["Choose the default currency."]
        else:
            try:
                clean["default_currency"] = clean_currency(data["default_currency"], field="default_currency")
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if "first_response_minutes" in data:
        value = _int(data["first_response_minutes"], field="first_response_minutes", minimum=1, maximum=43_200,
                     errors=errors)
        if value is not None:
            clean["first_response_minutes"] = value
    if "quote_validity_days" in data:
        value = _int(data["quote_validity_days"], field="quote_validity_days", minimum=1, maximum=3650, errors=errors)
        if value is not None:
            clean["quote_validity_days"] = value
    if "quote_terms" in data:
        terms = str(data["quote_terms"] or "").strip()
        if len(terms) > MAX_TERMS:
            errors["quote_terms"] = [f"Must be at most {MAX_TERMS} characters."]
        clean["quote_terms"] = terms
    if "default_team_id" in data:
        value = data["default_team_id"]
        if value in (None, ""):
            clean["default_team"] = None
        else:
            try:
                clean["default_team"] = Team.objects.get(pk=int(value))
            except (Team.DoesNotExist, TypeError, ValueError):
                errors["default_team_id"] = [f"No team with id {value}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = _locked_settings()
        new_currency = clean.pop("default_currency", row.default_currency)
        for key, value in clean.items():
            setattr(row, key, value)
        row.save()
        if new_currency != row.default_currency:
            _change_default_currency(row, new_currency)
        events.emit("sales_settings.updated", {"actor_id": getattr(actor, "pk", None)})
    return row


# --- exchange rates -----------------------------------------------------------------------------------------


def set_exchange_rate(*, actor, currency: Any, rate: Any) -> ExchangeRate:
    """Add or change what 1 `currency` is worth in the default currency; recomputes its open deals."""
    require_sales_admin(actor)
    errors: dict[str, list[str]] = {}
    code = ""
    if not str(currency or "").strip():
        errors["currency"] = ["Enter a currency code such as EUR."]
    else:
        try:
            code = clean_currency(currency)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        value = clean_rate(rate)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        settings_row = _locked_settings()
        if code == settings_row.default_currency:
            raise ValidationError({"currency": [
                f"{code} is the default currency; its rate is always 1."
            ]})
        row, _ = ExchangeRate.objects.update_or_create(
            currency=code, defaults={"rate": value, "updated_at": timezone.now()}
        )
        changed = recompute_open_deals(currencies=[code])
        events.emit("exchange_rate.updated", {"currency": code, "rate": str(value), "deals_recomputed": changed,
                                              "actor_id": getattr(actor, "pk", None)})
    row.deals_recomputed = changed
    return row


def delete_exchange_rate(*, actor, currency: str) -> None:
    """Remove a rate; refused while open deals are in that currency."""
    require_sales_admin(actor)
    with transaction.atomic():
        _locked_settings()
        row = ExchangeRate.objects.select_for_update().filter(currency=str(currency).upper()).first()
        if row is None:
            raise ValidationError({"currency": [f"No exchange rate for {currency} is set."]})
        count = Deal.all_objects.filter(stage__kind=StageKind.OPEN, currency=row.currency).count()
        if count:
            raise ValidationError({"currency": [
                f"{count} open deal{'s are' if count != 1 else ' is'} in {row.currency}; "
                "keep the rate or change those deals' currency first."
            ]})
        row.delete()
        events.emit("exchange_rate.deleted", {"currency": row.currency, "actor_id": getattr(actor, "pk", None)})

