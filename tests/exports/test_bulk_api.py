"""POST /api/v1/{contacts,companies,leads,deals}/bulk: create or upsert up to 1,000 records, answered per item."""

from __future__ import annotations

import pytest
from django.test import Client

from kith.contacts.models import Company, Contact
from kith.core import audit
from kith.sales.models import Deal, Lead

pytestmark = pytest.mark.django_db


def bulk(api, resource: str, items, **extra):
    return api.post(f"{resource}/bulk", {"items": items, **extra})


def results(r, status: int = 200) -> list[dict]:
    assert r.status_code == status, r.content
    return r.json()["results"]


def test_create_contacts_with_unicode_names(api):
    names = [("Zoë", "Ångström"), ("太郎", "山田"), ("Αλέξανδρος", "Παπαδόπουλος"), ("Мария", "Иванова"),
             ("محمد", "علي"), ("अनन्या", "शर्मा")]
    items = [{"first_name": f, "last_name": last, "email": f"p{i}@example.com", "tags": ["bulk"]}
             for i, (f, last) in enumerate(names)]
    r = bulk(api, "contacts", items)
    body = r.json()
    assert (body["created"], body["updated"], body["failed"]) == (6, 0, 0)
    out = results(r)
    assert [x["index"] for x in out] == list(range(6))
    assert all(x["status"] == "created" and x["errors"] == [] for x in out)
    for x, (first, last) in zip(out, names, strict=True):
        contact = Contact.objects.get(pk=x["id"])
        assert (contact.first_name, contact.last_name) == (first, last)
        assert contact.tag_names == ["bulk"]
        assert audit.history(contact).first().action == "create"  # through the normal service: history too
    got = api.get("contacts", q="山田").json()["items"]  # and the search index
    assert [c["email"] for c in got] == ["p1@example.com"]


def test_upsert_contacts_by_email(api, admin):
    existing = Contact.objects.create(first_name="Ada", email="ada@example.com", owner=admin)
    r = bulk(api, "contacts", [
        {"email": "ADA@example.com", "job_title": "CTO"},
        {"email": "new@example.com", "first_name": "New"},
    ], match_on="email", mode="upsert")
    out = results(r)
    assert (out[0]["status"], out[0]["id"]) == ("updated", existing.pk)
    assert out[1]["status"] == "created"
    existing.refresh_from_db()
    assert existing.job_title == "CTO" and existing.first_name == "Ada"  # only the keys sent change
    assert existing.version == 2
    assert r.json()["updated"] == 1 and r.json()["created"] == 1


def test_upsert_by_external_id_for_every_resource(api, admin):
    contact = Contact.objects.create(first_name="Old", external_id="c-1", owner=admin)
    company = Company.objects.create(name="Old Co", external_id="co-1", owner=admin)
    r = bulk(api, "contacts", [{"external_id": "c-1", "first_name": "Renamed"},
                               {"external_id": "c-2", "first_name": "Fresh"}], match_on="external_id", mode="upsert")
    assert [x["status"] for x in results(r)] == ["updated", "created"]
    contact.refresh_from_db()
    assert contact.first_name == "Renamed"
    assert Contact.objects.get(external_id="c-2").first_name == "Fresh"

    r = bulk(api, "companies", [{"external_id": "co-1", "industry": "Retail"}], match_on="external_id",
             mode="upsert")
    assert results(r)[0]["status"] == "updated"
    company.refresh_from_db()
    assert company.industry == "Retail"

    r = bulk(api, "leads", [{"external_id": "l-1", "first_name": "Léa", "email": "lea@example.fr"}],
             match_on="external_id", mode="upsert")
    lead_id = results(r)[0]["id"]
    r = bulk(api, "leads", [{"external_id": "l-1", "source": "fair"}], match_on="external_id", mode="upsert")
    assert results(r)[0] == {"index": 0, "status": "updated", "id": lead_id, "errors": [], "warnings": []}
    assert Lead.objects.get(pk=lead_id).source == "fair"

    r = bulk(api, "deals", [{"external_id": "d-1", "name": "Big", "amount": "100.00"}], match_on="external_id",
             mode="upsert")
    deal_id = results(r)[0]["id"]
    r = bulk(api, "deals", [{"external_id": "d-1", "amount": "250.00"}], match_on="external_id", mode="upsert")
    assert results(r)[0]["status"] == "updated"
    deal = Deal.objects.get(pk=deal_id)
    assert str(deal.amount) == "250.00" and deal.external_id == "d-1"


