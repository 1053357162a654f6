"""Deals: create, edit, move between stages (recorded with time), line items, trash and restore."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kith.contacts.models import Company, Contact
from kith.contacts.services import _owner
from kith.core import audit, customfields, permissions, records
from kith.core.errors import ValidationError
from kith.core.models import AuditEntry

from .. import money
from ..choices import StageKind
from ..models import Deal, DealContact, DealStageChange, LineItem, Pipeline, Product, Stage
from .common import clean_currency, clean_date, rate_for, unknown_fields

DEAL_FIELDS = {
    "name", "amount", "currency", "expected_close_date", "pipeline_id", "stage_id", "company_id", "contact_ids",
    "primary_contact_id", "lost_reason", "next_step", "is_commit", "owner_id", "tags", "custom_fields",
    "external_id",
}


def _stage_for(pipeline: Pipeline | None, stage_id: Any, errors) -> Stage | None:
    if stage_id in (None, ""):
        return None
    try:
        stage = Stage.objects.select_related("pipeline").get(pk=int(stage_id))
    except (Stage.DoesNotExist, TypeError, ValueError):
        errors["stage_id"] = [f"No stage with id {stage_id}."]
        return None
    if pipeline is not None and stage.pipeline_id != pipeline.pk:
        errors["stage_id"] = [f"Stage “{stage}” is not in pipeline “{pipeline}”."]
        return None
    return stage


def _apply(deal: Deal, data: dict[str, Any], *, actor) -> dict[str, Any]:
    """Assign validated fields; returns extras (tags, contacts) to write after save."""
    unknown_fields(data, DEAL_FIELDS)
    errors: dict[str, list[str]] = {}
    extras: dict[str, Any] = {}
    if "name" in data:
        name = " ".join(str(data["name"] or "").split())
        if len(name) > 200:
            errors["name"] = ["Must be at most 200 characters."]
        deal.name = name
    if not deal.name and "name" not in errors:
        errors["name"] = ["A deal needs a name."]
    if "amount" in data:
        if deal.pk and deal.line_items.exists():
            errors["amount"] = ["This deal's amount comes from its line items; change those instead."]
        else:
            try:
                deal.amount = money.q(money.parse(data["amount"] if data["amount"] is not None else "0", field="amount"))
            except ValueError as exc:
                errors["amount"] = [str(exc)]
    if "currency" in data or not deal.currency:
        try:
            deal.currency = clean_currency(data.get("currency"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "expected_close_date" in data:
        try:
            deal.expected_close_date = clean_date(data["expected_close_date"], field="expected_close_date")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    pipeline = deal.pipeline if deal.pipeline_id else None
    if "pipeline_id" in data and data["pipeline_id"] not in (None, ""):
        try:
            pipeline = Pipeline.objects.get(pk=int(data["pipeline_id"]))
        except (Pipeline.DoesNotExist, TypeError, ValueError):
            errors["pipeline_id"] = [f"No pipeline with id {data['pipeline_id']}."]
    if "stage_id" in data:
        # A stage alone may be of any pipeline (the deal moves there); with pipeline_id it must be of that one.
        stage = _stage_for(pipeline if "pipeline_id" in data else None, data["stage_id"], errors)
        if stage is not None:
            pipeline = stage.pipeline
            extras["stage"] = stage
    if pipeline is None and "pipeline_id" not in errors:
        from .pipelines import ensure_default_pipeline

        pipeline = ensure_default_pipeline()
    if pipeline is not None and "stage" not in extras and (not deal.stage_id or deal.stage.pipeline_id != pipeline.pk):
        first = pipeline.stages.filter(kind=StageKind.OPEN).order_by("position").first()
        if first is None:
            errors["pipeline_id"] = ["This pipeline has no open stage."]
        else:
            extras["stage"] = first
    if pipeline is not None:
        deal.pipeline = pipeline
    if "company_id" in data:
        value = data["company_id"]
        if value in (None, ""):
            deal.company = None
        else:
            try:
                deal.company = permissions.visible(Company, actor).get(pk=int(value))
            except (Company.DoesNotExist, TypeError, ValueError):
                errors["company_id"] = [f"No company with id {value}."]
    if "contact_ids" in data or "primary_contact_id" in data:
        ids = data.get("contact_ids")
        if ids is None:
            ids = list(deal.deal_contacts.values_list("contact_id", flat=True)) if deal.pk else []
        if not isinstance(ids, list):
            errors["contact_ids"] = ["Must be a list of contact ids."]
        else:
            try:
                ids = [int(i) for i in ids]
            except (TypeError, ValueError):
                errors["contact_ids"] = ["Must be a list of contact ids."]
                ids = []
            found = set(permissions.visible(Contact, actor).filter(pk__in=ids).values_list("pk", flat=True))
            missing = [i for i in ids if i not in found]
            if missing:
                errors["contact_ids"] = [f"No contact with id {missing[0]}."]
            primary = data.get("primary_contact_id")
            if primary in (None, ""):
                primary = ids[0] if ids else None
            else:
                try:
                    primary = int(primary)
                except (TypeError, ValueError):
                    primary = -1
                if primary not in ids:
                    if primary in found or permissions.visible(Contact, actor).filter(pk=primary).exists():
                        ids.append(primary)
                    else:
                        errors["primary_contact_id"] = [f"No contact with id {data.get('primary_contact_id')}."]
            extras["contacts"] = (list(dict.fromkeys(ids)), primary)
    for name, limit in (("lost_reason", 300), ("next_step", 300), ("external_id", 200)):
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > limit:
                errors[name] = [f"Must be at most {limit} characters."]
            setattr(deal, name, text)
    if "is_commit" in data:
        if not isinstance(data["is_commit"], bool):
            errors["is_commit"] = ["Must be true or false."]
        else:
            deal.is_commit = data["is_commit"]
    if "owner_id" in data:
        try:
            deal.owner = _owner(data["owner_id"])
        except ValueError as exc:
            errors["owner_id"] = [str(exc)]
    if "tags" in data:
        try:
            extras["tags"] = records.clean_tags(data["tags"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "custom_fields" in data or deal.pk is None:
        try:
            deal.custom_fields = customfields.clean_values(
                "deal", data.get("custom_fields", {}), deal.custom_fields, creating=deal.pk is None
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    new_stage = extras.get("stage")
    if new_stage is not None and new_stage.kind == StageKind.LOST and not deal.lost_reason and "lost_reason" not in errors:
        errors["lost_reason"] = ["Say why the deal was lost."]
    if not errors and deal.currency:
        try:
            deal.amount_default = money.convert(deal.amount, rate_for(deal.currency))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return extras


def _set_stage(deal: Deal, stage: Stage, *, actor, now) -> None:
    previous = deal.stage if deal.stage_id else None
    if previous is not None and previous.pk == stage.pk:
        return
    deal.stage = stage
    deal.pipeline = stage.pipeline
    deal.stage_changed_at = now
    deal.closed_at = now if stage.kind != StageKind.OPEN else None
    if stage.kind != StageKind.LOST:
        deal.lost_reason = deal.lost_reason if previous is None else ""
    deal._stage_change = (previous, stage)


def _record_stage_change(deal: Deal, *, actor, now) -> None:
    change = getattr(deal, "_stage_change", None)
    if change:
        DealStageChange.objects.create(deal=deal, from_stage=change[0], to_stage=change[1], actor=actor, changed_at=now)
        del deal._stage_change


def _write_contacts(deal: Deal, extras: dict[str, Any]) -> None:
    if "contacts" not in extras:
        return
    ids, primary = extras["contacts"]
    DealContact.objects.filter(deal=deal).exclude(contact_id__in=ids).delete()
    existing = set(DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True))
    DealContact.objects.bulk_create([DealContact(deal=deal, contact_id=i) for i in ids if i not in existing])
    DealContact.objects.filter(deal=deal).update(is_primary=False)
    if primary is not None:
        DealContact.objects.filter(deal=deal, contact_id=primary).update(is_primary=True)


def _contacts_state(deal: Deal) -> list[str]:
    links = DealContact.objects.filter(deal=deal).select_related("contact").order_by("contact_id")
    return [f"{link.contact}{' (primary)' if link.is_primary else ''}" for link in links]


def _snapshot(deal: Deal) -> dict[str, Any]:
    state = audit.snapshot(deal)
    state["contacts"] = _contacts_state(deal) if deal.pk else []
    return state


def _finish(deal: Deal, *, action: str, actor, before: dict[str, Any]) -> None:
    base = {k: v for k, v in before.items() if k != "contacts"}
    changes = records.finish_write(deal, action=action, actor=actor, before=base)
    contacts_after = _contacts_state(deal)
    if action in (AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE) and before.get("contacts", []) != contacts_after:
        # Contacts are a relation of the deal: add their change to the same history row.
        entry = audit.history(deal).first()
        entry.changes = {
            **changes,
            "contacts": {"old": before.get("contacts") or None, "new": contacts_after or None, "label": "Contacts"},
        }
        entry.save(update_fields=["changes"])


def create_deal(*, actor, data: dict[str, Any]) -> Deal:
    permissions.require_write(actor)
    with transaction.atomic():
        now = timezone.now()
        deal = Deal(owner=actor if "owner_id" not in data else None, created_at=now, updated_at=now)
        extras = _apply(deal, data, actor=actor)
        _set_stage(deal, extras["stage"], actor=actor, now=now)
        deal.save()
        _record_stage_change(deal, actor=actor, now=now)
        if extras.get("tags"):
            records.set_tags(deal, extras["tags"], new=True)
        _write_contacts(deal, extras)
        _finish(deal, action=AuditEntry.Action.CREATE, actor=actor, before={"contacts": []})
    deal.warnings = []
    return deal


def update_deal(*, actor, deal: Deal, data: dict[str, Any], expected_version: int | None = None) -> Deal:
    permissions.require_write(actor, deal)
    with transaction.atomic():
        deal = Deal.objects.select_for_update().select_related("stage", "pipeline").get(pk=deal.pk)
        records.check_version(deal, expected_version)
        before = _snapshot(deal)
        now = timezone.now()
        extras = _apply(deal, data, actor=actor)
        if "stage" in extras:
            _set_stage(deal, extras["stage"], actor=actor, now=now)
        if extras.get("tags") is not None and "tags" in data:
            records.set_tags(deal, extras["tags"])
        _write_contacts(deal, extras)
        after = _snapshot(deal)
        if audit.diff(before, after, deal) or before["contacts"] != after["contacts"]:
            records.bump(deal)
            deal.save()
            _record_stage_change(deal, actor=actor, now=now)
            _finish(deal, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
    deal.warnings = []
    return deal


def move_deal(*, actor, deal: Deal, stage_id: Any, lost_reason: str | None = None,
              expected_version: int | None = None) -> Deal:
    """Move to a stage (of any pipeline). Moving to a lost stage needs a lost reason."""
    data: dict[str, Any] = {"stage_id": stage_id}
    if lost_reason is not None:
        data["lost_reason"] = lost_reason
    if stage_id in (None, ""):
        raise ValidationError({"stage_id": ["Choose a stage."]})
    return update_deal(actor=actor, deal=deal, data=data, expected_version=expected_version)


def _plain(value) -> str:
    """A quantity or percentage as people write it (3, 0.5, 12.5): the same whether just parsed or read back."""
    return format(Decimal(value).normalize(), "f")


def _line_label(li: LineItem) -> str:
    discount = f" −{_plain(li.discount_pct)}%" if li.discount_pct else ""
    return f"{_plain(li.quantity)} × {li.name} @ {money.q(Decimal(li.unit_price))}{discount}"


def _line_key(li: LineItem) -> tuple:
    return (li.product_id, li.name, *(money.q(Decimal(getattr(li, f)))
                                      for f in ("quantity", "unit_price", "discount_pct", "tax_rate")))


LINE_FIELDS = {"product_id", "name", "quantity", "unit_price", "discount_pct", "tax_rate"}


def set_line_items(*, actor, deal: Deal, items: list[dict[str, Any]], expected_version: int | None = None) -> Deal:
    """Replace the deal's line items; the deal amount becomes their total (or stays as typed when none)."""
    permissions.require_write(actor, deal)
    if not isinstance(items, list):
        raise ValidationError({"items": ["Must be a list of line items."]})
    errors: dict[str, list[str]] = {}
    rows: list[LineItem] = []
    for i, raw in enumerate(items):
        p = f"items.{i}."
        if not isinstance(raw, dict):
            errors[f"items.{i}"] = ["Must be an object."]
            continue
        for key in sorted(set(raw) - LINE_FIELDS):
            errors[p + key] = ["Unknown field."]
        product = None
        if raw.get("product_id") not in (None, ""):
            try:
                product = Product.objects.get(pk=int(raw["product_id"]))
            except (Product.DoesNotExist, TypeError, ValueError):
                errors[p + "product_id"] = [f"No product with id {raw['product_id']}."]
        name = " ".join(str(raw.get("name") or (product.name if product else "")).split())
        if not name:
            errors[p + "name"] = ["A line needs a product or a name."]
        values: dict[str, Decimal] = {}
        defaults = {
            "quantity": "1",
            "unit_price": product.unit_price if product else None,
            "discount_pct": "0",
            "tax_rate": product.tax_rate if product else "0",
        }
        limits = {"quantity": (Decimal("0.01"), None), "unit_price": (Decimal("0"), None),
                  "discount_pct": (Decimal("0"), Decimal("100")), "tax_rate": (Decimal("0"), Decimal("100"))}
        for key, (lo, hi) in limits.items():
            value = raw.get(key, defaults[key])
            if value in (None, ""):
                value = defaults[key]
            if value is None:
                errors[p + key] = ["Enter a unit price."]
                continue
            try:
                values[key] = money.parse(value, field=key, minimum=lo, maximum=hi)
            except ValueError as exc:
                errors[p + key] = [str(exc)]
        if product is not None and product.currency != deal.currency and "unit_price" not in raw:
            errors[p + "unit_price"] = [
                f"{product} is priced in {product.currency} but the deal is in {deal.currency}; enter a unit price."
            ]
        if not any(k.startswith(p) for k in errors):
            rows.append(LineItem(deal=deal, product=product, name=name[:200], position=i, **values))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        records.check_version(locked, expected_version)
        before = audit.snapshot(locked)
        current = list(locked.line_items.all())
        if [_line_key(li) for li in current] == [_line_key(r) for r in rows]:
            locked.warnings = []
            return locked  # the same lines again: nothing changes, nothing is written
        before_lines = [_line_label(li) for li in current]
        LineItem.objects.filter(deal=locked).delete()
        LineItem.objects.bulk_create(rows)
        if rows:
            locked.amount = sum((r.total for r in rows), Decimal("0.00"))
            locked.amount_default = money.convert(locked.amount, rate_for(locked.currency))
        records.bump(locked)
        locked.save()
        changes = records.finish_write(locked, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
        after_lines = [_line_label(li) for li in rows]
        if before_lines != after_lines:
            entry = audit.history(locked).first()
            entry.changes = {**changes, "line_items": {"old": before_lines or None, "new": after_lines or None,
                                                       "label": "Line items"}}
            entry.save(update_fields=["changes"])
    locked.warnings = []
    return locked


def delete_deal(*, actor, deal: Deal, expected_version: int | None = None) -> Deal:
    return records.trash_record(deal, actor=actor, expected_version=expected_version)


def restore_deal(*, actor, deal: Deal) -> Deal:
    return records.restore_record(deal, actor=actor)
