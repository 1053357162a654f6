"""Custom field values on contacts and companies: every type, valid and invalid, errors named custom_fields.<key>."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kith.contacts import services
from kith.contacts.models import Company, Contact

from .helpers import db_state

CHOICES = ["EMEA", "Americas", "APAC"]


@pytest.fixture
def every_type(custom_field):
    """One contact field of each type."""
    custom_field("notes", "text")
    custom_field("score", "number")
    custom_field("renewal", "date")
    custom_field("newsletter", "boolean")
    custom_field("region", "select", choices=CHOICES)
    custom_field("products", "multiselect", choices=["Anvils", "Rockets", "Magnets"])
    custom_field("linkedin", "url", label="LinkedIn")
    custom_field("assistant", "email")
    custom_field("budget", "currency", currency="EUR")


VALID = [
    ("notes", "  likes tea  ", "likes tea"),
    ("notes", 12, "12"),
    ("score", "42", 42),
    ("score", 3.5, 3.5),
    ("score", "1,234.5", 1234.5),
    ("score", "-7", -7),
    ("renewal", "2026-01-31", "2026-01-31"),
    ("renewal", " 2026-12-01 ", "2026-12-01"),
    ("newsletter", True, True),
    ("newsletter", "yes", True),
    ("newsletter", "off", False),
    ("newsletter", "0", False),
    ("region", "EMEA", "EMEA"),
    ("products", ["Rockets", "Anvils", "Rockets"], ["Anvils", "Rockets"]),
    ("products", "Magnets, Anvils", ["Anvils", "Magnets"]),
    ("linkedin", "linkedin.com/in/ada", "https://linkedin.com/in/ada"),
    ("linkedin", "http://example.com/x", "http://example.com/x"),
    ("assistant", " Charles@Example.COM ", "charles@example.com"),
    ("budget", "1,250.5", "1250.50"),
    ("budget", 99, "99.00"),
    ("budget", "0.10", "0.10"),
    ("budget", "-20", "-20.00"),
    ("budget", "999999999999999.99", "999999999999999.99"),
    ("score", "999999999999999", 999999999999999),
]

INVALID = [
    ("notes", "x" * 2001, "2000"),
    ("score", "abc", "number"),
    ("score", True, "number"),
    ("score", "NaN", "number"),
    ("renewal", "31/01/2026", "YYYY-MM-DD"),
    ("renewal", "2026-02-30", "YYYY-MM-DD"),
    ("newsletter", "maybe", "true or false"),
    ("region", "Mars", "Mars"),
    ("region", "emea", "choices"),
    ("products", ["Anvils", "Pianos"], "Pianos"),
    ("products", 5, "list"),
    ("linkedin", "not a url", "web address"),
    ("linkedin", "ftp://example.com/file", "web address"),
    ("assistant", "charles-at-example", "@"),
    ("budget", "12.345", "2 decimal"),
    ("budget", "lots", "amount"),
    ("budget", False, "amount"),
    # Values the database cannot compare or store are refused up front, not a server error later.
    ("score", "1e400", "between"),
    ("score", -(10**16), "between"),
    ("budget", "1e30", "between"),
    ("budget", "9" * 29, "between"),
    ("notes", {"a": 1}, "text"),
    ("notes", ["a", "b"], "text"),
]


def test_valid_custom_field_values_are_normalised(admin, every_type):
    failures = []
    for n, (key, typed, stored) in enumerate(VALID):
        contact = services.create_contact(actor=admin, data={"first_name": f"Ada {n}", "custom_fields": {key: typed}})
        got = Contact.objects.get(pk=contact.pk).custom_fields
        if got != {key: stored}:
            failures.append((key, typed, got))
    assert failures == []


def test_invalid_custom_field_values_are_refused_naming_the_field(admin, every_type):
    failures = []
    before = db_state()
    for key, typed, message in INVALID:
        try:
            services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {key: typed}})
        except ValidationError as exc:
            errors = exc.message_dict
            if list(errors) != [f"custom_fields.{key}"] or message not in errors[f"custom_fields.{key}"][0]:
                failures.append((key, typed, errors))
        else:
            failures.append((key, typed, "accepted"))
    assert failures == []
    assert db_state() == before


def test_invalid_values_on_update_write_nothing(admin, every_type):
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"notes": "kept"}})
    before = db_state()
    for key, typed, _ in INVALID:
        with pytest.raises(ValidationError) as excinfo:
            services.update_contact(
                actor=admin, contact=contact, data={"last_name": "Lovelace", "custom_fields": {key: typed}}
            )
        assert f"custom_fields.{key}" in excinfo.value.message_dict
    assert db_state() == before


def test_every_bad_custom_field_is_reported_at_once(admin, every_type):
    with pytest.raises(ValidationError) as excinfo:
        services.create_contact(
            actor=admin,
            data={"first_name": "Ada", "custom_fields": {"score": "x", "renewal": "soon", "nope": 1}},
        )
    assert set(excinfo.value.message_dict) == {"custom_fields.score", "custom_fields.renewal", "custom_fields.nope"}


def test_unknown_custom_field_key_is_refused(admin, every_type):
    before = db_state()
    with pytest.raises(ValidationError) as excinfo:
        services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"shoe_size": 44}})
    assert "shoe_size" in excinfo.value.message_dict["custom_fields.shoe_size"][0]
    assert db_state() == before


@pytest.mark.parametrize("value", [["notes"], "notes=1", 5])
def test_custom_fields_must_be_an_object(admin, every_type, value):
    with pytest.raises(ValidationError) as excinfo:
        services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": value})
    assert "custom_fields" in excinfo.value.message_dict


def test_contact_fields_are_not_company_fields(admin, custom_field):
    custom_field("region", "text", object_type="contact")
    with pytest.raises(ValidationError) as excinfo:
        services.create_company(actor=admin, data={"name": "Acme", "custom_fields": {"region": "EMEA"}})
    assert "custom_fields.region" in excinfo.value.message_dict


def test_company_custom_fields(admin, custom_field):
    custom_field("arr", "currency", object_type="company", currency="USD", label="ARR")
    custom_field("founded", "date", object_type="company")
    company = services.create_company(
        actor=admin, data={"name": "Acme", "custom_fields": {"arr": "1,000,000", "founded": "1949-09-17"}}
    )
    assert Company.objects.get(pk=company.pk).custom_fields == {"arr": "1000000.00", "founded": "1949-09-17"}
    with pytest.raises(ValidationError) as excinfo:
        services.update_company(actor=admin, company=company, data={"custom_fields": {"arr": "a lot"}})
    assert list(excinfo.value.message_dict) == ["custom_fields.arr"]


def test_update_merges_values_and_empty_removes_one(admin, every_type):
    contact = services.create_contact(
        actor=admin, data={"first_name": "Ada", "custom_fields": {"notes": "tea", "score": 5}}
    )
    contact = services.update_contact(actor=admin, contact=contact, data={"custom_fields": {"region": "APAC"}})
    assert contact.custom_fields == {"notes": "tea", "score": 5, "region": "APAC"}
    contact = services.update_contact(actor=admin, contact=contact, data={"custom_fields": {"notes": "", "score": None}})
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"region": "APAC"}


def test_required_custom_field_is_needed_on_create(admin, custom_field):
    custom_field("region", "select", choices=CHOICES, required=True)
    before = db_state()
    for data in ({"first_name": "Ada"}, {"first_name": "Ada", "custom_fields": {"region": ""}}):
        with pytest.raises(ValidationError) as excinfo:
            services.create_contact(actor=admin, data=data)
        assert excinfo.value.message_dict == {"custom_fields.region": ["Region is required."]}
    assert db_state() == before
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"region": "EMEA"}})
    assert contact.custom_fields == {"region": "EMEA"}


def test_a_required_boolean_accepts_false(admin, custom_field):
    custom_field("consent", "boolean", required=True)
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"consent": False}})
    assert contact.custom_fields == {"consent": False}


def test_required_field_added_later_does_not_block_unrelated_updates(admin, custom_field):
    contact = services.create_contact(actor=admin, data={"first_name": "Ada"})
    custom_field("region", "select", choices=CHOICES, required=True)
    contact = services.update_contact(actor=admin, contact=contact, data={"last_name": "Lovelace"})
    assert contact.last_name == "Lovelace"
    # …but clearing it explicitly is refused.
    with pytest.raises(ValidationError) as excinfo:
        services.update_contact(actor=admin, contact=contact, data={"custom_fields": {"region": None}})
    assert list(excinfo.value.message_dict) == ["custom_fields.region"]


def test_required_company_field(admin, custom_field):
    custom_field("tier", "select", object_type="company", choices=["Gold", "Silver"], required=True)
    with pytest.raises(ValidationError) as excinfo:
        services.create_company(actor=admin, data={"name": "Acme"})
    assert list(excinfo.value.message_dict) == ["custom_fields.tier"]
    assert not Company.all_objects.exists()
