"""What a user sees across the activities UI after the review pass: the wording of timeline entries
(a meeting still to come is "scheduled"), empty states that say what to do, a lead's changes with their
labels, notifications that read as plain text, the sidebar on an activity page, the calendar link that
works where Kith runs, and record pages whose side column never widens the page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.contacts.services import create_contact
from kith.core import audit
from kith.core.models import Notification
from kith.sales import services as sales

from .test_web_timeline import page_text

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ada(admin):
    return create_contact(
        actor=admin, data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.com"}
    )


def meeting(actor, contact, subject, start):
    return services.log_activity(
        actor=actor,
        data={
            "type": "meeting",
            "subject": subject,
            "occurred_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "related": [f"contact:{contact.pk}"],
        },
    )


def test_a_meeting_still_to_come_is_scheduled_and_a_past_one_logged(admin, ada):
    now = timezone.now()
    meeting(admin, ada, "Kick-off", now + dt.timedelta(days=3))
    meeting(admin, ada, "Discovery", now - dt.timedelta(days=3))
    text = page_text(signed_in(admin).get(ada.get_absolute_url()))
    assert "Alice Admin scheduled a meeting Kick-off" in text
    assert "Alice Admin logged a meeting Discovery" in text


def test_a_filtered_empty_timeline_says_what_is_missing_and_how_to_see_all(admin, ada):
    url = reverse("web:activity_timeline", args=["contact", ada.pk])
    r = signed_in(admin).get(url, {"types": "call"}, **HX)
    body = r.content.decode()
    assert "No calls here yet." in page_text(r)
    assert re.search(rf'<a href="{url}" hx-get="{url}"[^>]*>Show everything</a>', body)


def test_a_leads_changes_in_its_timeline_use_the_status_labels(admin, member):
    lead = sales.create_lead(actor=admin, data={"first_name": "Wendy", "owner_id": member.pk})
    sales.update_lead(actor=admin, lead=lead, data={"status": "contacted"})
    r = signed_in(admin).get(
        reverse("web:activity_timeline", args=["lead", lead.pk]), {"types": "change"}, **HX
    )
    text = page_text(r)
    assert "Status: New → Contacted" in text and "new → contacted" not in text


def test_a_mention_notification_reads_as_plain_text(admin, member, ada):
    signed_in(admin).post(
        reverse("web:comment_add", args=["contact", ada.pk]),
        {"body": "@bob@example.com please confirm the **20% discount** [today](https://x.com/t)"},
        **HX,
    )
    n = Notification.objects.get(user=member, kind="mentioned")
    assert n.title.startswith("Alice Admin mentioned you on Ada Lovelace: “")
    assert "please confirm the 20% discount today”" in n.title
    assert "**" not in n.title and "](" not in n.title and "<" not in n.title


def test_an_activity_page_highlights_the_section_of_its_record(admin, ada):
    call = services.log_activity(
        actor=admin, data={"type": "call", "subject": "Intro", "related": [f"contact:{ada.pk}"]}
    )
    html = signed_in(admin).get(call.get_absolute_url()).content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
    assert current == [reverse("web:contact_list")]
    for url in (  # its edit page, and the no-JS log page and full timeline of the contact
        reverse("web:activity_edit", args=[call.pk]),
        reverse("web:activity_log", args=["contact", ada.pk, "call"]),
        reverse("web:activity_timeline", args=["contact", ada.pk]),
    ):
        html = signed_in(admin).get(url).content.decode()
        assert re.findall(r'<a href="([^"]+)" aria-current="page">', html) == [reverse("web:contact_list")], (
            url
        )
    task = services.create_task(actor=admin, data={"subject": "Follow up", "related": [f"contact:{ada.pk}"]})
    html = signed_in(admin).get(task.get_absolute_url()).content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', html) == [reverse("web:task_list")]


def test_meeting_page_shows_answers_once_and_no_empty_history(admin, ada):
    m = services.log_activity(
        actor=admin,
        data={
            "type": "meeting",
            "subject": "Review",
            "occurred_at": (timezone.now() + dt.timedelta(days=1)).isoformat(),
            "related": [f"contact:{ada.pk}"],
            "attendees": [
                {"email": "ann@x-corp.com", "name": "Ann"},
                {"email": "bo@x-corp.com", "name": "Bo"},
            ],
        },
    )
    m.attendees.filter(email="ann@x-corp.com").update(response="accepted")
    audit.history(m).delete()  # as for imported or demo activities: no history at all
    html = signed_in(admin).get(m.get_absolute_url()).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert 'id="history-heading"' not in html  # no empty "No changes recorded yet." card
    # the answer shows once, in the Invitations card; an attendee who answered is not "Not invited yet"
    assert "(Accepted)" not in text and text.count("Accepted") == 1
    assert text.count("Not invited yet") == 1 and re.search(r"Bo bo@x-corp\.com Not invited yet", text)
    services.update_activity(actor=admin, activity=m, data={"location": "Room 4"})
    html = signed_in(admin).get(m.get_absolute_url()).content.decode()
    assert 'id="history-heading"' in html and "Room 4" in html


def test_calendar_link_uses_the_address_kith_is_opened_at_unless_configured(member, settings, monkeypatch):
    monkeypatch.delenv("KITH_BASE_URL", raising=False)
    settings.KITH_BASE_URL = "http://127.0.0.1:8000"  # the built-in default
    url = reverse("web:notification_settings")
    html = signed_in(member).get(url).content.decode()
    assert re.search(r'value="http://testserver/calendar/[\w-]+\.ics"', html)
    settings.KITH_BASE_URL = "https://crm.example.com"
    html = signed_in(member).get(url).content.decode()
    assert re.search(r'value="https://crm\.example\.com/calendar/[\w-]+\.ics"', html)


def test_record_side_cards_may_shrink_so_long_names_do_not_widen_the_page():
    base_css = Path(finders.find("kith/kith.css")).read_text()
    assert ".record-main > *, .record-side > * { min-width: 0; }" in base_css
    css = Path(finders.find("activities/activities.css")).read_text()
    assert re.search(r"\.tl-rel \{ white-space: normal; overflow-wrap: anywhere; \}", css)
