"""Forms of the activity UI: logging a call, meeting, note or email, and comments.

They present and collect; kith.activities.services validates and writes. A service ValidationError (keyed
by the service's field names) is mapped back onto these fields, so each message shows next to its control.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from .models import Activity, ActivityType, CallOutcome, Direction

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

# Service field name -> form field name, where they differ.
SERVICE_TO_FORM = {"duration_seconds": "duration", "reminder_minutes": "reminder"}

REMINDER_CHOICES = [
    ("", "My default"),
    ("none", "No reminder"),
    ("0", "When it starts"),
    ("5", "5 minutes before"),
    ("10", "10 minutes before"),
    ("15", "15 minutes before"),
    ("30", "30 minutes before"),
    ("60", "1 hour before"),
    ("1440", "1 day before"),
]

# Which form fields each kind shows, in order.
KIND_FIELDS: dict[str, list[str]] = {
    ActivityType.CALL: ["subject", "direction", "outcome_choice", "duration", "occurred_at", "body"],
    ActivityType.MEETING: [
        "subject",
        "occurred_at",
        "ends_at",
        "location",
        "video_url",
        "body",
        "outcome_text",
        "reminder",
    ],
    ActivityType.NOTE: ["body", "pinned"],
    ActivityType.EMAIL: ["subject", "direction", "email_from", "email_to", "email_cc", "occurred_at", "body"],
}

LABELS: dict[str, dict[str, str]] = {
    ActivityType.CALL: {"subject": "Subject", "occurred_at": "When", "body": "Notes"},
    ActivityType.MEETING: {"subject": "Title", "occurred_at": "Starts", "body": "Agenda"},
    ActivityType.NOTE: {"body": "Note"},
    ActivityType.EMAIL: {"subject": "Subject", "occurred_at": "Sent or received", "body": "Body"},
}

NOUNS = {
    ActivityType.CALL: "call",
    ActivityType.MEETING: "meeting",
    ActivityType.NOTE: "note",
    ActivityType.EMAIL: "email",
    ActivityType.TASK: "task",
}


def local_input(value: dt.datetime | None) -> str:
    if not value:
        return ""
    return timezone.localtime(value).strftime(DATETIME_FORMAT)


class MultiValue(forms.Field):
    """Several values of one name (hidden inputs written by the pickers): a list of strings."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v).strip() for v in value if str(v).strip()]


