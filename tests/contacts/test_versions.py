"""Optimistic concurrency: version goes up on each real write, never on a no-op; a stale version writes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kith.contacts import services
from kith.contacts.models import Company, Contact
from kith.core import audit, records
from kith.core.errors import ConflictError

from .helpers import db_state


@pytest.fixture
def ada(admin, custom_field):
    custom_field("score", "number")
    return services.create_contact(
        actor=admin,
        data={"first_name": "Ada", "email": "ada@example.com", "phone": "(415) 555-2671", "tags": ["VIP"],
              "custom_fields": {"score": 5}},
    )


def version_of(contact) -> int:
    return Contact.all_objects.get(pk=contact.pk).version


def test_new_record_is_version_1(ada):
    assert version_of(ada) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": "Augusta"},
        {"email": "countess@example.com"},
        {"phone": "(415) 555-0000"},
        {"tags": ["VIP", "Math"]},
        {"tags": []},
        {"custom_fields": {"score": 6}},
        {"custom_fields": {"score": None}},
        {"country": "GB"},
    ],
)
def test_each_real_change_increments_the_version_once(admin, ada, change):
    before = Contact.objects.get(pk=ada.pk)
    updated = services.update_contact(actor=admin, contact=ada, data=change)
    assert updated.version == 2
    after = Contact.objects.get(pk=ada.pk)
    assert after.version == 2
    assert after.updated_at > before.updated_at
    assert audit.history(after).count() == 2


@pytest.mark.parametrize(
    "same",
    [
        {},
        {"first_name": "Ada"},
        {"first_name": "  Ada "},
        {"email": "ADA@example.com"},
        {"phone": "+1 415 555 2671"},
        {"tags": ["vip"]},
        {"custom_fields": {"score": "5"}},
        {"custom_fields": {}},
        {"first_name": "Ada", "email": "ada@example.com", "tags": ["VIP"]},
    ],
)
def test_a_no_op_update_changes_nothing(admin, ada, same):
    before = db_state()
    updated = services.update_contact(actor=admin, contact=ada, data=same)
    assert updated.version == 1
    assert db_state() == before


def test_versions_count_every_kind_of_write(admin, ada):
    services.update_contact(actor=admin, contact=ada, data={"last_name": "Lovelace"})
    services.update_contact(actor=admin, contact=ada, data={"last_name": "Lovelace"})  # no-op
    assert version_of(ada) == 2
    services.delete_contact(actor=admin, contact=ada)
    assert version_of(ada) == 3
    services.restore_contact(actor=admin, contact=ada)
    assert version_of(ada) == 4


def test_matching_expected_version_is_accepted(admin, ada):
    updated = services.update_contact(actor=admin, contact=ada, data={"last_name": "L"}, expected_version=1)
    assert updated.version == 2
    updated = services.update_contact(actor=admin, contact=ada, data={"last_name": "M"}, expected_version=2)
    assert updated.version == 3


def test_stale_version_is_a_conflict_and_writes_nothing(admin, ada):
    services.update_contact(actor=admin, contact=ada, data={"last_name": "Lovelace"})  # now version 2
    before = db_state()
    with pytest.raises(ConflictError) as excinfo:
        services.update_contact(actor=admin, contact=ada, data={"first_name": "Augusta", "tags": ["x"]},
                                expected_version=1)
    assert excinfo.value.current_version == 2
    assert "version 2" in excinfo.value.message
    assert db_state() == before
    assert Contact.objects.get(pk=ada.pk).first_name == "Ada"


def test_stale_version_on_delete_writes_nothing(admin, ada):
    services.update_contact(actor=admin, contact=ada, data={"last_name": "Lovelace"})
    before = db_state()
    with pytest.raises(ConflictError):
        services.delete_contact(actor=admin, contact=ada, expected_version=1)
    assert db_state() == before
    assert not Contact.all_objects.get(pk=ada.pk).in_trash


def test_an_object_read_before_someone_elses_write_still_conflicts(admin, manager, ada):
    stale_copy = Contact.objects.get(pk=ada.pk)
    services.update_contact(actor=manager, contact=ada, data={"job_title": "Analyst"})
    with pytest.raises(ConflictError):
        services.update_contact(actor=admin, contact=stale_copy, data={"job_title": "Poet"},
                                expected_version=stale_copy.version)
    assert Contact.objects.get(pk=ada.pk).job_title == "Analyst"


def test_company_versions_and_conflicts(admin):
    company = services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.com"})
    same = services.update_company(actor=admin, company=company, data={"domain": "https://www.acme.com/"})
    assert same.version == 1
    changed = services.update_company(actor=admin, company=company, data={"size": 5}, expected_version=1)
    assert changed.version == 2
    before = db_state()
    with pytest.raises(ConflictError):
        services.update_company(actor=admin, company=company, data={"size": 6}, expected_version=1)
    assert db_state() == before
    assert Company.objects.get(pk=company.pk).size == 5


@pytest.mark.parametrize(("raw", "version"), [("3", 3), ('"3"', 3), ('W/"3"', 3), (7, 7), (None, None), ("", None)])
def test_parse_version_reads_body_values_and_etags(raw, version):
    assert records.parse_version(raw) == version


@pytest.mark.parametrize("raw", ["three", "-1", "3.0", 'W/"x"'])
def test_parse_version_refuses_non_numbers(raw):
    with pytest.raises(ValidationError) as excinfo:
        records.parse_version(raw)
    assert "version" in excinfo.value.message_dict
