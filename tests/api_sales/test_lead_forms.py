"""/api/v1/lead-forms: the web-form builder through the API (admins and managers write)."""

from __future__ import annotations

import pytest

from kith.sales.models import LeadForm

from .conftest import assert_error_shape, error_fields, ids_of, walk

pytestmark = pytest.mark.django_db

FIELDS = [{"field": "first_name", "label": "Your name", "required": True}, {"field": "email", "required": True},
          {"field": "notes"}]


def test_create_read_update_delete(api):
    r = api.post("lead-forms", {"name": "Contact sales", "fields": FIELDS, "consent_text": "You may email me."})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["slug"] == "contact-sales"
    assert body["url"] == "/f/contact-sales"
    assert body["fields"] == [{"field": "first_name", "label": "Your name", "required": True},
                              {"field": "email", "label": "Email", "required": True},
                              {"field": "notes", "label": "Message", "required": False}]
    assert (body["active"], body["submissions"], body["source"]) == (True, 0, "Web form")
    pk = body["id"]
    assert api.get(f"lead-forms/{pk}").json()["name"] == "Contact sales"
    r = api.patch(f"lead-forms/{pk}", {"active": False, "slug": "talk-to-us", "source": "Website"})
    assert r.status_code == 200, r.content
    assert (r.json()["active"], r.json()["url"], r.json()["source"]) == (False, "/f/talk-to-us", "Website")
    assert api.delete(f"lead-forms/{pk}").status_code == 204
    assert_error_shape(api.get(f"lead-forms/{pk}"), 404)


def test_errors_name_the_fields(api):
    api.post("lead-forms", {"name": "Taken", "fields": FIELDS})
    r = api.post("lead-forms", {"name": "Other", "slug": "taken", "fields": [
        {"field": "shoe_size"}, {"field": "email"}, {"field": "email"}], "redirect_url": "not a url at all"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"slug", "fields.0.field", "fields.2.field", "redirect_url"}
    r = api.post("lead-forms", {"name": "Other", "fields": [{"field": "phone"}]})
    assert error_fields(r) == {"fields"}
    r = api.post("lead-forms", {"name": "Other", "fields": [{"field": "email", "required": "often"}]})
    assert error_fields(r) == {"fields.0.required"}
    r = api.post("lead-forms", {"name": "Other", "fields": FIELDS, "colour": "red"})
    assert error_fields(r) == {"colour"}
    assert LeadForm.objects.count() == 1


def test_list_and_roles(api, api_for, member, viewer):
    for name in ("Webinar", "Pricing", "Demo"):
        api.post("lead-forms", {"name": name, "fields": FIELDS})
    pricing = LeadForm.objects.get(name="Pricing")
    api.patch(f"lead-forms/{pricing.pk}", {"active": False})
    names = {f.pk: f.name for f in LeadForm.objects.all()}
    assert [names[i] for i in walk(api, "lead-forms", limit=2)] == ["Demo", "Pricing", "Webinar"]
    assert ids_of(api.get("lead-forms", active="false")) == {pricing.pk}
    assert ids_of(api.get("lead-forms", q="web")) == {LeadForm.objects.get(name="Webinar").pk}
    for user in (member, viewer):
        client = api_for(user)
        assert client.get("lead-forms").status_code == 200
        for r in (client.post("lead-forms", {"name": "Mine", "fields": FIELDS}),
                  client.patch(f"lead-forms/{pricing.pk}", {"active": True}),
                  client.delete(f"lead-forms/{pricing.pk}")):
            assert_error_shape(r, 403)
    assert LeadForm.objects.get(pk=pricing.pk).active is False
