"""Columns are mapped by header, recognising each product's export (files written from their column names)."""

from __future__ import annotations

import pytest

from kith.imports import mapping, readers

from .engine_helpers import FILES, isolated_uploads, upload, upload_file  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def proposed(name: str, object_type: str) -> dict[str, str]:
    s = readers.sniff(FILES / name, name)
    src = readers.open_source(FILES / name, s.format, s.encoding, s.delimiter)
    return {c: t for c, t in mapping.propose(object_type, src.columns).items() if t}


EXPECTED = {
    ("hubspot_contacts.csv", "contact"): {
        "Record ID": "external_id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Mobile Phone Number": "mobile", "Job Title": "job_title",
        "Company Name": "company", "Lifecycle Stage": "lifecycle_stage", "Contact owner": "owner",
        "Street Address": "street", "City": "city", "State/Region": "region", "Postal Code": "postal_code",
        "Country/Region": "country",
    },
    ("hubspot_companies.csv", "company"): {
        "Record ID": "external_id", "Company name": "name", "Company Domain Name": "domain",
        "Website URL": "website", "Number of Employees": "size", "Annual Revenue": "annual_revenue",
        "Company owner": "owner", "Country/Region": "country",
    },
    ("salesforce_contacts_report.csv", "contact"): {
        "Contact ID": "external_id", "Account Name": "company", "Title": "job_title", "Mobile": "mobile",
        "Mailing Street": "street", "Mailing State/Province": "region", "Mailing Zip/Postal Code": "postal_code",
        "Mailing Country": "country", "Lead Source": "lead_source", "Contact Owner": "owner",
    },
    ("salesforce_contact_export.csv", "contact"): {
        "Id": "external_id", "FirstName": "first_name", "LastName": "last_name", "MobilePhone": "mobile",
        "MailingPostalCode": "postal_code", "MailingCountry": "country", "LeadSource": "lead_source",
    },
    ("salesforce_leads.csv", "lead"): {
        "Company / Account": "company_name", "Title": "title", "Lead Status": "status", "Lead Owner": "owner",
        "Lead Source": "source",
    },
    ("pipedrive_people.csv", "contact"): {
        "Person - Email - Work": "email", "Person - Email - Home": "additional_emails",
        "Person - Phone - Work": "phone", "Person - Phone - Mobile": "mobile", "Person - Organization": "company",
        "Person - Owner": "owner", "Person - Label": "tags", "Person - ID": "external_id",
    },
    ("pipedrive_deals.csv", "deal"): {
        "Deal - Title": "name", "Deal - Value": "amount", "Deal - Currency": "currency",
        "Deal - Organization": "company", "Deal - Contact person": "contact",
        "Deal - Expected close date": "expected_close_date", "Deal - Owner": "owner", "Deal - ID": "external_id",
    },
    ("zoho_contacts.csv", "contact"): {
        "Record Id": "external_id", "Contact Owner": "owner", "Secondary Email": "additional_emails",
        "Account Name": "company", "Mailing Zip": "postal_code", "Tag": "tags",
    },
    ("zoho_accounts.csv", "company"): {
        "Account Name": "name", "Account Owner": "owner", "Billing Code": "postal_code",
        "Billing Country": "country", "Employees": "size",
    },
    ("google_contacts.csv", "contact"): {
        "E-mail 1 - Value": "email", "E-mail 2 - Value": "additional_emails", "Phone 1 - Value": "phone",
        "Organization Name": "company", "Organization Title": "job_title", "Labels": "tags",
        "Address 1 - City": "city", "Address 1 - Country": "country",
    },
    ("google_contacts_legacy.csv", "contact"): {
        "Given Name": "first_name", "Family Name": "last_name", "E-mail 1 - Value": "email",
        "Organization 1 - Name": "company", "Organization 1 - Title": "job_title", "Group Membership": "tags",
    },
    ("outlook_contacts.csv", "contact"): {
        "E-mail Address": "email", "E-mail 2 Address": "additional_emails", "Business Phone": "phone",
        "Mobile Phone": "mobile", "Job Title": "job_title", "Company": "company", "Business City": "city",
        "Business Country/Region": "country", "Categories": "tags",
    },
}


@pytest.mark.parametrize("name, object_type", list(EXPECTED))
def test_product_exports_are_recognised(name, object_type):
    got = proposed(name, object_type)
    for column, target in EXPECTED[(name, object_type)].items():
        assert got.get(column) == target, (column, got.get(column))
    # one column per target, except the ones that collect several
    singles = [t for t in got.values() if t not in ("additional_emails", "tags")]
    assert len(singles) == len(set(singles))


def test_outlook_title_is_not_the_job_title_and_home_loses_to_business():
    got = proposed("outlook_contacts.csv", "contact")
    assert "Title" not in got  # Mr/Ms
    assert "Home Phone" not in got and "Home City" not in got
    assert got["Business Street"] == "street"


def test_salesforce_account_id_is_not_the_contacts_id():
    got = proposed("salesforce_contact_export.csv", "contact")
    assert "AccountId" not in got and "OwnerId" not in got


def test_custom_fields_are_recognised_by_label(admin):
    from kith.core.custom_field_services import create_custom_field

    create_custom_field(actor=admin, data={"object_type": "contact", "label": "Favourite colour",
                                           "field_type": "text"})
    imp = upload(admin, "Given Name,Favourite colour\nAda,blue\n")
    assert imp.mapping == {"Given Name": "first_name", "Favourite colour": "cf_favourite_colour"}


def test_preview_lists_targets_samples_and_normalised_rows(admin):
    imp = upload_file(admin, "hubspot_contacts.csv")
    p = __import__("kith.imports.services", fromlist=["preview"]).preview(imp)
    columns = {c["column"]: c for c in p["columns"]}
    assert columns["Email"]["target"] == "email"
    assert columns["Email"]["samples"] == ["maya.okafor@lumen.example", "lars@fjord.example"]
    assert columns["Create Date"]["target"] is None
    keys = [t["key"] for t in p["targets"]]
    assert "first_name" in keys and keys[-1] is None
    first = p["rows"][0]
    assert first["row_number"] == 2
    assert first["values"]["phone"] == "+14155550142"  # as it will be stored
    assert first["values"]["lifecycle_stage"] == "sales_qualified"
    assert first["values"]["country"] == "US"
    assert first["values"]["company"] == "Lumen Analytics"
    assert first["errors"] == {}
    assert p["rows"][1]["values"]["country"] == "NO"
