"""Contacts: create, update, trash and restore through kith.contacts.services, as every UI and API does."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.contacts import services
from kith.contacts.models import Contact
from kith.core.models import Tag

from .helpers import db_state


def create(actor, **data) -> Contact:
    return services.create_contact(actor=actor, data=data)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def assert_refused(actor, data, field, *, contact=None, message_part: str | None = None):
    """The write raises ValidationError naming `field` and leaves every table as it was."""
    before = db_state()
    with pytest.raises(ValidationError) as excinfo:
        if contact is None:
            services.create_contact(actor=actor, data=data)
        else:
            services.update_contact(actor=actor, contact=contact, data=data)
    assert field in errors_of(excinfo), errors_of(excinfo)
    if message_part:
        assert message_part in " ".join(errors_of(excinfo)[field])
    assert db_state() == before
    return errors_of(excinfo)


# --- create ---------------------------------------------------------------------------------------------


def test_create_contact_cleans_input_and_records_owner(admin):
    contact = create(admin, first_name="  Ada ", last_name="Lovelace", email="  Ada@Example.COM ", job_title="Countess")

    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.first_name, contact.last_name, contact.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert contact.email == "ada@example.com"
    assert contact.owner == admin
    assert contact.version == 1
    assert contact.lifecycle_stage == "lead"
    assert str(contact) == "Ada Lovelace"


def test_create_contact_returns_no_warnings_for_clean_input(admin):
    contact = create(admin, first_name="Ada", phone="(415) 555-2671")
    assert contact.warnings == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"job_title": "CEO", "city": "Paris"},
        {"first_name": "   ", "last_name": "", "email": ""},
    ],
)
def test_contact_needs_a_first_name_a_last_name_or_an_email(admin, data):
    errors = assert_refused(admin, data, "first_name")
    assert "first name, a last name or an email" in errors["first_name"][0]


@pytest.mark.parametrize("data", [{"first_name": "Ada"}, {"last_name": "Lovelace"}, {"email": "ada@example.com"}])
def test_any_one_of_first_last_name_or_email_is_enough(admin, data):
    contact = create(admin, **data)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_contact_with_only_an_email_is_named_by_it(admin):
    contact = create(admin, email="Grace@Navy.example.com")
    assert contact.full_name == "grace@navy.example.com"
    assert str(contact) == "grace@navy.example.com"


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada@localhost", "ada@@example.com"])
def test_invalid_email_is_refused(admin, email):
    assert_refused(admin, {"first_name": "Ada", "email": email}, "email", message_part="not a valid email")


def test_email_longer_than_254_characters_is_refused(admin):
    assert_refused(admin, {"email": "a" * 250 + "@example.com"}, "email", message_part="too long")


def test_email_validation_does_not_need_dns(admin):
    # A syntactically valid address at a domain that does not exist is accepted (no network look-up).
    contact = create(admin, email="someone@no-such-domain-kith-test.example")
    assert contact.email == "someone@no-such-domain-kith-test.example"


def test_unknown_fields_are_refused(admin):
    errors = assert_refused(admin, {"first_name": "Ada", "nickname": "Countess", "deleted_at": "x"}, "nickname")
    assert errors["nickname"] == ["Unknown field."]
    assert "deleted_at" in errors


def test_text_longer_than_the_column_is_refused(admin):
    errors = assert_refused(admin, {"first_name": "A" * 101}, "first_name")
    assert "at most 100" in errors["first_name"][0]


def test_non_text_value_for_a_text_field_is_refused(admin):
    assert_refused(admin, {"first_name": {"a": 1}}, "first_name", message_part="Must be text")


def test_all_errors_are_reported_at_once(admin):
    errors = assert_refused(
        admin,
        {"first_name": "Ada", "email": "nope", "country": "Narnia", "lifecycle_stage": "king", "owner_id": 999999},
        "email",
    )
    assert {"email", "country", "lifecycle_stage", "owner_id"} <= set(errors)


def test_unknown_lifecycle_stage_lists_the_choices(admin):
    errors = assert_refused(admin, {"first_name": "Ada", "lifecycle_stage": "king"}, "lifecycle_stage")
    assert "customer" in errors["lifecycle_stage"][0]


def test_lifecycle_stage_is_stored(admin):
    contact = create(admin, first_name="Ada", lifecycle_stage="customer")
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "customer"


# --- unique live email -----------------------------------------------------------------------------------


def test_two_live_contacts_cannot_share_an_email(admin):
    create(admin, first_name="Ada", email="ada@example.com")
    errors = assert_refused(admin, {"first_name": "Other", "email": "ADA@example.com"}, "email")
    assert "already has this email" in errors["email"][0]


def test_update_to_another_contacts_email_is_refused(admin):
    create(admin, first_name="Ada", email="ada@example.com")
    grace = create(admin, first_name="Grace", email="grace@example.com")
    assert_refused(admin, {"email": "Ada@Example.com"}, "email", contact=grace)


def test_a_trashed_contacts_email_can_be_reused_and_restoring_it_then_conflicts(admin):
    first = create(admin, first_name="Ada", email="ada@example.com")
    services.delete_contact(actor=admin, contact=first)

    second = create(admin, first_name="Ada again", email="ada@example.com")
    assert second.email == "ada@example.com"

    before = db_state()
    with pytest.raises(ValidationError) as excinfo:
        services.restore_contact(actor=admin, contact=first)
    errors = errors_of(excinfo)
    assert list(errors) == ["email"]
    assert "ada@example.com" in errors["email"][0]
    assert db_state() == before
    assert Contact.all_objects.get(pk=first.pk).in_trash

    # Once the live one gives the address up, the trashed one can come back.
    services.update_contact(actor=admin, contact=second, data={"email": "ada2@example.com"})
    restored = services.restore_contact(actor=admin, contact=first)
    assert not restored.in_trash


def test_keeping_ones_own_email_is_not_a_clash(admin):
    ada = create(admin, first_name="Ada", email="ada@example.com")
    updated = services.update_contact(actor=admin, contact=ada, data={"email": "ADA@example.com", "last_name": "L"})
    assert updated.email == "ada@example.com"
    assert updated.last_name == "L"


# --- additional emails -------------------------------------------------------------------------------------


def test_additional_emails_are_normalised_and_deduplicated(admin):
    contact = create(
        admin, first_name="Ada", email="ada@example.com",
        additional_emails=["Ada@Work.example.com", "ada@work.example.com", "ADA@example.com", ""],
    )
    assert Contact.objects.get(pk=contact.pk).additional_emails == ["ada@work.example.com"]


def test_additional_emails_accept_a_comma_separated_text(admin):
    contact = create(admin, first_name="Ada", additional_emails="a@example.com, b@example.com; c@example.com")
    assert contact.additional_emails == ["a@example.com", "b@example.com", "c@example.com"]


@pytest.mark.parametrize("value", [["fine@example.com", "broken"], 42])
def test_bad_additional_emails_are_refused(admin, value):
    assert_refused(admin, {"first_name": "Ada", "additional_emails": value}, "additional_emails")


# --- phones -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(415) 555-2671", "+14155552671"),
        ("415.555.2671", "+14155552671"),
        ("+1 415 555 2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49 30 1234567", "+49301234567"),
    ],
)
def test_phone_is_stored_in_e164_using_the_default_region(admin, typed, stored):
    contact = create(admin, first_name="Ada", phone=typed, mobile=typed)
    contact.refresh_from_db()
    assert contact.phone == stored
    assert contact.mobile == stored


def test_default_region_comes_from_settings(admin, settings):
    settings.KITH_DEFAULT_REGION = "GB"
    contact = create(admin, first_name="Ada", phone="020 7946 0958")
    assert contact.phone == "+442079460958"


@pytest.mark.parametrize("country", ["DE", "de", "Germany"])
def test_the_contacts_country_is_the_region_for_national_numbers(admin, country):
    contact = create(admin, first_name="Ada", country=country, phone="030 1234567")
    assert contact.country == "DE"
    assert contact.phone == "+49301234567"


def test_a_stored_country_is_used_when_only_the_phone_changes(admin):
    contact = create(admin, first_name="Ada", country="FR")
    contact = services.update_contact(actor=admin, contact=contact, data={"phone": "01 42 68 53 00"})
    assert contact.phone == "+33142685300"


@pytest.mark.parametrize("typed", ["call me maybe", "12", "555-CALL-NOW-PLEASE"])
def test_unparseable_phone_is_kept_as_typed_with_a_warning(admin, typed):
    contact = create(admin, first_name="Ada", phone=typed)
    assert Contact.objects.get(pk=contact.pk).phone == typed
    assert [w["field"] for w in contact.warnings] == ["phone"]
    assert typed in contact.warnings[0]["message"]
    assert "kept as entered" in contact.warnings[0]["message"]


def test_warnings_name_each_phone_field(admin):
    contact = create(admin, first_name="Ada", phone="nope", mobile="also nope")
    assert sorted(w["field"] for w in contact.warnings) == ["mobile", "phone"]


def test_update_reports_phone_warnings_too(admin):
    contact = create(admin, first_name="Ada")
    contact = services.update_contact(actor=admin, contact=contact, data={"mobile": "ask reception"})
    assert contact.mobile == "ask reception"
    assert contact.warnings[0]["field"] == "mobile"


def test_phone_longer_than_40_characters_is_refused(admin):
    assert_refused(admin, {"first_name": "Ada", "phone": "1" * 41}, "phone", message_part="40")


def test_clearing_a_phone_stores_nothing(admin):
    contact = create(admin, first_name="Ada", phone="(415) 555-2671")
    contact = services.update_contact(actor=admin, contact=contact, data={"phone": ""})
    assert Contact.objects.get(pk=contact.pk).phone == ""


# --- country, owner, company --------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "code"), [("us", "US"), ("United Kingdom", "GB"), ("DEU", "DE"), ("", "")])
def test_country_by_code_or_name(admin, typed, code):
    contact = create(admin, first_name="Ada", country=typed)
    assert Contact.objects.get(pk=contact.pk).country == code


def test_unknown_country_is_refused(admin):
    assert_refused(admin, {"first_name": "Ada", "country": "Narnia"}, "country", message_part="Narnia")


def test_owner_defaults_to_the_creator_and_can_be_set_or_cleared(admin, member):
    assert create(admin, first_name="A").owner == admin
    assert create(admin, first_name="B", owner_id=member.pk).owner == member
    assert create(admin, first_name="C", owner_id=str(member.pk)).owner == member
    assert create(admin, first_name="D", owner_id=None).owner is None


def test_owner_must_be_an_active_user(admin, member):
    assert_refused(admin, {"first_name": "Ada", "owner_id": 987654}, "owner_id")
    assert_refused(admin, {"first_name": "Ada", "owner_id": "someone"}, "owner_id")
    member.is_active = False
    member.save()
    assert_refused(admin, {"first_name": "Ada", "owner_id": member.pk}, "owner_id")


def test_company_link_and_unlink(admin):
    acme = services.create_company(actor=admin, data={"name": "Acme"})
    contact = create(admin, first_name="Ada", company_id=acme.pk)
    assert Contact.objects.get(pk=contact.pk).company == acme
    contact = services.update_contact(actor=admin, contact=contact, data={"company_id": None})
    assert Contact.objects.get(pk=contact.pk).company is None


def test_company_must_exist_and_be_live(admin):
    acme = services.create_company(actor=admin, data={"name": "Acme"})
    services.delete_company(actor=admin, company=acme)
    assert_refused(admin, {"first_name": "Ada", "company_id": acme.pk}, "company_id")
    assert_refused(admin, {"first_name": "Ada", "company_id": 987654}, "company_id")
    assert_refused(admin, {"first_name": "Ada", "company_id": "acme"}, "company_id")


# --- tags ----------------------------------------------------------------------------------------------------


def test_tags_are_deduplicated_case_insensitively_and_trimmed(admin):
    contact = create(admin, first_name="Ada", tags=["VIP", "vip", "  Key   account ", "", "Vip"])
    assert contact.tag_names == ["Key account", "VIP"]
    assert Tag.objects.count() == 2


def test_existing_tags_are_reused_whatever_their_case(admin):
    create(admin, first_name="Ada", tags=["VIP"])
    grace = create(admin, first_name="Grace", tags=["vip", "new"])
    assert grace.tag_names == ["VIP", "new"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["VIP", "new"]


def test_tags_accept_a_comma_separated_text(admin):
    assert create(admin, first_name="Ada", tags="b, a,,a").tag_names == ["a", "b"]


def test_update_replaces_tags_and_an_empty_list_clears_them(admin):
    contact = create(admin, first_name="Ada", tags=["one", "two"])
    contact = services.update_contact(actor=admin, contact=contact, data={"tags": ["two", "three"]})
    assert Contact.objects.get(pk=contact.pk).tag_names == ["three", "two"]
    contact = services.update_contact(actor=admin, contact=contact, data={"tags": []})
    assert Contact.objects.get(pk=contact.pk).tag_names == []


def test_tag_longer_than_64_characters_is_refused(admin):
    errors = assert_refused(admin, {"first_name": "Ada", "tags": ["x" * 65]}, "tags")
    assert "64" in errors["tags"][0]
    assert create(admin, first_name="Ok", tags=["x" * 64]).tag_names == ["x" * 64]


@pytest.mark.parametrize("value", [42, ["fine", 3], {"a": 1}])
def test_tags_must_be_a_list_of_strings(admin, value):
    assert_refused(admin, {"first_name": "Ada", "tags": value}, "tags")


# --- update ----------------------------------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(admin):
    contact = create(admin, first_name="Ada", last_name="Byron", email="ada@example.com", city="London")
    services.update_contact(actor=admin, contact=contact, data={"last_name": "Lovelace"})
    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.first_name, contact.last_name, contact.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert (contact.email, contact.city) == ("ada@example.com", "London")


def test_update_cannot_empty_every_name_field(admin):
    contact = create(admin, first_name="Ada")
    assert_refused(admin, {"first_name": ""}, "first_name", contact=contact)


def test_update_with_invalid_and_valid_fields_writes_none_of_them(admin):
    contact = create(admin, first_name="Ada", email="ada@example.com")
    assert_refused(admin, {"first_name": "Grace", "email": "broken"}, "email", contact=contact)
    assert Contact.objects.get(pk=contact.pk).first_name == "Ada"


# --- trash and restore ------------------------------------------------------------------------------------------


def test_delete_moves_to_trash_and_restore_brings_back(admin):
    contact = create(admin, first_name="Ada")
    trashed = services.delete_contact(actor=admin, contact=contact)
    assert trashed.in_trash
    assert trashed.deleted_by == admin
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Contact.all_objects.filter(pk=contact.pk, deleted_at__isnull=False).exists()

    restored = services.restore_contact(actor=admin, contact=trashed)
    assert not restored.in_trash
    assert restored.deleted_by is None
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_deleting_twice_and_restoring_a_live_contact_change_nothing(admin):
    contact = create(admin, first_name="Ada")
    services.delete_contact(actor=admin, contact=contact)
    before = db_state()
    services.delete_contact(actor=admin, contact=contact)
    assert db_state() == before

    services.restore_contact(actor=admin, contact=contact)
    before = db_state()
    services.restore_contact(actor=admin, contact=contact)
    assert db_state() == before


# --- who may write ----------------------------------------------------------------------------------------------


def test_viewers_cannot_create_update_delete_or_restore(admin, viewer):
    contact = create(admin, first_name="Ada")
    trashed = create(admin, first_name="Gone")
    services.delete_contact(actor=admin, contact=trashed)
    before = db_state()
    with pytest.raises(PermissionDenied):
        create(viewer, first_name="Vic")
    with pytest.raises(PermissionDenied):
        services.update_contact(actor=viewer, contact=contact, data={"first_name": "Vic"})
    with pytest.raises(PermissionDenied):
        services.delete_contact(actor=viewer, contact=contact)
    with pytest.raises(PermissionDenied):
        services.restore_contact(actor=viewer, contact=trashed)
    assert db_state() == before


def test_inactive_users_and_no_user_cannot_write(member):
    member.is_active = False
    member.save()
    before = db_state()
    with pytest.raises(PermissionDenied):
        create(member, first_name="Bob")
    with pytest.raises(PermissionDenied):
        create(None, first_name="Nobody")
    assert db_state() == before


@pytest.mark.parametrize("role_fixture", ["admin", "manager", "member"])
def test_writers_can_create(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    assert create(user, first_name="Ada").owner == user
