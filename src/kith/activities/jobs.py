"""Background jobs: reminders (one job at each reminder's time, plus a sweep every minute as a safety net),
the daily agenda emails, and the next task of a repeating series."""

from __future__ import annotations

from datetime import timedelta

from kith.core import jobs

from . import services


@jobs.job("activities.fire_reminder", max_attempts=10)
def fire_reminder(reminder_id: int) -> dict:
    return {"fired": services.fire_reminder(reminder_id=reminder_id)}


@jobs.periodic("activities.sweep_reminders", every=timedelta(minutes=1))
def sweep_reminders() -> dict:
    return {"fired": services.fire_due_reminders()}


@jobs.periodic("activities.daily_agenda", every=timedelta(minutes=5))
def daily_agenda() -> dict:
    return {"sent": services.send_due_digests()}


@jobs.job("activities.next_occurrence", max_attempts=5)
def next_occurrence(task_id: int) -> dict:
    task = services.create_next_occurrence(task_id=task_id)
    return {"created": task.pk if task else None}



@jobs.periodic("activities.purge", every=timedelta(hours=24))
def purge() -> dict:
    """Delete trashed activities and comments older than KITH_TRASH_DAYS, and the timeline links and comments
    of records that were deleted for good (purged from the trash)."""
    return services.purge_trash()
