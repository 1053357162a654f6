"""Logging calls, meetings, notes and emails from a record page (inline htmx forms and their no-JS pages),
form errors next to the fields, the activity page (edit, trash, restore, pin, history), comments with
@mentions that notify, and the pickers' lookups."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.activities.models import Activity, ActivityLink, Comment
from kith.contacts.services import create_company, create_contact
from kith.core.models import Notification

from .test_web_timeline import entry_ids, page_text

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ada(admin):
    acme = create_company(actor=admin, data={"name": "Acme Rockets", "domain": "acmerockets.com"})
    return create_contact(
        actor=admin,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@acmerockets.com",
            "company_id": acme.pk,
        },
    )


def log_url(record, kind):
    return reverse("web:activity_log", args=[record.object_type, record.pk, kind])


def field_error(html: str, field_id: str) -> str:
    m = re.search(rf'<div class="field-error" id="{field_id}_error">(.*?)</div>', html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", m.group(1)).strip() if m else ""


def test_inline_call_form_is_prefilled_and_logging_shows_the_call_on_top(admin, ada):
    client = signed_in(admin)
    form = client.get(log_url(ada, "call"), **HX)
    assert form.status_code == 200
    html = form.content.decode()
    assert "<html" not in html
    assert f'hx-post="{log_url(ada, "call")}"' in html
    assert f'name="related" value="contact:{ada.pk}"' in html  # the record is preselected
    assert "Ada Lovelace" in page_text(form)

    r = client.post(
        log_url(ada, "call"),
        {
            "subject": "Discovery call",
            "direction": "outbound",
            "outcome_choice": "connected",
            "duration": "12:30",
            "body": "She wants **three** rockets",
            "related": [f"contact:{ada.pk}"],
        },
        **HX,
    )
    assert r.status_code == 200
    call = Activity.objects.get(subject="Discovery call")
    assert call.type == "call" and call.duration_seconds == 750 and call.outcome == "connected"
    assert call.owner == admin
    body = r.content.decode()
    assert 'id="timeline-body" class="tl-body" hx-swap-oob="true"' in body
    assert entry_ids(body)[0] == f"activity-{call.pk}"  # newest on top, without a reload
    assert "The call was logged" in page_text(r)
    # The contact's company sees it too.
    assert ActivityLink.objects.filter(
        activity=call, record_type="company", record_id=ada.company_id
    ).exists()


def test_log_a_meeting_with_attendees_and_another_related_record(admin, member, ada):
    from kith.sales import services as sales

    sales.ensure_default_pipeline()
    deal = sales.create_deal(actor=admin, data={"name": "Rocket deal", "amount": "10"})
    client = signed_in(admin)
    form = client.get(log_url(ada, "meeting"), **HX).content.decode()
    assert f'name="attendees" value="contact:{ada.pk}"' in form
    assert f'name="attendees" value="user:{admin.pk}"' in form
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    r = client.post(
        log_url(ada, "meeting"),
        {
            "subject": "Engine demo",
            "occurred_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "location": "Hangar 2",
            "video_url": "https://meet.example.com/xyz",
            "body": "Agenda: the engine",
            "attendees": [f"contact:{ada.pk}", f"user:{member.pk}"],
            "attendee_emails": "guest@example.org",
            "reminder": "30",
            "related": [f"contact:{ada.pk}", f"deal:{deal.pk}"],
        },
        **HX,
    )
    assert r.status_code == 200, page_text(r)
    meeting = Activity.objects.get(subject="Engine demo")
    assert meeting.occurred_at == start and meeting.ends_at == start + dt.timedelta(hours=1)
    assert meeting.reminder_minutes == 30
    assert sorted(a.email for a in meeting.attendees.all()) == [
        "ada@acmerockets.com",
        "bob@example.com",
        "guest@example.org",
    ]
    deal_page = page_text(client.get(deal.get_absolute_url()))
    assert "Engine demo" in deal_page and "Hangar 2" in deal_page
    assert "Also on contact Ada Lovelace" in deal_page


def test_log_a_note_and_an_email(admin, ada):
    client = signed_in(admin)
    r = client.post(
        log_url(ada, "note"),
        {"body": "Met at the *fair*", "pinned": "on", "related": [f"contact:{ada.pk}"]},
        **HX,
    )
    assert r.status_code == 200
    note = Activity.objects.get(type="note")
    assert note.pinned
    assert entry_ids(r.content.decode())[0] == f"pinned-{note.pk}"

    email_form = client.get(log_url(ada, "email"), **HX).content.decode()
    assert 'value="ada@acmerockets.com"' in email_form  # the contact's address is the default recipient
    r = client.post(
        log_url(ada, "email"),
        {
            "subject": "Re: pricing",
            "direction": "inbound",
            "email_from": "ada@acmerockets.com",
            "email_to": "alice@example.com",
            "email_cc": "",
            "body": "Sounds good",
            "related": [f"contact:{ada.pk}"],
        },
        **HX,
    )
    assert r.status_code == 200
    email = Activity.objects.get(type="email")
    assert (
        email.email_status == "logged"
        and email.direction == "inbound"
        and email.email_to == ["alice@example.com"]
    )
    assert "logged a received email Re: pricing" in page_text(r)


def test_without_javascript_the_form_is_a_page_and_saving_returns_to_the_record(admin, ada):
    client = signed_in(admin)
    page = client.get(log_url(ada, "note"))
    assert page.status_code == 200 and "<html" in page.content.decode()
    r = client.post(log_url(ada, "note"), {"body": "Plain old form", "related": [f"contact:{ada.pk}"]})
    assert r.status_code == 302 and r["Location"] == ada.get_absolute_url()
    assert "Plain old form" in page_text(client.get(ada.get_absolute_url()))


@pytest.mark.parametrize(
    ("kind", "data", "field", "message"),
    [
        ("meeting", {"subject": ""}, "id_subject", "A meeting needs a title."),
        (
            "meeting",
            {"subject": "X", "occurred_at": "2030-01-02T10:00", "ends_at": "2030-01-02T09:00"},
            "id_ends_at",
            "cannot end before it starts",
        ),
        ("meeting", {"subject": "X", "video_url": "not a url"}, "id_video_url", ""),
        ("note", {"body": "  "}, "id_body", "A note needs some text."),
        ("call", {"duration": "forever"}, "id_duration", "Enter minutes"),
        ("email", {"subject": "Hi", "email_to": "not-an-address"}, "id_email_to", ""),
        ("email", {"subject": "", "body": ""}, "id_subject", "An email needs a subject or a body."),
        ("call", {"occurred_at": "yesterday-ish"}, "id_occurred_at", "is not a date and time"),
    ],
)
def test_form_errors_show_next_to_the_field_and_nothing_is_written(admin, ada, kind, data, field, message):
    client = signed_in(admin)
    r = client.post(log_url(ada, kind), {"related": [f"contact:{ada.pk}"], **data}, **HX)
    assert r.status_code == 400
    html = r.content.decode()
    error = field_error(html, field)
    assert error, html
    assert message in error
    control = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in control
    assert Activity.objects.count() == 0
    # what was typed is kept
    for key, value in data.items():
        if value.strip() and key != "duration":
            assert value in html


def test_related_record_errors_show_by_the_picker(admin, ada):
    r = signed_in(admin).post(log_url(ada, "note"), {"body": "x", "related": ["contact:999999"]}, **HX)
    assert r.status_code == 400
    assert "No contact with id 999999." in field_error(r.content.decode(), "id_related")


def test_activity_page_edit_trash_restore_and_history(admin, ada):
    call = services.log_activity(
        actor=admin,
        data={
            "type": "call",
            "subject": "First call",
            "outcome": "voicemail",
            "related": [f"contact:{ada.pk}"],
        },
    )
    client = signed_in(admin)
    page = client.get(call.get_absolute_url())
    assert page.status_code == 200
    text = page_text(page)
    assert "First call" in text and "Left voicemail" in text and "Ada Lovelace" in text
    assert "History" in text and "created this call" in text

    edit = client.get(reverse("web:activity_edit", args=[call.pk]))
    assert edit.status_code == 200
    html = edit.content.decode()
    assert 'value="First call"' in html and f'name="related" value="contact:{ada.pk}"' in html
    r = client.post(
        reverse("web:activity_edit", args=[call.pk]),
        {
            "version": str(call.version),
            "subject": "First call (rescheduled)",
            "direction": "outbound",
            "outcome_choice": "connected",
            "duration": "5",
            "occurred_at": "",
            "body": "",
            "related": [f"contact:{ada.pk}"],
        },
    )
    assert r.status_code == 302 and r["Location"] == call.get_absolute_url()
    text = page_text(client.get(call.get_absolute_url()))
    assert "First call (rescheduled)" in text
    assert "Subject: First call → First call (rescheduled)" in text

    # A stale version is refused with a clear message.
    stale = client.post(
        reverse("web:activity_edit", args=[call.pk]),
        {
            "version": str(call.version),
            "subject": "Old tab",
            "direction": "outbound",
            "related": [f"contact:{ada.pk}"],
        },
    )
    assert stale.status_code == 409

    call.refresh_from_db()
    r = client.post(reverse("web:activity_delete", args=[call.pk]), {"version": str(call.version)})
    assert r.status_code == 302
    trashed = page_text(client.get(call.get_absolute_url()))
    assert "This call is in the trash" in trashed
    assert "First call (rescheduled)" not in page_text(client.get(ada.get_absolute_url()))

    client.post(reverse("web:activity_restore", args=[call.pk]))
    assert "First call (rescheduled)" in page_text(client.get(ada.get_absolute_url()))
    assert "restored this call" in page_text(client.get(call.get_absolute_url()))


def test_pin_and_unpin_from_the_activity_page(admin, ada):
    note = services.log_activity(
        actor=admin, data={"type": "note", "body": "Key fact", "related": [f"contact:{ada.pk}"]}
    )
    client = signed_in(admin)
    client.post(reverse("web:activity_pin", args=[note.pk]), {"pinned": "1"})
    note.refresh_from_db()
    assert note.pinned
    assert "Unpin" in page_text(client.get(note.get_absolute_url()))
    client.post(reverse("web:activity_pin", args=[note.pk]), {"pinned": "0"})
    note.refresh_from_db()
    assert not note.pinned


def test_member_cannot_edit_someone_elses_activity_under_own_visibility(admin, member, settings, ada):
    settings.KITH_RECORD_VISIBILITY = "own"
    shared = create_contact(
        actor=admin, data={"first_name": "Shared", "owner_id": None}
    )  # no owner: everyone sees it
    call = services.log_activity(
        actor=admin, data={"type": "call", "subject": "Admin's call", "related": [f"contact:{shared.pk}"]}
    )
    client = signed_in(member)
    page = page_text(client.get(call.get_absolute_url()))
    assert "Admin's call" in page and "Edit" not in page.split("Admin's call")[1][:200]
    assert client.get(reverse("web:activity_edit", args=[call.pk])).status_code == 403


# --- comments and mentions ---------------------------------------------------------------------------


def test_comment_with_a_mention_notifies_the_colleague(admin, member, ada):
    client = signed_in(admin)
    r = client.post(
        reverse("web:comment_add", args=["contact", ada.pk]),
        {"body": "Can you call her, @bob@example.com?"},
        **HX,
    )
    assert r.status_code == 200
    comment = Comment.objects.get()
    body = r.content.decode()
    assert 'id="comment-box"' in body and "Comment posted." in body
    assert entry_ids(body)[0] == f"comment-{comment.pk}"
    assert '<span class="mention" title="bob@example.com">@Bob Member</span>' in body

    bob = signed_in(member)
    bell = bob.get("/").content.decode()
    assert re.search(r'aria-label="Notifications, 1 unread"', bell)
    notes = page_text(bob.get(reverse("web:notifications")))
    assert "Alice Admin mentioned you on Ada Lovelace" in notes
    n = Notification.objects.get(user=member, kind="mentioned")
    followed = bob.get(reverse("web:notification_open", args=[n.pk]))
    assert followed["Location"] == f"{ada.get_absolute_url()}#comment-{comment.pk}"
    page = bob.get(followed["Location"].split("#")[0]).content.decode()
    assert f'id="comment-{comment.pk}"' in page


def test_comments_on_an_activity_page(admin, member, ada):
    call = services.log_activity(
        actor=admin, data={"type": "call", "subject": "Call", "related": [f"contact:{ada.pk}"]}
    )
    client = signed_in(member)
    r = client.post(
        reverse("web:comment_add", args=["activity", call.pk]), {"body": "Nice one @alice@example.com"}, **HX
    )
    assert r.status_code == 200
    assert 'id="comments-thread"' in r.content.decode() and "Nice one" in page_text(r)
    n = Notification.objects.get(user=admin, kind="mentioned")
    assert n.url.startswith(call.get_absolute_url())
    page = page_text(signed_in(admin).get(call.get_absolute_url()))
    assert "Comments 1" in page and "Bob Member commented" in page
    # The timeline shows how many comments the call has.
    assert "1 comment" in page_text(signed_in(admin).get(ada.get_absolute_url()))
    # An empty comment is refused next to the box.
    r = client.post(reverse("web:comment_add", args=["activity", call.pk]), {"body": "  "}, **HX)
    assert r.status_code == 400 and "A comment needs some text." in page_text(r)


def test_edit_and_delete_own_comments_only(admin, member, ada):
    comment = services.add_comment(actor=member, record_type="contact", record_id=ada.pk, body="Frist")
    bob = signed_in(member)
    form = bob.get(reverse("web:comment_edit", args=[comment.pk]), **HX)
    assert form.status_code == 200 and "Frist" in form.content.decode()
    r = bob.post(reverse("web:comment_edit", args=[comment.pk]), {"body": "First, @alice@example.com"}, **HX)
    assert r.status_code == 200
    assert "First," in page_text(r) and "(edited)" not in page_text(r)
    assert Notification.objects.filter(user=admin, kind="mentioned").count() == 1

    other = create_contact(actor=admin, data={"first_name": "Other"})
    assert other  # another user's comment cannot be edited
    alice_comment = services.add_comment(actor=admin, record_type="contact", record_id=ada.pk, body="Mine")
    assert (
        bob.post(reverse("web:comment_edit", args=[alice_comment.pk]), {"body": "hacked"}).status_code == 403
    )
    assert bob.post(reverse("web:comment_delete", args=[alice_comment.pk]), **HX).status_code == 403

    r = bob.post(reverse("web:comment_delete", args=[comment.pk]), **HX)
    assert r.status_code == 200 and r.content == b""
    assert not Comment.objects.filter(pk=comment.pk).exists()
    page = page_text(signed_in(admin).get(ada.get_absolute_url()))
    assert "First," not in page and "Mine" in page


def test_lookups_for_the_pickers(admin, member, ada):
    client = signed_in(admin)
    users = client.get(reverse("web:mention_lookup"), {"q": "bob"}).json()["results"]
    assert users == [{"id": "bob@example.com", "label": "Bob Member", "hint": "bob@example.com"}]
    everyone = client.get(reverse("web:mention_lookup")).json()["results"]
    assert {u["id"] for u in everyone} >= {"alice@example.com", "bob@example.com"}
    records = client.get(reverse("web:activity_record_lookup"), {"q": "lovelace"}).json()["results"]
    assert records[0]["id"] == f"contact:{ada.pk}" and records[0]["label"] == "Ada Lovelace"
    assert records[0]["hint"].startswith("Contact")
    people = client.get(reverse("web:activity_people_lookup"), {"q": "ada"}).json()["results"]
    assert f"contact:{ada.pk}" in {p["id"] for p in people}
    people = client.get(reverse("web:activity_people_lookup"), {"q": "bob"}).json()["results"]
    assert f"user:{member.pk}" in {p["id"] for p in people}


def test_edit_a_meeting_keeps_and_changes_its_attendees(admin, member, ada):
    start = timezone.now() + dt.timedelta(days=3)
    meeting = services.log_activity(actor=admin, data={
        "type": "meeting", "subject": "Kick-off", "occurred_at": start.isoformat(),
        "attendees": [f"contact:{ada.pk}", "email:guest@example.org"], "related": [f"contact:{ada.pk}"],
    })
    client = signed_in(admin)
    form = client.get(reverse("web:activity_edit", args=[meeting.pk])).content.decode()
    assert f'name="attendees" value="contact:{ada.pk}"' in form
    assert 'value="guest@example.org"' in form
    local = timezone.localtime(meeting.occurred_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in form
    r = client.post(reverse("web:activity_edit", args=[meeting.pk]), {
        "version": str(meeting.version), "subject": "Kick-off", "occurred_at": local, "ends_at": "",
        "location": "", "video_url": "", "body": "", "outcome_text": "Agreed on a pilot", "reminder": "",
        "attendees": [f"contact:{ada.pk}", f"user:{member.pk}"], "attendee_emails": "guest@example.org",
        "related": [f"contact:{ada.pk}"],
    })
    assert r.status_code == 302, page_text(r)
    meeting.refresh_from_db()
    assert meeting.outcome == "Agreed on a pilot"
    assert sorted(a.email for a in meeting.attendees.all()) == ["ada@acmerockets.com", "bob@example.com",
                                                                "guest@example.org"]
    page = page_text(client.get(meeting.get_absolute_url()))
    assert "Outcome Agreed on a pilot" in page
