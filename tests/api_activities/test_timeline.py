"""GET /api/v1/{contacts|companies|leads|deals}/{id}/timeline: one stream of activities, tasks, comments and
changes, pinned notes first, type filter, keyset pages without repeats, company roll-up, visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Comment
from kith.contacts.models import Contact
from kith.contacts.services import update_contact
from kith.core.models import AuditEntry

from .conftest import assert_error_shape, error_fields

pytestmark = pytest.mark.django_db


def pages(client, path: str, **params) -> list[dict]:
    """Every page of a timeline, following next_cursor."""
    out, cursor = [], None
    for _ in range(50):
        r = client.get(path, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.content
        out.append(r.json())
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out
    raise AssertionError("too many pages")


@pytest.fixture
def busy_contact(admin, manager, jon):
    """jon with 9 activities, 1 task, 5 comments and several changes, interleaved in time."""
    now = timezone.now()
    base = now - dt.timedelta(days=30)
    kinds = ["call", "note", "meeting", "email"]
    for i in range(9):
        data = {"type": kinds[i % 4], "subject": f"activity {i}", "body": f"text {i}",
                "occurred_at": (base + dt.timedelta(days=3 * i)).isoformat(), "related": [f"contact:{jon.pk}"]}
        if data["type"] == "email":
            data["email_to"] = ["jon@acme.example"]
        services.log_activity(actor=admin, data=data)
    services.create_task(actor=admin, data={"subject": "the task", "due_at": (base + dt.timedelta(days=4)).isoformat(),
                                           "related": [f"contact:{jon.pk}"]})
    for i in range(5):
        c = services.add_comment(actor=manager, record_type="contact", record_id=jon.pk, body=f"comment {i}")
        Comment.objects.filter(pk=c.pk).update(created_at=base + dt.timedelta(days=3 * i + 1))
    for i, title in enumerate(["CEO", "CTO", "CFO"]):
        update_contact(actor=admin, contact=Contact.objects.get(pk=jon.pk), data={"job_title": title})
    ct = ContentType.objects.get_for_model(Contact)
    for i, entry in enumerate(AuditEntry.objects.filter(content_type=ct, object_id=jon.pk).order_by("id")):
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=base + dt.timedelta(days=5 * i + 2))
    return jon


def test_pages_mix_every_kind_without_repeats(api, busy_contact):
    ct = ContentType.objects.get_for_model(Contact)
    changes = AuditEntry.objects.filter(content_type=ct, object_id=busy_contact.pk).count()
    assert changes == 4  # created + three updates
    result = pages(api, f"contacts/{busy_contact.pk}/timeline", limit=4)
    assert len(result) >= 3
    entries = [e for page in result for e in page["items"]]
    keys = [(e["kind"], e["id"]) for e in entries]
    assert len(keys) == len(set(keys)) == 9 + 1 + 5 + changes
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert {e["type"] for e in entries} == {"call", "note", "meeting", "email", "task", "comment", "change"}
    # The pages themselves mix kinds.
    assert any(len({e["kind"] for e in page["items"]}) > 1 for page in result)

    by_kind = {e["kind"]: e for e in entries}
    assert by_kind["comment"]["comment"]["author_name"] == "Maria Manager"
    assert by_kind["comment"]["comment"]["body_html"].startswith("<p>comment")
    assert by_kind["comment"]["activity"] is None and by_kind["comment"]["change"] is None
    change = next(e["change"] for e in entries if e["kind"] == "change" and e["change"]["action"] == "update")
    assert change["actor"]["email"] == "alice@example.com" and "job_title" in change["changes"]
    task = next(e["activity"] for e in entries if e["type"] == "task")
    assert task["status"] == "open" and task["subject"] == "the task"
    email = next(e["activity"] for e in entries if e["type"] == "email")
    assert email["email_to"] == ["jon@acme.example"] and email["status"] is None


def test_type_filter(api, busy_contact):
    def kinds(types):
        entries = [e for p in pages(api, f"contacts/{busy_contact.pk}/timeline", types=types, limit=3) for e in p["items"]]
        return [e["type"] for e in entries]

    assert kinds("call") == ["call"] * 3
    assert set(kinds("comment,change")) == {"comment", "change"} and len(kinds("comment,change")) == 9
    assert sorted(set(kinds("note,task"))) == ["note", "task"]
    r = api.get(f"contacts/{busy_contact.pk}/timeline", types="call,fax")
    assert_error_shape(r, 422)
    assert error_fields(r) == {"types"}
    assert error_fields(api.get(f"contacts/{busy_contact.pk}/timeline", cursor="nonsense")) == {"cursor"}
    assert error_fields(api.get(f"contacts/{busy_contact.pk}/timeline", limit=101)) == {"limit"}


def test_pinned_notes_come_first_on_the_first_page_only(api, admin, busy_contact):
    old = timezone.now() - dt.timedelta(days=300)
    pinned = services.log_activity(actor=admin, data={"type": "note", "body": "Always call after 10am", "pinned": True,
                                                      "occurred_at": old.isoformat(),
                                                      "related": [f"contact:{busy_contact.pk}"]})
    result = pages(api, f"contacts/{busy_contact.pk}/timeline", limit=5)
    assert [(e["id"], e["pinned"]) for e in result[0]["pinned"]] == [(pinned.pk, True)]
    assert result[0]["pinned"][0]["activity"]["body"] == "Always call after 10am"
    assert all(p["pinned"] == [] for p in result[1:])
    assert pinned.pk not in [e["id"] for p in result for e in p["items"] if e["kind"] == "activity"]
    # Without notes in the filter there is nothing pinned.
    assert api.get(f"contacts/{busy_contact.pk}/timeline", types="call").json()["pinned"] == []


def test_company_timeline_rolls_up_contacts_and_deals(api, admin, acme, jon):
    from kith.sales.services import create_deal

    deal = create_deal(actor=admin, data={"name": "Acme renewal", "company_id": acme.pk})
    call = services.log_activity(actor=admin, data={"type": "call", "subject": "with Jon", "related": [f"contact:{jon.pk}"]})
    meeting = services.log_activity(actor=admin, data={"type": "meeting", "subject": "renewal",
                                                       "related": [f"deal:{deal.pk}"]})
    own = services.log_activity(actor=admin, data={"type": "note", "body": "company note",
                                                   "related": [f"company:{acme.pk}"]})
    items = api.get(f"companies/{acme.pk}/timeline", types="call,meeting,note").json()["items"]
    assert [e["id"] for e in items] == [own.pk, meeting.pk, call.pk]
    assert [e["id"] for e in api.get(f"deals/{deal.pk}/timeline", types="meeting").json()["items"]] == [meeting.pk]
    assert [e["id"] for e in api.get(f"contacts/{jon.pk}/timeline", types="call,meeting,note").json()["items"]] == [
        call.pk]
    # Field changes of the deal (its creation) are on its own timeline.
    assert {e["kind"] for e in api.get(f"deals/{deal.pk}/timeline").json()["items"]} == {"activity", "change"}


def test_lead_timeline_and_visibility(api, api_for, admin, member, jon, settings):
    from kith.sales.services import create_lead

    lead = create_lead(actor=admin, data={"first_name": "Lea", "last_name": "Lead", "email": "lea@example.com",
                                          "owner_id": admin.pk})
    call = services.log_activity(actor=admin, data={"type": "call", "subject": "first touch",
                                                    "related": [f"lead:{lead.pk}"]})
    assert api.get(f"leads/{lead.pk}/timeline", types="call").json()["items"][0]["id"] == call.pk
    assert_error_shape(api.get("leads/999999/timeline"), 404)

    settings.KITH_RECORD_VISIBILITY = "own"
    as_member = api_for(member)
    for path in (f"leads/{lead.pk}/timeline", f"contacts/{jon.pk}/timeline"):
        assert_error_shape(as_member.get(path), 404)
    # The record's other routes are untouched by the timeline's.
    assert api.get(f"contacts/{jon.pk}").status_code == 200
    assert api.get(f"contacts/{jon.pk}/history").status_code == 200


def test_entries_at_the_same_instant_are_neither_repeated_nor_lost(api, admin, jon):
    instant = (timezone.now() - dt.timedelta(days=1)).replace(microsecond=0)
    for i in range(4):
        services.log_activity(actor=admin, data={"type": "note", "body": f"n{i}", "occurred_at": instant.isoformat(),
                                                 "related": [f"contact:{jon.pk}"]})
        services.add_comment(actor=admin, record_type="contact", record_id=jon.pk, body=f"c{i}")
    Comment.objects.filter(record_id=jon.pk).update(created_at=instant)
    ct = ContentType.objects.get_for_model(Contact)
    AuditEntry.objects.filter(content_type=ct, object_id=jon.pk).update(created_at=instant)
    result = pages(api, f"contacts/{jon.pk}/timeline", limit=3)
    keys = [(e["kind"], e["id"]) for p in result for e in p["items"]]
    assert len(result) == 3 and len(keys) == len(set(keys)) == 9
