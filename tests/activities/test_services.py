"""Activity services: validation, links and company roll-up, tasks, recurrence, reminders, comments, purge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity, ActivityLink, Comment, Reminder, TaskStatus
from kith.contacts.services import create_company, create_contact
from kith.core import jobs
from kith.core.errors import PermissionDenied
from kith.core.models import Job, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(admin):
    return create_company(actor=admin, data={"name": "Acme", "domain": "acme.example"})


@pytest.fixture
def jon(admin, acme):
    return create_contact(actor=admin, data={"first_name": "Jon", "last_name": "Smith", "email": "jon@acme.example",
                                             "company_id": acme.pk})


def links(activity):
    return sorted(ActivityLink.objects.filter(activity=activity).values_list("record_type", "record_id"))


def test_a_call_on_a_contact_also_shows_on_its_company(admin, jon, acme):
    call = services.log_activity(actor=admin, data={
        "type": "call", "subject": "Intro", "outcome": "connected", "duration_seconds": 300,
        "related": [{"type": "contact", "id": jon.pk}],
    })
    assert call.direction == "outbound"
    assert links(call) == sorted([("company", acme.pk), ("contact", jon.pk)])


def test_validation_names_each_bad_field(admin, jon):
    with pytest.raises(ValidationError) as exc:
        services.log_activity(actor=admin, data={
            "type": "call", "outcome": "maybe", "duration_seconds": -3, "occurred_at": "yesterday-ish",
            "related": [{"type": "contact", "id": 999999}], "colour": "red",
        })
    errors = exc.value.message_dict
    assert set(errors) == {"outcome", "duration_seconds", "occurred_at", "related", "colour"}
    assert "999999" in errors["related"][0]
    assert Activity.objects.count() == 0


def test_unknown_type_and_task_hint(admin):
    with pytest.raises(ValidationError) as exc:
        services.log_activity(actor=admin, data={"type": "task", "subject": "x"})
    assert "create_task" in exc.value.message_dict["type"][0]


def test_meeting_needs_title_and_end_after_start(admin, jon):
    start = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.log_activity(actor=admin, data={
            "type": "meeting", "occurred_at": start.isoformat(), "ends_at": (start - dt.timedelta(hours=1)).isoformat(),
        })
    assert set(exc.value.message_dict) == {"subject", "ends_at"}


def test_meeting_attendees_from_contacts_users_and_addresses(admin, member, jon):
    start = timezone.now() + dt.timedelta(days=1)
    meeting = services.log_activity(actor=admin, data={
        "type": "meeting", "subject": "Demo", "occurred_at": start.isoformat(),
        "attendees": [{"contact_id": jon.pk}, {"user_id": member.pk}, {"email": "Guest@Example.com", "name": "Guest"},
                      {"email": "guest@example.com"}],
        "related": [f"contact:{jon.pk}"],
    })
    emails = sorted(meeting.attendees.values_list("email", flat=True))
    assert emails == ["bob@example.com", "guest@example.com", "jon@acme.example"]
    # the owner and the user attendee are reminded (default 15 minutes before)
    assert sorted(Reminder.objects.filter(activity=meeting).values_list("user_id", flat=True)) == sorted([admin.pk, member.pk])


def test_viewer_cannot_log(viewer, jon):
    with pytest.raises(PermissionDenied):
        services.log_activity(actor=viewer, data={"type": "note", "body": "hi", "related": [f"contact:{jon.pk}"]})


def test_task_assignment_notifies_and_completion(admin, member, jon):
    due = timezone.now() + dt.timedelta(hours=3)
    task = services.create_task(actor=admin, data={
        "subject": "Send proposal", "due_at": due.isoformat(), "assignee_id": member.pk,
        "related": [f"contact:{jon.pk}"],
    })
    assert task.status == TaskStatus.OPEN and task.occurred_at == task.due_at
    note = Notification.objects.get(user=member, kind="assigned")
    assert "Send proposal" in note.title and note.url == task.get_absolute_url()
    done = services.complete_task(actor=member, task=task)
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    again = services.reopen_task(actor=member, task=done)
    assert again.status == TaskStatus.OPEN and again.completed_at is None


def test_task_rules(admin):
    with pytest.raises(ValidationError) as exc:
        services.create_task(actor=admin, data={"subject": "", "reminder_minutes": 10, "recurrence": "weekly"})
    assert set(exc.value.message_dict) == {"subject", "reminder_minutes", "recurrence"}


def test_weekly_task_creates_the_next_one_once(admin):
    due = timezone.now() + dt.timedelta(hours=1)
    task = services.create_task(actor=admin, data={"subject": "Pipeline review", "due_at": due.isoformat(),
                                                  "recurrence": "weekly"})
    services.complete_task(actor=admin, task=task)
    jobs.run_worker(burst=True)
    series = Activity.objects.filter(subject="Pipeline review").order_by("due_at")
    assert series.count() == 2
    assert series[1].due_at == task.due_at + dt.timedelta(weeks=1)
    assert series[1].status == TaskStatus.OPEN
    services.create_next_occurrence(task_id=task.pk)  # a duplicate job run changes nothing
    assert Activity.objects.filter(subject="Pipeline review").count() == 2


def test_monthly_recurrence_clamps_to_month_end(admin):
    task = Activity(type="task", subject="x", recurrence="monthly",
                    due_at=dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC))
    assert services.next_due(task) == dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC)


def test_reminder_fires_exactly_once_and_says_when_late(admin, member):
    due = timezone.now() + dt.timedelta(minutes=30)
    task = services.create_task(actor=admin, data={"subject": "Call back", "due_at": due.isoformat(),
                                                  "reminder_minutes": 10, "assignee_id": member.pk})
    reminder = Reminder.objects.get(activity=task)
    assert reminder.remind_at == task.due_at - dt.timedelta(minutes=10)
    assert Job.objects.filter(name="activities.fire_reminder", status="queued").count() == 1
    # Not due yet: nothing happens.
    assert services.fire_reminder(reminder_id=reminder.pk) is False
    # Kith was down: an hour after the reminder time, it fires once, marked late.
    later = reminder.remind_at + dt.timedelta(hours=1)
    assert services.fire_reminder(reminder_id=reminder.pk, now=later) is True
    assert services.fire_reminder(reminder_id=reminder.pk, now=later) is False
    assert services.fire_due_reminders(now=later) == 0
    notes = Notification.objects.filter(user=member, kind="reminder")
    assert notes.count() == 1
    assert "late" in notes[0].title


def test_moving_the_due_date_reschedules_the_reminder(admin):
    due = timezone.now() + dt.timedelta(hours=2)
    task = services.create_task(actor=admin, data={"subject": "Prep", "due_at": due.isoformat(), "reminder_minutes": 0})
    new_due = due + dt.timedelta(days=1)
    services.update_activity(actor=admin, activity=task, data={"due_at": new_due.isoformat()})
    pending = list(Reminder.objects.filter(activity=task, fired_at__isnull=True).values_list("remind_at", flat=True))
    assert len(pending) == 1 and abs((pending[0] - new_due).total_seconds()) < 1
    # completing the task drops the pending reminder
    services.complete_task(actor=admin, task=task)
    assert not Reminder.objects.filter(activity=task, fired_at__isnull=True).exists()


def test_mentions_notify_once_per_person(admin, member, jon):
    comment = services.add_comment(actor=admin, record_type="contact", record_id=jon.pk,
                                   body="@bob@example.com please call @bob@example.com and @nobody@example.com")
    assert list(comment.mentions.values_list("email", flat=True)) == ["bob@example.com"]
    assert Notification.objects.filter(user=member, kind="mentioned").count() == 1
    services.update_comment(actor=admin, comment=comment, body="@bob@example.com updated")
    assert Notification.objects.filter(user=member, kind="mentioned").count() == 1


def test_comment_errors(admin, jon):
    with pytest.raises(ValidationError) as exc:
        services.add_comment(actor=admin, record_type="contact", record_id=jon.pk, body="  ")
    assert "body" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.add_comment(actor=admin, record_type="planet", record_id=1, body="hi")
    assert "record_type" in exc.value.message_dict


def test_own_visibility_limits_what_members_see(admin, member, settings, jon):
    settings.KITH_RECORD_VISIBILITY = "own"
    shared = create_contact(actor=admin, data={"first_name": "Shared", "owner_id": None})
    assert jon.owner_id == admin.pk
    mine = services.log_activity(actor=member, data={"type": "note", "body": "mine"})
    on_jon = services.log_activity(actor=admin, data={"type": "note", "body": "on jon", "related": [f"contact:{jon.pk}"]})
    on_shared = services.log_activity(actor=admin, data={"type": "note", "body": "on shared",
                                                        "related": [f"contact:{shared.pk}"]})
    visible = set(services.visible_activities(member).values_list("pk", flat=True))
    assert mine.pk in visible
    assert on_shared.pk in visible  # an unowned contact is visible to everyone, and so is what is on it
    assert on_jon.pk not in visible  # admin's contact: hidden from a member under "own"
    assert on_jon.pk in set(services.visible_activities(admin).values_list("pk", flat=True))


def test_lead_activity_counts_as_first_response(admin):
    from kith.sales.models import Lead
    from kith.sales.services import leads

    lead = leads.create_lead(actor=admin, data={"first_name": "Ann", "email": "ann@new.example"})
    assert Lead.objects.get(pk=lead.pk).first_response_at is None
    services.log_activity(actor=admin, data={"type": "note", "body": "note only", "related": [f"lead:{lead.pk}"]})
    assert Lead.objects.get(pk=lead.pk).first_response_at is None
    services.log_activity(actor=admin, data={"type": "call", "related": [f"lead:{lead.pk}"]})
    assert Lead.objects.get(pk=lead.pk).first_response_at is not None


def test_trash_restore_and_purge(admin, jon):
    note = services.log_activity(actor=admin, data={"type": "note", "body": "x", "related": [f"contact:{jon.pk}"]})
    services.delete_activity(actor=admin, activity=note)
    assert not Activity.objects.filter(pk=note.pk).exists()
    services.restore_activity(actor=admin, activity=Activity.all_objects.get(pk=note.pk))
    assert Activity.objects.filter(pk=note.pk).exists()
    services.delete_activity(actor=admin, activity=note)
    Activity.all_objects.filter(pk=note.pk).update(deleted_at=timezone.now() - dt.timedelta(days=60))
    counts = services.purge_trash()
    assert counts["activities"] == 1
    assert not ActivityLink.objects.filter(activity_id=note.pk).exists()


def test_merge_mover_moves_and_undoes(admin, acme, jon):
    from kith.core import relations

    twin = create_contact(actor=admin, data={"first_name": "Jon", "last_name": "Smith", "email": "j.smith@acme.example"})
    both = services.log_activity(actor=admin, data={"type": "note", "body": "both",
                                                   "related": [f"contact:{jon.pk}", f"contact:{twin.pk}"]})
    only = services.log_activity(actor=admin, data={"type": "note", "body": "twin", "related": [f"contact:{twin.pk}"]})
    services.add_comment(actor=admin, record_type="contact", record_id=twin.pk, body="hello")
    results = relations.move_related(object_type="contact", source_id=twin.pk, target_id=jon.pk)
    assert ActivityLink.objects.filter(record_type="contact", record_id=jon.pk).count() == 2
    assert not ActivityLink.objects.filter(record_type="contact", record_id=twin.pk).exists()
    assert Comment.objects.get().record_id == jon.pk
    relations.undo_related(object_type="contact", source_id=twin.pk, target_id=jon.pk, results=results)
    assert set(ActivityLink.objects.filter(record_type="contact", record_id=twin.pk).values_list("activity_id", flat=True)) == {both.pk, only.pk}
    assert Comment.objects.get().record_id == twin.pk


def test_demo_activities_load(admin, member, jon):
    import random

    from kith.activities.demo import load_activities_demo

    counts = load_activities_demo(rng=random.Random(1), users=[admin, member], contacts=[jon])
    assert counts["activities"] > 20 and counts["tasks"] >= 28 and counts["meetings"] >= 8
    overdue = Activity.objects.filter(type="task", status="open", due_at__lt=timezone.now())
    assert overdue.exists()
    assert load_activities_demo(rng=random.Random(1), users=[admin], contacts=[jon]) == {"skipped": 1}
