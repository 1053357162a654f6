"""/api/v1/contacts: create, read, partial update with versions, trash, restore, history, roles, errors."""

from __future__ import annotations

import pytest
from django.test import Client

from kith.contacts.models import Contact
from kith.core.models import AuditEntry

from .conftest import assert_error_shape, company, contact, error_fields

CONTACT_KEYS = {
    "id", "first_name", "last_name", "full_name", "email", "additional_emails", "phone", "mobile", "job_title",
    "company_id", "company_name", "lifecycle_stage", "lead_source", "street", "city", "region", "postal_code",
    "country", "owner_id", "tags", "custom_fields", "version", "created_at", "updated_at", "deleted_at",
}


def if_match(version) -> dict:
    return {"headers": {"HTTP_IF_MATCH": f'"{version}"'}}


@pytest.mark.django_db
class TestCreate:
    def test_create_returns_201_with_the_record(self, api, admin):
        acme = company(admin, name="Acme", domain="acme.com")
        r = api.post("contacts", {
            "first_name": " Ada ", "last_name": "Lovelace", "email": "ADA@Example.com",
            "phone": "+44 20 7946 0958", "job_title": "Engineer", "company_id": acme.pk,
            "lifecycle_stage": "customer", "country": "GB", "tags": ["VIP", "vip", "London"],
        })
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == CONTACT_KEYS | {"warnings", "duplicates"}
        assert body["first_name"] == "Ada"
        assert body["full_name"] == "Ada Lovelace"
        assert body["email"] == "ada@example.com"
        assert body["phone"] == "+442079460958"
        assert body["company_id"] == acme.pk and body["company_name"] == "Acme"
        assert body["owner_id"] == admin.pk
        assert sorted(body["tags"]) == ["London", "VIP"]
        assert body["version"] == 1
        assert body["deleted_at"] is None
        assert body["warnings"] == []
        assert r["Location"] == f"/api/v1/contacts/{body['id']}"
        assert r["ETag"] == '"1"'
        assert Contact.objects.get(pk=body["id"]).email == "ada@example.com"

    def test_unreadable_phone_is_kept_with_a_warning(self, api):
        r = api.post("contacts", {"first_name": "Bo", "phone": "call reception"})
        assert r.status_code == 201
        assert r.json()["phone"] == "call reception"
        assert [w["field"] for w in r.json()["warnings"]] == ["phone"]

    def test_custom_fields_are_validated_and_returned(self, api, contact_fields):
        r = api.post("contacts", {"first_name": "Cy", "custom_fields": {
            "score": "42", "budget": 1250.5, "vip": True, "tier": "gold", "interests": ["chess", "golf"],
            "birthday": "1990-02-03", "homepage": "example.org", "assistant": "Pat@Example.com", "nickname": "C"}})
        assert r.status_code == 201, r.content
        assert r.json()["custom_fields"] == {
            "score": 42, "budget": "1250.50", "vip": True, "tier": "gold", "interests": ["golf", "chess"],
            "birthday": "1990-02-03", "homepage": "https://example.org", "assistant": "pat@example.com",
            "nickname": "C"}

    def test_field_errors_are_422_and_nothing_is_written(self, api, contact_fields):
        r = api.post("contacts", {"email": "not an email", "lifecycle_stage": "king", "company_id": 999,
                                  "custom_fields": {"tier": "platinum", "score": "many", "nope": 1}})
        body = assert_error_shape(r, 422)
        assert error_fields(r) == {"email", "lifecycle_stage", "company_id", "custom_fields.tier",
                                   "custom_fields.score", "custom_fields.nope"}
        assert all(e["message"] for e in body["errors"])
        assert not Contact.all_objects.exists()
        assert not AuditEntry.objects.exists()

    def test_required_custom_field(self, api, admin):
        from kith.core.custom_field_services import create_custom_field

        create_custom_field(actor=admin, data={"object_type": "contact", "key": "region", "label": "Region",
                                               "field_type": "text", "required": True})
        r = api.post("contacts", {"first_name": "Di"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"custom_fields.region"}

    def test_a_name_or_email_is_needed(self, api):
        r = api.post("contacts", {"job_title": "CEO"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"first_name"}

    def test_duplicate_email_is_422(self, api, admin):
        contact(admin, email="dup@example.com")
        r = api.post("contacts", {"email": "DUP@example.com"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"email"}
        assert Contact.objects.count() == 1

    @pytest.mark.parametrize("payload, field", [
        ({"first_name": 12}, "first_name"),
        ({"email": ["a@b.c"]}, "email"),
        ({"custom_fields": "x"}, "custom_fields"),
        ({"tags": "vip"}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"company_id": "acme"}, "company_id"),
        ({"first_name": "A", "favourite_colour": "blue"}, "favourite_colour"),
    ])
    def test_schema_errors_name_the_field(self, api, payload, field):
        r = api.post("contacts", payload)
        assert_error_shape(r, 422)
        assert error_fields(r) == {field}
        assert not Contact.all_objects.exists()

    def test_bad_json_is_400(self, api):
        r = api.client.post("/api/v1/contacts", data="{not json", content_type="application/json", **api.headers)
        body = assert_error_shape(r, 400)
        assert "JSON" in body["detail"]
        assert not Contact.all_objects.exists()

    def test_empty_body_is_an_empty_object(self, api):
        r = api.client.post("/api/v1/contacts", content_type="application/json", **api.headers)
        assert_error_shape(r, 422)
        assert error_fields(r) == {"first_name"}

    @pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "3"])
    def test_body_must_be_an_object(self, api, raw):
        r = api.client.post("/api/v1/contacts", data=raw, content_type="application/json", **api.headers)
        assert_error_shape(r, 422)
        assert "JSON object" in r.json()["detail"]

    def test_owner_can_be_someone_else_or_nobody(self, api, member):
        assert api.post("contacts", {"first_name": "E", "owner_id": member.pk}).json()["owner_id"] == member.pk
        assert api.post("contacts", {"first_name": "F", "owner_id": None}).json()["owner_id"] is None
        r = api.post("contacts", {"first_name": "G", "owner_id": 9999})
        assert error_fields(r) == {"owner_id"}


