"""Notifications: the bell (unread count in its accessible name) and the page behind it."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

from conftest import signed_in
from kith.core import notifications
from kith.core.models import Notification

from .test_leads_web import text

pytestmark = pytest.mark.django_db


def note(user, title, url="", **extra):
    return Notification.objects.create(user=user, kind="lead.assigned", title=title, url=url, **extra)


def test_bell_says_how_many_are_unread(admin, member):
    assert 'aria-label="Notifications"' in render_to_string("web/_bell.html", {"user": admin})
    note(admin, "One")
    note(admin, "Two")
    note(member, "Not mine")
    read = note(admin, "Old")
    notifications.mark_read(user=admin, ids=[read.pk])
    html = render_to_string("web/_bell.html", {"user": admin})
    assert 'aria-label="Notifications, 2 unread"' in html
    assert '<span class="count-badge bell-count" aria-hidden="true">2</span>' in html
    assert 'href="/notifications/"' in html


def test_page_lists_newest_first_with_unread_marked(admin, member):
    note(admin, "First", actor=member)
    note(admin, "Second", url="/leads/1/")
    notifications.mark_read(user=admin, ids=[Notification.objects.get(title="First").pk])
    note(member, "Not mine")
    r = signed_in(admin).get("/notifications/")
    assert r.status_code == 200
    page = text(r)
    assert page.index("Second") < page.index("First")
    assert "Not mine" not in page
    assert "1 unread" in page
    html = r.content.decode()
    second = html[html.index("Second") - 400:html.index("Second")]
    assert "is-unread" in second and "New" in second
    assert "Bob Member" in page


def test_unread_filter(admin):
    note(admin, "Fresh")
    notifications.mark_read(user=admin, ids=[note(admin, "Seen").pk])
    page = text(signed_in(admin).get("/notifications/?unread=1"))
    assert "Fresh" in page and "Seen" not in page


def test_mark_one_and_all_read(admin):
    a = note(admin, "A")
    note(admin, "B")
    c = signed_in(admin)
    r = c.post(f"/notifications/{a.pk}/read/", {"next": "/notifications/"})
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    assert notifications.unread_count(admin) == 1
    r = c.post("/notifications/read-all/", follow=True)
    assert "Marked 1 notification as read." in text(r)
    assert notifications.unread_count(admin) == 0
    assert "You’re all caught up." in text(r)


def test_cannot_touch_someone_elses(admin, member):
    theirs = note(member, "Theirs")
    c = signed_in(admin)
    assert c.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert c.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_opening_marks_read_and_follows_only_local_links(admin):
    local = note(admin, "Lead", url="/leads/5/")
    evil = note(admin, "Evil", url="https://evil.example/")
    c = signed_in(admin)
    r = c.get(f"/notifications/{local.pk}/open/")
    assert r.status_code == 302 and r["Location"] == "/leads/5/"
    assert Notification.objects.get(pk=local.pk).read_at is not None
    r = c.get(f"/notifications/{evil.pk}/open/")
    assert r["Location"] == "/notifications/"


def test_load_more_pages_through_all(admin, settings):
    settings.KITH_UI_PAGE_SIZE = 3
    for i in range(7):
        note(admin, f"Note {i}")
    c = signed_in(admin)
    r = c.get("/notifications/")
    seen = re.findall(r"Note (\d)", text(r))
    m = re.search(r'href="([^"]+)"[^>]*rel="next"', r.content.decode())
    while m:
        r = c.get(m.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
        assert "<html" not in r.content.decode()
        seen += re.findall(r"Note (\d)", text(r))
        m = re.search(r'href="([^"]+)"[^>]*rel="next"', r.content.decode())
    assert seen == ["6", "5", "4", "3", "2", "1", "0"]
    assert c.get("/notifications/?cursor=garbage").status_code == 400


def test_requires_sign_in(client):
    assert client.get("/notifications/").status_code == 302
