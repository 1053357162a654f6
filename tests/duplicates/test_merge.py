"""Merging two records: field choices, nothing lost, related rows moved, history, and undo."""

from __future__ import annotations

import pytest

from kith.contacts import services as contacts
from kith.contacts.models import Company, Contact
from kith.core import audit
from kith.core.errors import ConflictError, PermissionDenied, ValidationError
from kith.duplicates import detection
from kith.duplicates.models import DuplicatePair, Merge
from kith.duplicates.services import merge, undo_merge
from kith.sales import services as sales
from kith.sales.models import Deal, DealContact, Lead

pytestmark = pytest.mark.django_db


def actions(obj):
    return [e.action for e in audit.history(obj)]


@pytest.fixture
def pair(contact, company, custom_field):
    custom_field("tier", "select", choices=["Gold", "Silver"])
    custom_field("notes_cf", "text")
    acme = company(name="Acme Ltd", domain="acme.com")
    keep = contact(first_name="Jon", last_name="Smith", email="jon@acme.com", phone="+44 20 7946 0018",
                   mobile="+44 7911 123456", job_title="", company_id=acme.pk, tags=["VIP"],
                   custom_fields={"tier": "Gold"})
    lose = contact(first_name="Jonathan", last_name="Smith", email="jonathan.smith@gmail.com",
                   additional_emails=["js@old.example"], phone="+44 20 7946 0999", job_title="CTO",
                   tags=["Newsletter", "vip"], custom_fields={"tier": "Silver", "notes_cf": "met at expo"})
    return keep, lose


def test_field_choices_emails_phones_tags_custom_fields(pair, admin):
    keep, lose = pair
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk,
              choices={"first_name": "loser", "email": "loser", "custom_fields.tier": "loser"})
    keep.refresh_from_db()
    assert keep.first_name == "Jonathan"  # chosen
    assert keep.last_name == "Smith"
    assert keep.job_title == "CTO"  # empty on the survivor: the loser's by default
    assert keep.company.name == "Acme Ltd"  # empty on the loser: kept
    assert keep.email == "jonathan.smith@gmail.com"
    assert keep.additional_emails == ["jon@acme.com", "js@old.example"]  # every email kept
    # Both have a phone: the newer record's (the loser's) wins by default; the other fits no field,
    # so it is kept on the merge and in the history entry.
    assert keep.phone == "+442079460999" and keep.mobile == "+447911123456"
    assert m.extra_phones == ["+442079460018"]
    assert keep.tag_names == ["Newsletter", "VIP"]
    assert keep.custom_fields == {"tier": "Silver", "notes_cf": "met at expo"}
    lose = Contact.all_objects.get(pk=lose.pk)
    assert lose.in_trash
    entry = audit.history(keep).first()
    assert entry.action == "merge"
    assert entry.changes["merged_from"]["new"]["label"] == f"Jonathan Smith (#{lose.pk})"
    assert entry.changes["other_phones"]["new"] == ["+442079460018"]
    assert entry.actor == admin
    note = audit.history(lose).first()
    assert note.action == "delete" and note.changes["merged_into"]["new"]["id"] == keep.pk


