"""Forms of the tasks, email and notification-settings pages. They parse and present; the services in
kith.activities.services validate and write, and their ValidationErrors are shown on these fields."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms

from kith.core.models import User
from kith.web.forms_settings import SettingsForm

from .models import Priority, Recurrence
from .services import EMAIL_KINDS

DEFAULT_DUE_TIME = dt.time(9, 0)
REMINDER_CHOICES = [
    ("", "No reminder"),
    ("0", "At the due time"),
    ("5", "5 minutes before"),
    ("15", "15 minutes before"),
    ("30", "30 minutes before"),
    ("60", "1 hour before"),
    ("1440", "1 day before"),
]
MEETING_REMINDER_CHOICES = [(v, label) for v, label in REMINDER_CHOICES if v != ""]
MEETING_REMINDER_CHOICES[0] = ("0", "At the start")
EMAIL_KIND_LABELS = {
    "assigned": "When someone assigns me a task or a record",
    "mentioned": "When someone @mentions me in a comment",
    "reminder": "Reminders of my tasks and meetings",
}


def minutes_label(minutes: int | None) -> str:
    if minutes is None:
        return "No reminder"
    for value, label in REMINDER_CHOICES:
        if value == str(minutes):
            return label
    if minutes % 1440 == 0:
        n = minutes // 1440
        return f"{n} day{'s' if n != 1 else ''} before"
    if minutes % 60 == 0:
        n = minutes // 60
        return f"{n} hour{'s' if n != 1 else ''} before"
    return f"{minutes} minutes before"


def user_choices(current: User | None = None, *, empty: str | None = None) -> list[tuple[str, str]]:
    users = User.objects.filter(is_active=True).order_by("full_name", "email")
    out = [(str(u.pk), u.display_name) for u in users]
    if current is not None and not current.is_active:
        out.append((str(current.pk), f"{current.display_name} (deactivated)"))
    if empty is not None:
        out.insert(0, ("", empty))
    return out


class KithForm(SettingsForm):
    """Service errors land on the form field of the same meaning (service_field_names); error_summary()
    lists them at the top of the form."""


class TaskForm(KithForm):
    """Create or edit a task. The due date and time are read in the user's time zone."""

    service_field_names = {
        "subject": "title",
        "body": "description",
        "due_at": "due_date",
        "assignee_id": "assignee",
        "reminder_minutes": "reminder",
        "recurrence": "repeat",
        "recurrence_interval": "every_n_days",
    }

    title = forms.CharField(
        label="Title",
        max_length=300,
        error_messages={"required": "A task needs a title."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Send the proposal"}),
    )
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    due_time = forms.TimeField(
        label="Time", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    assignee = forms.ChoiceField(label="Assignee", required=False)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial=Priority.NORMAL)
    reminder = forms.ChoiceField(label="Reminder", required=False, choices=REMINDER_CHOICES)
    repeat = forms.ChoiceField(
        label="Repeat",
        required=False,
        choices=[(v or "", label) for v, label in Recurrence.choices],
        widget=forms.Select(attrs={"data-task-repeat": ""}),
    )
    every_n_days = forms.IntegerField(
        label="Every how many days",
        required=False,
        min_value=1,
        max_value=365,
        widget=forms.NumberInput(attrs={"min": 1, "max": 365, "inputmode": "numeric"}),
        help_text="For “Every N days”.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Markdown: **bold**, lists, links.",
    )
    related = forms.CharField(required=False, widget=forms.HiddenInput)
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, tz, task=None, **kwargs):
        self.tz = tz
        self.task = task
        if task is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(task, tz)
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = user_choices(getattr(task, "assignee", None), empty="Nobody")
        self.fields["every_n_days"].kith_conditional = True
        if task is None:
            self.fields["title"].widget.attrs["autofocus"] = True  # quick-add: type the title straight away
        current = self.initial.get("reminder")
        if current not in (None, "") and str(current) not in dict(REMINDER_CHOICES):
            self.fields["reminder"].choices = [*REMINDER_CHOICES, (str(current), minutes_label(int(current)))]
        for name in ("title", "priority"):
            self.fields[name].kith_required = True

    @staticmethod
    def initial_from(task, tz) -> dict[str, Any]:
        due = task.due_at.astimezone(tz) if task.due_at else None
        return {
            "title": task.subject,
            "due_date": due.date() if due else None,
            "due_time": due.time().replace(second=0, microsecond=0) if due else None,
            "assignee": str(task.assignee_id or ""),
            "priority": task.priority,
            "reminder": "" if task.reminder_minutes is None else str(task.reminder_minutes),
            "repeat": task.recurrence or "",
            "every_n_days": task.recurrence_interval if task.recurrence == Recurrence.EVERY_N_DAYS else None,
            "description": task.body,
            "version": task.version,
        }

    @staticmethod
    def new_initial(user, tz, *, now: dt.datetime | None = None) -> dict[str, Any]:
        """Defaults of a new task: due tomorrow at 9:00 (the user's time), assigned to them."""
        from django.utils import timezone

        local = timezone.localtime(now or timezone.now(), tz)
        return {
            "due_date": local.date() + dt.timedelta(days=1),
            "due_time": DEFAULT_DUE_TIME,
            "assignee": str(user.pk),
            "priority": Priority.NORMAL,
            "reminder": "",
            "repeat": "",
        }

    def due_at(self) -> dt.datetime | None:
        d = self.cleaned_data.get("due_date")
        if d is None:
            return None
        t = self.cleaned_data.get("due_time") or DEFAULT_DUE_TIME
        return dt.datetime.combine(d, t).replace(tzinfo=self.tz)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("due_time") and not cleaned.get("due_date") and "due_date" not in self.errors:
            self.add_error("due_date", "Pick a date for this time (or clear the time).")
        if (
            cleaned.get("repeat") == Recurrence.EVERY_N_DAYS
            and not cleaned.get("every_n_days")
            and "every_n_days" not in self.errors
        ):
            self.add_error("every_n_days", "How many days between repeats?")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        due = self.due_at()
        data: dict[str, Any] = {
            "subject": cd["title"],
            "body": cd.get("description", ""),
            "due_at": due.isoformat() if due else None,
            "assignee_id": cd.get("assignee") or None,
            "priority": cd.get("priority") or Priority.NORMAL,
            "reminder_minutes": cd.get("reminder") if cd.get("reminder") not in (None, "") else None,
            "recurrence": cd.get("repeat") or "",
        }
        if cd.get("repeat") == Recurrence.EVERY_N_DAYS:
            data["recurrence_interval"] = cd.get("every_n_days") or 1
        if self.task is None:
            related = [
                r
                for r in (self.data.getlist("related") if hasattr(self.data, "getlist") else [])
                if r.strip()
            ]
            if related:
                data["related"] = related
        elif self.task.assignee_id and str(self.task.assignee_id) == str(data["assignee_id"] or ""):
            del data["assignee_id"]  # unchanged: a deactivated assignee stays instead of failing validation
        return data

    def expected_version(self) -> int | None:
        raw = (self.cleaned_data.get("version") or "").strip()
        return int(raw) if raw.isdigit() else None


