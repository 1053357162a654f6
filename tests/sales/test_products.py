"""The product catalogue service: validation by field, Decimal prices, unique SKUs, who may write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.core.errors import PermissionDenied, ValidationError
from kith.sales import services
from kith.sales.models import Product, SalesSettings

pytestmark = pytest.mark.django_db


def test_create_product_keeps_decimals_and_defaults_currency(manager):
    SalesSettings.get()
    p = services.create_product(actor=manager, data={"name": "  Seat   licence ", "unit_price": "99.99",
                                                     "tax_rate": "7.5", "sku": "SEAT-1"})
    p.refresh_from_db()
    assert p.name == "Seat licence"
    assert p.unit_price == Decimal("99.99") and isinstance(p.unit_price, Decimal)
    assert p.tax_rate == Decimal("7.50")
    assert p.currency == SalesSettings.get().default_currency
    assert p.active is True


def test_errors_are_reported_by_field(admin):
    with pytest.raises(ValidationError) as exc:
        services.create_product(actor=admin, data={"name": "", "unit_price": "12.345", "currency": "EURO",
                                                   "tax_rate": "101"})
    errors = exc.value.message_dict
    assert set(errors) == {"name", "unit_price", "currency", "tax_rate"}
    assert "2 decimal places" in errors["unit_price"][0]
    assert "ISO 4217" in errors["currency"][0]
    assert "at most 100" in errors["tax_rate"][0]
    assert not Product.objects.exists()


def test_price_is_required_and_not_negative(admin):
    with pytest.raises(ValidationError) as exc:
        services.create_product(actor=admin, data={"name": "Thing"})
    assert "unit_price" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_product(actor=admin, data={"name": "Thing", "unit_price": "-1"})
    assert "at least 0" in exc.value.message_dict["unit_price"][0]


def test_sku_is_unique_case_insensitively_but_may_be_empty_many_times(admin):
    services.create_product(actor=admin, data={"name": "A", "unit_price": "1", "sku": "ABC-1"})
    services.create_product(actor=admin, data={"name": "B", "unit_price": "1"})
    services.create_product(actor=admin, data={"name": "C", "unit_price": "1", "sku": ""})
    with pytest.raises(ValidationError) as exc:
        services.create_product(actor=admin, data={"name": "D", "unit_price": "1", "sku": "abc-1"})
    assert "already has the SKU" in exc.value.message_dict["sku"][0]
    assert Product.objects.count() == 3


def test_update_and_deactivate(admin):
    p = services.create_product(actor=admin, data={"name": "A", "unit_price": "10", "sku": "A1"})
    services.create_product(actor=admin, data={"name": "B", "unit_price": "10", "sku": "B1"})
    p = services.update_product(actor=admin, product=p, data={"unit_price": "12.50", "sku": "A1"})
    assert p.unit_price == Decimal("12.50")
    with pytest.raises(ValidationError) as exc:
        services.update_product(actor=admin, product=p, data={"sku": "B1"})
    assert "sku" in exc.value.message_dict
    p = services.deactivate_product(actor=admin, product=p)
    assert Product.objects.get(pk=p.pk).active is False
    with pytest.raises(ValidationError) as exc:
        services.update_product(actor=admin, product=p, data={"active": "yes"})
    assert exc.value.message_dict == {"active": ["Must be true or false."]}
    with pytest.raises(ValidationError) as exc:
        services.update_product(actor=admin, product=p, data={"colour": "red"})
    assert exc.value.message_dict == {"colour": ["Unknown field."]}


def test_float_input_is_parsed_without_binary_noise(admin):
    p = services.create_product(actor=admin, data={"name": "A", "unit_price": 0.1, "tax_rate": 19.0})
    p.refresh_from_db()
    assert p.unit_price == Decimal("0.10")
    assert p.tax_rate == Decimal("19.00")


def test_members_and_viewers_cannot_write(member, viewer, admin):
    for user in (member, viewer):
        with pytest.raises(PermissionDenied):
            services.create_product(actor=user, data={"name": "A", "unit_price": "1"})
    p = services.create_product(actor=admin, data={"name": "A", "unit_price": "1"})
    with pytest.raises(PermissionDenied):
        services.update_product(actor=member, product=p, data={"active": False})