def test_related_records_and_history_move(contact, company, admin):
    a = company(name="Acme Ltd", domain="acme.com")
    b = company(name="ACME Limited", domain="acme.co.uk")
    p1 = contact(first_name="Ann", company_id=b.pk)
    p2 = contact(first_name="Ben", company_id=b.pk)
    deal = sales.create_deal(actor=admin, data={"name": "Rollout", "company_id": b.pk,
                                                "contact_ids": [p1.pk], "primary_contact_id": p1.pk})
    lead = sales.create_lead(actor=admin, data={"first_name": "Lea", "company_name": "ACME"})
    Lead.objects.filter(pk=lead.pk).update(converted_company=b)
    contacts.update_company(actor=admin, company=b, data={"industry": "Tools"})
    m = merge(actor=admin, object_type="company", survivor_id=a.pk, loser_id=b.pk, choices={"domain": "survivor"})
    assert set(Contact.objects.filter(company=a).values_list("pk", flat=True)) == {p1.pk, p2.pk}
    assert Deal.objects.get(pk=deal.pk).company_id == a.pk
    assert Lead.objects.get(pk=lead.pk).converted_company_id == a.pk
    a.refresh_from_db()
    assert a.domain == "acme.com" and a.industry == "Tools"
    # b's own history (created, updated) now shows on a, before the merge entry
    hist = actions(a)
    assert hist[0] == "merge" and hist.count("create") == 2 and "update" in hist
    from kith.duplicates.movers import describe

    assert set(describe(m.moved)) >= {"2 people", "1 deal", "1 converted lead"}

    undo_merge(actor=admin, merge_id=m.pk)
    assert set(Contact.objects.filter(company=b).values_list("pk", flat=True)) == {p1.pk, p2.pk}
    assert Deal.objects.get(pk=deal.pk).company_id == b.pk
    assert Lead.objects.get(pk=lead.pk).converted_company_id == b.pk
    b = Company.objects.get(pk=b.pk)  # live again
    assert actions(b)[0] == "restore" and "create" in actions(b)
    assert actions(a)[0] == "unmerge" and actions(a).count("create") == 1


def test_people_and_deals_moved_by_a_company_merge_show_it_in_their_own_history(contact, company, admin, manager):
    a = company(name="Acme Ltd", domain="acme.com")
    b = company(name="ACME Limited", domain="acme.co.uk")
    ann = contact(first_name="Ann", company_id=b.pk)
    deal = sales.create_deal(actor=admin, data={"name": "Rollout", "company_id": b.pk})
    versions = (ann.version, Deal.objects.get(pk=deal.pk).version)
    m = merge(actor=manager, object_type="company", survivor_id=a.pk, loser_id=b.pk)
    for obj, before in zip((Contact.objects.get(pk=ann.pk), Deal.objects.get(pk=deal.pk)), versions, strict=True):
        entry = audit.history(obj).first()
        assert (entry.action, entry.actor) == ("update", manager)
        assert entry.changes["company"]["old"]["label"] == "ACME Limited"
        assert entry.changes["company"]["new"] == {"id": a.pk, "label": "Acme Ltd"}
        assert obj.version == before + 1  # an edit form opened before the merge is now out of date
    undo_merge(actor=admin, merge_id=m.pk)
    ann = Contact.objects.get(pk=ann.pk)
    entry = audit.history(ann).first()
    assert (entry.action, entry.actor) == ("update", admin)
    assert (entry.changes["company"]["old"]["id"], entry.changes["company"]["new"]["id"]) == (a.pk, b.pk)
    assert ann.company_id == b.pk and ann.version == versions[0] + 2


def test_deal_links_move_and_shared_deal_keeps_one_link(contact, admin):
    keep = contact(first_name="Jon", last_name="Smith")
    lose = contact(first_name="Jon", last_name="Smyth")
    shared = sales.create_deal(actor=admin, data={"name": "Shared", "contact_ids": [keep.pk, lose.pk],
                                                  "primary_contact_id": lose.pk})
    own = sales.create_deal(actor=admin, data={"name": "Own", "contact_ids": [lose.pk]})
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk)
    assert list(DealContact.objects.filter(deal=shared).values_list("contact_id", "is_primary")) == [(keep.pk, True)]
    assert list(DealContact.objects.filter(deal=own).values_list("contact_id", flat=True)) == [keep.pk]
    undo_merge(actor=admin, merge_id=m.pk)
    assert sorted(DealContact.objects.filter(deal=shared).values_list("contact_id", "is_primary")) == \
        sorted([(keep.pk, False), (lose.pk, True)])
    assert list(DealContact.objects.filter(deal=own).values_list("contact_id", flat=True)) == [lose.pk]