def parse_duration(value: str) -> int | None:
    """Seconds from "12" (minutes), "12:30" (minutes:seconds), "1h 5m", "90s"; None when empty."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return round(float(text) * 60)
    m = re.fullmatch(r"(\d+):([0-5]\d)", text)
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    m = re.fullmatch(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?", text)
    if m and any(m.groups()):
        h, mi, s = (int(g or 0) for g in m.groups())
        return h * 3600 + mi * 60 + s
    raise ValidationError("Enter minutes (e.g. 12), minutes:seconds (12:30) or 1h 5m.")


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if secs else str(minutes)


class ActivityForm(forms.Form):
    """One form for the four loggable kinds; `kind` decides which fields it has."""

    version = forms.CharField(required=False, widget=forms.HiddenInput)
    # The prefilled "when" of a new call/note/email; left as it was, it means "now" (to the second).
    when_default = forms.CharField(required=False, widget=forms.HiddenInput)
    subject = forms.CharField(required=False, max_length=300)
    direction = forms.ChoiceField(required=False, choices=Direction.choices, initial=Direction.OUTBOUND)
    outcome_choice = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "—"), *CallOutcome.choices]
    )
    outcome_text = forms.CharField(
        label="Outcome", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    duration = forms.CharField(
        label="Duration (minutes)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 12 or 12:30"}),
    )
    occurred_at = forms.CharField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.CharField(
        label="Ends", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    location = forms.CharField(label="Location", required=False, max_length=300)
    video_url = forms.CharField(
        label="Video link", required=False, widget=forms.URLInput(attrs={"placeholder": "https://"})
    )
    email_from = forms.CharField(label="From", required=False, max_length=254)
    email_to = forms.CharField(
        label="To", required=False, help_text="Separate several addresses with commas."
    )
    email_cc = forms.CharField(label="Cc", required=False)
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: **bold**, *italic*, lists, links.",
    )
    pinned = forms.BooleanField(label="Pin to the top of the timeline", required=False)
    reminder = forms.ChoiceField(label="Remind me", required=False, choices=REMINDER_CHOICES)
    related = MultiValue(label="Related records", required=False)
    attendees = MultiValue(label="Attendees", required=False)
    attendee_emails = forms.CharField(
        label="Other guests",
        required=False,
        help_text="Email addresses of people not in Kith, separated by commas.",
    )

    def __init__(self, *args, kind: str, instance: Activity | None = None, **kwargs):
        self.kind = kind
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        wanted = (
            set(KIND_FIELDS[kind])
            | {"version", "related", "when_default"}
            | ({"attendees", "attendee_emails"} if kind == ActivityType.MEETING else set())
        )
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        for name, label in LABELS.get(kind, {}).items():
            if name in self.fields:
                self.fields[name].label = label
        if kind == ActivityType.NOTE:
            self.fields["body"].widget.attrs.update(
                rows=5, placeholder="Write a note… type @ to mention a colleague"
            )
            self.fields["body"].widget.attrs["data-mentions"] = reverse("web:mention_lookup")
        if kind == ActivityType.EMAIL:
            self.fields["body"].help_text = "The email's text, as sent or received."
            # "Outbound" means little for an email: say who wrote it
            self.fields["direction"].choices = [
                (Direction.OUTBOUND, "Sent (we wrote it)"),
                (Direction.INBOUND, "Received (they wrote it)"),
            ]
        if kind == ActivityType.MEETING:
            self.fields["subject"].widget.attrs["aria-required"] = "true"
            self.fields["subject"].kith_required = True
        if kind == ActivityType.NOTE:
            self.fields["body"].widget.attrs["aria-required"] = "true"
            self.fields["body"].kith_required = True
        if kind == ActivityType.CALL:
            self.fields["subject"].widget.attrs["placeholder"] = "What was it about?"

    # -- initial values --

    @staticmethod
    def initial_from(a: Activity) -> dict[str, Any]:
        return {
            "version": a.version,
            "subject": a.subject,
            "direction": a.direction,
            "outcome_choice": a.outcome if a.type == ActivityType.CALL else "",
            "outcome_text": a.outcome if a.type == ActivityType.MEETING else "",
            "duration": format_duration(a.duration_seconds),
            "occurred_at": local_input(a.occurred_at),
            "ends_at": local_input(a.ends_at),
            "location": a.location,
            "video_url": a.video_url,
            "email_from": a.email_from,
            "email_to": ", ".join(a.email_to or []),
            "email_cc": ", ".join(a.email_cc or []),
            "body": a.body,
            "pinned": a.pinned,
            "reminder": "none" if a.reminder_minutes is None else str(a.reminder_minutes),
        }

    @staticmethod
    def initial_for_new(kind: str) -> dict[str, Any]:
        now = timezone.localtime().replace(second=0, microsecond=0)
        if kind == ActivityType.MEETING:
            start = now + dt.timedelta(minutes=30 - now.minute % 30)
            return {
                "occurred_at": start.strftime(DATETIME_FORMAT),
                "ends_at": (start + dt.timedelta(minutes=30)).strftime(DATETIME_FORMAT),
            }
        when = now.strftime(DATETIME_FORMAT)
        if kind == ActivityType.EMAIL:
            return {"occurred_at": when, "when_default": when, "direction": Direction.OUTBOUND}
        return {"occurred_at": when, "when_default": when}

    def clean_duration(self):
        return parse_duration(self.cleaned_data.get("duration") or "")

    # -- data for the service --

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        kind = self.kind
        data: dict[str, Any] = {"related": list(cd.get("related") or [])}
        if kind != ActivityType.NOTE:
            data["subject"] = cd.get("subject", "")
        data["body"] = cd.get("body", "")
        if "occurred_at" in self.fields:
            data["occurred_at"] = cd.get("occurred_at") or None
            if (
                self.instance is None
                and kind != ActivityType.MEETING
                and cd.get("when_default")
                and cd.get("occurred_at") == cd.get("when_default")
            ):
                data["occurred_at"] = None  # untouched: now, to the second (keeps the timeline's order)
        if kind == ActivityType.NOTE:
            data["pinned"] = bool(cd.get("pinned"))
        if kind == ActivityType.CALL:
            data["direction"] = cd.get("direction") or Direction.OUTBOUND
            data["outcome"] = cd.get("outcome_choice", "")
            data["duration_seconds"] = cd.get("duration")
        if kind == ActivityType.MEETING:
            data["ends_at"] = cd.get("ends_at") or None
            data["location"] = cd.get("location", "")
            data["video_url"] = cd.get("video_url", "")
            data["outcome"] = cd.get("outcome_text", "")
            attendees = list(cd.get("attendees") or [])
            for email in re.split(r"[,;\s]+", cd.get("attendee_emails") or ""):
                if email.strip():
                    attendees.append(f"email:{email.strip()}")
            data["attendees"] = attendees
            reminder = cd.get("reminder", "")
            if reminder == "none":
                data["reminder_minutes"] = None
            elif reminder:
                data["reminder_minutes"] = int(reminder)
            elif self.instance is not None:
                pass  # "My default" on an edit keeps the meeting's reminder as it is
        if kind == ActivityType.EMAIL:
            data["direction"] = cd.get("direction") or Direction.OUTBOUND
            data["email_from"] = cd.get("email_from", "")
            data["email_to"] = cd.get("email_to", "")
            data["email_cc"] = cd.get("email_cc", "")
        return data

    def expected_version(self) -> int | None:
        value = (self.cleaned_data.get("version") or "").strip()
        return int(value) if value.isdigit() else None

    # -- errors from the service --

    def apply_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            name = SERVICE_TO_FORM.get(key, key)
            if key == "outcome":
                name = "outcome_choice" if "outcome_choice" in self.fields else "outcome_text"
            for message in messages:
                if name in self.fields and name != "version":
                    self.add_error(name, message)
                else:
                    label = "" if key == "__all__" else f"{key.replace('_', ' ').capitalize()}: "
                    self.add_error(None, f"{label}{message}")

    def visible_fields_in_order(self):
        return [self[name] for name in KIND_FIELDS[self.kind] if name in self.fields]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=20_000,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": "Write a comment… type @ to mention a colleague",
                "data-mentions": "1",
            }
        ),
        error_messages={"required": "A comment needs some text."},
    )

    def apply_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error("body" if key == "body" else None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)
