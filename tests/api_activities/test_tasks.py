"""/api/v1/tasks: create, read, change, complete, reopen, trash, restore; filters, ordering, validation,
permissions, versions, reminders and assignment notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity, Reminder

from .conftest import assert_error_shape, error_fields, if_match, walk

pytestmark = pytest.mark.django_db


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def test_task_lifecycle(api, admin, jon):
    due = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    r = api.post("tasks", {"subject": "Send proposal", "due_at": iso(due), "priority": "high", "reminder_minutes": 30,
                           "related": [{"type": "contact", "id": jon.pk}]})
    assert r.status_code == 201, r.content
    task = r.json()
    assert r["Location"] == f"/api/v1/tasks/{task['id']}"
    assert task["assignee_id"] == admin.pk and task["status"] == "open" and task["is_overdue"] is False
    assert task["type"] == "task" and task["related"][0]["id"] == jon.pk
    assert dt.datetime.fromisoformat(task["due_at"]) == due
    assert Reminder.objects.get(activity_id=task["id"]).remind_at == due - dt.timedelta(minutes=30)

    # A task is not an activity of the activities resource, and the other way round.
    assert_error_shape(api.get(f"activities/{task['id']}"), 404)

    assert_error_shape(api.patch(f"tasks/{task['id']}", {"priority": "low", "version": 5}), 409)
    changed = api.patch(f"tasks/{task['id']}", {"priority": "low"}, **if_match(1))
    assert changed.status_code == 200 and changed.json()["priority"] == "low" and changed.json()["version"] == 2

    done = api.post(f"tasks/{task['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["completed_at"]
    assert done["ETag"] == '"3"'
    assert api.post(f"tasks/{task['id']}/complete").json()["version"] == 3  # idempotent
    reopened = api.post(f"tasks/{task['id']}/reopen").json()
    assert reopened["status"] == "open" and reopened["completed_at"] is None

    assert api.delete(f"tasks/{task['id']}").status_code == 204
    assert_error_shape(api.get(f"tasks/{task['id']}"), 404)
    assert api.get(f"tasks/{task['id']}", include_trashed="true").json()["deleted_at"]
    assert not Reminder.objects.filter(activity_id=task["id"], fired_at__isnull=True).exists()
    assert api.post(f"tasks/{task['id']}/restore").json()["deleted_at"] is None


def test_task_validation(api, jon):
    r = api.post("tasks", {"subject": "", "reminder_minutes": 10, "recurrence": "weekly", "priority": "asap"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"subject", "reminder_minutes", "recurrence", "priority"}
    assert error_fields(api.post("tasks", {"subject": "x", "assignee_id": 999999})) == {"assignee_id"}
    assert error_fields(api.post("tasks", {"subject": "x", "due_at": "tomorrow"})) == {"due_at"}
    assert error_fields(api.post("tasks", {"subject": "x", "location": "here"})) == {"location"}
    assert error_fields(api.post("tasks", {"subject": "x", "status": "later"})) == {"status"}
    assert Activity.all_objects.count() == 0


def test_filters_ordering_and_pages(api, admin, member, jon):
    now = timezone.now()
    specs = [
        ("overdue", -2, admin, "high", "open"),
        ("today", 0.1, admin, "normal", "open"),
        ("tomorrow", 1, member, "urgent", "open"),
        ("next week", 7, admin, "low", "open"),
        ("done long ago", -10, admin, "normal", "done"),
        ("someday", None, admin, "normal", "open"),
    ]
    ids = {}
    for subject, days, assignee, priority, status in specs:
        data = {"subject": subject, "assignee_id": assignee.pk, "priority": priority, "status": status}
        if days is not None:
            data["due_at"] = iso(now + dt.timedelta(days=days))
        if subject == "tomorrow":
            data["related"] = [f"contact:{jon.pk}"]
        ids[subject] = services.create_task(actor=admin, data=data).pk

    by_due = walk(api, "tasks", limit=2)
    assert [t["subject"] for t in by_due] == ["done long ago", "overdue", "today", "tomorrow", "next week", "someday"]
    newest_due = walk(api, "tasks", limit=4, ordering="-due_at")
    assert [t["subject"] for t in newest_due] == ["someday", "next week", "tomorrow", "today", "overdue", "done long ago"]
    assert next(t["subject"] for t in walk(api, "tasks", ordering="created_at", limit=5)) == "overdue"

    def subjects(**params):
        return [t["subject"] for t in api.get("tasks", **params).json()["items"]]

    assert subjects(assignee_id="me", status="open") == ["overdue", "today", "next week", "someday"]
    assert subjects(assignee_id=str(member.pk)) == ["tomorrow"]
    assert subjects(overdue="true") == ["overdue"]
    assert subjects(overdue="false") == ["done long ago", "today", "tomorrow", "next week", "someday"]
    assert subjects(status="done") == ["done long ago"]
    assert subjects(priority="high,urgent") == ["overdue", "tomorrow"]
    assert subjects(due_after=iso(now), due_before=iso(now + dt.timedelta(days=2))) == ["today", "tomorrow"]
    assert subjects(record=f"contact:{jon.pk}") == ["tomorrow"]
    assert api.get("tasks").json()["items"][0]["is_overdue"] is False  # done, not overdue
    assert next(t for t in api.get("tasks").json()["items"] if t["subject"] == "overdue")["is_overdue"] is True

    for params, field in [({"assignee_id": "him"}, "assignee_id"), ({"status": "waiting"}, "status"),
                          ({"priority": "meh"}, "priority"), ({"ordering": "colour"}, "ordering"),
                          ({"due_before": "later"}, "due_before"), ({"cursor": "x"}, "cursor")]:
        r = api.get("tasks", **params)
        assert_error_shape(r, 422)
        assert error_fields(r) == {field}, params


def test_assignment_notifies_the_assignee(api, api_for, admin, member):
    task = api.post("tasks", {"subject": "Call Jon back", "assignee_id": member.pk}).json()
    items = api_for(member).get("notifications").json()["items"]
    assert [(n["kind"], n["actor_id"]) for n in items] == [("assigned", admin.pk)]
    assert "Call Jon back" in items[0]["title"]
    # Reassigning to oneself tells nobody.
    api.patch(f"tasks/{task['id']}", {"assignee_id": admin.pk})
    assert api.get("notifications").json()["items"] == []


def test_permissions(api_for, admin, member, viewer, jon, settings):
    task = services.create_task(actor=admin, data={"subject": "Admin's", "related": [f"contact:{jon.pk}"]})
    as_viewer = api_for(viewer)
    assert as_viewer.get(f"tasks/{task.pk}").status_code == 200
    for r in [as_viewer.post("tasks", {"subject": "mine"}), as_viewer.patch(f"tasks/{task.pk}", {"subject": "x"}),
              as_viewer.post(f"tasks/{task.pk}/complete"), as_viewer.post(f"tasks/{task.pk}/reopen"),
              as_viewer.delete(f"tasks/{task.pk}")]:
        assert_error_shape(r, 403)

    settings.KITH_RECORD_VISIBILITY = "own"
    assigned = services.create_task(actor=admin, data={"subject": "For Bob", "assignee_id": member.pk,
                                                       "related": [f"contact:{jon.pk}"]})
    as_member = api_for(member)
    assert [t["subject"] for t in as_member.get("tasks").json()["items"]] == ["For Bob"]
    assert_error_shape(as_member.get(f"tasks/{task.pk}"), 404)
    assert as_member.post(f"tasks/{assigned.pk}/complete").json()["status"] == "done"
    assert Activity.objects.get(pk=assigned.pk).status == "done"
