"""Settings → Notifications: emailed notification kinds, the daily agenda, time zone, default meeting reminder
and the private calendar feed link."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import reverse

from kith.activities import services
from kith.activities.models import UserSettings

from .conftest import page_text

pytestmark = pytest.mark.django_db
URL = "/settings/notifications/"


def test_the_page_is_at_the_address_the_emails_link_to(signed_in, member):
    assert reverse("web:notification_settings") == URL
    response = signed_in(member).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    text = page_text(response)
    for label in (
        "When someone assigns me a task or a record",
        "When someone @mentions me in a comment",
        "Reminders of my tasks and meetings",
        "Email me a daily agenda",
        "Agenda time",
        "Time zone",
        "Default meeting reminder",
    ):
        assert label in text, label
    # Defaults: every kind emailed, agenda at 08:00, 15-minute meeting reminder.
    assert len(re.findall(r'name="email_kinds" value="\w+"[^>]* checked', html)) == 3
    assert 'name="digest_time" value="08:00"' in html
    assert re.search(r'<option value="15" selected>15 minutes before</option>', html)
    assert 'href="/settings/notifications/"' in html  # in the settings menu


def test_saving_settings(signed_in, member):
    client = signed_in(member)
    response = client.post(
        URL,
        {
            "email_kinds": ["mentioned"],
            "digest_enabled": "",
            "digest_time": "06:45",
            "time_zone": "Europe/Lisbon",
            "default_reminder_minutes": "30",
        },
    )
    assert response.status_code == 302
    row = UserSettings.objects.get(user=member)
    assert (
        row.email_kinds,
        row.digest_enabled,
        row.digest_time,
        row.time_zone,
        row.default_reminder_minutes,
    ) == (["mentioned"], False, dt.time(6, 45), "Europe/Lisbon", 30)
    page = client.get(URL)
    assert "Your notification settings were saved." in page_text(page)
    assert re.search(r'<option value="Europe/Lisbon" selected>', page.content.decode())
    assert "(Europe/Lisbon)" in page_text(page)
    # A new meeting now reminds 30 minutes before by default.
    meeting = services.log_activity(
        actor=member, data={"type": "meeting", "subject": "Sync", "occurred_at": "2031-01-01T10:00:00+00:00"}
    )
    assert meeting.reminder_minutes == 30


def test_bad_values_are_field_errors(signed_in, member):
    response = signed_in(member).post(
        URL,
        {
            "email_kinds": ["spam"],
            "digest_time": "25:99",
            "time_zone": "Mars/Olympus",
            "default_reminder_minutes": "7",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("email_kinds", "digest_time", "time_zone", "default_reminder_minutes"):
        assert f'id="id_{field}_error"' in html, field
    assert UserSettings.objects.get(user=member).time_zone == ""


def test_without_smtp_the_page_says_emails_wait(no_smtp, signed_in, member):
    text = page_text(signed_in(member).get(URL))
    assert "Kith cannot send email yet" in text


def test_calendar_feed_link_copy_and_reset(signed_in, member):
    client = signed_in(member)
    token = services.settings_for(member).calendar_token
    page = client.get(URL)
    html = page.content.decode()
    feed = re.search(r'id="calendar-feed-url" class="mono" value="([^"]+)"', html).group(1)
    assert feed.endswith(f"{token}.ics") and feed.startswith("http")
    assert 'data-copy="calendar-feed-url"' in html
    feed_path = urlparse(feed).path
    assert Client().get(feed_path).status_code == 200  # calendar apps fetch it without signing in

    response = client.post(reverse("web:calendar_token_reset"), follow=True)
    assert "Your calendar link was reset" in page_text(response)
    new_token = UserSettings.objects.get(user=member).calendar_token
    assert new_token != token
    html = response.content.decode()
    assert f"{new_token}.ics" in html and token not in html
    assert Client().get(feed_path).status_code == 404


def test_each_user_sees_only_their_own_link(signed_in, member, manager):
    mine = services.settings_for(member).calendar_token
    html = signed_in(manager).get(URL).content.decode()
    assert mine not in html