@pytest.mark.django_db
class TestRead:
    def test_get_with_etag(self, api, admin):
        c = contact(admin, first_name="Ann", tags=["a"])
        r = api.get(f"contacts/{c.pk}")
        assert r.status_code == 200
        assert set(r.json()) == CONTACT_KEYS
        assert r["ETag"] == '"1"'
        assert r.json()["tags"] == ["a"]

    def test_missing_is_404(self, api):
        assert_error_shape(api.get("contacts/12345"), 404)

    def test_trashed_is_404_unless_asked_for(self, api, admin):
        from kith.contacts.services import delete_contact

        c = contact(admin, first_name="Ann")
        delete_contact(actor=admin, contact=c)
        assert_error_shape(api.get(f"contacts/{c.pk}"), 404)
        r = api.get(f"contacts/{c.pk}", include_trashed="true")
        assert r.status_code == 200
        assert r.json()["deleted_at"] is not None

    def test_deleted_custom_field_values_are_not_served(self, api, admin, contact_fields):
        from kith.core.custom_field_services import delete_custom_field

        c = contact(admin, first_name="Ann", custom_fields={"nickname": "Annie", "score": 3})
        delete_custom_field(actor=admin, field=contact_fields["nickname"])
        assert api.get(f"contacts/{c.pk}").json()["custom_fields"] == {"score": 3}

    def test_own_visibility_hides_other_peoples_records(self, api_for, admin, member, settings):
        settings.KITH_RECORD_VISIBILITY = "own"
        theirs = contact(admin, first_name="Theirs")
        mine = contact(member, first_name="Mine")
        unowned = contact(admin, first_name="Nobody's", owner_id=None)
        m = api_for(member)
        assert_error_shape(m.get(f"contacts/{theirs.pk}"), 404)
        assert_error_shape(m.patch(f"contacts/{theirs.pk}", {"first_name": "X"}), 404)
        assert_error_shape(m.delete(f"contacts/{theirs.pk}"), 404)
        assert {c["id"] for c in m.get("contacts").json()["items"]} == {mine.pk, unowned.pk}


