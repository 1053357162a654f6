"""Importing companies, leads and deals (each row through its record type's own service)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.contacts.models import Company, Contact
from kith.core.models import AuditEntry
from kith.imports import services

from .engine_helpers import isolated_uploads, problems, run, upload, upload_file  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def test_hubspot_companies(admin):
    imp = run(admin, upload_file(admin, "hubspot_companies.csv", "company"))
    assert (imp.status, imp.created, imp.failed) == ("done", 2, 0), problems(imp)
    lumen = Company.objects.get(domain="lumen.example")
    assert (lumen.name, lumen.size, lumen.annual_revenue, lumen.country) == ("Lumen Analytics", 120,
                                                                            Decimal("2500000.00"), "US")
    assert (lumen.external_id, lumen.owner, lumen.website) == ("9001", admin, "https://www.lumen.example")
    entry = AuditEntry.objects.get(object_id=lumen.pk, content_type__model="company")
    assert entry.request_id == f"import-{imp.pk}"


def test_zoho_accounts_match_on_domain_then_fill(admin):
    from kith.contacts.services import create_company

    orchid = create_company(actor=admin, data={"name": "Orchid", "domain": "orchid.example"})
    imp = run(admin, upload_file(admin, "zoho_accounts.csv", "company"), match_on="domain", on_duplicate="fill")
    assert (imp.created, imp.updated) == (0, 1), problems(imp)
    orchid.refresh_from_db()
    assert (orchid.name, orchid.industry, orchid.size, orchid.version) == ("Orchid", "Media", 300, 2)
    result = services.undo_import(actor=admin, imp=imp)
    assert (result["restored"], result["not_undone"]) == (1, [])
    orchid.refresh_from_db()
    assert (orchid.industry, orchid.size) == ("", None)


def test_companies_matched_by_exact_name_and_rerun_skip(admin):
    first = run(admin, upload(admin, "Name,Industry\nAcme,Tools\nBeta,Food\n", object_type="company"),
                match_on="name")
    again = run(admin, upload(admin, "Name,Industry\nacme,Tools\nBeta,Food\nGamma,Ice\n", object_type="company"),
                match_on="name", on_duplicate="skip")
    assert (first.created, again.created, again.skipped) == (2, 1, 2)
    assert Company.objects.count() == 3


def test_company_row_errors_name_the_column(admin):
    text = "Company,Website,Employees\nGood,good.example,10\nBad,not a url,many\n,x.example,\n"
    imp = run(admin, upload(admin, text, object_type="company"))
    assert (imp.created, imp.failed) == (1, 2)
    got = problems(imp)
    assert {(r, c) for r, c, _ in got} >= {(3, "Website"), (3, "Employees"), (4, "Company")}


def test_salesforce_leads(admin):
    imp = run(admin, upload_file(admin, "salesforce_leads.csv", "lead"))
    assert (imp.created, imp.failed) == (1, 0), problems(imp)
    from kith.sales.models import Lead

    lead = Lead.objects.get(email="nadia@cedar.example")
    assert (lead.company_name, lead.title, lead.source, lead.status, lead.owner) == (
        "Cedar Labs", "Founder", "Trade show", "new", admin)
    assert lead.external_id == "00Q5g000001"
    again = run(admin, upload_file(admin, "salesforce_leads.csv", "lead"), match_on="email", on_duplicate="skip")
    assert (again.created, again.skipped) == (0, 1)


def test_pipedrive_deals_link_company_and_undo(admin):
    imp = run(admin, upload_file(admin, "pipedrive_deals.csv", "deal"))
    assert (imp.created, imp.failed, imp.companies_created) == (1, 0, 1), problems(imp)
    from kith.sales.models import Deal

    deal = Deal.objects.get(external_id="3001")
    assert (deal.name, deal.amount, deal.currency, str(deal.expected_close_date)) == (
        "Summit rollout", Decimal("12500.00"), "USD", "2025-06-30")
    assert deal.company.name == "Summit Energy" and deal.owner == admin
    result = services.undo_import(actor=admin, imp=imp)
    assert result["deleted"] == 2 and result["not_undone"] == []
    assert not Deal.objects.exists() and not Company.objects.exists()


def test_deal_stage_pipeline_and_contact_by_name(admin):
    from kith.contacts.services import create_contact
    from kith.sales.services.pipelines import ensure_default_pipeline

    pipeline = ensure_default_pipeline()
    stage = pipeline.stages.order_by("position")[1]
    ada = create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace"})
    text = (f"Deal Name,Stage,Contact Person,Close Date\nEngine,{stage.name.upper()},Ada Lovelace,12/31/2025\n"
            "Ghost,No Such Stage,Nobody Here,2025-01-01\n")
    imp = run(admin, upload(admin, text, object_type="deal"))
    assert (imp.created, imp.failed) == (1, 1), problems(imp)
    from kith.sales.models import Deal

    deal = Deal.objects.get(name="Engine")
    assert deal.stage == stage and list(deal.contacts.all()) == [ada]
    assert str(deal.expected_close_date) == "2025-12-31"
    assert {c for _, c, _ in problems(imp)} == {"Stage", "Contact Person"}


def test_dry_run_of_companies_writes_nothing(admin):
    before = (Company.objects.count(), AuditEntry.objects.count())
    imp = run(admin, upload_file(admin, "hubspot_companies.csv", "company"), dry_run=True)
    assert (imp.created, imp.failed) == (2, 0)
    assert (Company.objects.count(), AuditEntry.objects.count()) == before


def test_undo_reports_records_changed_since(admin):
    from kith.contacts.services import update_company

    imp = run(admin, upload(admin, "Name\nKeep Me\nRemove Me\n", object_type="company"))
    keep = Company.objects.get(name="Keep Me")
    update_company(actor=admin, company=keep, data={"industry": "Edited"})
    result = services.undo_import(actor=admin, imp=imp)
    assert result["deleted"] == 1
    assert result["not_undone"] == [{"type": "company", "id": keep.pk, "label": "Keep Me",
                                     "reason": "changed since the import (now at version 2)"}]
    assert list(Company.objects.values_list("name", flat=True)) == ["Keep Me"]
    assert Contact.objects.count() == 0
