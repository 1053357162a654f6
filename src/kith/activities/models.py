"""Activities: calls, meetings, notes, emails and tasks, linked to any CRM record, plus comments, reminders,
email templates and each user's activity settings.

One table holds every kind of activity (the Salesforce "Task and Event" idea, simplified): the timeline of a
record is then one indexed range scan over ActivityLink, merged with the record's history and comments.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from kith.core.features import OwnerMixin, TimestampsMixin, TrashMixin, VersionMixin

RECORD_TYPES = ("contact", "company", "lead", "deal", "ticket")


class ActivityType(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"
    EMAIL = "email", "Email"
    TASK = "task", "Task"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    VOICEMAIL = "voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Recurrence(models.TextChoices):
    NONE = "", "Does not repeat"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    EVERY_N_DAYS = "every_n_days", "Every N days"


class EmailStatus(models.TextChoices):
    LOGGED = "logged", "Logged"  # written down by hand, not sent by Kith
    QUEUED = "queued", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Activity(TimestampsMixin, VersionMixin, TrashMixin, OwnerMixin):
    """A call, meeting, note, email or task. `owner` is who logged it; tasks also have an assignee."""

    object_type = "activity"
    audit_fields = {
        "subject": "Subject",
        "body": "Description",
        "occurred_at": "When",
        "pinned": "Pinned",
        "direction": "Direction",
        "outcome": "Outcome",
        "duration_seconds": "Duration (s)",
        "ends_at": "Ends",
        "location": "Location",
        "video_url": "Video link",
        "due_at": "Due",
        "priority": "Priority",
        "assignee": "Assignee",
        "status": "Status",
        "recurrence": "Repeats",
        "recurrence_interval": "Every N days",
        "reminder_minutes": "Reminder (minutes before)",
        "email_status": "Email status",
    }

    type = models.CharField(max_length=10, choices=ActivityType.choices)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="Markdown (notes, call notes, agenda, task description, email text)")
    occurred_at = models.DateTimeField(default=timezone.now, help_text="position in the timeline")
    pinned = models.BooleanField(default=False)

    # calls (and emails: inbound/outbound)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    outcome = models.CharField(max_length=500, blank=True, help_text="call outcome code, or a meeting's outcome")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    # meetings
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True)
    video_url = models.URLField(max_length=500, blank=True)
    ics_sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE, bumped on each change")

    # tasks
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    recurrence = models.CharField(max_length=16, choices=Recurrence.choices, blank=True, default="")
    recurrence_interval = models.PositiveIntegerField(default=1)
    recurrence_parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reminder_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="remind this many minutes before the due time / start (0 = at that time)"
    )

    # emails
    email_from = models.CharField(max_length=254, blank=True)
    email_to = models.JSONField(default=list, blank=True)
    email_cc = models.JSONField(default=list, blank=True)
    email_html = models.TextField(blank=True, help_text="HTML body as sent or received; sanitised before display")
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, blank=True)
    email_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_objects"
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="activity_task_idx"),
            models.Index(fields=["type", "occurred_at"], name="activity_type_when_idx"),
            models.Index(fields=["owner", "type", "occurred_at"], name="activity_owner_idx"),
            models.Index(fields=["updated_at", "id"], name="activity_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_type_display()

    def get_absolute_url(self) -> str:
        return reverse("web:activity_detail", args=[self.pk])

    @property
    def is_task(self) -> bool:
        return self.type == ActivityType.TASK

    @property
    def is_overdue(self) -> bool:
        return (
            self.type == ActivityType.TASK
            and self.status == TaskStatus.OPEN
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class ActivityLink(models.Model):
    """An activity shown on a record's timeline. occurred_at, type and pinned are copies kept in step by the
    services, so a record's timeline page is one index range scan and its pinned notes one index lookup."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="links")
    record_type = models.CharField(max_length=16)
    record_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    type = models.CharField(max_length=10, choices=ActivityType.choices)
    pinned = models.BooleanField(default=False, help_text="copy of the activity's pinned flag")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "record_type", "record_id"], name="activity_link_unique")
        ]
        indexes = [
            models.Index(
                fields=["record_type", "record_id", "-occurred_at", "-activity"], name="activity_link_timeline_idx"
            ),
            models.Index(fields=["record_type", "record_id"], condition=Q(pinned=True), name="activity_link_pinned_idx"),
        ]

    def __str__(self) -> str:
        return f"activity {self.activity_id} on {self.record_type} {self.record_id}"


class AttendeeResponse(models.TextChoices):
    NEEDS_ACTION = "needs_action", "No answer yet"
    ACCEPTED = "accepted", "Accepted"
    TENTATIVE = "tentative", "Maybe"
    DECLINED = "declined", "Declined"


class Attendee(models.Model):
    """Someone invited to a meeting: a contact, a user, or just an email address."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=300, blank=True)
    email = models.CharField(max_length=254, blank=True)
    response = models.CharField(max_length=16, choices=AttendeeResponse.choices, default=AttendeeResponse.NEEDS_ACTION)
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.email


class Comment(TimestampsMixin, TrashMixin):
    """A comment on a record (contact, deal …) or on an activity (record_type "activity")."""

    record_type = models.CharField(max_length=16)
    record_id = models.BigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(help_text="Markdown; @email mentions notify that user")
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # the company of the contact or deal commented on, when it was written: the comment shows on that
    # company's timeline too (as activities do through their company links)
    company_rollup_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["record_type", "record_id", "-created_at", "-id"], name="comment_record_idx"),
            models.Index(fields=["company_rollup_id", "-created_at", "-id"], name="comment_company_rollup_idx",
                         condition=Q(company_rollup_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Reminder(models.Model):
    """One reminder for one user at one time. fired_at is set exactly once (a conditional UPDATE)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    remind_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["remind_at"], condition=Q(fired_at__isnull=True), name="reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return f"reminder for activity {self.activity_id} at {self.remind_at:%Y-%m-%d %H:%M}"


class EmailTemplate(TimestampsMixin):
    name = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=300)
    body = models.TextField(help_text="plain text or Markdown with {{ contact.first_name }}-style merge fields")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class UserSettings(models.Model):
    """Per-user choices: which notifications also go by email, the daily agenda, the calendar feed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_settings")
    email_kinds = models.JSONField(
        default=list, blank=True, help_text="notification kinds that are also emailed (assigned, mentioned, reminder)"
    )
    digest_enabled = models.BooleanField(default=True)
    digest_time = models.TimeField(default="08:00")
    time_zone = models.CharField(max_length=64, default="", blank=True, help_text="IANA name; empty = workspace's")
    last_digest_on = models.DateField(null=True, blank=True)
    default_reminder_minutes = models.PositiveIntegerField(default=15)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)

    def __str__(self) -> str:
        return f"settings of {self.user}"
