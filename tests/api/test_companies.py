"""/api/v1/companies: create, read (with contacts_count), partial update with versions, trash, history, roles."""

from __future__ import annotations

import pytest

from kith.contacts.models import Company
from kith.core.models import AuditEntry

from .conftest import assert_error_shape, company, contact, error_fields

COMPANY_KEYS = {
    "id", "name", "domain", "website", "industry", "size", "annual_revenue", "phone", "street", "city", "region",
    "postal_code", "country", "description", "owner_id", "tags", "custom_fields", "version", "created_at",
    "updated_at", "deleted_at",
}


@pytest.mark.django_db
class TestCompanies:
    def test_create(self, api, admin):
        r = api.post("companies", {"name": "Acme GmbH", "domain": "https://www.Acme.de/about", "size": 120,
                                   "annual_revenue": "2500000", "country": "DE", "phone": "030 1234567",
                                   "tags": ["Partner"], "industry": "Machinery", "city": "Berlin"})
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == COMPANY_KEYS | {"warnings", "duplicates"}
        assert body["domain"] == "acme.de"
        assert body["website"] == "https://acme.de"
        assert body["annual_revenue"] == "2500000.00"
        assert body["size"] == 120
        assert body["phone"] == "+49301234567"
        assert body["tags"] == ["Partner"]
        assert body["owner_id"] == admin.pk
        assert body["version"] == 1
        assert r["Location"] == f"/api/v1/companies/{body['id']}"

    def test_revenue_as_number_and_cleared(self, api):
        r = api.post("companies", {"name": "A", "annual_revenue": 1234.5})
        assert r.json()["annual_revenue"] == "1234.50"
        r = api.patch(f"companies/{r.json()['id']}", {"annual_revenue": None})
        assert r.json()["annual_revenue"] is None

    def test_warnings_on_write(self, api):
        r = api.post("companies", {"name": "A", "phone": "ask for Joe"})
        assert r.status_code == 201
        assert r.json()["warnings"] == [{"field": "phone", "message": r.json()["warnings"][0]["message"]}]

    def test_errors(self, api, admin):
        company(admin, name="Existing", domain="taken.com")
        # The service reports every bad field at once.
        r = api.post("companies", {"domain": "taken.com", "size": -3, "annual_revenue": "-5",
                                   "website": "not a url at all"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"name", "domain", "size", "annual_revenue", "website"}
        assert Company.objects.count() == 1
        # Wrong types are refused by the schema, naming the field.
        r = api.post("companies", {"name": "B", "size": "many"})
        assert error_fields(r) == {"size"}
        r = api.post("companies", {"name": "B", "annual_revenue": "lots"})
        assert error_fields(r) == {"annual_revenue"}
        assert Company.objects.count() == 1

    def test_detail_has_contacts_count_and_etag(self, api, admin):
        acme = company(admin, name="Acme")
        contact(admin, first_name="A", company_id=acme.pk)
        gone = contact(admin, first_name="B", company_id=acme.pk)
        api.delete(f"contacts/{gone.pk}")
        r = api.get(f"companies/{acme.pk}")
        assert r.status_code == 200
        assert set(r.json()) == COMPANY_KEYS | {"contacts_count"}
        assert r.json()["contacts_count"] == 1
        assert r["ETag"] == '"1"'
        assert "contacts_count" not in api.get("companies").json()["items"][0]

    def test_patch_only_sent_keys_and_conflicts(self, api, admin):
        acme = company(admin, name="Acme", industry="Retail", city="Oslo")
        r = api.patch(f"companies/{acme.pk}", {"industry": "Software"}, headers={"HTTP_IF_MATCH": '"1"'})
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["industry"], r.json()["city"], r.json()["version"]) == (
            "Acme", "Software", "Oslo", 2)
        r = api.patch(f"companies/{acme.pk}", {"name": "Acme 2"}, headers={"HTTP_IF_MATCH": '"1"'})
        assert assert_error_shape(r, 409)["current_version"] == 2
        r = api.patch(f"companies/{acme.pk}", {"name": "Acme 3", "version": 1})
        assert assert_error_shape(r, 409)["current_version"] == 2
        acme.refresh_from_db()
        assert (acme.name, acme.version) == ("Acme", 2)

    def test_renaming_a_company_updates_contact_company_name(self, api, admin):
        acme = company(admin, name="Acme")
        c = contact(admin, first_name="Ann", company_id=acme.pk)
        api.patch(f"companies/{acme.pk}", {"name": "Globex"})
        assert api.get(f"contacts/{c.pk}").json()["company_name"] == "Globex"

    def test_trash_restore_and_history(self, api, admin):
        acme = company(admin, name="Acme", domain="acme.com")
        api.patch(f"companies/{acme.pk}", {"size": 10})
        assert api.delete(f"companies/{acme.pk}", headers={"HTTP_IF_MATCH": '"1"'}).status_code == 409
        assert api.delete(f"companies/{acme.pk}").status_code == 204
        assert_error_shape(api.get(f"companies/{acme.pk}"), 404)
        assert api.get(f"companies/{acme.pk}", include_trashed="true").json()["deleted_at"]
        # The domain is free again while the old company is in the trash.
        twin = api.post("companies", {"name": "Acme again", "domain": "acme.com"})
        assert twin.status_code == 201
        r = api.post(f"companies/{acme.pk}/restore")
        assert error_fields(r) == {"domain"}
        api.delete(f"companies/{twin.json()['id']}")
        r = api.post(f"companies/{acme.pk}/restore")
        assert r.status_code == 200
        assert r.json()["deleted_at"] is None
        history = api.get(f"companies/{acme.pk}/history").json()["items"]
        assert [h["action"] for h in history] == ["restore", "delete", "update", "create"]
        assert history[2]["changes"] == {"size": {"old": None, "new": 10, "label": "Employees"}}
        assert AuditEntry.objects.filter(object_id=acme.pk, action="delete").count() == 1

    def test_viewer_gets_403_on_every_write(self, api_for, admin, viewer):
        acme = company(admin, name="Acme")
        v = api_for(viewer)
        assert v.get(f"companies/{acme.pk}").status_code == 200
        assert_error_shape(v.post("companies", {"name": "X"}), 403)
        assert_error_shape(v.patch(f"companies/{acme.pk}", {"name": "X"}), 403)
        assert_error_shape(v.delete(f"companies/{acme.pk}"), 403)
        assert_error_shape(v.post(f"companies/{acme.pk}/restore"), 403)
        acme.refresh_from_db()
        assert (acme.name, acme.version, acme.deleted_at) == ("Acme", 1, None)

    def test_custom_fields(self, api, admin):
        from kith.core.custom_field_services import create_custom_field

        create_custom_field(actor=admin, data={"object_type": "company", "key": "arr", "label": "ARR",
                                               "field_type": "currency", "currency": "USD"})
        r = api.post("companies", {"name": "A", "custom_fields": {"arr": "1,000"}})
        assert r.json()["custom_fields"] == {"arr": "1000.00"}
        r = api.patch(f"companies/{r.json()['id']}", {"custom_fields": {"arr": "1.234"}})
        assert error_fields(r) == {"custom_fields.arr"}

    def test_unknown_field(self, api):
        r = api.post("companies", {"name": "A", "employees": 5})
        assert error_fields(r) == {"employees"}
        assert r.json()["errors"][0]["message"] == "Unknown field."
