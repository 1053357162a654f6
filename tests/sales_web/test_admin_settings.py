"""Sales settings (admins), exchange rates and the quota grid (admins and managers)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.sales import services
from kith.sales.models import Deal, ExchangeRate, Quota, SalesSettings
from kith.sales.services.quotas import period_start_of

from .salesadmin_web import text

pytestmark = pytest.mark.django_db


def test_only_admins_open_sales_settings(manager, member, admin):
    for user in (manager, member):
        c = signed_in(user)
        assert c.get(reverse("web:sales_settings")).status_code == 403
        assert c.post(reverse("web:sales_rate_save"), {"rate-currency": "EUR", "rate-rate": "1"}).status_code == 403
    page = text(signed_in(admin).get(reverse("web:sales_settings")))
    assert "Default currency" in page and "Exchange rates" in page and "No exchange rates yet" in page


def test_save_settings_and_errors(admin):
    c = signed_in(admin)
    data = {"default_currency": "USD", "first_response_minutes": "0", "quote_validity_days": "21",
            "quote_terms": "Net 30", "default_team_id": ""}
    r = c.post(reverse("web:sales_settings"), data)
    assert r.status_code == 400 and "Enter a number from 1 to 43200." in text(r)
    r = c.post(reverse("web:sales_settings"), {**data, "first_response_minutes": "45"}, follow=True)
    assert "Sales settings were saved." in text(r)
    s = SalesSettings.get()
    assert (s.first_response_minutes, s.quote_validity_days, s.quote_terms) == (45, 21, "Net 30")


def test_rates_add_edit_remove(admin):
    c = signed_in(admin)
    r = c.post(reverse("web:sales_rate_save"), {"rate-currency": "EUR", "rate-rate": "0"})
    assert r.status_code == 400 and "A rate must be greater than 0." in text(r)
    r = c.post(reverse("web:sales_rate_save"), {"rate-currency": "EUR", "rate-rate": "1.1"}, follow=True)
    assert "1 EUR = 1.1 USD." in text(r)
    d = services.create_deal(actor=admin, data={"name": "Euro deal", "amount": "100", "currency": "EUR"})
    r = c.post(reverse("web:sales_rate_save"), {"edit": "EUR", "rate-EUR": "1.25"}, follow=True)
    assert "1 EUR = 1.25 USD. 1 open deal recomputed." in text(r)
    assert Deal.objects.get(pk=d.pk).amount_default == Decimal("125.00")
    r = c.post(reverse("web:sales_rate_save"), {"edit": "EUR", "rate-EUR": "1.123456789"})
    assert r.status_code == 400 and "Use at most 8 decimal places." in text(r)
    r = c.post(reverse("web:sales_rate_delete", args=["EUR"]))
    assert r.status_code == 400 and "1 open deal is in EUR" in text(r)
    Deal.all_objects.filter(pk=d.pk).delete()
    r = c.post(reverse("web:sales_rate_delete", args=["EUR"]), follow=True)
    assert "The EUR rate was removed." in text(r)
    assert not ExchangeRate.objects.exists()


def test_quota_grid(manager, member, viewer):
    c = signed_in(manager)
    r = c.get(reverse("web:quota_list"))
    page = text(r)
    assert r.status_code == 200
    assert "Bob Member" in page and "Maria Manager" in page and "Victor Viewer" not in page
    start = period_start_of(timezone.localdate(), "quarter")
    name = f"q-{member.pk}-{start.isoformat()}"
    assert f'name="{name}"' in r.content.decode()
    r = c.post(reverse("web:quota_list"), {"kind": "quarter", name: "50,000.50"}, follow=True)
    assert "Quotas saved (1 changed)." in text(r)
    q = Quota.objects.get()
    assert (q.user, q.period_kind, q.period_start, q.amount) == (member, "quarter", start, Decimal("50000.50"))
    r = c.post(reverse("web:quota_list"), {"kind": "quarter", name: "lots"})
    assert r.status_code == 400 and "Bob Member" in text(r) and "Enter an amount such as 1250.00." in text(r)
    r = c.post(reverse("web:quota_list"), {"kind": "quarter", name: ""}, follow=True)
    assert "Quotas saved (1 changed)." in text(r) and not Quota.objects.exists()
    months = c.get(reverse("web:quota_list"), {"kind": "month"}).content.decode()
    assert months.count(f'name="q-{member.pk}-') == 6
    assert signed_in(member).get(reverse("web:quota_list")).status_code == 403
    assert signed_in(viewer).post(reverse("web:quota_list"), {name: "1"}).status_code == 403
