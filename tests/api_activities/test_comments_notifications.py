"""/api/v1/comments (mentions notify) and /api/v1/notifications (list, unread, mark read, settings)."""

from __future__ import annotations

import pytest

from kith.activities import services
from kith.activities.models import Comment
from kith.core import notifications
from kith.core.models import Notification

from .conftest import assert_error_shape, error_fields, walk

pytestmark = pytest.mark.django_db


def test_comment_with_a_mention_notifies_and_lists(api, api_for, admin, member, manager, jon):
    r = api.post("comments", {"record_type": "contact", "record_id": jon.pk,
                              "body": "Can you call him, @bob@example.com? **Today**"})
    assert r.status_code == 201, r.content
    comment = r.json()
    assert r["Location"] == f"/api/v1/comments/{comment['id']}"
    assert comment["author_id"] == admin.pk and comment["author_name"] == "Alice Admin"
    assert comment["mention_ids"] == [member.pk]
    assert "<strong>Today</strong>" in comment["body_html"] and 'class="mention"' in comment["body_html"]

    as_member = api_for(member)
    mine = as_member.get("notifications").json()["items"]
    assert [(n["kind"], n["actor_id"]) for n in mine] == [("mentioned", admin.pk)]
    assert mine[0]["url"].endswith(f"#comment-{comment['id']}") and mine[0]["read_at"] is None

    for i in range(4):
        services.add_comment(actor=manager, record_type="contact", record_id=jon.pk, body=f"more {i}")
    listed = walk(api, "comments", record_type="contact", record_id=jon.pk, limit=2)
    assert [c["body"] for c in listed] == ["more 3", "more 2", "more 1", "more 0", comment["body"]]
    oldest_first = api.get("comments", record_type="contact", record_id=jon.pk, ordering="created_at").json()
    assert oldest_first["items"][0]["id"] == comment["id"]
    assert api.get(f"comments/{comment['id']}").json() == comment


def test_comment_validation(api, jon):
    assert error_fields(api.get("comments")) == {"record_type", "record_id"}
    assert error_fields(api.get("comments", record_type="planet", record_id=1)) == {"record_type"}
    assert error_fields(api.get("comments", record_type="contact", record_id=999999)) == {"record_id"}
    assert error_fields(api.post("comments", {"record_type": "contact", "record_id": jon.pk})) == {"body"}
    assert error_fields(api.post("comments", {"record_type": "contact", "record_id": jon.pk, "body": " "})) == {"body"}
    assert error_fields(api.post("comments", {"record_type": "deal", "record_id": 999999, "body": "x"})) == {"record_id"}
    assert error_fields(api.post("comments", {"record_type": "contact", "record_id": jon.pk, "body": "x",
                                              "pinned": True})) == {"pinned"}
    assert Comment.all_objects.count() == 0


def test_only_the_author_edits_and_author_or_admin_deletes(api, api_for, admin, member, manager, viewer, jon):
    as_member = api_for(member)
    mine = as_member.post("comments", {"record_type": "contact", "record_id": jon.pk, "body": "first"}).json()
    for client in (api_for(manager), api):
        assert_error_shape(client.patch(f"comments/{mine['id']}", {"body": "hijacked"}), 403)
    assert_error_shape(api_for(manager).delete(f"comments/{mine['id']}"), 403)
    assert_error_shape(api_for(viewer).patch(f"comments/{mine['id']}", {"body": "x"}), 403)
    edited = as_member.patch(f"comments/{mine['id']}", {"body": "first, edited @maria@example.com"})
    assert edited.status_code == 200 and edited.json()["body"] == "first, edited @maria@example.com"
    assert Notification.objects.filter(user=manager, kind="mentioned").count() == 1
    assert error_fields(as_member.patch(f"comments/{mine['id']}", {"body": ""})) == {"body"}
    assert as_member.delete(f"comments/{mine['id']}").status_code == 204
    assert_error_shape(as_member.get(f"comments/{mine['id']}"), 404)

    other = as_member.post("comments", {"record_type": "contact", "record_id": jon.pk, "body": "second"}).json()
    assert api.delete(f"comments/{other['id']}").status_code == 204  # an admin may
    assert api.get("comments", record_type="contact", record_id=jon.pk).json()["items"] == []


