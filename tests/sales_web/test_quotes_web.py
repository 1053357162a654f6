"""Quote pages: create from a deal, the printable quote, status buttons, the PDF download; permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.contacts import services as contact_services
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, Quote

from .pdf_text import pdf_text
from .salesadmin_web import text

pytestmark = pytest.mark.django_db
ITEMS = [{"name": "Seat licence", "quantity": "3", "unit_price": "99.99", "discount_pct": "10", "tax_rate": "20"},
         {"name": "Onboarding", "quantity": "1", "unit_price": "1500", "tax_rate": "0"}]


@pytest.fixture
def quoted_deal(admin):
    company = contact_services.create_company(actor=admin, data={
        "name": "Łódź Wiśniewski & Дмитрий GmbH", "street": "ul. Piotrkowska 1", "city": "Łódź", "country": "PL"})
    contact = contact_services.create_contact(actor=admin, data={
        "first_name": "Żaneta", "last_name": "Ørsted", "email": "zaneta@example.com", "company_id": company.pk})
    deal = services.create_deal(actor=admin, data={"name": "Rollout", "company_id": company.pk,
                                                   "contact_ids": [contact.pk]})
    return services.set_line_items(actor=admin, deal=deal, items=ITEMS)


def test_create_page_shows_the_snapshot_and_defaults(admin, quoted_deal):
    r = signed_in(admin).get(reverse("web:quote_create", args=[quoted_deal.pk]))
    page = text(r)
    assert r.status_code == 200
    assert "Seat licence" in page and "269.97" in page and "1,500.00" in page
    assert "Subtotal USD 1,769.97" in page and "Tax USD 53.99" in page and "Total USD 1,823.96" in page
    valid = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    assert f'value="{valid}"' in r.content.decode()
    assert "Payment due within 30 days of invoice." in page


def test_create_and_view_a_quote(member, quoted_deal):
    c = signed_in(member)
    valid = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    r = c.post(reverse("web:quote_create", args=[quoted_deal.pk]), {"valid_until": valid, "terms": "Net 14."})
    quote = Quote.objects.get()
    assert r.status_code == 302 and r["Location"] == quote.get_absolute_url()
    page = text(c.get(r["Location"]))
    year = timezone.localdate().year
    assert f"Quote Q-{year}-0001" in page
    assert "Łódź Wiśniewski & Дмитрий GmbH" in page and "Attn. Żaneta Ørsted" in page and "Poland" in page
    assert "Tax 20% USD 53.99" in page and "Total USD 1,823.96" in page
    assert "Net 14." in page and f"valid until {valid}" in page
    assert "Mark sent" in page and "Download PDF" in page
    assert "Accepted" not in page.split("Mark sent")[1].split("Deal")[0]  # not yet


def test_create_errors(admin, quoted_deal):
    c = signed_in(admin)
    r = c.post(reverse("web:quote_create", args=[quoted_deal.pk]), {"valid_until": "2000-01-01", "terms": ""})
    assert r.status_code == 400 and "A quote must be valid until today or later." in text(r)
    r = c.post(reverse("web:quote_create", args=[quoted_deal.pk]), {"valid_until": "soon"})
    assert r.status_code == 400 and "Enter a date as YYYY-MM-DD." in text(r)
    empty = services.create_deal(actor=admin, data={"name": "Empty", "amount": "10"})
    assert "This deal has no line items yet" in text(c.get(reverse("web:quote_create", args=[empty.pk])))
    r = c.post(reverse("web:quote_create", args=[empty.pk]), {"valid_until": timezone.localdate().isoformat()})
    assert r.status_code == 400 and "A quote needs at least one line item" in text(r)
    assert not Quote.objects.exists()


def test_status_buttons(admin, quoted_deal):
    c = signed_in(admin)
    quote = services.create_quote(actor=admin, deal=quoted_deal)
    url = reverse("web:quote_status", args=[quote.pk])
    r = c.post(url, {"status": "accepted"}, follow=True)
    assert "A draft quote cannot be marked accepted; it can be marked sent." in text(r)
    r = c.post(url, {"status": "sent", "version": "1"}, follow=True)
    page = text(r)
    assert f"Quote {quote.number} was marked as sent." in page
    assert "Also mark the deal won" in page and "Declined" in page
    r = c.post(url, {"status": "accepted", "move_deal_to_won": "on", "version": "1"}, follow=True)
    assert "changed by someone else" in text(r)
    r = c.post(url, {"status": "accepted", "move_deal_to_won": "on", "version": "2"}, follow=True)
    page = text(r)
    assert "was marked as accepted. The deal was marked won." in page
    assert "This quote is final" in page and "Mark sent" not in page
    assert Deal.objects.get(pk=quoted_deal.pk).stage.kind == StageKind.WON


def test_viewers_see_but_cannot_act(admin, viewer, quoted_deal):
    quote = services.create_quote(actor=admin, deal=quoted_deal)
    c = signed_in(viewer)
    page = text(c.get(quote.get_absolute_url()))
    assert quote.number in page and "Mark sent" not in page and "New quote" not in page
    assert c.post(reverse("web:quote_status", args=[quote.pk]), {"status": "sent"}).status_code == 403
    assert c.get(reverse("web:quote_create", args=[quoted_deal.pk])).status_code == 403
    assert c.post(reverse("web:quote_create", args=[quoted_deal.pk]), {"valid_until": "2099-01-01"}).status_code == 403
    assert c.get(reverse("web:quote_pdf", args=[quote.pk])).status_code == 200


def test_quotes_of_hidden_deals_are_not_found(admin, member, quoted_deal, settings):
    quote = services.create_quote(actor=admin, deal=quoted_deal)
    settings.KITH_RECORD_VISIBILITY = "own"
    c = signed_in(member)
    assert c.get(quote.get_absolute_url()).status_code == 404
    assert c.get(reverse("web:quote_pdf", args=[quote.pk])).status_code == 404
    assert c.get(reverse("web:quote_create", args=[quoted_deal.pk])).status_code == 404


def test_pdf_download(admin, quoted_deal):
    quote = services.create_quote(actor=admin, deal=quoted_deal, terms="Zahlbar binnen 14 Tagen – danke!")
    r = signed_in(admin).get(reverse("web:quote_pdf", args=[quote.pk]))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'attachment; filename="{quote.number}.pdf"'
    data = r.content
    assert data.startswith(b"%PDF")
    shown = pdf_text(data)
    assert quote.number in shown
    assert "Łódź Wiśniewski & Дмитрий GmbH" in shown and "Attn. Żaneta Ørsted" in shown
    assert "Seat licence" in shown and "269.97" in shown and "USD 1,823.96" in shown
    assert "Zahlbar binnen 14 Tagen – danke!" in shown


def test_pdf_replaces_characters_the_font_lacks(admin):
    deal = services.create_deal(actor=admin, data={"name": "東京 rollout 🚀"})
    services.set_line_items(actor=admin, deal=deal, items=[{"name": "Seat 席", "unit_price": "1"}])
    quote = services.create_quote(actor=admin, deal=deal)
    shown = pdf_text(signed_in(admin).get(reverse("web:quote_pdf", args=[quote.pk])).content)
    assert "?? rollout ?" in shown and "Seat ?" in shown
