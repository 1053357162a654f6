"""The mapping step's preview of company, lead and deal files: rows as they will be imported (normalised by
the record type's own service, related records resolved) with the problems a run would report, and nothing
written."""

from __future__ import annotations

import pytest

from kith.contacts.models import Company, Contact
from kith.core.models import AuditEntry
from kith.imports import services

from .engine_helpers import isolated_uploads, upload  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def rows_of(imp):
    return {r["row_number"]: r for r in services.preview(imp)["rows"]}


def test_company_preview_shows_normalised_values_and_problems(admin):
    text = ("Company,Website,Phone,Employees,Country\n"
            "Lumen,WWW.Lumen.Example/about,030 1234567,1 200,DE\n"
            "Bad,not a url,,many,DE\n")
    imp = upload(admin, text, object_type="company")
    rows = rows_of(imp)
    good = rows[2]
    assert good["errors"] == {}
    assert good["values"]["website"] == "https://WWW.Lumen.Example/about"  # as the service stores it
    assert good["values"]["phone"] == "+49301234567"
    assert good["values"]["size"] == 1200
    bad = rows[3]
    assert set(bad["errors"]) == {"Website", "Employees"}, bad["errors"]
    # nothing was written
    assert not Company.objects.exists() and not AuditEntry.objects.exists()


def test_deal_preview_resolves_stage_and_contact_and_reports_what_a_run_would(admin):
    from kith.contacts.services import create_contact
    from kith.sales.models import Deal
    from kith.sales.services.pipelines import ensure_default_pipeline

    stage = ensure_default_pipeline().stages.order_by("position")[1]
    create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace"})
    text = (f"Deal Name,Stage,Contact Person,Close Date,Amount,Organization\n"
            f"Engine,{stage.name.upper()},Ada Lovelace,12/31/2025,\"$12,500.00\",Summit Energy\n"
            "Ghost,No Such Stage,Nobody Here,2025-01-01,10,\n")
    imp = upload(admin, text, object_type="deal")
    mapping = dict(imp.mapping)
    assert set(mapping.values()) >= {"name", "stage", "contact", "expected_close_date", "amount"}, mapping
    rows = rows_of(imp)
    engine_row = rows[2]
    assert engine_row["errors"] == {}
    values = engine_row["values"]
    assert values["stage"] == stage.name  # as the pipeline spells it, not as the file does
    assert values["contact"] == "Ada Lovelace"
    assert values["expected_close_date"] == "2025-12-31"
    assert values["amount"] == "12500.00"
    ghost = rows[3]
    assert {"Stage", "Contact Person"} <= set(ghost["errors"]), ghost["errors"]
    assert "No stage named" in ghost["errors"]["Stage"]
    # the company a deal row would create is not created by looking at the preview
    assert not Deal.objects.exists() and not Company.objects.exists()
    assert Contact.objects.count() == 1


def test_a_row_matching_an_existing_record_is_shown_as_read(admin):
    from kith.contacts.services import create_company

    create_company(actor=admin, data={"name": "Orchid", "domain": "orchid.example"})
    imp = upload(admin, "Company,Domain,Industry\nOrchid,orchid.example,Media\n", object_type="company")
    services.set_mapping(actor=admin, imp=imp, mapping=imp.mapping, match_on="domain", on_duplicate="fill")
    imp.refresh_from_db()
    (row,) = services.preview(imp)["rows"]
    assert row["errors"] == {} and row["values"]["industry"] == "Media"
    assert Company.objects.count() == 1
