"""Change history (kith.core.audit): who changed what, old and new values with human labels, newest first."""

from __future__ import annotations

import pytest

from kith.contacts import services
from kith.contacts.models import Contact
from kith.core import audit, search
from kith.core.models import AuditEntry


@pytest.fixture
def ada(admin, custom_field):
    custom_field("region", "select", choices=["EMEA", "APAC"], label="Sales region")
    return services.create_contact(
        actor=admin,
        data={"first_name": "Ada", "email": "ada@example.com", "tags": ["VIP"], "custom_fields": {"region": "EMEA"}},
    )


def test_create_entry_lists_the_initial_values_with_labels(admin, ada):
    [entry] = audit.history(ada)
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.get_action_display() == "Created"
    assert entry.actor == admin
    assert entry.actor_label == "alice@example.com"
    assert entry.object_repr == "Ada"
    assert entry.changes["first_name"] == {"old": None, "new": "Ada", "label": "First name"}
    assert entry.changes["email"] == {"old": None, "new": "ada@example.com", "label": "Email"}
    assert entry.changes["tags"] == {"old": None, "new": ["VIP"], "label": "Tags"}
    assert entry.changes["custom_fields.region"] == {"old": None, "new": "EMEA", "label": "Sales region"}
    assert entry.changes["owner"]["new"] == {"id": admin.pk, "label": "Alice Admin"}
    # Empty fields are not listed.
    assert "last_name" not in entry.changes
    assert "phone" not in entry.changes


def test_update_entry_has_old_and_new_values_of_the_changed_fields_only(manager, ada):
    services.update_contact(
        actor=manager,
        contact=ada,
        data={"last_name": "Lovelace", "email": "ada@example.com", "tags": ["VIP", "Math"],
              "custom_fields": {"region": "APAC"}},
    )
    entry = audit.history(ada).first()
    assert entry.action == "update"
    assert entry.actor == manager
    assert entry.object_repr == "Ada Lovelace"
    assert entry.changes == {
        "last_name": {"old": "", "new": "Lovelace", "label": "Last name"},
        "tags": {"old": ["VIP"], "new": ["Math", "VIP"], "label": "Tags"},
        "custom_fields.region": {"old": "EMEA", "new": "APAC", "label": "Sales region"},
    }


def test_relations_are_recorded_with_their_labels(admin, member, ada):
    acme = services.create_company(actor=admin, data={"name": "Acme"})
    services.update_contact(actor=admin, contact=ada, data={"owner_id": member.pk, "company_id": acme.pk})
    changes = audit.history(ada).first().changes
    assert changes["owner"] == {
        "old": {"id": admin.pk, "label": "Alice Admin"},
        "new": {"id": member.pk, "label": "Bob Member"},
        "label": "Owner",
    }
    assert changes["company"] == {"old": None, "new": {"id": acme.pk, "label": "Acme"}, "label": "Company"}


def test_clearing_a_custom_field_is_recorded(admin, ada):
    services.update_contact(actor=admin, contact=ada, data={"custom_fields": {"region": None}})
    assert audit.history(ada).first().changes == {
        "custom_fields.region": {"old": "EMEA", "new": None, "label": "Sales region"}
    }


def test_history_is_newest_first_with_every_action(admin, manager, ada):
    services.update_contact(actor=manager, contact=ada, data={"job_title": "Analyst"})
    services.delete_contact(actor=admin, contact=ada)
    services.restore_contact(actor=manager, contact=ada)
    entries = list(audit.history(ada))
    assert [e.action for e in entries] == ["restore", "delete", "update", "create"]
    assert [e.actor for e in entries] == [manager, admin, manager, admin]
    assert [e.get_action_display() for e in entries] == ["Restored", "Moved to trash", "Updated", "Created"]
    assert entries[0].changes == {} and entries[1].changes == {}


def test_no_op_update_adds_no_entry(admin, ada):
    services.update_contact(actor=admin, contact=ada, data={"first_name": "Ada", "tags": ["vip"]})
    assert audit.history(ada).count() == 1


def test_history_is_per_record(admin, ada):
    other = services.create_contact(actor=admin, data={"first_name": "Grace"})
    services.update_contact(actor=admin, contact=other, data={"last_name": "Hopper"})
    assert audit.history(ada).count() == 1
    assert audit.history(other).count() == 2
    company = services.create_company(actor=admin, data={"name": "Acme"})
    # Same id on another model does not mix histories.
    assert all(e.content_type.model == "company" for e in audit.history(company))


def test_entry_keeps_who_did_it_when_the_user_is_deleted(admin, member, ada):
    services.update_contact(actor=member, contact=ada, data={"job_title": "Analyst"})
    member.delete()
    entry = audit.history(ada).first()
    assert entry.actor is None
    assert entry.actor_label == "bob@example.com"


def test_company_history_uses_company_labels(admin):
    company = services.create_company(actor=admin, data={"name": "Acme", "size": 10, "annual_revenue": "1000"})
    services.update_company(actor=admin, company=company, data={"size": 12, "annual_revenue": "1000.00"})
    changes = audit.history(company).first().changes
    assert changes == {"size": {"old": 10, "new": 12, "label": "Employees"}}
    first = audit.history(company).last().changes
    assert first["annual_revenue"] == {"old": None, "new": "1000.00", "label": "Annual revenue"}
    assert first["name"] == {"old": None, "new": "Acme", "label": "Name"}


def test_renaming_a_company_reindexes_its_contacts(admin):
    acme = services.create_company(actor=admin, data={"name": "Acme Anvils"})
    ada = services.create_contact(actor=admin, data={"first_name": "Ada", "company_id": acme.pk})
    gone = services.create_contact(actor=admin, data={"first_name": "Gone", "company_id": acme.pk})
    services.delete_contact(actor=admin, contact=gone)

    def contacts_found(q):
        return [oid for kind, oid, _ in search.search(q, kinds=["contact"])]

    assert contacts_found("anvils") == [ada.pk]

    services.update_company(actor=admin, company=acme, data={"name": "Globex Rockets"})
    assert contacts_found("globex") == [ada.pk]
    assert contacts_found("anvils") == []
    # A trashed contact is not brought back into search by the rename.
    assert contacts_found("gone") == []
    assert Contact.all_objects.get(pk=gone.pk).in_trash


def test_a_history_row_stores_the_current_request_id(admin):
    from kith.core import context

    token = context.request_id.set("req-1234")
    try:
        contact = services.create_contact(actor=admin, data={"first_name": "Ada"})
    finally:
        context.request_id.reset(token)
    other = services.create_contact(actor=admin, data={"first_name": "Grace"})
    assert audit.history(contact).first().request_id == "req-1234"
    assert audit.history(other).first().request_id == ""
