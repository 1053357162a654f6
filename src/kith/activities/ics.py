"""iCalendar (RFC 5545) output: one meeting as an invitation or a download, and a user's calendar feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone

from .models import Activity, ActivityType, AttendeeResponse

PRODID = "-//Kith//Kith CRM//EN"
PARTSTAT = {
    AttendeeResponse.NEEDS_ACTION: "NEEDS-ACTION",
    AttendeeResponse.ACCEPTED: "ACCEPTED",
    AttendeeResponse.TENTATIVE: "TENTATIVE",
    AttendeeResponse.DECLINED: "DECLINED",
}


def escape_text(value: str) -> str:
    return (
        (value or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > limit:
            parts.append(current.decode("utf-8"))
            current = b
            limit = 74  # continuation lines start with a space
        else:
            current += b
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def uid(activity: Activity) -> str:
    host = urlparse(getattr(settings, "KITH_BASE_URL", "")).hostname or "kith.local"
    return f"kith-activity-{activity.pk}@{host}"


def _event_lines(activity: Activity, *, organizer_email: str = "", with_attendees: bool = True,
                 cancelled: bool = False) -> list[str]:
    base = getattr(settings, "KITH_BASE_URL", "").rstrip("/")
    lines = ["BEGIN:VEVENT", f"UID:{uid(activity)}", f"DTSTAMP:{utc(timezone.now())}"]
    if activity.type == ActivityType.MEETING:
        start = activity.occurred_at
        end = activity.ends_at or start + dt.timedelta(minutes=30)
        lines += [f"DTSTART:{utc(start)}", f"DTEND:{utc(end)}"]
    else:  # a task: a point in time at its due date
        due = activity.due_at or activity.occurred_at
        lines += [f"DTSTART:{utc(due)}", f"DTEND:{utc(due + dt.timedelta(minutes=15))}"]
    summary = activity.subject or activity.get_type_display()
    if activity.type == ActivityType.TASK:
        summary = f"Task: {summary}"
    lines.append(f"SUMMARY:{escape_text(summary)}")
    description = activity.body or ""
    if activity.video_url:
        description = f"{activity.video_url}\n\n{description}".strip()
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    location = activity.location or activity.video_url
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if activity.video_url:
        lines.append(f"URL:{activity.video_url}")
    elif base:
        lines.append(f"URL:{base}{activity.get_absolute_url()}")
    lines.append(f"SEQUENCE:{activity.ics_sequence}")
    lines.append(f"LAST-MODIFIED:{utc(activity.updated_at)}")
    lines.append("STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED")
    if organizer_email:
        lines.append(f"ORGANIZER:mailto:{organizer_email}")
    if with_attendees and activity.type == ActivityType.MEETING:
        for a in activity.attendees.all():
            if not a.email:
                continue
            # A quoted parameter value takes no backslash escapes (RFC 5545 3.1): drop quotes and controls.
            cn = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in (a.name or a.email)).replace('"', "'")
            lines.append(
                f'ATTENDEE;CN="{cn}";ROLE=REQ-PARTICIPANT;PARTSTAT={PARTSTAT.get(a.response, "NEEDS-ACTION")};'
                f"RSVP=TRUE:mailto:{a.email}"
            )
    if activity.reminder_minutes is not None and not cancelled:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(summary)}",
            f"TRIGGER:-PT{int(activity.reminder_minutes)}M",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[list[str]], *, method: str = "", name: str = "") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines += [f"X-WR-CALNAME:{escape_text(name)}", "X-PUBLISHED-TTL:PT15M", "REFRESH-INTERVAL;VALUE=DURATION:PT15M"]
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def meeting_ics(activity: Activity, *, method: str = "", organizer_email: str = "", cancelled: bool = False) -> str:
    """One meeting: method REQUEST for invitations, CANCEL when it was cancelled, none for a download."""
    return calendar(
        [_event_lines(activity, organizer_email=organizer_email, cancelled=cancelled)], method=method
    )


def feed(activities: Iterable[Activity], *, name: str) -> str:
    return calendar((_event_lines(a, with_attendees=True) for a in activities), name=name)
