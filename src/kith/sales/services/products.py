"""The product catalogue: create, edit, deactivate (admins and managers; everyone can read it).

Prices are Decimal with 2 places, tax rates Decimal percentages with 2 places (0-100); never float.
A SKU is optional; when set it is unique (compared case-insensitively).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kith.core import events, permissions
from kith.core.errors import ValidationError

from .. import money
from ..models import Product
from .common import clean_currency, unknown_fields

PRODUCT_FIELDS = {"name", "sku", "description", "unit_price", "currency", "tax_rate", "active"}
MAX_DESCRIPTION = 5000


def _apply(product: Product, data: dict[str, Any], *, creating: bool) -> None:
    unknown_fields(data, PRODUCT_FIELDS)
    errors: dict[str, list[str]] = {}
    if "name" in data or creating:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = ["A product needs a name."]
        elif len(name) > 200:
            errors["name"] = ["Must be at most 200 characters."]
        product.name = name
    if "sku" in data:
        sku = str(data.get("sku") or "").strip()
        if len(sku) > 64:
            errors["sku"] = ["Must be at most 64 characters."]
        elif any(ch.isspace() for ch in sku):
            errors["sku"] = ["A SKU cannot contain spaces."]
        elif sku and Product.objects.filter(sku__iexact=sku).exclude(pk=product.pk).exists():
            errors["sku"] = [f"Another product already has the SKU “{sku}”."]
        product.sku = sku
    if "description" in data:
        text = str(data.get("description") or "").strip()
        if len(text) > MAX_DESCRIPTION:
            errors["description"] = [f"Must be at most {MAX_DESCRIPTION} characters."]
        product.description = text
    if "unit_price" in data or creating:
        value = data.get("unit_price")
        if value in (None, ""):
            errors["unit_price"] = ["Enter a unit price such as 99.00."]
        else:
            try:
                product.unit_price = money.parse(value, field="unit_price", minimum=Decimal("0"))
            except ValueError as exc:
                errors["unit_price"] = [str(exc)]
    if "currency" in data or creating or not product.currency:
        try:
            product.currency = clean_currency(data.get("currency"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "tax_rate" in data:
        value = data.get("tax_rate")
        try:
            product.tax_rate = money.parse(
                "0" if value in (None, "") else value, field="tax_rate",
                minimum=Decimal("0"), maximum=Decimal("100"),
            )
        except ValueError as exc:
            errors["tax_rate"] = [str(exc)]
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = ["Must be true or false."]
        else:
            product.active = data["active"]
    if errors:
        raise ValidationError(errors)


def _save(product: Product) -> None:
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:  # two writers took the same SKU at once
        raise ValidationError({"sku": [f"Another product already has the SKU “{product.sku}”."]}) from None


def _emit(verb: str, product: Product, actor) -> None:
    events.emit(f"product.{verb}", {"type": "product", "id": product.pk, "actor_id": getattr(actor, "pk", None)})


def create_product(*, actor, data: dict[str, Any]) -> Product:
    """data: name, unit_price (required), sku, description, currency (default currency when empty),
    tax_rate (percent), active."""
    permissions.require_settings(actor)
    product = Product()
    _apply(product, data, creating=True)
    with transaction.atomic():
        _save(product)
        _emit("created", product, actor)
    return product


def update_product(*, actor, product: Product, data: dict[str, Any]) -> Product:
    """Change any of the fields; {"active": False} deactivates (kept on existing deals and quotes)."""
    permissions.require_settings(actor)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        _apply(product, data, creating=False)
        product.updated_at = timezone.now()
        _save(product)
        _emit("updated", product, actor)
    return product


def deactivate_product(*, actor, product: Product) -> Product:
    return update_product(actor=actor, product=product, data={"active": False})
