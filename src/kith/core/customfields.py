"""Custom field definitions and value validation, shared by forms, the API and imports."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from email_validator import EmailNotValidError, validate_email

from .models import CustomField

# Numbers and amounts stay below a quadrillion: stored, compared and filtered exactly on every database.
MAX_MAGNITUDE = decimal.Decimal(10) ** 15
RANGE_TEXT = "-1,000,000,000,000,000 and 1,000,000,000,000,000"
TRUE_WORDS = {"true", "1", "yes", "on", "y"}
FALSE_WORDS = {"false", "0", "no", "off", "n", ""}


_remembered: contextvars.ContextVar[dict[str, list[CustomField]] | None] = contextvars.ContextVar(
    "kith_custom_field_definitions", default=None)


@contextlib.contextmanager
def remembered() -> Iterator[None]:
    """Inside the block each type's definitions are read once (a bulk call writes up to 1,000 records in one
    transaction; each write read them twice: to check the values, and to label them in the history)."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def definitions(object_type: str) -> list[CustomField]:
    memo = _remembered.get()
    if memo is not None and object_type in memo:
        return memo[object_type]
    found = list(CustomField.objects.filter(object_type=object_type).order_by("position", "id"))
    if memo is not None:
        memo[object_type] = found
    return found


def clean_value(field: CustomField, value: Any) -> Any:
    """Normalise one value or raise ValueError with a message a user understands. None means empty."""
    if value is None or (isinstance(value, str) and not value.strip() and field.field_type != "boolean"):
        return None
    t = field.field_type
    if t == "text":
        if isinstance(value, dict | list | tuple):
            raise ValueError("Enter text, not a list or an object.")
        value = str(value).strip()
        if len(value) > 2000:
            raise ValueError("Must be at most 2000 characters.")
        return value
    if t == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = decimal.Decimal(str(value).strip().replace(",", ""))
        except decimal.InvalidOperation:
            raise ValueError("Enter a number.") from None
        if not number.is_finite():
            raise ValueError("Enter a number.")
        if abs(number) >= MAX_MAGNITUDE:
            raise ValueError(f"Enter a number between {RANGE_TEXT}.")
        return int(number) if number == number.to_integral_value() else float(number)
    if t == "currency":
        if isinstance(value, bool):
            raise ValueError("Enter an amount such as 1250.00.")
        try:
            amount = decimal.Decimal(str(value).strip().replace(",", ""))
        except decimal.InvalidOperation:
            raise ValueError("Enter an amount such as 1250.00.") from None
        if amount.is_finite() and abs(amount) >= MAX_MAGNITUDE:
            raise ValueError(f"Enter an amount between {RANGE_TEXT}.")
        if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("Enter an amount with at most 2 decimal places.")
        return str(amount.quantize(decimal.Decimal("0.01")))
    if t == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None
    if t == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("Enter true or false.")
    if t == "select":
        value = str(value).strip()
        if value not in field.choices:
            raise ValueError(f"“{value}” is not one of the choices: {', '.join(field.choices)}.")
        return value
    if t == "multiselect":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError("Enter a list of choices.")
        bad = [str(v) for v in value if str(v) not in field.choices]
        if bad:
            raise ValueError(f"Not among the choices: {', '.join(bad)}.")
        chosen = {str(v) for v in value}
        return [c for c in field.choices if c in chosen] or None
    if t == "url":
        value = str(value).strip()
        if "://" not in value:
            value = "https://" + value
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise ValueError("Enter a valid web address.") from None
        return value
    if t == "email":
        try:
            return validate_email(str(value).strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ValueError(str(exc)) from None
    raise ValueError(f"Unknown field type {t}.")


def clean_values(
    object_type: str, incoming: dict[str, Any] | None, existing: dict[str, Any] | None = None, *, creating: bool
) -> dict[str, Any]:
    """Merge incoming custom field values into existing ones, validated. Errors name custom_fields.<key>."""
    if incoming is not None and not isinstance(incoming, dict):
        raise ValidationError({"custom_fields": ["Must be an object of field keys to values."]})
    defs = {f.key: f for f in definitions(object_type)}
    result = {k: v for k, v in (existing or {}).items() if k in defs}
    errors: dict[str, list[str]] = {}
    for key, value in (incoming or {}).items():
        field = defs.get(key)
        if field is None:
            errors[f"custom_fields.{key}"] = [f"There is no custom field “{key}” on {object_type}s."]
            continue
        try:
            cleaned = clean_value(field, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    for key, field in defs.items():
        if (field.required and key not in result and f"custom_fields.{key}" not in errors
                and (creating or key in (incoming or {}))):
            errors[f"custom_fields.{key}"] = [f"{field.label} is required."]
    if errors:
        raise ValidationError(errors)
    return result


def display_value(field: CustomField, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if field.field_type == "boolean":
        return "Yes" if value else "No"
    if field.field_type == "multiselect":
        return ", ".join(value)
    if field.field_type == "currency":
        amount = decimal.Decimal(str(value))
        return f"{field.currency + ' ' if field.currency else ''}{amount:,.2f}"
    if field.field_type == "date":
        try:
            return dt.date.fromisoformat(value).strftime("%b %-d, %Y")
        except (TypeError, ValueError):
            return str(value)
    return str(value)
