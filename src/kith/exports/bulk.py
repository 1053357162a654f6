"""Bulk create or upsert of up to 1,000 records in one call, answered per item.

Every item goes through the record's normal service (create_contact, update_lead …), each in its own
savepoint inside one transaction: an item that fails is rolled back alone and reported with its field
errors; the others are written. Nothing of a failed item is written.

match_on names the key that finds an existing record (among those the caller can see, not in the trash):
  contacts   email | external_id
  companies  domain | external_id
  leads      email | external_id
  deals      external_id
mode "upsert" updates the match (only the keys the item sends change) or creates one; mode "create"
always creates, and reports an item that matches an existing record as an error naming the key.
Two items of one call with the same key: in upsert mode the second updates the record the first wrote
(status "updated", the same id); in create mode the second is an error ("same … as item N").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kith.core import customfields, permissions, records
from kith.core.errors import ConflictError, PermissionDenied, ValidationError, field_errors

MAX_ITEMS = 1000
MODES = ("create", "upsert")


@dataclass(frozen=True)
class BulkTarget:
    name: str  # "contacts"
    noun: str  # "contact"
    model: Callable[[], Any]
    match_keys: tuple[str, ...]
    create: Callable[..., Any]  # (actor, data) -> obj
    update: Callable[..., Any]  # (actor, obj, data) -> obj
    normalise: Callable[[str, Any], str]  # (key, raw value) -> the stored form, "" when empty


def _norm_email(value: Any) -> str:
    from kith.contacts.services import normalise_email

    return normalise_email(value)


def _norm_domain(value: Any) -> str:
    from kith.contacts.services import normalise_domain

    return normalise_domain(value)


def _normalise(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "email":
        return _norm_email(value)
    if key == "domain":
        return _norm_domain(value)
    return str(value).strip()


def _targets() -> dict[str, BulkTarget]:
    from kith.contacts import services as cs
    from kith.contacts.models import Company, Contact
    from kith.sales import services as ss
    from kith.sales.models import Deal, Lead

    return {
        "contacts": BulkTarget(
            "contacts", "contact", lambda: Contact, ("email", "external_id"),
            lambda actor, data: cs.create_contact(actor=actor, data=data),
            lambda actor, obj, data: cs.update_contact(actor=actor, contact=obj, data=data),
            _normalise,
        ),
        "companies": BulkTarget(
            "companies", "company", lambda: Company, ("domain", "external_id"),
            lambda actor, data: cs.create_company(actor=actor, data=data),
            lambda actor, obj, data: cs.update_company(actor=actor, company=obj, data=data),
            _normalise,
        ),
        "leads": BulkTarget(
            "leads", "lead", lambda: Lead, ("email", "external_id"),
            lambda actor, data: ss.create_lead(actor=actor, data=data),
            lambda actor, obj, data: ss.update_lead(actor=actor, lead=obj, data=data),
            _normalise,
        ),
        "deals": BulkTarget(
            "deals", "deal", lambda: Deal, ("external_id",),
            lambda actor, data: ss.create_deal(actor=actor, data=data),
            lambda actor, obj, data: ss.update_deal(actor=actor, deal=obj, data=data),
            _normalise,
        ),
    }


def target(name: str) -> BulkTarget:
    return _targets()[name]


def check_request(t: BulkTarget, *, items: Any, match_on: str | None, mode: str) -> None:
    """Request-level errors (the whole call is refused): too many items, an unknown mode or key."""
    if not isinstance(items, list):
        raise ValidationError({"items": ["Must be a list of objects."]})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": [f"At most {MAX_ITEMS:,} items per call (this one has {len(items):,}); "
                                         "split them over several calls."]})
    errors: dict[str, list[str]] = {}
    if mode not in MODES:
        errors["mode"] = [f"Use one of: {', '.join(MODES)}."]
    if match_on is not None and match_on not in t.match_keys:
        errors["match_on"] = [f"{t.name.capitalize()} can be matched on: {', '.join(t.match_keys)} (or null)."]
    elif mode == "upsert" and match_on is None:
        errors["match_on"] = [f"Upsert needs a key to match on: {', '.join(t.match_keys)}."]
    if errors:
        raise ValidationError(errors)


def _error(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message}]


def run(t: BulkTarget, *, actor, items: list[Any], match_on: str | None, mode: str,
        validate: Callable[[dict], tuple[dict | None, list[dict[str, str]]]]) -> list[dict[str, Any]]:
    """Write the items; returns one result per item, in order. `validate` checks an item's shape (types,
    unknown keys) and returns (data, errors)."""
    permissions.require_write(actor)
    check_request(t, items=items, match_on=match_on, mode=mode)
    model = t.model()
    results: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, int]] = {}  # key value -> (item index, record id)
    with transaction.atomic(), customfields.remembered(), records.remembered_tags():
        for index, raw in enumerate(items):
            result: dict[str, Any] = {"index": index, "status": "error", "id": None, "errors": [], "warnings": []}
            results.append(result)
            if not isinstance(raw, dict):
                result["errors"] = _error("", "Each item must be a JSON object.")
                continue
            data, errors = validate(raw)
            if errors or data is None:
                result["errors"] = errors or _error("", "This item could not be read.")
                continue
            key_value = ""
            key = match_on or ""  # (key_value is only ever set when there is a key)
            if key and data.get(key) not in (None, ""):
                try:
                    key_value = t.normalise(key, data[key])
                except ValueError as exc:
                    result["errors"] = _error(key, str(exc))
                    continue
            existing = None
            if key_value:
                if key_value in seen and mode == "create":
                    result["errors"] = _error(key, f"Same {key} as item {seen[key_value][0]} of this call.")
                    continue
                if key_value in seen:
                    existing = model.objects.filter(pk=seen[key_value][1]).first()
                else:
                    found = list(permissions.visible(model, actor).keyed(key, key_value)
                                 .order_by("pk").values_list("pk", flat=True)[:2])
                    if len(found) > 1:
                        result["errors"] = _error(key, f"Several {t.name} have this {key}; match on "
                                                       "a key that is unique to one.")
                        continue
                    if found and mode == "create":
                        result["errors"] = _error(key, f"A {t.noun} with this {key} already exists "
                                                       f"(id {found[0]}); use mode “upsert” to update it.")
                        continue
                    existing = model.objects.filter(pk=found[0]).first() if found else None
            try:
                with transaction.atomic():  # a savepoint: this item alone is rolled back on error
                    if existing is not None:
                        obj = t.update(actor, existing, data)
                        result["status"] = "updated"
                    else:
                        obj = t.create(actor, data)
                        result["status"] = "created"
            except ValidationError as exc:
                result["errors"] = field_errors(exc)
                continue
            except (PermissionDenied, ConflictError) as exc:
                result["errors"] = _error("", str(exc))
                continue
            result["id"] = obj.pk
            result["warnings"] = list(getattr(obj, "warnings", []) or [])
            if key_value:
                seen[key_value] = (index, obj.pk)
    return results
