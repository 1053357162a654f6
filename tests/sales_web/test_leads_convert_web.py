"""The convert page: suggestions, linking or creating, an optional deal, and errors shown clearly."""

from __future__ import annotations

import re

import pytest

from conftest import signed_in
from kith.contacts import services as contact_services
from kith.contacts.models import Company, Contact
from kith.sales.models import Deal, Lead
from kith.sales.services import leads, pipelines

from .test_leads_web import make_lead, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


def convert_data(**overrides):
    data = {"contact_mode": "new", "company_mode": "new", "company_id": "", "deal_name": "", "deal_amount": "",
            "deal_currency": "USD", "deal_pipeline_id": "", "deal_stage_id": "", "deal_expected_close_date": ""}
    data.update(overrides)
    return data


def test_page_offers_the_existing_contact_and_company(admin_client, admin):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.com"})
    ann = contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(first_name="Ann", email="ann@acme.com", company_name="Acme Inc")
    r = admin_client.get(f"/leads/{lead.pk}/convert/")
    assert r.status_code == 200
    page = text(r)
    assert "A contact with this email already exists: Ann" in page
    assert "Link to the existing contact Ann (ann@acme.com)" in page
    assert "Link to the existing company Acme" in page and "Create a new company “Acme Inc”" in page
    assert "Also create a deal" in page
    html = r.content.decode()
    assert re.search(r'value="existing" id="id_contact_mode_0"[^>]* checked', html)
    assert re.search(r'value="existing" id="id_company_mode_0"[^>]* checked', html)
    assert f'href="/contacts/{ann.pk}/"' in html and f'href="/companies/{acme.pk}/"' in html


def test_convert_to_new_records_and_see_the_links(admin_client):
    lead = make_lead(first_name="Ann", last_name="Lee", email="ann@globex.io", company_name="Globex")
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(), follow=True)
    contact = Contact.objects.get(email="ann@globex.io")
    company = Company.objects.get(name="Globex")
    assert r.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    page = text(r)
    assert "Ann Lee was converted: contact Ann Lee, company Globex." in page
    assert "Converted" in page
    html = r.content.decode()
    assert f'href="/contacts/{contact.pk}/"' in html and f'href="/companies/{company.pk}/"' in html
    assert f"/leads/{lead.pk}/convert/" not in html  # no second conversion offered
    assert Lead.objects.get(pk=lead.pk).status == "converted"


def test_convert_linking_existing_records_with_a_deal(admin_client, admin):
    pipeline = pipelines.create_pipeline(actor=admin, data={"name": "Sales"})
    stage = pipeline.stages.get(name="Discovery")
    acme = contact_services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.com"})
    ann = contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(first_name="Ann", email="ann@acme.com", company_name="Acme")
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(
        contact_mode="existing", company_mode="existing", create_deal="on", deal_name="Acme pilot",
        deal_amount="9900", deal_currency="USD", deal_pipeline_id=str(pipeline.pk), deal_stage_id=str(stage.pk),
        deal_expected_close_date="2026-06-30"), follow=True)
    deal = Deal.objects.get(name="Acme pilot")
    assert (deal.company, deal.stage, str(deal.amount)) == (acme, stage, "9900.00")
    assert list(deal.contacts.all()) == [ann]
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (ann, acme, deal)
    assert "deal Acme pilot" in text(r)
    assert f'href="/deals/{deal.pk}/"' in r.content.decode()
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


def test_link_to_another_company_chosen_in_the_combobox(admin_client, admin):
    other = contact_services.create_company(actor=admin, data={"name": "Umbrella"})
    lead = make_lead(first_name="Ann", company_name="Acme")
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(company_mode="other"))
    assert r.status_code == 400
    assert "Choose the company to link to." in text(r)
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(company_mode="other", company_id=other.pk))
    assert r.status_code == 302
    assert Lead.objects.get(pk=lead.pk).converted_company == other
    assert not Company.objects.filter(name="Acme").exists()


def test_email_clash_is_shown_on_the_contact_choice_and_nothing_changes(admin_client, admin):
    contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(first_name="Ann", email="ann@acme.com", company_name="Acme")
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(contact_mode="new"))
    assert r.status_code == 400
    page = text(r)
    assert "The lead could not be converted" in page
    assert "Contact: Another contact already has this email (Ann)." in page
    assert 'id="id_contact_mode_error"' in r.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "new"
    assert not Company.objects.exists() and Contact.objects.count() == 1


def test_deal_errors_are_shown_next_to_the_deal_fields(admin_client):
    lead = make_lead(first_name="Ann", company_name="Acme")
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(create_deal="on", deal_name="Big",
                                                                     deal_amount="lots"))
    assert r.status_code == 400
    assert 'id="id_deal_amount_error"' in r.content.decode()
    assert "Amount:" in text(r)
    assert not Company.objects.exists() and not Contact.objects.exists() and not Deal.objects.exists()


def test_an_already_converted_lead_is_refused(admin_client, admin):
    lead = make_lead(first_name="Ann")
    leads.convert_lead(actor=admin, lead=lead)
    r = admin_client.get(f"/leads/{lead.pk}/convert/")
    assert "This lead is already converted" in text(r) and "Convert lead" not in text(r)
    r = admin_client.post(f"/leads/{lead.pk}/convert/", convert_data(company_mode="none"))
    assert r.status_code == 400
    assert "This lead is already converted." in text(r)
    assert Contact.objects.count() == 1
