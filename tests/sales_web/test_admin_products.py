"""Products pages: everyone reads the catalogue, admins and managers edit; errors by field; keyset paging."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import signed_in
from kith.sales import services
from kith.sales.models import Product

from .salesadmin_web import htmx, text

pytestmark = pytest.mark.django_db


def test_members_and_viewers_read_only(admin, member, viewer):
    p = services.create_product(actor=admin, data={"name": "Seat licence", "unit_price": "1249.5", "sku": "SEAT-1",
                                                   "tax_rate": "19"})
    for user in (member, viewer):
        c = signed_in(user)
        r = c.get(reverse("web:product_list"))
        page = text(r)
        assert r.status_code == 200
        assert "Seat licence" in page and "SEAT-1" in page and "USD 1,249.50" in page and "19%" in page
        assert "New product" not in page and "Deactivate" not in page
        assert c.get(reverse("web:product_create")).status_code == 403
        assert c.post(reverse("web:product_edit", args=[p.pk]), {"name": "X"}).status_code == 403
        assert c.post(reverse("web:product_set_active", args=[p.pk]), {"active": "false"}).status_code == 403
    assert Product.objects.get(pk=p.pk).active


def test_create_with_errors_then_success(manager):
    c = signed_in(manager)
    r = c.post(reverse("web:product_create"), {"name": "", "unit_price": "12.345", "currency": "EURO", "tax_rate": "5"})
    page = text(r)
    assert r.status_code == 400
    assert "There are 3 problems" in page
    assert "A product needs a name." in page and "Use at most 2 decimal places." in page
    assert "“EURO” is not an ISO 4217 currency code" in page
    r = c.post(reverse("web:product_create"), {"name": "Support", "unit_price": "99.90", "currency": "eur",
                                               "tax_rate": "7.5", "sku": "SUP", "active": "on"}, follow=True)
    assert "Product “Support” was created." in text(r)
    p = Product.objects.get()
    assert (p.unit_price, p.currency, p.tax_rate, p.active) == (Decimal("99.90"), "EUR", Decimal("7.50"), True)
    r = c.post(reverse("web:product_create"), {"name": "Other", "unit_price": "1", "currency": "USD", "sku": "sup"})
    assert r.status_code == 400 and "Another product already has the SKU “sup”." in text(r)


def test_edit_and_deactivate(admin):
    p = services.create_product(actor=admin, data={"name": "Seat", "unit_price": "10"})
    c = signed_in(admin)
    form = c.get(reverse("web:product_edit", args=[p.pk])).content.decode()
    assert 'value="10.00"' in form and 'value="Seat"' in form
    r = c.post(reverse("web:product_edit", args=[p.pk]), {"name": "Seat (annual)", "unit_price": "100",
                                                           "currency": "USD", "tax_rate": "", "active": "on"}, follow=True)
    assert "Product “Seat (annual)” was saved." in text(r)
    r = c.post(reverse("web:product_set_active", args=[p.pk]), {"active": "false"}, follow=True)
    assert "was deactivated" in text(r)
    assert "Seat (annual)" not in text(c.get(reverse("web:product_list")))
    assert "Seat (annual)" in text(c.get(reverse("web:product_list"), {"status": "inactive"}))


def test_search_and_keyset_paging(admin):
    Product.objects.bulk_create([Product(name=f"Item {i:03d}", sku=f"SKU-{i:03d}", unit_price=Decimal("1.00"),
                                         currency="USD") for i in range(60)])
    c = signed_in(admin)
    r = c.get(reverse("web:product_list"))
    page = text(r)
    assert "Item 000" in page and "Item 049" in page and "Item 050" not in page
    body = r.content.decode()
    assert "Load more" in page
    more = body.split('id="load-more"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    r2 = c.get(more, **htmx(target="load-more"))
    assert "<html" not in r2.content.decode()
    assert "Item 050" in text(r2) and "Item 059" in text(r2) and "Item 049" not in text(r2)
    found = text(c.get(reverse("web:product_list"), {"q": "sku-007"}))
    assert "Item 007" in found and "Item 008" not in found