def test_comments_on_an_activity_and_visibility(api, api_for, admin, member, jon, settings):
    call = services.log_activity(actor=admin, data={"type": "call", "subject": "x", "related": [f"contact:{jon.pk}"]})
    r = api.post("comments", {"record_type": "activity", "record_id": call.pk, "body": "good call"})
    assert r.status_code == 201 and r.json()["record_type"] == "activity"
    settings.KITH_RECORD_VISIBILITY = "own"
    as_member = api_for(member)
    assert_error_shape(as_member.get(f"comments/{r.json()['id']}"), 404)
    assert error_fields(as_member.get("comments", record_type="activity", record_id=call.pk)) == {"record_id"}
    assert error_fields(as_member.post("comments", {"record_type": "contact", "record_id": jon.pk,
                                                    "body": "x"})) == {"record_id"}


def test_notifications_unread_and_mark_read(api_for, admin, member, viewer):
    for i in range(3):
        notifications.notify(user=member, kind="reminder", title=f"Reminder {i}", actor=admin)
    notifications.notify(user=member, kind="assigned", title="Assigned", actor=admin)
    theirs = notifications.notify(user=admin, kind="assigned", title="Not Bob's", actor=member)
    as_member = api_for(member)
    assert as_member.get("notifications/unread-count").json() == {"unread": 4}
    page = walk(as_member, "notifications", limit=3)
    assert [n["title"] for n in page] == ["Assigned", "Reminder 2", "Reminder 1", "Reminder 0"]
    assert [n["title"] for n in as_member.get("notifications", kind="assigned").json()["items"]] == ["Assigned"]

    first, second = page[0]["id"], page[1]["id"]
    r = as_member.post("notifications/read", {"ids": [first, second, theirs.pk]})
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread": 2}
    assert Notification.objects.get(pk=theirs.pk).read_at is None  # another user's stays unread
    assert [n["id"] for n in as_member.get("notifications", unread="false").json()["items"]] == [first, second]
    assert len(as_member.get("notifications", unread="true").json()["items"]) == 2
    assert error_fields(as_member.post("notifications/read", {})) == {"ids"}
    assert error_fields(as_member.post("notifications/read", {"ids": ["x"]})) == {"ids"}
    assert as_member.post("notifications/read", {"all": True}).json() == {"marked": 2, "unread": 0}
    assert as_member.get("notifications/unread-count").json() == {"unread": 0}

    # Viewers have notifications too, and may mark them read.
    notifications.notify(user=viewer, kind="mentioned", title="Hi", actor=admin)
    assert api_for(viewer).post("notifications/read", {"all": True}).json() == {"marked": 1, "unread": 0}


def test_notification_settings(api_for, member, viewer):
    as_member = api_for(member)
    current = as_member.get("notifications/settings").json()
    assert current["email_kinds"] == ["assigned", "mentioned", "reminder"]
    assert current["digest_enabled"] is True and current["digest_time"] == "08:00"
    assert current["calendar_feed_url"].endswith(".ics")
    r = as_member.patch("notifications/settings", {"email_kinds": ["mentioned"], "digest_time": "07:30",
                                                   "time_zone": "Europe/Berlin", "default_reminder_minutes": 5,
                                                   "digest_enabled": False})
    assert r.status_code == 200, r.content
    assert {k: v for k, v in r.json().items() if k != "calendar_feed_url"} == {
        "email_kinds": ["mentioned"], "digest_enabled": False, "digest_time": "07:30", "time_zone": "Europe/Berlin",
        "default_reminder_minutes": 5}
    assert as_member.get("notifications/settings").json() == r.json()

    bad = as_member.patch("notifications/settings", {"email_kinds": ["spam"], "digest_time": "25:99",
                                                     "time_zone": "Mars/Olympus", "default_reminder_minutes": -1})
    assert_error_shape(bad, 422)
    assert error_fields(bad) == {"email_kinds", "digest_time", "time_zone", "default_reminder_minutes"}
    assert error_fields(as_member.patch("notifications/settings", {"calendar_token": "x"})) == {"calendar_token"}
    assert as_member.get("notifications/settings").json() == r.json()  # nothing half-written

    # Viewers choose their own settings too.
    assert api_for(viewer).patch("notifications/settings", {"digest_enabled": False}).json()["digest_enabled"] is False