@pytest.mark.django_db
class TestUpdate:
    def test_patch_changes_only_the_keys_sent(self, api, admin):
        c = contact(admin, first_name="Ann", last_name="Lee", email="ann@example.com", job_title="CTO",
                    tags=["x"])
        r = api.patch(f"contacts/{c.pk}", {"job_title": "CEO"})
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["job_title"] == "CEO"
        assert (body["first_name"], body["last_name"], body["email"], body["tags"]) == (
            "Ann", "Lee", "ann@example.com", ["x"])
        assert body["version"] == 2
        assert r["ETag"] == '"2"'
        assert body["warnings"] == []

    def test_null_clears_a_field(self, api, admin):
        c = contact(admin, first_name="Ann", job_title="CTO", custom_fields={})
        r = api.patch(f"contacts/{c.pk}", {"job_title": None, "tags": []})
        assert r.json()["job_title"] == ""

    def test_patch_without_changes_keeps_the_version(self, api, admin):
        c = contact(admin, first_name="Ann")
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Ann"})
        assert r.status_code == 200
        assert r.json()["version"] == 1

    def test_custom_fields_merge(self, api, admin, contact_fields):
        c = contact(admin, first_name="Ann", custom_fields={"nickname": "A", "score": 1})
        r = api.patch(f"contacts/{c.pk}", {"custom_fields": {"score": 2, "nickname": None}})
        assert r.json()["custom_fields"] == {"score": 2}

    def test_stale_if_match_is_409_and_nothing_changes(self, api, admin):
        c = contact(admin, first_name="Ann")
        assert api.patch(f"contacts/{c.pk}", {"first_name": "Anna"}, **if_match(1)).status_code == 200
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Annie"}, **if_match(1))
        body = assert_error_shape(r, 409)
        assert body["current_version"] == 2
        c.refresh_from_db()
        assert (c.first_name, c.version) == ("Anna", 2)
        assert AuditEntry.objects.filter(action="update").count() == 1

    def test_stale_body_version_is_409_and_nothing_changes(self, api, admin):
        c = contact(admin, first_name="Ann")
        assert api.patch(f"contacts/{c.pk}", {"first_name": "Anna", "version": 1}).status_code == 200
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Annie", "tags": ["t"], "version": 1})
        assert assert_error_shape(r, 409)["current_version"] == 2
        c.refresh_from_db()
        assert (c.first_name, c.version, c.tag_names) == ("Anna", 2, [])

    def test_stale_version_in_either_place_wins(self, api, admin):
        c = contact(admin, first_name="Ann")
        api.patch(f"contacts/{c.pk}", {"first_name": "Anna"})
        assert api.patch(f"contacts/{c.pk}", {"first_name": "B", "version": 2}, **if_match(1)).status_code == 409
        assert api.patch(f"contacts/{c.pk}", {"first_name": "B", "version": 1}, **if_match(2)).status_code == 409
        assert api.patch(f"contacts/{c.pk}", {"first_name": "B", "version": 2}, **if_match(2)).status_code == 200

    @pytest.mark.parametrize("header", ['"1"', "1", 'W/"1"', "*"])
    def test_if_match_forms(self, api, admin, header):
        c = contact(admin, first_name="Ann")
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Anna"}, headers={"HTTP_IF_MATCH": header})
        assert r.status_code == 200

    def test_unreadable_if_match_is_422(self, api, admin):
        c = contact(admin, first_name="Ann")
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Anna"}, headers={"HTTP_IF_MATCH": '"abc"'})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"version"}

    def test_validation_error_writes_nothing(self, api, admin):
        c = contact(admin, first_name="Ann", email="ann@example.com")
        r = api.patch(f"contacts/{c.pk}", {"first_name": "Anna", "email": "broken@", "tags": ["new"]})
        assert_error_shape(r, 422)
        c.refresh_from_db()
        assert (c.first_name, c.email, c.version, c.tag_names) == ("Ann", "ann@example.com", 1, [])

    def test_patching_a_trashed_contact_is_404(self, api, admin):
        from kith.contacts.services import delete_contact

        c = contact(admin, first_name="Ann")
        delete_contact(actor=admin, contact=c)
        assert_error_shape(api.patch(f"contacts/{c.pk}", {"first_name": "B"}), 404)

    def test_move_to_another_company(self, api, admin):
        a, b = company(admin, name="A"), company(admin, name="B")
        c = contact(admin, first_name="Ann", company_id=a.pk)
        r = api.patch(f"contacts/{c.pk}", {"company_id": b.pk})
        assert (r.json()["company_id"], r.json()["company_name"]) == (b.pk, "B")
        r = api.patch(f"contacts/{c.pk}", {"company_id": None})
        assert (r.json()["company_id"], r.json()["company_name"]) == (None, None)


@pytest.mark.django_db
class TestTrash:
    def test_delete_restore_cycle(self, api, admin):
        c = contact(admin, first_name="Ann", email="ann@example.com")
        r = api.delete(f"contacts/{c.pk}")
        assert r.status_code == 204
        assert r.content == b""
        assert_error_shape(api.get(f"contacts/{c.pk}"), 404)
        assert api.get("contacts").json()["items"] == []
        trash = api.get("contacts", trashed="true").json()["items"]
        assert [t["id"] for t in trash] == [c.pk]
        assert trash[0]["deleted_at"]
        assert_error_shape(api.delete(f"contacts/{c.pk}"), 404)

        r = api.post(f"contacts/{c.pk}/restore")
        assert r.status_code == 200
        assert r.json()["deleted_at"] is None
        assert r.json()["version"] == 3
        assert r["ETag"] == '"3"'
        assert api.get("contacts", trashed="true").json()["items"] == []
        assert [x["id"] for x in api.get("contacts").json()["items"]] == [c.pk]

    def test_delete_with_stale_if_match_is_409(self, api, admin):
        c = contact(admin, first_name="Ann")
        api.patch(f"contacts/{c.pk}", {"first_name": "Anna"})
        assert assert_error_shape(api.delete(f"contacts/{c.pk}", **if_match(1)), 409)["current_version"] == 2
        c.refresh_from_db()
        assert c.deleted_at is None
        assert api.delete(f"contacts/{c.pk}", **if_match(2)).status_code == 204

    def test_restore_clash_is_422(self, api, admin):
        from kith.contacts.services import delete_contact

        old = contact(admin, email="ann@example.com")
        delete_contact(actor=admin, contact=old)
        contact(admin, email="ann@example.com")
        r = api.post(f"contacts/{old.pk}/restore")
        assert_error_shape(r, 422)
        assert error_fields(r) == {"email"}

    def test_restore_unknown_is_404(self, api):
        assert_error_shape(api.post("contacts/999/restore"), 404)


