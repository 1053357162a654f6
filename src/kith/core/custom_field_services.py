"""Writes for custom field definitions (admins and managers)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from .errors import ValidationError
from .models import CustomField
from .permissions import require_settings

CREATE_FIELDS = {"object_type", "label", "key", "field_type", "choices", "currency", "required", "help_text", "position"}
UPDATE_FIELDS = {"label", "choices", "currency", "required", "help_text", "position"}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
RESERVED_KEYS = {"id", "q", "cursor", "limit", "ordering"}


def _clean_choices(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({"choices": ["Must be a list of texts (one choice per line in forms)."]})
    out: list[str] = []
    for v in value:
        v = " ".join(v.split())
        if not v:
            continue
        if len(v) > 100:
            raise ValidationError({"choices": ["A choice can be at most 100 characters."]})
        if "," in v:
            raise ValidationError({"choices": [f"“{v}”: choices cannot contain commas."]})
        if v not in out:
            out.append(v)
    return out


def _apply(field: CustomField, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "label" in data:
        label = " ".join(str(data["label"] or "").split())
        if not label:
            errors["label"] = ["A field needs a label."]
        elif len(label) > 100:
            errors["label"] = ["Must be at most 100 characters."]
        field.label = label
    if "choices" in data:
        try:
            field.choices = _clean_choices(data["choices"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "currency" in data:
        currency = str(data["currency"] or "").strip().upper()
        if currency and not re.fullmatch(r"[A-Z]{3}", currency):
            errors["currency"] = ["Use a 3-letter ISO 4217 code such as EUR or USD."]
        field.currency = currency
    if "required" in data:
        field.required = bool(data["required"])
    if "help_text" in data:
        help_text = str(data["help_text"] or "").strip()
        if len(help_text) > 200:
            errors["help_text"] = ["Must be at most 200 characters."]
        field.help_text = help_text
    if "position" in data:
        try:
            field.position = max(0, int(data["position"]))
        except (TypeError, ValueError):
            errors["position"] = ["Must be a whole number."]
    if field.field_type in ("select", "multiselect") and not field.choices and "choices" not in errors:
        errors["choices"] = ["A select field needs at least one choice."]
    if field.field_type == "currency" and not field.currency and "currency" not in errors:
        errors["currency"] = ["A currency field needs a currency code such as EUR."]


def create_custom_field(*, actor, data: dict[str, Any]) -> CustomField:
    if actor is not None:
        require_settings(actor)
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    errors: dict[str, list[str]] = {}
    object_type = data.get("object_type")
    if object_type not in CustomField.ObjectType.values:
        errors["object_type"] = [f"Must be one of: {', '.join(CustomField.ObjectType.values)}."]
    field_type = data.get("field_type")
    if field_type not in CustomField.FieldType.values:
        errors["field_type"] = [f"Must be one of: {', '.join(CustomField.FieldType.values)}."]
    field = CustomField(object_type=object_type or "", field_type=field_type or "")
    _apply(field, {"label": data.get("label", ""), **data}, errors)
    key = str(data.get("key") or "").strip() or slugify(field.label or "").replace("-", "_")
    if key and key[0].isdigit():
        key = "f_" + key
    if not KEY_RE.match(key or ""):
        errors["key"] = ["Use lower-case letters, digits and underscores, starting with a letter (max 50)."]
    elif key in RESERVED_KEYS:
        errors["key"] = [f"“{key}” is reserved; choose another key."]
    elif object_type and CustomField.objects.filter(object_type=object_type, key=key).exists():
        errors["key"] = [f"A {object_type} field with key “{key}” already exists."]
    field.key = key
    if errors:
        raise ValidationError(errors)
    if "position" not in data:
        top = CustomField.objects.filter(object_type=object_type).aggregate(m=Max("position"))["m"]
        field.position = (top or 0) + 1
    with transaction.atomic():
        field.save()
    return field


def update_custom_field(*, actor, field: CustomField, data: dict[str, Any]) -> CustomField:
    if actor is not None:
        require_settings(actor)
    fixed = sorted(set(data) & {"key", "field_type", "object_type"})
    errors: dict[str, list[str]] = {
        name: ["Cannot be changed; create a new field instead."] for name in fixed
        if data[name] != getattr(field, name)
    }
    unknown = sorted(set(data) - UPDATE_FIELDS - {"key", "field_type", "object_type"})
    errors.update({name: ["Unknown field."] for name in unknown})
    with transaction.atomic():
        field = CustomField.objects.select_for_update().get(pk=field.pk)
        _apply(field, {k: v for k, v in data.items() if k in UPDATE_FIELDS}, errors)
        if errors:
            raise ValidationError(errors)
        field.save()
    return field


def delete_custom_field(*, actor, field: CustomField) -> None:
    """Removes the definition. Stored values stay in the records' JSON but are no longer shown or served."""
    if actor is not None:
        require_settings(actor)
    field.delete()
