"""Two workers claiming the same reminder and email jobs at once on PostgreSQL: every job runs exactly once,
so every reminder and every email reaches the SMTP server exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity, EmailStatus, Reminder
from kith.contacts.services import create_contact
from kith.core import jobs
from kith.core.models import Job, Notification, OutboundEmail

TASKS = 30
EMAILS = 15


def _worker(barrier: threading.Barrier, errors: list, ran: list) -> None:
    try:
        barrier.wait(timeout=30)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ran.append(jobs.run_worker(burst=True, poll=0.05))
            now = timezone.now()
            if not Job.objects.filter(
                status__in=[Job.Status.QUEUED, Job.Status.RUNNING], run_at__lte=now
            ).exists():
                break
            time.sleep(0.05)
    except Exception as exc:  # pragma: no cover - shown by the assertion below
        errors.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_each_reminder_and_email_job_exactly_once(smtp, admin, member):
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrent workers need PostgreSQL: the SQLite test database is an in-memory shared cache "
            "whose table locks fail at once instead of waiting (a file database would serialise writers)."
        )
    contact = create_contact(
        actor=admin, data={"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example"}
    )
    due = timezone.now() + dt.timedelta(seconds=1)
    for i in range(TASKS):
        services.create_task(
            actor=admin,
            data={
                "subject": f"Task {i:02d}",
                "due_at": due.isoformat(),
                "reminder_minutes": 0,
                "assignee_id": member.pk,
                "related": [f"contact:{contact.pk}"],
            },
        )
    for i in range(EMAILS):
        services.send_email(
            actor=admin,
            data={
                "to": contact.email,
                "subject": f"Email {i:02d}",
                "body": "Hello.",
                "related": [f"contact:{contact.pk}"],
            },
        )
    time.sleep(1.2)  # every reminder is due now

    barrier = threading.Barrier(2)
    errors: list[str] = []
    ran: list[int] = []
    threads = [threading.Thread(target=_worker, args=(barrier, errors, ran)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert errors == []
    assert not any(t.is_alive() for t in threads)

    # Each job ran once: none was claimed twice, none failed or is left over.
    assert Job.objects.filter(attempts__gt=1).count() == 0
    assert Job.objects.filter(status=Job.Status.FAILED).count() == 0
    assert not Job.objects.filter(
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING], run_at__lte=timezone.now()
    ).exists()
    workers = set(Job.objects.filter(status=Job.Status.DONE).values_list("locked_by", flat=True))
    assert sum(ran) >= TASKS * 3 + EMAILS

    reminders = smtp.to(member.email, "Reminder:")
    subjects = Counter(m.subject.split("“")[1].split("”")[0] for m in reminders)
    assert subjects == Counter({f"Task {i:02d}": 1 for i in range(TASKS)})
    assigned = smtp.to(member.email, "assigned you a task")
    assert len(assigned) == TASKS
    sent = Counter(m.subject for m in smtp.to("grace@navy.example"))
    assert sent == Counter({f"Email {i:02d}": 1 for i in range(EMAILS)})
    message_ids = [m.message["Message-ID"].strip() for m in smtp.messages]
    assert len(message_ids) == len(set(message_ids))

    assert Reminder.objects.filter(fired_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=member, kind="reminder").count() == TASKS
    assert OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).count() == 0
    assert set(Activity.objects.filter(type="email").values_list("email_status", flat=True)) == {
        EmailStatus.SENT
    }
    assert len(workers) == 2  # both workers took their share
