"""Leads and deals share the trash, the global search and the purge job with contacts and companies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kith.contacts import services as contact_services
from kith.sales import services as sales
from kith.sales.models import Deal, Lead

pytestmark = pytest.mark.django_db


def test_trashed_leads_and_deals_are_listed_and_restorable(admin_client, admin):
    lead = sales.create_lead(actor=admin, data={"first_name": "Orla", "email": "orla@fjord.no"})
    deal = sales.create_deal(actor=admin, data={"name": "Fjord renewal", "amount": "900"})
    sales.delete_lead(actor=admin, lead=lead)
    sales.delete_deal(actor=admin, deal=deal)

    html = admin_client.get("/trash/").content.decode()
    assert "Orla" in html and "orla@fjord.no" in html
    assert "Fjord renewal" in html and "900.00 USD" in html
    assert f"/leads/{lead.pk}/restore/" in html and f"/deals/{deal.pk}/restore/" in html

    admin_client.post(f"/deals/{deal.pk}/restore/")
    assert Deal.objects.filter(pk=deal.pk).exists()
    admin_client.get("/trash/")  # shows (and so consumes) the "was restored" message
    html = admin_client.get("/trash/").content.decode()
    assert "Fjord renewal" not in html and "Orla" in html


def test_global_search_finds_leads_and_deals(admin_client, admin):
    sales.create_lead(actor=admin, data={"first_name": "Quentin", "last_name": "Blake", "company_name": "Inkwell"})
    company = contact_services.create_company(actor=admin, data={"name": "Zephyr Aviation"})
    sales.create_deal(actor=admin, data={"name": "Zephyr fleet tablets", "company_id": company.pk})

    html = admin_client.get("/search/", {"q": "quentin"}).content.decode()
    assert "Quentin Blake" in html and "Lead" in html

    html = admin_client.get("/search/", {"q": "fleet"}).content.decode()
    assert "Zephyr fleet tablets" in html and "Deal" in html


def test_purge_deletes_old_trashed_leads_and_deals_for_good(admin):
    old = sales.create_lead(actor=admin, data={"email": "old@lead.io"})
    recent = sales.create_deal(actor=admin, data={"name": "Recent"})
    sales.delete_lead(actor=admin, lead=old)
    sales.delete_deal(actor=admin, deal=recent)
    Lead.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))

    assert contact_services.purge_trash() == 1
    assert not Lead.all_objects.filter(pk=old.pk).exists()
    assert Deal.all_objects.filter(pk=recent.pk).exists()


def test_company_and_contact_pages_list_their_deals(admin_client, admin):
    company = contact_services.create_company(actor=admin, data={"name": "Harbor Freight Co"})
    contact = contact_services.create_contact(actor=admin, data={"first_name": "Mina", "company_id": company.pk})
    sales.create_deal(actor=admin, data={"name": "Dockside scanners", "amount": "4200", "company_id": company.pk,
                                         "contact_ids": [contact.pk]})

    company_page = admin_client.get(f"/companies/{company.pk}/").content.decode()
    assert "Dockside scanners" in company_page and "4,200.00" in company_page
    assert f"/deals/new/?company={company.pk}" in company_page

    contact_page = admin_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Dockside scanners" in contact_page