def test_upsert_companies_by_domain_and_leads_by_email(api, admin):
    acme = Company.objects.create(name="Acme", domain="acme.com", owner=admin)
    r = bulk(api, "companies", [{"domain": "https://www.ACME.com/about", "city": "Berlin"},
                                {"domain": "globex.io", "name": "Globex"}], match_on="domain", mode="upsert")
    out = results(r)
    assert (out[0]["status"], out[0]["id"]) == ("updated", acme.pk)
    assert out[1]["status"] == "created"
    acme.refresh_from_db()
    assert acme.city == "Berlin" and acme.name == "Acme"

    r = bulk(api, "leads", [{"email": "x@example.com", "first_name": "X"}], match_on="email", mode="upsert")
    lead_id = results(r)[0]["id"]
    r = bulk(api, "leads", [{"email": "X@Example.com", "score": 40}], match_on="email", mode="upsert")
    assert (results(r)[0]["status"], results(r)[0]["id"]) == ("updated", lead_id)
    assert Lead.objects.get(pk=lead_id).score == 40


def test_one_bad_item_does_not_stop_the_others_and_writes_nothing_of_itself(api):
    r = bulk(api, "contacts", [
        {"first_name": "Good", "email": "good@example.com"},
        {"first_name": "Bad", "email": "not-an-email", "tags": ["half-written?"]},
        {"first_name": "Typed", "company_id": "abc"},
        "not an object",
        {"nickname": "x"},
        {"first_name": "Also good", "custom_fields": {}},
        {"last_name": "No company", "company_id": 999999},
    ])
    out = results(r)
    assert [x["status"] for x in out] == ["created", "error", "error", "error", "error", "created", "error"]
    assert out[1]["errors"][0]["field"] == "email" and "not a valid email" in out[1]["errors"][0]["message"]
    assert out[1]["id"] is None
    assert out[2]["errors"][0]["field"] == "company_id"
    assert out[3]["errors"] == [{"field": "", "message": "Each item must be a JSON object."}]
    assert out[4]["errors"] == [{"field": "nickname", "message": "Unknown field."}]
    assert out[6]["errors"] == [{"field": "company_id", "message": "No company with id 999999."}]
    assert r.json()["failed"] == 5
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Also good", "Good"]
    from kith.core.models import Tag

    assert not Tag.objects.filter(name="half-written?").exists()


def test_duplicates_within_one_call(api):
    items = [{"email": "twin@example.com", "first_name": "First"},
             {"email": "Twin@Example.com", "job_title": "Second"}]
    out = results(bulk(api, "contacts", items, match_on="email", mode="upsert"))
    assert [x["status"] for x in out] == ["created", "updated"]
    assert out[0]["id"] == out[1]["id"]
    twin = Contact.objects.get()
    assert (twin.first_name, twin.job_title) == ("First", "Second")

    out = results(bulk(api, "contacts", [{"external_id": "e-1", "first_name": "A"},
                                         {"external_id": "e-1", "first_name": "B"}], match_on="external_id"))
    assert [x["status"] for x in out] == ["created", "error"]
    assert out[1]["errors"] == [{"field": "external_id", "message": "Same external_id as item 0 of this call."}]
    # Without a key, the email's uniqueness still refuses a second contact with it.
    out = results(bulk(api, "contacts", [{"email": "solo@example.com"}, {"email": "solo@example.com"}]))
    assert [x["status"] for x in out] == ["created", "error"]
    assert out[1]["errors"][0]["field"] == "email"


def test_create_mode_reports_an_existing_match(api, admin):
    Company.objects.create(name="Acme", external_id="X1", owner=admin)
    out = results(bulk(api, "companies", [{"name": "Acme again", "external_id": "X1"}], match_on="external_id"))
    assert out[0]["status"] == "error"
    assert out[0]["errors"][0]["field"] == "external_id"
    assert "already exists" in out[0]["errors"][0]["message"]
    assert Company.objects.count() == 1


def test_ambiguous_matches_are_errors(api, admin):
    Lead.objects.create(first_name="A", email="same@example.com")
    Lead.objects.create(first_name="B", email="same@example.com")
    out = results(bulk(api, "leads", [{"email": "same@example.com", "score": 1}], match_on="email", mode="upsert"))
    assert out[0]["status"] == "error" and out[0]["errors"][0]["field"] == "email"
    assert "Several leads" in out[0]["errors"][0]["message"]


def test_at_most_1000_items(api):
    r = bulk(api, "contacts", [{"first_name": f"P{i}"} for i in range(1001)])
    assert r.status_code == 400
    body = r.json()
    assert body["errors"][0]["field"] == "items" and "1,000" in body["errors"][0]["message"]
    assert Contact.objects.count() == 0


def test_a_full_batch_of_1000_is_accepted(api):
    r = bulk(api, "companies", [{"name": f"Firma {i}", "external_id": f"f{i}"} for i in range(1000)],
             match_on="external_id", mode="upsert")
    assert r.json()["created"] == 1000
    assert Company.objects.count() == 1000