# --- tasks list filters --------------------------------------------------------------------------------

STATUS_FILTERS = [("open", "Open"), ("done", "Done"), ("cancelled", "Cancelled"), ("all", "Any status")]
RELATED_TYPES = [
    ("contact", "Contacts"),
    ("company", "Companies"),
    ("lead", "Leads"),
    ("deal", "Deals"),
    ("none", "Not linked to a record"),
]


class TaskFilterForm(forms.Form):
    assignee = forms.ChoiceField(label="Assignee", required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_FILTERS)
    priority = forms.ChoiceField(
        label="Priority", required=False, choices=[("", "Any priority"), *Priority.choices]
    )
    due_after = forms.DateField(
        label="Due from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    due_before = forms.DateField(
        label="Due until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    related = forms.ChoiceField(
        label="Related to", required=False, choices=[("", "Anything"), *RELATED_TYPES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("me", "Me"),
            ("anyone", "Anyone"),
            ("none", "Nobody"),
            *user_choices(),
        ]


# --- email ---------------------------------------------------------------------------------------------


class EmailComposeForm(KithForm):
    service_field_names = {"template_id": "template"}

    to = forms.CharField(
        label="To",
        max_length=2000,
        error_messages={"required": "Who should receive it?"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Email addresses, separated by commas.",
    )
    cc = forms.CharField(
        label="Cc",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    template = forms.ChoiceField(label="Template", required=False)
    subject = forms.CharField(
        label="Subject", max_length=300, error_messages={"required": "An email needs a subject."}
    )
    body = forms.CharField(
        label="Message",
        max_length=100_000,
        error_messages={"required": "An email needs a message."},
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Markdown. Merge fields such as {{ contact.first_name }} are filled in when sent.",
    )
    related = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", "No template"), *[(str(t.pk), t.name) for t in templates]]
        for name in ("to", "subject", "body"):
            self.fields[name].kith_required = True

    def service_data(self, related: list[str]) -> dict[str, Any]:
        cd = self.cleaned_data
        return {
            "to": cd["to"],
            "cc": cd.get("cc", ""),
            "subject": cd["subject"],
            "body": cd["body"],
            "related": related,
        }


class EmailTemplateForm(KithForm):
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="Shown in the template picker.",
        error_messages={"required": "Give the template a name."},
    )
    subject = forms.CharField(
        label="Subject", max_length=300, error_messages={"required": "A template needs a subject."}
    )
    body = forms.CharField(
        label="Message",
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": "A template needs a message."},
        help_text="Markdown, with merge fields from the list beside the form.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].kith_required = True


# --- notification settings -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(
        n for n in zoneinfo.available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    )
    return [(n, n.replace("_", " ")) for n in ["UTC", *names]]


class NotificationSettingsForm(KithForm):
    email_kinds = forms.MultipleChoiceField(
        label="Also send me an email",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k, EMAIL_KIND_LABELS[k]) for k in EMAIL_KINDS],
        help_text="You always see these in the notifications bell; ticked ones also arrive by email.",
    )
    digest_enabled = forms.BooleanField(
        label="Email me a daily agenda",
        required=False,
        help_text="Today's tasks, overdue tasks and today's meetings.",
    )
    digest_time = forms.TimeField(
        label="Agenda time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "At what time should the agenda arrive?",
            "invalid": "Enter a time such as 07:30.",
        },
    )
    time_zone = forms.ChoiceField(
        label="Time zone", required=False, help_text="Due times, reminders and the agenda use this time zone."
    )
    default_reminder_minutes = forms.ChoiceField(
        label="Default meeting reminder",
        choices=MEETING_REMINDER_CHOICES,
        help_text="New meetings you log remind you this long before they start.",
    )

    def __init__(self, *args, workspace_tz: str = "UTC", current_reminder: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", f"Workspace default ({workspace_tz})"), *time_zone_choices()]
        if current_reminder is not None and str(current_reminder) not in dict(MEETING_REMINDER_CHOICES):
            self.fields["default_reminder_minutes"].choices = [
                *MEETING_REMINDER_CHOICES,
                (str(current_reminder), minutes_label(current_reminder)),
            ]

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        return {
            "email_kinds": list(cd.get("email_kinds") or []),
            "digest_enabled": bool(cd.get("digest_enabled")),
            "digest_time": cd["digest_time"].strftime("%H:%M"),
            "time_zone": cd.get("time_zone") or "",
            "default_reminder_minutes": int(cd["default_reminder_minutes"]),
        }