@pytest.mark.django_db
class TestHistory:
    def test_history_after_create_patch_delete_restore(self, api, admin):
        r = api.post("contacts", {"first_name": "Ann", "email": "ann@example.com"},
                     headers={"HTTP_X_REQUEST_ID": "req-create-1"})
        pk = r.json()["id"]
        api.patch(f"contacts/{pk}", {"job_title": "CTO", "first_name": "Anna"})
        api.delete(f"contacts/{pk}")
        entries = api.get(f"contacts/{pk}/history").json()
        assert entries["next_cursor"] is None
        assert [e["action"] for e in entries["items"]] == ["delete", "update", "create"]
        api.post(f"contacts/{pk}/restore")

        items = api.get(f"contacts/{pk}/history").json()["items"]
        assert [e["action"] for e in items] == ["restore", "delete", "update", "create"]
        assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)
        for e in items:
            assert set(e) == {"id", "action", "actor", "actor_label", "created_at", "request_id", "changes"}
            assert e["actor"] == {"id": admin.pk, "email": admin.email}
            assert e["actor_label"] == admin.email
        update = items[2]
        assert update["changes"] == {
            "first_name": {"old": "Ann", "new": "Anna", "label": "First name"},
            "job_title": {"old": "", "new": "CTO", "label": "Job title"},
        }
        create = items[3]
        assert create["request_id"] == "req-create-1"
        assert create["changes"]["email"] == {"old": None, "new": "ann@example.com", "label": "Email"}

    def test_history_pages(self, api, admin):
        c = contact(admin, first_name="V0")
        for i in range(1, 6):
            api.patch(f"contacts/{c.pk}", {"first_name": f"V{i}"})
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.get(f"contacts/{c.pk}/history", **params).json()
            assert len(page["items"]) <= 2
            seen += [e["changes"].get("first_name", {}).get("new") for e in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == ["V5", "V4", "V3", "V2", "V1", "V0"]

    def test_history_of_unknown_is_404(self, api):
        assert_error_shape(api.get("contacts/999/history"), 404)

    def test_deleted_actor_keeps_label(self, api, admin, member):
        c = contact(member, first_name="Ann")
        member.delete()
        entry = api.get(f"contacts/{c.pk}/history").json()["items"][0]
        assert entry["actor"] is None
        assert entry["actor_label"] == "bob@example.com"


@pytest.mark.django_db
class TestRoles:
    def test_viewer_reads_but_gets_403_on_every_write(self, api_for, admin, viewer):
        c = contact(admin, first_name="Ann")
        v = api_for(viewer)
        assert v.get("contacts").status_code == 200
        assert v.get(f"contacts/{c.pk}").status_code == 200
        assert v.get(f"contacts/{c.pk}/history").status_code == 200
        assert_error_shape(v.post("contacts", {"first_name": "X"}), 403)
        assert_error_shape(v.post("contacts", {"bogus": 1}), 403)
        assert_error_shape(v.patch(f"contacts/{c.pk}", {"first_name": "X"}), 403)
        assert_error_shape(v.delete(f"contacts/{c.pk}"), 403)
        assert_error_shape(v.post(f"contacts/{c.pk}/restore"), 403)
        c.refresh_from_db()
        assert (c.first_name, c.version, c.deleted_at) == ("Ann", 1, None)
        assert Contact.all_objects.count() == 1

    @pytest.mark.parametrize("role", ["manager", "member"])
    def test_members_and_managers_write(self, api_for, request, role):
        user = request.getfixturevalue(role)
        a = api_for(user)
        r = a.post("contacts", {"first_name": "Ann"})
        assert r.status_code == 201
        pk = r.json()["id"]
        assert a.patch(f"contacts/{pk}", {"last_name": "Lee"}).status_code == 200
        assert a.delete(f"contacts/{pk}").status_code == 204
        assert a.post(f"contacts/{pk}/restore").status_code == 200

    def test_session_viewer_is_403_too(self, viewer):
        c = Client()
        c.force_login(viewer)
        r = c.post("/api/v1/contacts", data="{}", content_type="application/json")
        assert_error_shape(r, 403)
