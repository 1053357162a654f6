"""One filter definition per model, used by the HTML list, the API and (later) saved views and segments.

A FilterSet reads plain query parameters (a QueryDict or a dict of str | list[str]) and narrows a
queryset, or raises ValidationError naming the parameter. Custom fields get cf_<key> filters, generated
from their definitions:
  text/url/email      cf_key=substring
  number/currency     cf_key=5, cf_key__gte=1, cf_key__lte=10
  date                cf_key=2026-01-31, cf_key__gte=…, cf_key__lte=…
  boolean             cf_key=true|false
  select              cf_key=a (repeat for any of several)
  multiselect         cf_key=a (records having a; repeat for any of several)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, FloatField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from . import customfields
from .models import CustomField


def _getlist(params, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        raw = params.get(name)
        values = raw if isinstance(raw, list | tuple) else ([] if raw is None else [raw])
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return out


@dataclass
class Filter:
    name: str
    label: str
    description: str = ""
    kind: str = "text"  # text, choice, user, id, tag, date
    choices: list[tuple[str, str]] = field(default_factory=list)
    lookup: str = ""

    def apply(self, qs, values: list[str], user):
        raise NotImplementedError

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.kind == "date":
            schema = {"type": "string", "format": "date"}
        if self.choices:
            schema = {"type": "string", "enum": [c for c, _ in self.choices]}
        return {
            "in": "query",
            "name": self.name,
            "required": False,
            "description": self.description or self.label,
            "schema": schema,
        }


class ChoiceFilter(Filter):
    def apply(self, qs, values, user):
        valid = {c for c, _ in self.choices}
        bad = [v for v in values if v not in valid]
        if bad:
            raise ValidationError({self.name: [f"Unknown value “{bad[0]}”. Use one of: {', '.join(sorted(valid))}."]})
        return qs.filter(**{f"{self.lookup or self.name}__in": values})


class UserFilter(Filter):
    """owner=<id> | me | none (any of several)."""

    def apply(self, qs, values, user):
        lookup = self.lookup or self.name
        cond = Q()
        for v in values:
            if v == "me":
                cond |= Q(**{lookup: user.pk})
            elif v == "none":
                cond |= Q(**{f"{lookup}__isnull": True})
            elif v.isdigit():
                cond |= Q(**{lookup: int(v)})
            else:
                raise ValidationError({self.name: ["Use a user id, “me” or “none”."]})
        return qs.filter(cond)


class IdFilter(Filter):
    def apply(self, qs, values, user):
        lookup = self.lookup or self.name
        cond = Q()
        for v in values:
            if v == "none":
                cond |= Q(**{f"{lookup}__isnull": True})
            elif v.isdigit():
                cond |= Q(**{lookup: int(v)})
            else:
                raise ValidationError({self.name: ["Use a record id or “none”."]})
        return qs.filter(cond)


class TagFilter(Filter):
    """tag=a&tag=b: records having any of the tags."""

    def apply(self, qs, values, user):
        # A semi-join on the through table: no DISTINCT over the whole list, case-insensitive names.
        through = qs.model.tags.through
        names = Q()
        for v in values:
            names |= Q(tag__name__iexact=v)
        column = f"{qs.model._meta.model_name}_id"
        return qs.filter(pk__in=through.objects.filter(names).values(column))


class TextFilter(Filter):
    """Substring match (icontains), or the lookup given, e.g. lookup="country__iexact"."""

    def apply(self, qs, values, user):
        lookup = self.lookup or self.name
        if "__" not in lookup:
            lookup += "__icontains"
        cond = Q()
        for v in values:
            cond |= Q(**{lookup: v})
        return qs.filter(cond)


class DateRangeFilter(Filter):
    """name=YYYY-MM-DD bound on a datetime field; lookup like "created_at__gte"."""

    def apply(self, qs, values, user):
        value = values[-1]
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError({self.name: ["Enter a date as YYYY-MM-DD."]}) from None
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        field_name, op = self.lookup.rsplit("__", 1)
        if op == "gte":
            return qs.filter(**{f"{field_name}__gte": start})
        return qs.filter(**{f"{field_name}__lt": start + dt.timedelta(days=1)})


class FilterSet:
    object_type: str = ""
    filters: list[Filter] = []

    def __init__(self, params, user):
        self.params = params if params is not None else {}
        self.user = user

    @classmethod
    def custom_filters(cls) -> list[CustomField]:
        return customfields.definitions(cls.object_type) if cls.object_type else []

    @classmethod
    def openapi_parameters(cls) -> list[dict[str, Any]]:
        params = [f.openapi() for f in cls.filters]
        params.append(
            {
                "in": "query",
                "name": "cf_<key>",
                "required": False,
                "description": "Custom field filter, e.g. cf_region=EMEA; numbers, amounts and dates also take "
                "cf_<key>__gte / cf_<key>__lte.",
                "schema": {"type": "string"},
            }
        )
        return params

    def active(self) -> dict[str, list[str]]:
        """The filters in use, for showing chips and building links."""
        keys = list(self.params.keys())
        out: dict[str, list[str]] = {}
        names = {f.name for f in self.filters}
        for key in keys:
            if key in names or key.startswith("cf_"):
                values = _getlist(self.params, key)
                if values:
                    out[key] = values
        return out

    def apply(self, qs):
        errors: dict[str, list[str]] = {}
        for flt in self.filters:
            values = _getlist(self.params, flt.name)
            if not values:
                continue
            try:
                qs = flt.apply(qs, values, self.user)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        defs = {f.key: f for f in self.custom_filters()}
        for key in list(self.params.keys()):
            if not key.startswith("cf_"):
                continue
            values = _getlist(self.params, key)
            if not values:
                continue
            name, _, op = key[3:].partition("__")
            cf = defs.get(name)
            if cf is None:
                errors[key] = [f"There is no custom field “{name}”."]
                continue
            try:
                qs = self._apply_custom(qs, cf, op, values)
            except ValueError as exc:
                errors[key] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        return qs

    @staticmethod
    def _apply_custom(qs, cf: CustomField, op: str, values: list[str]):
        path = f"custom_fields__{cf.key}"
        t = cf.field_type
        if op and (op not in ("gte", "lte") or t not in ("number", "currency", "date")):
            raise ValueError(f"{cf.label} does not take __{op}.")
        if t in ("number", "currency"):
            value = customfields.clean_value(cf, values[-1])
            expr = Cast(KT(path), DecimalField(max_digits=30, decimal_places=6))
            if t == "number":
                expr = Cast(KT(path), FloatField())
                value = float(value)
            alias = f"_cf_{cf.key}"
            qs = qs.alias(**{alias: expr})
            return qs.filter(**{f"{alias}__{op or 'exact'}": value})
        if t == "date":
            value = customfields.clean_value(cf, values[-1])
            return qs.filter(**{f"{path}__{op or 'exact'}": value})
        if t == "boolean":
            value = customfields.clean_value(cf, values[-1])
            if value:
                return qs.filter(**{path: True})
            # "false" includes records without a value (NOT (NULL = true) alone would drop them).
            return qs.filter(~Q(**{path: True}) | Q(**{f"{path}__isnull": True}))
        if t == "select":
            for v in values:
                customfields.clean_value(cf, v)
            return qs.filter(**{f"{path}__in": values})
        if t == "multiselect":
            cond = Q()
            for v in values:
                customfields.clean_value(cf, [v])
                # JSON text of the list contains "value" (quotes make it a whole-element match).
                cond |= Q(**{f"{path}__icontains": f'"{v}"'})
            return qs.filter(cond)
        cond = Q()
        for v in values:
            cond |= Q(**{f"{path}__icontains": v})
        return qs.filter(cond)
