"""KITH_RECORD_VISIBILITY: "own" hides others' records from members and viewers, never from managers and admins."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.contacts import services
from kith.contacts.models import Company, Contact
from kith.core import permissions

from .helpers import db_state


@pytest.fixture
def records_by_owner(admin, manager, member, viewer):
    def contact(name, owner):
        return services.create_contact(actor=admin, data={"first_name": name, "owner_id": owner.pk if owner else None})

    return {
        "bobs": contact("Bobs", member),
        "marias": contact("Marias", manager),
        "victors": contact("Victors", viewer),
        "nobodys": contact("Nobodys", None),
        "bobs_company": services.create_company(actor=admin, data={"name": "Bob Co", "owner_id": member.pk}),
        "marias_company": services.create_company(actor=admin, data={"name": "Maria Co", "owner_id": manager.pk}),
    }


def names(user, model=Contact):
    field = "first_name" if model is Contact else "name"
    return sorted(permissions.visible(model, user).values_list(field, flat=True))


def test_by_default_everyone_sees_every_record(settings, records_by_owner, member, viewer):
    settings.KITH_RECORD_VISIBILITY = "all"
    everyone = ["Bobs", "Marias", "Nobodys", "Victors"]
    assert names(member) == everyone
    assert names(viewer) == everyone


def test_own_shows_members_their_records_and_unowned_ones(settings, records_by_owner, member, viewer):
    settings.KITH_RECORD_VISIBILITY = "own"
    assert names(member) == ["Bobs", "Nobodys"]
    assert names(viewer) == ["Nobodys", "Victors"]
    assert names(member, Company) == ["Bob Co"]


def test_own_never_hides_anything_from_managers_and_admins(settings, records_by_owner, admin, manager):
    settings.KITH_RECORD_VISIBILITY = "own"
    assert names(admin) == ["Bobs", "Marias", "Nobodys", "Victors"]
    assert names(manager) == ["Bobs", "Marias", "Nobodys", "Victors"]
    assert names(manager, Company) == ["Bob Co", "Maria Co"]


def test_visible_narrows_a_given_queryset_and_hides_all_from_inactive_or_anonymous(settings, records_by_owner, member):
    from django.contrib.auth.models import AnonymousUser

    settings.KITH_RECORD_VISIBILITY = "own"
    qs = Contact.objects.filter(first_name__startswith="B")
    assert [c.first_name for c in permissions.visible(qs, member)] == ["Bobs"]
    assert not permissions.visible(Contact, AnonymousUser()).exists()
    assert not permissions.visible(Contact, None).exists()
    member.is_active = False
    assert not permissions.visible(Contact, member).exists()


def test_can_see_follows_the_rule(settings, records_by_owner, member, manager):
    settings.KITH_RECORD_VISIBILITY = "own"
    assert permissions.can_see(member, records_by_owner["bobs"])
    assert not permissions.can_see(member, records_by_owner["marias"])
    assert permissions.can_see(manager, records_by_owner["bobs"])


def test_members_cannot_change_records_they_cannot_see(settings, records_by_owner, member):
    settings.KITH_RECORD_VISIBILITY = "own"
    marias = records_by_owner["marias"]
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.update_contact(actor=member, contact=marias, data={"first_name": "Mine"})
    with pytest.raises(PermissionDenied):
        services.delete_contact(actor=member, contact=marias)
    with pytest.raises(PermissionDenied):
        services.update_company(actor=member, company=records_by_owner["marias_company"], data={"name": "Mine"})
    assert db_state() == before
    # Their own and unowned records they can change.
    services.update_contact(actor=member, contact=records_by_owner["bobs"], data={"last_name": "B"})
    services.update_contact(actor=member, contact=records_by_owner["nobodys"], data={"last_name": "N"})


def test_members_cannot_link_a_company_they_cannot_see(settings, records_by_owner, member):
    settings.KITH_RECORD_VISIBILITY = "own"
    with pytest.raises(ValidationError) as excinfo:
        services.create_contact(
            actor=member, data={"first_name": "X", "company_id": records_by_owner["marias_company"].pk}
        )
    assert "company_id" in excinfo.value.message_dict
    contact = services.create_contact(
        actor=member, data={"first_name": "X", "company_id": records_by_owner["bobs_company"].pk}
    )
    assert contact.company == records_by_owner["bobs_company"]


def test_with_all_members_may_change_others_records(settings, records_by_owner, member):
    settings.KITH_RECORD_VISIBILITY = "all"
    updated = services.update_contact(actor=member, contact=records_by_owner["marias"], data={"last_name": "M"})
    assert updated.last_name == "M"