def test_request_level_errors(api, viewer, api_for):
    r = bulk(api, "deals", [], match_on="email")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "match_on"
    r = bulk(api, "contacts", [], mode="upsert")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "match_on"
    r = bulk(api, "contacts", [], mode="replace")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mode"
    r = api.post("contacts/bulk", {"match_on": "email"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items"
    r = bulk(api_for(viewer), "contacts", [{"first_name": "X"}])
    assert r.status_code == 403
    assert Client().post("/api/v1/contacts/bulk", "{}", content_type="application/json").status_code == 401
    assert bulk(api, "contacts", []).json() == {"created": 0, "updated": 0, "failed": 0, "results": []}


def test_upsert_only_matches_records_the_caller_can_see(settings, api_for, member, manager):
    settings.KITH_RECORD_VISIBILITY = "own"
    hidden = Contact.objects.create(first_name="Hidden", external_id="h-1", owner=manager)
    out = results(bulk(api_for(member), "contacts", [{"external_id": "h-1", "first_name": "Mine"}],
                       match_on="external_id", mode="upsert"))
    assert out[0]["status"] == "created" and out[0]["id"] != hidden.pk
    hidden.refresh_from_db()
    assert hidden.first_name == "Hidden"


def test_documented_in_openapi(api):
    spec = Client().get("/api/v1/openapi.json").json()
    for resource in ("contacts", "companies", "leads", "deals"):
        op = spec["paths"][f"/api/v1/{resource}/bulk"]["post"]
        assert op["operationId"] == f"bulk_{resource}"
        assert op["tags"] == [resource]
        assert {"200", "400", "401", "403", "422"} <= set(op["responses"])
        assert op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


# --- /api/v1/exports -------------------------------------------------------------------------------------


def test_export_through_the_api_as_a_job(settings, api_for, member, manager, tmp_path):
    from kith.core import jobs

    from .conftest import csv_dicts

    settings.KITH_RECORD_VISIBILITY = "own"
    Contact.objects.create(first_name="Mine", email="mine@example.com", owner=member, lifecycle_stage="customer")
    Contact.objects.create(first_name="Theirs", email="theirs@example.com", owner=manager,
                           lifecycle_stage="customer")
    Contact.objects.create(first_name="Lead", email="lead@example.com", owner=member, lifecycle_stage="lead")
    api = api_for(member)
    r = api.post("exports", {"kind": "contacts", "format": "csv", "filters": {"lifecycle_stage": "customer"}})
    assert r.status_code == 202, r.content
    export = r.json()
    assert export["status"] == "queued" and export["download_url"] is None
    assert r["Location"] == f"/api/v1/exports/{export['id']}"
    assert api.get(f"exports/{export['id']}/file").status_code == 409

    assert jobs.run_one().status == "done"
    export = api.get(f"exports/{export['id']}").json()
    assert export["status"] == "done" and export["row_count"] == 1
    r = api.get(export["download_url"])
    assert r.status_code == 200
    rows = csv_dicts(b"".join(r.streaming_content))
    assert [row["email"] for row in rows] == ["mine@example.com"]
    assert [e["id"] for e in api.get("exports").json()["items"]] == [export["id"]]
    # Someone else's export is a 404, like a missing one.
    other = api_for(manager)
    assert other.get(f"exports/{export['id']}").status_code == 404
    assert other.get(f"exports/{export['id']}/file").status_code == 404
    assert other.get("exports").json()["items"] == []


def test_api_export_errors_name_the_field(api):
    r = api.post("exports", {"kind": "deals", "format": "vcf"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"
    r = api.post("exports", {"kind": "contacts", "filters": {"lifecycle_stage": "nope"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lifecycle_stage"
    r = api.post("exports", {"kind": "tickets"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_custom_fields_are_checked_and_labelled_by_their_current_definitions(api, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kith.core import custom_field_services

    custom_field_services.create_custom_field(actor=admin, data={
        "object_type": "contact", "label": "Shoe size", "field_type": "number"})
    items = [{"first_name": f"P{i}", "custom_fields": {"shoe_size": 40 + i}} for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        out = results(bulk(api, "contacts", items))
    assert [x["status"] for x in out] == ["created"] * 5
    # the definitions are read once for the call, not twice for every item
    assert sum('FROM "core_customfield"' in q["sql"] for q in queries.captured_queries) == 1
    history = audit.history(Contact.objects.get(pk=out[4]["id"])).first()
    assert history.changes["custom_fields.shoe_size"] == {"old": None, "new": 44, "label": "Shoe size"}
    # a field made required after that call is enforced by the next one
    custom_field_services.create_custom_field(actor=admin, data={
        "object_type": "contact", "label": "Region code", "field_type": "text", "required": True})
    out = results(bulk(api, "contacts", [{"first_name": "Q"}]))
    assert out[0]["status"] == "error"
    assert out[0]["errors"] == [{"field": "custom_fields.region_code", "message": "Region code is required."}]
