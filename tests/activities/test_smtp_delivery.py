"""Reminders, daily agendas, one-to-one emails and invitations, delivered to a real SMTP server (aiosmtpd)
by the background jobs, exactly once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity, EmailStatus, EmailTemplate, Reminder
from kith.contacts.services import create_company, create_contact
from kith.core import jobs, mail
from kith.core.models import Job, Notification, OutboundEmail

from .conftest import HX, page_text

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def ada(admin):
    company = create_company(actor=admin, data={"name": "Analytical Engines", "domain": "engines.example"})
    return create_contact(
        actor=admin,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example",
            "company_id": company.pk,
        },
    )


def _task(admin, member, contact, *, due: dt.datetime, reminder: int | None, subject: str = "Call Ada back"):
    return services.create_task(
        actor=admin,
        data={
            "subject": subject,
            "due_at": due.isoformat(),
            "reminder_minutes": reminder,
            "assignee_id": member.pk,
            "related": [f"contact:{contact.pk}"],
        },
    )


# --- task reminders ------------------------------------------------------------------------------------


def test_task_reminder_reaches_the_assignee_in_app_and_by_email_exactly_once(smtp, work, admin, member, ada):
    task = _task(admin, member, ada, due=timezone.now() + dt.timedelta(minutes=5), reminder=5)
    assert smtp.to(member.email, "Reminder:") == []

    work(worker=True)  # the reminder's own job and the every-minute sweep are both due

    reminders = Notification.objects.filter(user=member, kind="reminder")
    assert [n.title for n in reminders] == [reminders[0].title]
    assert "Call Ada back" in reminders[0].title and "late" not in reminders[0].title
    got = smtp.to(member.email, "Reminder:")
    assert len(got) == 1
    assert "Call Ada back" in got[0].subject
    assert f"http://crm.example.com{task.get_absolute_url()}" in got[0].text
    assert "/settings/notifications/" in got[0].text
    assert smtp.to(admin.email, "Reminder:") == []  # only the assignee is reminded
    assert Reminder.objects.get(activity=task).fired_at is not None

    # A second run, the sweep, and the reminder's job run again by hand change nothing.
    work(worker=True)
    assert services.fire_due_reminders(now=timezone.now() + dt.timedelta(hours=1)) == 0
    reminder = Reminder.objects.get(activity=task)
    jobs.enqueue("activities.fire_reminder", reminder_id=reminder.pk)
    work()
    assert Notification.objects.filter(user=member, kind="reminder").count() == 1
    assert len(smtp.to(member.email, "Reminder:")) == 1


def test_reminder_email_only_when_the_user_asked_for_it(smtp, work, admin, member, ada):
    services.update_user_settings(actor=member, user=member, data={"email_kinds": ["assigned"]})
    _task(admin, member, ada, due=timezone.now(), reminder=0)
    work()
    assert Notification.objects.filter(user=member, kind="reminder").count() == 1
    assert smtp.to(member.email, "Reminder:") == []
    assert len(smtp.to(member.email, "assigned you a task")) == 1


def test_a_reminder_due_while_no_worker_ran_fires_once_after_restart_marked_late(
    smtp, work, admin, member, ada
):
    task = _task(admin, member, ada, due=timezone.now() + dt.timedelta(minutes=40), reminder=30)
    reminder = Reminder.objects.get(activity=task)
    job = Job.objects.get(name="activities.fire_reminder", args__reminder_id=reminder.pk)
    assert job.run_at == reminder.remind_at  # scheduled for the reminder time, 10 minutes from now
    work()
    assert Notification.objects.filter(user=member, kind="reminder").count() == 0  # not due yet

    # Kith is stopped; 25 minutes pass (the reminder was due 15 minutes ago), then a worker starts again.
    shift = dt.timedelta(minutes=25)
    Activity.objects.filter(pk=task.pk).update(due_at=task.due_at - shift)
    Reminder.objects.filter(pk=reminder.pk).update(remind_at=reminder.remind_at - shift)
    Job.objects.filter(pk=job.pk).update(run_at=job.run_at - shift)
    work(worker=True)

    reminder.refresh_from_db()
    assert reminder.fired_at is not None and reminder.late
    notes = list(Notification.objects.filter(user=member, kind="reminder"))
    assert len(notes) == 1
    assert "late" in notes[0].title and "Kith was not running" in notes[0].title
    got = smtp.to(member.email, "Reminder:")
    assert len(got) == 1 and "late" in got[0].subject

    work(worker=True)  # and a second worker run does not send it again
    assert len(smtp.to(member.email, "Reminder:")) == 1


def test_no_reminder_for_a_task_completed_or_trashed_before_it_was_due(smtp, work, admin, member, ada):
    done = _task(admin, member, ada, due=timezone.now(), reminder=0, subject="Done already")
    gone = _task(admin, member, ada, due=timezone.now(), reminder=0, subject="Trashed")
    services.complete_task(actor=member, task=done)
    services.delete_activity(actor=admin, activity=gone)
    work(worker=True)
    assert Notification.objects.filter(user=member, kind="reminder").count() == 0
    assert smtp.to(member.email, "Reminder:") == []


# --- meeting reminders and invitations -----------------------------------------------------------------


def test_meeting_reminder_reaches_the_owner_and_user_attendees(smtp, work, admin, member, manager, ada):
    start = timezone.now() + dt.timedelta(minutes=10)
    meeting = services.log_activity(
        actor=admin,
        data={
            "type": "meeting",
            "subject": "Quarterly review",
            "occurred_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "reminder_minutes": 15,
            "attendees": [f"user:{member.pk}", f"contact:{ada.pk}"],
            "related": [f"contact:{ada.pk}"],
        },
    )
    work(worker=True)
    for user in (admin, member):
        assert Notification.objects.filter(user=user, kind="reminder").count() == 1, user
        got = smtp.to(user.email, "Reminder:")
        assert len(got) == 1, user
        assert "Quarterly review" in got[0].subject and "starts" in got[0].subject
        assert meeting.get_absolute_url() in got[0].text
    assert smtp.to(manager.email) == []  # not invited
    assert smtp.to("ada@engines.example") == []  # contacts get invitations, not reminders
    work(worker=True)
    assert len(smtp.to(member.email, "Reminder:")) == 1


def test_meeting_invitation_arrives_with_an_ics_request(smtp, work, admin, ada):
    start = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    meeting = services.log_activity(
        actor=admin,
        data={
            "type": "meeting",
            "subject": "Demo of the engine",
            "occurred_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=45)).isoformat(),
            "location": "Room 4",
            "attendees": [f"contact:{ada.pk}"],
            "related": [f"contact:{ada.pk}"],
        },
    )
    assert services.send_invitations(actor=admin, meeting=meeting) == 1
    work()
    got = smtp.to("ada@engines.example")
    assert len(got) == 1
    msg = got[0]
    assert "Demo of the engine" in msg.subject
    assert "Room 4" in msg.text
    calendars = [p for p in msg.attachments() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_param("method") == "REQUEST"
    ics = calendars[0].get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "METHOD:REQUEST" in ics and "BEGIN:VEVENT" in ics and "SUMMARY:Demo of the engine" in ics
    assert start.strftime("%Y%m%dT%H%M%SZ") in ics


# --- the daily agenda ----------------------------------------------------------------------------------


def test_daily_agenda_arrives_at_the_chosen_time_once_a_day(smtp, work, admin, member, ada):
    services.update_user_settings(
        actor=member,
        user=member,
        data={"time_zone": "Europe/Berlin", "digest_time": "07:30", "digest_enabled": True},
    )
    services.update_user_settings(actor=admin, user=admin, data={"digest_enabled": False})
    today = dt.date(2031, 3, 12)  # a Wednesday, in the future so nothing else interferes

    def at(day: dt.date, hh: int, mm: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=BERLIN)

    _task(admin, member, ada, due=at(today, 15, 0), reminder=None, subject="Send the contract")
    _task(
        admin,
        member,
        ada,
        due=at(today - dt.timedelta(days=2), 9, 0),
        reminder=None,
        subject="Overdue invoice",
    )
    _task(
        admin,
        member,
        ada,
        due=at(today + dt.timedelta(days=1), 9, 0),
        reminder=None,
        subject="Tomorrow's call",
    )
    services.log_activity(
        actor=member,
        data={
            "type": "meeting",
            "subject": "Lunch with Ada",
            "occurred_at": at(today, 12, 0).isoformat(),
            "reminder_minutes": None,
            "related": [f"contact:{ada.pk}"],
        },
    )
    work()  # the assignment emails
    before = len(smtp.to(member.email))

    assert services.send_due_digests(now=at(today, 7, 0)) == 0  # too early
    work()
    assert smtp.to(member.email, "Your day") == []

    assert services.send_due_digests(now=at(today, 7, 31)) == 1
    work()
    got = smtp.to(member.email, "Your day")
    assert len(got) == 1
    assert got[0].subject == "Your day: 1 tasks, 1 meetings, 1 overdue"
    body = got[0].text
    assert "Send the contract" in body and "Overdue invoice" in body and "Lunch with Ada" in body
    assert "Tomorrow's call" not in body
    assert body.index("Overdue invoice") < body.index("Send the contract") < body.index("Lunch with Ada")
    assert "/settings/notifications/" in body
    assert "Send the contract" in got[0].html

    assert services.send_due_digests(now=at(today, 9, 0)) == 0  # once a day
    assert services.send_due_digests(now=at(today, 23, 59)) == 0
    work()
    assert len(smtp.to(member.email, "Your day")) == 1
    assert len(smtp.to(member.email)) == before + 1

    assert services.send_due_digests(now=at(today + dt.timedelta(days=1), 7, 45)) == 1  # the next morning
    work()
    assert len(smtp.to(member.email, "Your day")) == 2
    assert "Tomorrow's call" in smtp.to(member.email, "Your day")[-1].text


def test_no_agenda_when_switched_off(smtp, work, member):
    services.update_user_settings(actor=member, user=member, data={"digest_enabled": False})
    services.create_task(actor=member, data={"subject": "Something", "due_at": timezone.now().isoformat()})
    assert services.send_digest(user_id=member.pk, now=timezone.now().replace(hour=23, minute=0)) is False
    work()
    assert smtp.to(member.email, "Your day") == []


# --- one-to-one email from a record --------------------------------------------------------------------


def _send_from_contact(client, ada, template: EmailTemplate):
    return client.post(
        "/email/compose/",
        {
            "related": f"contact:{ada.pk}",
            "to": ada.email,
            "cc": "boss@engines.example",
            "template": str(template.pk),
            "subject": template.subject,
            "body": template.body,
        },
    )


def test_email_sent_from_a_record_arrives_rendered_and_is_logged_as_sent(smtp, work, signed_in, admin, ada):
    tpl = services.create_email_template(
        actor=admin,
        data={
            "name": "Follow-up",
            "subject": "Next steps for {{ company.name }}",
            "body": "Hi {{ contact.first_name }},\n\nthanks for the call. **Here is the plan.**\n\n{{ user.full_name }}",
        },
    )
    client = signed_in(admin)
    response = _send_from_contact(client, ada, tpl)
    assert response.status_code == 302 and response["Location"] == ada.get_absolute_url()
    email_activity = Activity.objects.get(type="email")
    assert email_activity.email_status == EmailStatus.QUEUED
    status = client.get(f"/email/{email_activity.pk}/status/", **HX)
    assert "Sending" in page_text(status)

    work()
    got = smtp.to("ada@engines.example")
    assert len(got) == 1
    msg = got[0]
    assert msg.subject == "Next steps for Analytical Engines"
    assert "Hi Ada," in msg.text and "Alice Admin" in msg.text and "{{" not in msg.text
    assert "<strong>Here is the plan.</strong>" in msg.html
    assert "boss@engines.example" in msg.rcpt_tos
    assert msg.message["Reply-To"] == admin.email
    assert msg.message["Message-ID"].strip() == email_activity.message_id

    email_activity.refresh_from_db()
    assert email_activity.email_status == EmailStatus.SENT and email_activity.sent_at is not None
    status = client.get(f"/email/{email_activity.pk}/status/", **HX)
    assert "Sent" in page_text(status) and "hx-trigger" not in status.content.decode()  # polling stops
    record_page = client.get(ada.get_absolute_url())
    assert f'id="email-status-{email_activity.pk}"' in record_page.content.decode()
    work()
    assert len(smtp.to("ada@engines.example")) == 1


def test_smtp_down_shows_retrying_then_the_job_retry_delivers(smtp, work, signed_in, admin, ada):
    client = signed_in(admin)
    smtp.stop()
    response = client.post(
        "/email/compose/",
        {"related": f"contact:{ada.pk}", "to": ada.email, "subject": "Proposal", "body": "Attached."},
    )
    assert response.status_code == 302
    activity = Activity.objects.get(type="email")
    work()  # the first attempt: connection refused

    activity.refresh_from_db()
    assert activity.email_status == EmailStatus.QUEUED
    assert "retrying automatically" in activity.email_error
    shown = page_text(client.get(f"/email/{activity.pk}/status/", **HX))
    assert "Sending" in shown and "retrying automatically" in shown
    job = Job.objects.get(name="mail.send")
    assert job.status == Job.Status.QUEUED and job.attempts == 1 and job.run_at > timezone.now()
    assert work() == 0  # backing off

    smtp.start()  # the server is back; the back-off time passes
    Job.objects.filter(pk=job.pk).update(run_at=timezone.now())
    work()
    activity.refresh_from_db()
    assert activity.email_status == EmailStatus.SENT and activity.email_error == ""
    assert [m.subject for m in smtp.to(ada.email)] == ["Proposal"]


def test_a_finally_failed_email_shows_failed_with_the_error_and_can_be_retried(
    smtp, work, signed_in, admin, ada
):
    client = signed_in(admin)
    smtp.stop()
    client.post(
        "/email/compose/",
        {"related": f"contact:{ada.pk}", "to": ada.email, "subject": "Quote", "body": "Here it is."},
    )
    activity = Activity.objects.get(type="email")
    # Seven attempts already failed: this is the last one.
    Job.objects.filter(name="mail.send").update(attempts=mail.MAX_ATTEMPTS - 1)
    OutboundEmail.objects.update(attempts=mail.MAX_ATTEMPTS - 1)
    work()
    activity.refresh_from_db()
    assert activity.email_status == EmailStatus.FAILED
    assert Job.objects.get(name="mail.send").status == Job.Status.FAILED
    status = client.get(f"/email/{activity.pk}/status/", **HX)
    shown = page_text(status)
    assert "Failed" in shown and "Connection" in shown and "Retry" in shown
    record_page = client.get(ada.get_absolute_url())  # the contact's timeline shows it too
    assert f'action="/email/{activity.pk}/retry/"' in record_page.content.decode()
    assert "Failed" in page_text(record_page)

    smtp.start()
    retried = client.post(f"/email/{activity.pk}/retry/", **HX)
    assert retried.status_code == 200 and "Sending" in page_text(retried)
    work()
    activity.refresh_from_db()
    assert activity.email_status == EmailStatus.SENT
    assert len(smtp.to(ada.email)) == 1
    # Retrying a sent email is refused.
    again = client.post(f"/email/{activity.pk}/retry/", follow=True)
    assert "Only a failed email can be sent again." in page_text(again)
