"""Keyset (cursor) pagination: constant cost per page, however deep, and no COUNT(*).

A cursor encodes the sort key values and id of the last row of a page. The next page is
"rows strictly after that tuple" in the chosen order, so rows added meanwhile never shift pages:
following next_cursor visits every row that existed at the start exactly once.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.db.models.expressions import BaseExpression
from django.utils import timezone
from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class Ordering:
    """A public ordering name and the non-null key expressions it sorts by (id is appended)."""

    name: str
    keys: tuple[str | BaseExpression, ...]


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.date):
        return {"D": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            parsed = parse_datetime(value["t"])
            if parsed is None:
                raise ValueError("bad datetime")
            return parsed
        if "d" in value:
            return decimal.Decimal(value["d"])
        if "D" in value:
            return dt.date.fromisoformat(value["D"])
        raise ValueError("bad value")
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": ["This cursor is not valid for this list and ordering."]})


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != size:
            raise ValueError("wrong size")
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise _invalid_cursor() from exc


def _fits(value: Any, field) -> bool:
    """Whether a cursor value has the Python type of the sort key it is compared with."""
    kind = field.get_internal_type()
    if value is None:
        return False
    if kind == "DateTimeField":
        return isinstance(value, dt.datetime) and (not settings.USE_TZ or timezone.is_aware(value))
    if kind == "DateField":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind == "DecimalField":
        return isinstance(value, decimal.Decimal)
    if kind == "FloatField":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind.endswith(("IntegerField", "AutoField")):
        return type(value) is int and -(2**63) <= value < 2**63
    if kind in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
        return isinstance(value, str)
    return isinstance(value, str | int | float | bool)


def _check_types(values: list[Any], fields: list) -> None:
    """Refuse a cursor made for another list or ordering (or by hand) before it reaches the database."""
    if not all(_fits(value, field) for value, field in zip(values, fields, strict=True)):
        raise _invalid_cursor()


def parse_ordering(value: str | None, orderings: dict[str, Ordering], default: str) -> tuple[Ordering, bool]:
    value = (value or default).strip()
    descending = value.startswith("-")
    name = value[1:] if descending else value
    if name not in orderings:
        allowed = ", ".join(sorted(orderings))
        raise ValidationError({"ordering": [f"Unknown ordering “{name}”. Use one of: {allowed} (prefix - for descending)."]})
    return orderings[name], descending


def paginate(qs, *, ordering: Ordering, descending: bool, cursor: str | None, limit: int):
    """Return (rows, next_cursor) for one page."""
    key_names = [f"_k{i}" for i in range(len(ordering.keys))]
    annotations = {
        name: (F(key) if isinstance(key, str) else key) for name, key in zip(key_names, ordering.keys, strict=True)
    }
    qs = qs.annotate(**annotations)
    all_keys = [*key_names, "id"]
    if cursor:
        values = decode_cursor(cursor, len(all_keys))
        _check_types(values, [qs.query.annotations[k].output_field for k in key_names] + [qs.model._meta.pk])
        op = "lt" if descending else "gt"
        # (k0, k1, …, id) > (v0, v1, …, vid), expanded; plus k0 >= v0 so the index range is used.
        condition = Q()
        for i in range(len(all_keys) - 1, -1, -1):
            step = Q(**{f"{all_keys[i]}__{op}": values[i]})
            condition = step if i == len(all_keys) - 1 else step | (Q(**{all_keys[i]: values[i]}) & condition)
        qs = qs.filter(Q(**{f"{all_keys[0]}__{op}e": values[0]}) & condition)
    prefix = "-" if descending else ""
    qs = qs.order_by(*[prefix + k for k in all_keys])
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, k) for k in key_names] + [last.pk])
    return rows, next_cursor
