"""/api/v1/products: the catalogue (everyone reads; admins and managers write), prices as exact strings."""

from __future__ import annotations

import pytest

from kith.sales.models import Product, SalesSettings

from .conftest import assert_error_shape, error_fields, ids_of, walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _usd():
    SalesSettings.objects.update_or_create(pk=1, defaults={"default_currency": "USD"})


def test_create_read_update_deactivate(api):
    r = api.post("products", {"name": "Widget", "sku": "W-1", "unit_price": "19.9", "tax_rate": 19,
                              "description": "A fine widget"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"id", "name", "sku", "description", "unit_price", "currency", "tax_rate", "active",
                         "created_at", "updated_at"}
    assert (body["unit_price"], body["tax_rate"], body["currency"], body["active"]) == ("19.90", "19.00", "USD", True)
    pk = body["id"]
    assert api.get(f"products/{pk}").json()["sku"] == "W-1"
    r = api.patch(f"products/{pk}", {"unit_price": 24.5, "currency": "eur"})
    assert (r.json()["unit_price"], r.json()["currency"]) == ("24.50", "EUR")
    assert api.delete(f"products/{pk}").status_code == 204
    assert api.get(f"products/{pk}").json()["active"] is False
    assert Product.objects.filter(pk=pk).exists()
    assert api.patch(f"products/{pk}", {"active": True}).json()["active"] is True
    assert_error_shape(api.get("products/999999"), 404)


def test_errors(api):
    api.post("products", {"name": "Widget", "sku": "W-1", "unit_price": "1"})
    r = api.post("products", {"name": "", "sku": "w-1", "unit_price": "1.999", "tax_rate": "101",
                              "currency": "ABC"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"name", "sku", "unit_price", "tax_rate", "currency"}
    assert error_fields(api.post("products", {"name": "No price"})) == {"unit_price"}
    assert error_fields(api.post("products", {"name": "X", "unit_price": "1", "colour": "red"})) == {"colour"}
    assert error_fields(api.post("products", {"name": "X", "unit_price": "1", "active": "sometimes"})) == {"active"}
    assert Product.objects.count() == 1


def test_list_search_active_and_cursor(api, admin):
    from kith.sales import services

    made = [services.create_product(actor=admin, data={"name": n, "sku": s, "unit_price": "1"})
            for n, s in [("delta", "D-1"), ("Alpha", "A-9"), ("charlie", ""), ("Bravo", "B-2"), ("echo", "")]]
    services.deactivate_product(actor=admin, product=made[4])
    expected = [p.pk for p in sorted(made, key=lambda p: (p.name.lower(), p.pk))]
    assert walk(api, "products", limit=2) == expected
    assert ids_of(api.get("products", q="a-9")) == {made[1].pk}
    assert ids_of(api.get("products", q="char")) == {made[2].pk}
    assert ids_of(api.get("products", active="false")) == {made[4].pk}
    assert len(ids_of(api.get("products", active="true"))) == 4
    assert error_fields(api.get("products", active="maybe")) == {"active"}
    assert error_fields(api.get("products", cursor="nonsense")) == {"cursor"}


def test_members_and_viewers_read_only(api_for, admin, member, viewer):
    from kith.sales import services

    p = services.create_product(actor=admin, data={"name": "Widget", "unit_price": "1"})
    for user in (member, viewer):
        api = api_for(user)
        assert api.get("products").status_code == 200
        assert api.get(f"products/{p.pk}").status_code == 200
        for r in (api.post("products", {"name": "X", "unit_price": "1"}),
                  api.patch(f"products/{p.pk}", {"name": "X"}), api.delete(f"products/{p.pk}")):
            assert_error_shape(r, 403)
    assert Product.objects.get(pk=p.pk).name == "Widget"