def test_undo_restores_everything(pair, admin):
    keep, lose = pair
    before = Contact.objects.filter(pk=keep.pk).values().get()
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk,
              choices={"email": "loser", "first_name": "loser"})
    undone = undo_merge(actor=admin, merge_id=m.pk)
    assert undone.undone_at is not None
    after = Contact.objects.filter(pk=keep.pk).values().get()
    for key in ("first_name", "email", "additional_emails", "phone", "mobile", "job_title", "custom_fields",
                "company_id"):
        assert after[key] == before[key], key
    keep.refresh_from_db()
    assert keep.tag_names == ["VIP"]
    lose = Contact.objects.get(pk=lose.pk)  # live again, its email back
    assert lose.email == "jonathan.smith@gmail.com" and lose.tag_names == ["Newsletter", "VIP"]
    with pytest.raises(ConflictError, match="already undone"):
        undo_merge(actor=admin, merge_id=m.pk)


def test_undo_refused_when_survivor_changed(pair, admin):
    keep, lose = pair
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk)
    contacts.update_contact(actor=admin, contact=Contact.objects.get(pk=keep.pk), data={"job_title": "CEO"})
    with pytest.raises(ConflictError) as exc:
        undo_merge(actor=admin, merge_id=m.pk)
    assert "was changed after the merge (Job title)" in exc.value.message
    assert Contact.all_objects.get(pk=lose.pk).in_trash


def test_undo_refused_when_loser_restored(pair, admin):
    keep, lose = pair
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk, choices={"email": "survivor"})
    contacts.restore_contact(actor=admin, contact=Contact.all_objects.get(pk=lose.pk))
    with pytest.raises(ConflictError, match="was restored from the trash"):
        undo_merge(actor=admin, merge_id=m.pk)


def test_bad_merges_write_nothing(pair, admin, viewer):
    keep, lose = pair
    with pytest.raises(ValidationError) as exc:
        merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=keep.pk)
    assert "loser_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk, choices={"nope": "loser"})
    assert exc.value.message_dict == {"fields.nope": ["Unknown field."]}
    with pytest.raises(ValidationError) as exc:
        merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=999999)
    assert "loser_id" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        merge(actor=viewer, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk)
    assert not Merge.objects.exists()
    assert not Contact.all_objects.filter(deleted_at__isnull=False).exists()


def test_merge_resolves_the_pair_and_scan_does_not_repropose(contact, admin):
    a = contact(first_name="Ken", last_name="Adams", email="ken@acme.com")
    b = contact(first_name="Ken", last_name="Adams", email="k.adams@acme.com")
    c = contact(first_name="Kenny", last_name="Adams", email="ken.adams@acme.com")
    detection.scan("contact")
    p = DuplicatePair.objects.get(a_id=a.pk, b_id=b.pk)
    assert DuplicatePair.objects.filter(status="open").count() == 3
    merge(actor=admin, object_type="contact", survivor_id=a.pk, loser_id=b.pk, pair_id=p.pk)
    p.refresh_from_db()
    assert p.status == "merged"
    # pairs with the loser went; a~c remains
    assert list(DuplicatePair.objects.filter(status="open").values_list("a_id", "b_id")) == [(a.pk, c.pk)]
    detection.scan("contact", full=True)
    assert list(DuplicatePair.objects.filter(status="open").values_list("a_id", "b_id")) == [(a.pk, c.pk)]


def test_activities_and_comments_move_with_the_merge(contact, admin):
    from kith.activities import services as activities
    from kith.activities.models import ActivityLink, Comment

    keep = contact(first_name="Jon", last_name="Smith")
    lose = contact(first_name="Jon", last_name="Smyth")
    call = activities.log_activity(actor=admin, data={"type": "call", "subject": "Intro call",
                                                      "related": [{"type": "contact", "id": lose.pk}]})
    activities.add_comment(actor=admin, record_type="contact", record_id=lose.pk, body="Met at the fair")
    m = merge(actor=admin, object_type="contact", survivor_id=keep.pk, loser_id=lose.pk)
    assert list(ActivityLink.objects.filter(activity=call).values_list("record_id", flat=True)) == [keep.pk]
    assert Comment.all_objects.get().record_id == keep.pk
    from kith.duplicates.movers import describe

    assert {"1 activity", "1 comment"} <= set(describe(m.moved))
    undo_merge(actor=admin, merge_id=m.pk)
    assert list(ActivityLink.objects.filter(activity=call).values_list("record_id", flat=True)) == [lose.pk]
    assert Comment.all_objects.get().record_id == lose.pk
