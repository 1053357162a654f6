"""/api/v1/leads: create, read, update with versions, trash, restore, history, filters, paging, convert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.contacts.models import Company, Contact
from kith.core.models import AuditEntry
from kith.sales.models import Deal, Lead, SalesSettings

from .conftest import (
    assert_error_shape,
    company,
    contact,
    count_queries,
    error_fields,
    ids_of,
    if_match,
    lead,
    pipeline,
    stage,
    walk,
)

pytestmark = pytest.mark.django_db

LEAD_KEYS = {
    "id", "first_name", "last_name", "full_name", "email", "phone", "company_name", "title", "source", "status",
    "score", "notes", "country", "owner_id", "tags", "custom_fields", "utm_source", "utm_medium", "utm_campaign",
    "utm_term", "utm_content", "referrer", "landing_page", "form_id", "consent_text", "consent_at", "assigned_at",
    "first_response_at", "response_seconds", "overdue", "converted_at", "converted_contact_id",
    "converted_company_id", "converted_deal_id", "version", "created_at", "updated_at", "deleted_at",
}


def age(lead_obj: Lead, minutes: int) -> None:
    """Pretend the lead came in `minutes` ago."""
    Lead.all_objects.filter(pk=lead_obj.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


class TestCreateAndRead:
    def test_create_returns_201_with_the_lead(self, api):
        r = api.post("leads", {
            "first_name": " Ada ", "last_name": "Lovelace", "email": "ADA@Analytical.io", "company_name": "Engines",
            "title": "CTO", "source": "Webinar", "score": 40, "country": "GB", "tags": ["hot"],
            "utm_source": "newsletter", "utm_campaign": "spring",
        })
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == LEAD_KEYS | {"warnings"}
        assert body["full_name"] == "Ada Lovelace"
        assert body["email"] == "ada@analytical.io"
        assert body["status"] == "new"
        assert body["score"] == 40
        assert body["tags"] == ["hot"]
        assert body["utm_campaign"] == "spring"
        assert body["overdue"] is False
        assert body["response_seconds"] is None
        assert body["converted_contact_id"] is None
        assert body["version"] == 1
        assert r["Location"] == f"/api/v1/leads/{body['id']}"
        assert r["ETag"] == '"1"'
        assert Lead.objects.get(pk=body["id"]).company_name == "Engines"

    def test_get_has_an_etag_and_unknown_is_404(self, api, admin):
        x = lead(admin, first_name="Bo")
        r = api.get(f"leads/{x.pk}")
        assert r.status_code == 200
        assert r.json()["full_name"] == "Bo"
        assert r["ETag"] == '"1"'
        assert_error_shape(api.get("leads/999999"), 404)

    def test_field_errors_name_the_fields_and_nothing_is_written(self, api):
        r = api.post("leads", {"email": "not an email", "status": "hot", "score": 5000, "country": "Narnia"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"email", "status", "score", "country"}
        assert not Lead.all_objects.exists()
        assert not AuditEntry.objects.exists()

    def test_a_name_or_an_email_is_needed(self, api):
        r = api.post("leads", {"title": "CEO"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"first_name"}

    @pytest.mark.parametrize("payload, field", [
        ({"score": "many"}, "score"),
        ({"tags": "hot"}, "tags"),
        ({"first_name": "A", "shoe_size": 44}, "shoe_size"),
        ({"first_name": "A", "form_id": 1}, "form_id"),
    ])
    def test_schema_errors_name_the_field(self, api, payload, field):
        r = api.post("leads", payload)
        assert_error_shape(r, 422)
        assert error_fields(r) == {field}

    def test_converted_cannot_be_set_by_hand(self, api, admin):
        x = lead(admin, first_name="Cy")
        r = api.patch(f"leads/{x.pk}", {"status": "converted"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"status"}


class TestUpdate:
    def test_patch_changes_only_what_is_sent_and_bumps_the_version(self, api, admin):
        x = lead(admin, first_name="Di", email="di@example.com", title="CFO")
        r = api.patch(f"leads/{x.pk}", {"title": "CEO", "version": 1})
        assert r.status_code == 200, r.content
        assert r.json()["title"] == "CEO"
        assert r.json()["email"] == "di@example.com"
        assert r.json()["version"] == 2
        assert r["ETag"] == '"2"'

    def test_stale_if_match_or_body_version_is_409_and_nothing_changes(self, api, admin):
        x = lead(admin, first_name="Ed")
        api.patch(f"leads/{x.pk}", {"title": "One"})
        r = api.patch(f"leads/{x.pk}", {"title": "Two"}, **if_match(1))
        body = assert_error_shape(r, 409)
        assert body["current_version"] == 2
        assert error_fields(r) == {"version"}
        r = api.patch(f"leads/{x.pk}", {"title": "Two", "version": 1})
        assert_error_shape(r, 409)
        assert Lead.objects.get(pk=x.pk).title == "One"
        assert api.patch(f"leads/{x.pk}", {"title": "Two"}, **if_match(2)).status_code == 200

    def test_first_response_and_overdue(self, api, admin):
        SalesSettings.objects.update_or_create(pk=1, defaults={"first_response_minutes": 30})
        waiting = lead(admin, first_name="Fay")
        fresh = lead(admin, first_name="Gus")
        age(waiting, 45)
        age(fresh, 10)
        assert api.get(f"leads/{waiting.pk}").json()["overdue"] is True
        assert api.get(f"leads/{fresh.pk}").json()["overdue"] is False
        r = api.patch(f"leads/{waiting.pk}", {"status": "contacted"})
        assert r.json()["overdue"] is False
        assert r.json()["first_response_at"] is not None
        assert r.json()["response_seconds"] >= 45 * 60

    def test_trash_restore_and_history(self, api, admin):
        x = lead(admin, first_name="Hal")
        api.patch(f"leads/{x.pk}", {"title": "VP"})
        r = api.delete(f"leads/{x.pk}", **if_match(1))
        assert_error_shape(r, 409)
        r = api.delete(f"leads/{x.pk}", **if_match(2))
        assert r.status_code == 204
        assert api.get(f"leads/{x.pk}").status_code == 404
        assert x.pk not in ids_of(api.get("leads"))
        assert x.pk in ids_of(api.get("leads", trashed="true"))
        r = api.post(f"leads/{x.pk}/restore")
        assert r.status_code == 200
        assert r.json()["deleted_at"] is None
        history = api.get(f"leads/{x.pk}/history").json()["items"]
        assert [h["action"] for h in history] == ["restore", "delete", "update", "create"]
        assert history[2]["changes"]["title"]["new"] == "VP"


class TestRoles:
    def test_viewers_read_but_never_write(self, api_for, admin, viewer):
        x = lead(admin, first_name="Ivy")
        api = api_for(viewer)
        assert api.get("leads").status_code == 200
        assert api.get(f"leads/{x.pk}").status_code == 200
        for r in (api.post("leads", {"first_name": "No"}), api.patch(f"leads/{x.pk}", {"title": "No"}),
                  api.delete(f"leads/{x.pk}"), api.post(f"leads/{x.pk}/convert", {})):
            assert_error_shape(r, 403)
        assert Lead.objects.get(pk=x.pk).version == 1
        assert Lead.objects.count() == 1

    def test_no_token_is_401(self, api_for):
        assert_error_shape(api_for(None).get("leads"), 401)


class TestList:
    def test_filters(self, api, admin, member):
        SalesSettings.objects.update_or_create(pk=1, defaults={"first_response_minutes": 60})
        a = lead(admin, first_name="A", source="Webinar", country="DE")
        b = lead(admin, first_name="B", source="Referral", status="contacted", owner_id=member.pk)
        c = lead(admin, first_name="C", source="webinar", status="qualified", utm_campaign="Spring")
        age(a, 120)
        age(b, 120)
        assert ids_of(api.get("leads", status="new")) == {a.pk}
        assert ids_of(api.get("leads", status=["contacted", "qualified"])) == {b.pk, c.pk}
        assert ids_of(api.get("leads", overdue="true")) == {a.pk}
        assert ids_of(api.get("leads", overdue="false")) == {b.pk, c.pk}
        assert ids_of(api.get("leads", source="webinar")) == {a.pk, c.pk}
        assert ids_of(api.get("leads", country="de")) == {a.pk}
        assert ids_of(api.get("leads", owner=member.pk)) == {b.pk}
        assert ids_of(api.get("leads", utm_campaign="spring")) == {c.pk}
        r = api.get("leads", status="hot")
        assert_error_shape(r, 422)
        assert error_fields(r) == {"status"}
        assert error_fields(api.get("leads", overdue="maybe")) == {"overdue"}

    def test_search(self, api, admin):
        a = lead(admin, first_name="Grace", last_name="Hopper", email="grace@navy.mil")
        lead(admin, first_name="Alan", last_name="Turing")
        assert ids_of(api.get("leads", q="hopper")) == {a.pk}

    def test_cursor_walk_visits_every_lead_once_in_order(self, api, admin):
        names = ["delta", "Alpha", "charlie", "Bravo", "echo", "alpha"]
        made = [lead(admin, first_name=n) for n in names]
        expected = [x.pk for x in sorted(made, key=lambda x: (x.first_name.lower(), x.pk))]
        assert walk(api, "leads", ordering="name", limit=2) == expected
        assert walk(api, "leads", ordering="-name", limit=4) == expected[::-1]
        newest_first = sorted(made, key=lambda x: (x.created_at, x.pk), reverse=True)
        assert walk(api, "leads", limit=5) == [x.pk for x in newest_first]
        assert error_fields(api.get("leads", cursor="garbage")) == {"cursor"}
        assert error_fields(api.get("leads", ordering="height")) == {"ordering"}

    def test_a_page_costs_a_constant_number_of_queries(self, api, admin):
        for i in range(3):
            lead(admin, first_name=f"L{i}", tags=["a", f"t{i}"])
        api.get("leads")
        small = count_queries(api, "leads")
        for i in range(3, 30):
            lead(admin, first_name=f"L{i}", tags=["a", f"t{i}"])
        assert count_queries(api, "leads") == small


class TestConvert:
    def test_convert_creates_contact_company_and_deal(self, api, admin):
        x = lead(admin, first_name="Kim", last_name="Lee", email="kim@globex.com", company_name="Globex",
                 title="COO", phone="+1 415 555 0100")
        open_stage = stage(name="Proposal")
        r = api.post(f"leads/{x.pk}/convert", {"deal": {
            "name": "Globex rollout", "amount": "12500.50", "currency": "USD", "pipeline_id": pipeline().pk,
            "stage_id": open_stage.pk, "expected_close_date": "2030-03-31"}})
        assert r.status_code == 200, r.content
        body = r.json()
        assert set(body) == {"lead", "contact", "company", "deal"}
        assert body["lead"]["status"] == "converted"
        assert body["lead"]["converted_at"] is not None
        assert body["lead"]["version"] == 2
        contact_obj = Contact.objects.get(pk=body["contact"]["id"])
        company_obj = Company.objects.get(pk=body["company"]["id"])
        deal_obj = Deal.objects.get(pk=body["deal"]["id"])
        assert (contact_obj.full_name, contact_obj.email, contact_obj.job_title) == ("Kim Lee", "kim@globex.com", "COO")
        assert contact_obj.company_id == company_obj.pk
        assert (company_obj.name, company_obj.domain) == ("Globex", "globex.com")
        assert body["deal"]["amount"] == "12500.50"
        assert deal_obj.stage_id == open_stage.pk
        assert str(deal_obj.expected_close_date) == "2030-03-31"
        assert deal_obj.company_id == company_obj.pk
        assert list(deal_obj.deal_contacts.values_list("contact_id", "is_primary")) == [(contact_obj.pk, True)]
        assert body["lead"]["converted_contact_id"] == contact_obj.pk
        assert body["lead"]["converted_company_id"] == company_obj.pk
        assert body["lead"]["converted_deal_id"] == deal_obj.pk
        assert body["contact"]["url"] == contact_obj.get_absolute_url()

    def test_convert_links_existing_records(self, api, admin):
        acme = company(admin, name="Acme Corp", domain="acme.com")
        existing = contact(admin, first_name="Jo", email="jo@acme.com")
        x = lead(admin, first_name="Jo", email="jo@acme.com", company_name="Acme")
        suggestions = api.get(f"leads/{x.pk}/conversion-suggestions")
        assert suggestions.status_code == 200
        assert suggestions.json()["contact"]["id"] == existing.pk
        assert suggestions.json()["company"]["id"] == acme.pk
        r = api.post(f"leads/{x.pk}/convert", {"contact_id": existing.pk, "company_id": acme.pk})
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["contact"]["id"] == existing.pk
        assert body["company"]["id"] == acme.pk
        assert body["deal"] is None
        assert Contact.objects.count() == 1 and Company.objects.count() == 1
        assert Contact.objects.get(pk=existing.pk).company_id == acme.pk
        assert Deal.objects.count() == 0

    def test_without_create_company_no_company_is_made(self, api, admin):
        x = lead(admin, first_name="Lu", company_name="Initech")
        r = api.post(f"leads/{x.pk}/convert", {"create_company": False})
        assert r.status_code == 200, r.content
        assert r.json()["company"] is None
        assert not Company.objects.exists()

    def test_errors_of_the_deal_are_named_and_nothing_is_written(self, api, admin):
        x = lead(admin, first_name="Mo", company_name="Hooli")
        r = api.post(f"leads/{x.pk}/convert", {"deal": {"name": "Big", "amount": "12.345"}})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"deal.amount"}
        r = api.post(f"leads/{x.pk}/convert", {"deal": {"amount": "ten"}})
        assert error_fields(r) == {"deal.amount"}
        r = api.post(f"leads/{x.pk}/convert", {"deal": {"amount": 5, "colour": "red"}})
        assert error_fields(r) == {"deal.colour"}
        r = api.post(f"leads/{x.pk}/convert", {"contact_id": 999999})
        assert error_fields(r) == {"contact_id"}
        assert not Contact.objects.exists() and not Company.objects.exists() and not Deal.objects.exists()
        assert Lead.objects.get(pk=x.pk).status == "new"

    def test_a_lead_converts_once(self, api, admin):
        x = lead(admin, first_name="Ned")
        assert api.post(f"leads/{x.pk}/convert", {}).status_code == 200
        r = api.post(f"leads/{x.pk}/convert", {})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"status"}
        assert Contact.objects.count() == 1
