"""/api/v1/custom-fields: everyone reads; admins and managers create, change and delete definitions."""

from __future__ import annotations

import pytest

from kith.core.models import CustomField

from .conftest import assert_error_shape, contact, error_fields

FIELD_KEYS = {"id", "object_type", "key", "label", "field_type", "choices", "currency", "required", "help_text",
              "position"}


@pytest.mark.django_db
class TestCustomFields:
    def test_list_by_object_type(self, api_for, viewer, contact_fields, admin):
        from kith.core.custom_field_services import create_custom_field

        create_custom_field(actor=admin, data={"object_type": "company", "label": "Segment", "field_type": "text"})
        v = api_for(viewer)
        body = v.get("custom-fields", object_type="contact").json()
        assert body["next_cursor"] is None
        assert [f["key"] for f in body["items"]] == list(contact_fields)
        assert all(set(f) == FIELD_KEYS for f in body["items"])
        assert [f["key"] for f in v.get("custom-fields", object_type="company").json()["items"]] == ["segment"]
        assert len(v.get("custom-fields").json()["items"]) == len(contact_fields) + 1
        r = v.get("custom-fields", object_type="spaceship")
        assert_error_shape(r, 422)
        assert error_fields(r) == {"object_type"}

    @pytest.mark.parametrize("role", ["admin", "manager"])
    def test_create(self, api_for, request, role):
        a = api_for(request.getfixturevalue(role))
        r = a.post("custom-fields", {"object_type": "contact", "label": "Favourite colour", "field_type": "select",
                                     "choices": ["red", "green", " red "], "help_text": "Ask nicely"})
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == FIELD_KEYS
        assert (body["key"], body["choices"], body["required"]) == ("favourite_colour", ["red", "green"], False)
        # Usable straight away, on records and as a filter.
        c = a.post("contacts", {"first_name": "A", "custom_fields": {"favourite_colour": "green"}}).json()
        assert c["custom_fields"] == {"favourite_colour": "green"}
        assert [x["id"] for x in a.get("contacts", cf_favourite_colour="green").json()["items"]] == [c["id"]]

    @pytest.mark.parametrize("role", ["member", "viewer"])
    def test_members_and_viewers_get_403(self, api_for, request, admin, role):
        field = CustomField.objects.create(object_type="contact", key="k", label="K", field_type="text")
        a = api_for(request.getfixturevalue(role))
        assert a.get(f"custom-fields/{field.pk}").status_code == 200
        assert_error_shape(a.post("custom-fields", {"object_type": "contact", "label": "X", "field_type": "text"}),
                           403)
        assert_error_shape(a.patch(f"custom-fields/{field.pk}", {"label": "New"}), 403)
        assert_error_shape(a.delete(f"custom-fields/{field.pk}"), 403)
        field.refresh_from_db()
        assert field.label == "K"

    def test_create_errors(self, api, contact_fields):
        r = api.post("custom-fields", {"object_type": "contact", "label": "Tier", "key": "tier",
                                       "field_type": "select"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"key", "choices"}
        r = api.post("custom-fields", {"object_type": "spaceship", "label": "X", "field_type": "colour"})
        assert error_fields(r) == {"object_type", "field_type"}
        r = api.post("custom-fields", {"object_type": "contact", "label": "X", "field_type": "currency"})
        assert error_fields(r) == {"currency"}
        assert error_fields(api.post("custom-fields", {"object_type": "contact"})) == {"label", "field_type"}
        assert CustomField.objects.count() == len(contact_fields)

    def test_get_patch_delete(self, api, admin, contact_fields):
        tier = contact_fields["tier"]
        r = api.get(f"custom-fields/{tier.pk}")
        assert r.json()["choices"] == ["gold", "silver", "bronze"]
        r = api.patch(f"custom-fields/{tier.pk}", {"label": "Level", "choices": ["gold", "silver", "bronze", "tin"],
                                                  "required": True, "position": 0})
        assert r.status_code == 200
        assert (r.json()["label"], r.json()["required"], r.json()["position"]) == ("Level", True, 0)
        r = api.patch(f"custom-fields/{tier.pk}", {"key": "level", "field_type": "text"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"key", "field_type"}
        assert error_fields(api.patch(f"custom-fields/{tier.pk}", {"choices": []})) == {"choices"}
        assert api.get(f"custom-fields/{tier.pk}").json()["key"] == "tier"

        c = contact(admin, first_name="A", custom_fields={"tier": "gold", "score": 1})
        assert api.delete(f"custom-fields/{tier.pk}").status_code == 204
        assert_error_shape(api.get(f"custom-fields/{tier.pk}"), 404)
        assert_error_shape(api.delete(f"custom-fields/{tier.pk}"), 404)
        assert api.get(f"contacts/{c.pk}").json()["custom_fields"] == {"score": 1}
        assert error_fields(api.get("contacts", cf_tier="gold")) == {"cf_tier"}

    def test_unknown_is_404(self, api):
        assert_error_shape(api.get("custom-fields/999"), 404)
        assert_error_shape(api.patch("custom-fields/999", {"label": "X"}), 404)
