"""Lead services as the UI uses them: first response, reassignment with notification, conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from conftest import make_user
from kith.contacts import services as contact_services
from kith.contacts.models import Company, Contact
from kith.core import audit
from kith.core.errors import ValidationError
from kith.core.models import AuditEntry, Notification
from kith.sales.models import Deal, Lead, Pipeline
from kith.sales.services import leads, pipelines

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(db):
    return make_user("rita@example.com", "member", full_name="Rita Rep")


def make_lead(actor, **data):
    return leads.create_lead(actor=actor, data={"owner_id": None, **data})


def db_state() -> dict:
    return {
        "leads": list(Lead.all_objects.order_by("id").values_list(
            "id", "version", "status", "converted_contact_id", "converted_company_id", "converted_deal_id",
            "first_response_at", "converted_at")),
        "contacts": list(Contact.all_objects.values_list("id", "company_id", "version")),
        "companies": list(Company.all_objects.values_list("id", "version")),
        "deals": list(Deal.all_objects.values_list("id")),
        "history": AuditEntry.objects.count(),
        "notifications": Notification.objects.count(),
    }


# --- first response, status, owner --------------------------------------------------------------------------


def test_changing_the_status_records_the_first_response_once(admin):
    lead = make_lead(admin, first_name="Ann")
    assert lead.awaiting_response and lead.first_response_at is None
    lead = leads.update_lead(actor=admin, lead=lead, data={"status": "contacted"})
    first = lead.first_response_at
    assert first is not None and not lead.awaiting_response
    lead = leads.update_lead(actor=admin, lead=lead, data={"status": "qualified"})
    assert lead.first_response_at == first
    assert lead.response_time() == first - lead.created_at


def test_other_edits_do_not_count_as_a_response(admin):
    lead = make_lead(admin, first_name="Ann")
    lead = leads.update_lead(actor=admin, lead=lead, data={"title": "CTO"})
    assert lead.first_response_at is None


def test_reassigning_notifies_the_new_owner_and_is_in_history(admin, rep):
    lead = make_lead(admin, first_name="Ann", email="ann@corp.com")
    lead = leads.update_lead(actor=admin, lead=lead, data={"owner_id": rep.pk})
    note = Notification.objects.get(user=rep)
    assert note.title == "New lead assigned to you: Ann" and note.url == f"/leads/{lead.pk}/"
    assert note.actor == admin and note.read_at is None
    entry = audit.history(lead).first()
    assert entry.changes["owner"]["old"] is None
    assert entry.changes["owner"]["new"] == {"id": rep.pk, "label": "Rita Rep"}
    assert lead.assigned_at is not None
    # Taking a lead yourself notifies nobody.
    leads.update_lead(actor=rep, lead=lead, data={"owner_id": rep.pk})
    leads.update_lead(actor=rep, lead=Lead.objects.get(pk=lead.pk), data={"owner_id": admin.pk})
    assert Notification.objects.filter(user=admin).count() == 1


def test_converted_status_is_set_only_by_converting_and_then_kept(admin):
    lead = make_lead(admin, first_name="Ann")
    with pytest.raises(ValidationError) as exc:
        leads.update_lead(actor=admin, lead=lead, data={"status": "converted"})
    assert exc.value.message_dict == {"status": ["Convert the lead to mark it converted."]}
    leads.convert_lead(actor=admin, lead=lead)
    with pytest.raises(ValidationError) as exc:
        leads.update_lead(actor=admin, lead=Lead.objects.get(pk=lead.pk), data={"status": "new"})
    assert exc.value.message_dict == {"status": ["This lead is converted; its status can no longer change."]}


def test_viewers_cannot_write_leads(viewer, admin):
    with pytest.raises(PermissionDenied):
        make_lead(viewer, first_name="Nope")
    lead = make_lead(admin, first_name="Ann")
    with pytest.raises(PermissionDenied):
        leads.convert_lead(actor=viewer, lead=lead)


# --- conversion ---------------------------------------------------------------------------------------------


def test_suggestions_find_the_contact_by_email_and_the_company_by_domain_or_name(admin):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Inc", "domain": "acme.com"})
    ann = contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(admin, first_name="Ann", email="ANN@acme.com")
    assert leads.conversion_suggestions(lead, actor=admin) == {"contact": ann, "company": acme}
    by_name = make_lead(admin, first_name="Bo", email="bo@gmail.com", company_name="acme inc")
    assert leads.conversion_suggestions(by_name, actor=admin) == {"contact": None, "company": acme}
    nothing = make_lead(admin, first_name="Cy", email="cy@gmail.com", company_name="Other")
    assert leads.conversion_suggestions(nothing, actor=admin) == {"contact": None, "company": None}


def test_convert_creates_a_contact_and_a_company(admin, rep):
    lead = make_lead(admin, first_name="Ann", last_name="Lee", email="ann@globex.io", phone="+49 30 1234567",
                     company_name="Globex", title="CTO", country="DE", source="Web form", owner_id=rep.pk)
    contact, company, deal = leads.convert_lead(actor=admin, lead=lead)
    assert deal is None
    assert (company.name, company.domain, company.country, company.owner) == ("Globex", "globex.io", "DE", rep)
    assert (contact.full_name, contact.email, contact.phone, contact.job_title, contact.company, contact.owner) == (
        "Ann Lee", "ann@globex.io", "+49301234567", "CTO", company, rep)
    assert contact.lifecycle_stage == "lead" and contact.lead_source == "Web form"
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == "converted" and lead.converted_at is not None
    assert (lead.converted_contact, lead.converted_company, lead.converted_deal) == (contact, company, None)
    assert lead.first_response_at is not None
    entry = audit.history(lead).first()
    assert entry.changes["converted_contact"]["new"]["id"] == contact.pk


def test_convert_links_an_existing_contact_and_company(admin):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.com"})
    ann = contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(admin, first_name="Ann", email="ann@acme.com", company_name="Acme")
    contact, company, _ = leads.convert_lead(actor=admin, lead=lead, contact_id=ann.pk, company_id=acme.pk)
    assert (contact, company) == (ann, acme)
    assert Contact.objects.get(pk=ann.pk).company == acme  # the contact had no company: now it has
    assert Contact.objects.count() == 1 and Company.objects.count() == 1


def test_convert_without_a_company(admin):
    lead = make_lead(admin, first_name="Ann", company_name="Acme")
    contact, company, _ = leads.convert_lead(actor=admin, lead=lead, create_company=False)
    assert company is None and contact.company is None
    assert Company.objects.count() == 0


def test_convert_with_a_deal(admin):
    pipeline = pipelines.create_pipeline(actor=admin, data={"name": "Sales"})
    stage = pipeline.stages.get(name="Proposal")
    lead = make_lead(admin, first_name="Ann", email="ann@initech.com", company_name="Initech")
    contact, company, deal = leads.convert_lead(actor=admin, lead=lead, deal={
        "name": "Initech rollout", "amount": "12500.50", "currency": "USD", "pipeline_id": pipeline.pk,
        "stage_id": stage.pk, "expected_close_date": "2026-12-31"})
    assert (deal.name, deal.amount, deal.currency, deal.stage, deal.company) == (
        "Initech rollout", Decimal("12500.50"), "USD", stage, company)
    assert str(deal.expected_close_date) == "2026-12-31"
    assert list(deal.contacts.all()) == [contact]
    assert contact.lifecycle_stage == "sales_qualified"
    assert Lead.objects.get(pk=lead.pk).converted_deal == deal


def test_converting_twice_is_refused_and_writes_nothing(admin):
    lead = make_lead(admin, first_name="Ann")
    leads.convert_lead(actor=admin, lead=lead)
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        leads.convert_lead(actor=admin, lead=Lead.objects.get(pk=lead.pk))
    assert exc.value.message_dict == {"status": ["This lead is already converted."]}
    assert db_state() == before


def test_email_clash_is_reported_on_the_contact_and_nothing_is_written(admin):
    contact_services.create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@acme.com"})
    lead = make_lead(admin, first_name="Ann", email="ann@acme.com", company_name="Acme")
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        leads.convert_lead(actor=admin, lead=lead)
    assert list(exc.value.message_dict) == ["contact.email"]
    assert "already has this email" in exc.value.message_dict["contact.email"][0]
    assert db_state() == before  # the company made before the contact failed was rolled back too


def test_a_bad_deal_rolls_back_the_contact_and_company(admin):
    lead = make_lead(admin, first_name="Ann", email="ann@acme.com", company_name="Acme")
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        leads.convert_lead(actor=admin, lead=lead, deal={"name": "Big", "amount": "lots", "currency": "ZZZ"})
    errors = exc.value.message_dict
    assert set(errors) >= {"deal.amount"}
    assert db_state() == before
    assert not Pipeline.objects.exists()  # the default pipeline made for the deal was rolled back too


def test_unknown_contact_or_company_ids_are_field_errors(admin):
    lead = make_lead(admin, first_name="Ann")
    with pytest.raises(ValidationError) as exc:
        leads.convert_lead(actor=admin, lead=lead, contact_id=9999, company_id="abc")
    assert exc.value.message_dict == {"company_id": ["No company with id abc."],
                                      "contact_id": ["No contact with id 9999."]}
