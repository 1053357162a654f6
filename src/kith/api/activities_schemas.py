"""Request and response shapes of the activities API (activities, tasks, comments, notifications, email
templates, sending email, timelines) and the functions that turn rows into them.

Like schemas.py: inputs forbid unknown keys and leave every field optional, so what a client sends is passed
to kith.activities.services as is and the service decides what is required and names the field at fault.
Fields the service parses itself (dates, related records, attendees, addresses) are typed loosely here so the
service's messages, not pydantic's, reach the client.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from django.urls import NoReverseMatch
from ninja import Schema
from pydantic import Field, WithJsonSchema

from kith.activities.models import (
    RECORD_TYPES,
    Activity,
    ActivityLink,
    ActivityType,
    AttendeeResponse,
    CallOutcome,
    Comment,
    EmailStatus,
    EmailTemplate,
    Priority,
    Recurrence,
    TaskStatus,
    UserSettings,
)
from kith.activities.services import EMAIL_KINDS
from kith.core import permissions
from kith.core.records import record_model

from .schemas import HistoryEntryOut, Input, history_dict

VERSION_HELP = "the version you read; a stale one answers 409 (or send If-Match)"
LOGGED_TYPES = [ActivityType.CALL.value, ActivityType.MEETING.value, ActivityType.NOTE.value, ActivityType.EMAIL.value]

DateTimeText = Annotated[
    str | None,
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
                    "description": "ISO 8601, e.g. 2026-11-23T14:30:00+01:00 (no offset: the workspace's time zone)"}),
]
RelatedList = Annotated[
    Any,
    WithJsonSchema({
        "type": "array",
        "description": 'records it shows on: [{"type": "contact", "id": 7}] or ["contact:7"]; types: '
        + ", ".join(t for t in RECORD_TYPES if t != "ticket")
        + ". An activity on a contact or deal also shows on its company's timeline.",
        "items": {"anyOf": [
            {"type": "object", "properties": {"type": {"type": "string"}, "id": {"type": "integer"}},
             "required": ["type", "id"]},
            {"type": "string", "example": "contact:7"},
        ]},
    }),
]
AttendeeList = Annotated[
    Any,
    WithJsonSchema({
        "type": "array",
        "description": "the complete list of attendees (replaces the current one): a contact, a user or an "
        "email address each; `response` is one of " + ", ".join(AttendeeResponse.values),
        "items": {"type": "object", "properties": {
            "contact_id": {"type": "integer"}, "user_id": {"type": "integer"}, "email": {"type": "string"},
            "name": {"type": "string"}, "response": {"type": "string", "enum": list(AttendeeResponse.values)},
        }},
    }),
]
EmailList = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "string", "format": "email"}},
                              {"type": "string", "description": "comma-separated"}, {"type": "null"}]}),
]


def _url(obj) -> str | None:
    """The object's page in the web app (None while no page exists for it)."""
    try:
        return obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        return None


# --- shared pieces ---------------------------------------------------------------------------------------


class RelatedOut(Schema):
    type: str
    id: int
    name: str | None = Field(description="null when you cannot see that record")
    url: str | None


class AttendeeOut(Schema):
    id: int
    contact_id: int | None
    user_id: int | None
    name: str
    email: str
    response: str = Field(description="one of: " + ", ".join(AttendeeResponse.values))
    invited_at: dt.datetime | None


# --- activities (call, meeting, note, email) -------------------------------------------------------------


class ActivityIn(Input):
    type: str | None = Field(None, description="call, meeting, note or email (required on create; tasks are "
                             "created with POST /api/v1/tasks)")
    subject: str | None = Field(None, description="a meeting's title, an email's subject, a call's summary")
    body: str | None = Field(None, description="Markdown: the note, the call notes, the meeting agenda, the email text")
    occurred_at: DateTimeText = Field(None, description="when it happened (a meeting: when it starts); default now")
    pinned: bool | None = Field(None, description="a pinned note shows first on the timeline")
    related: RelatedList = None
    owner_id: int | None = Field(None, description="who logged it; default you")
    direction: str | None = Field(None, description="calls and emails: inbound or outbound")
    outcome: str | None = Field(None, description="a call's outcome (" + ", ".join(CallOutcome.values)
                                + ") or a meeting's outcome (free text)")
    duration_seconds: int | None = Field(None, description="calls")
    ends_at: DateTimeText = Field(None, description="meetings")
    location: str | None = Field(None, description="meetings")
    video_url: str | None = Field(None, description="meetings")
    attendees: AttendeeList = None
    reminder_minutes: int | None = Field(None, description="meetings: remind the organiser and user attendees this "
                                         "many minutes before the start (default: your setting)")
    email_from: str | None = Field(None, description="emails logged by hand")
    email_to: EmailList = None
    email_cc: EmailList = None
    email_html: str | None = Field(None, description="emails logged by hand: the HTML body (sanitised when shown)")


class ActivityPatch(ActivityIn):
    version: int | None = Field(None, description=VERSION_HELP)


class ActivityOut(Schema):
    id: int
    type: str = Field(description="one of: " + ", ".join(LOGGED_TYPES))
    subject: str
    body: str
    occurred_at: dt.datetime
    pinned: bool
    owner_id: int | None
    related: list[RelatedOut]
    direction: str
    outcome: str
    duration_seconds: int | None
    ends_at: dt.datetime | None
    location: str
    video_url: str
    reminder_minutes: int | None
    attendees: list[AttendeeOut] = Field(description="meetings; empty for other types")
    email_from: str
    email_to: list[str]
    email_cc: list[str]
    email_html: str = Field(description="sanitised: no scripts, styles or remote images")
    email_status: str = Field(description="emails: " + ", ".join(EmailStatus.values) + " (queued = being sent)")
    email_error: str = Field(description="why sending failed (or is being retried)")
    sent_at: dt.datetime | None
    url: str | None = Field(description="the activity's page in the web app")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


# --- tasks -----------------------------------------------------------------------------------------------


class TaskIn(Input):
    subject: str | None = Field(None, description="the task's title (required)")
    body: str | None = Field(None, description="description, Markdown")
    due_at: DateTimeText = None
    priority: str | None = Field(None, description="one of: " + ", ".join(Priority.values) + "; default normal")
    assignee_id: int | None = Field(None, description="default you on create")
    status: str | None = Field(None, description="one of: " + ", ".join(TaskStatus.values))
    recurrence: str | None = Field(None, description="daily, weekly, monthly, every_n_days or none (needs due_at); "
                                   "completing a repeating task creates the next one")
    recurrence_interval: int | None = Field(None, description="the N of every_n_days")
    reminder_minutes: int | None = Field(None, description="remind the assignee this many minutes before due_at "
                                         "(0 = at due time; needs due_at); null for no reminder")
    related: RelatedList = None
    owner_id: int | None = Field(None, description="who created it; default you")


class TaskPatch(TaskIn):
    version: int | None = Field(None, description=VERSION_HELP)


class TaskOut(Schema):
    id: int
    type: str = Field(description="always task")
    subject: str
    body: str
    due_at: dt.datetime | None
    priority: str
    assignee_id: int | None
    status: str = Field(description="one of: " + ", ".join(TaskStatus.values))
    is_overdue: bool
    completed_at: dt.datetime | None
    recurrence: str = Field(description="one of: " + ", ".join(v or '""' for v in Recurrence.values))
    recurrence_interval: int
    reminder_minutes: int | None
    owner_id: int | None
    related: list[RelatedOut]
    url: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


def related_map(activities: list[Activity], user) -> dict[int, list[dict[str, Any]]]:
    """{activity id: [{type, id, name, url}]} for a page of activities, in one query per record type.

    A company link implied by a related contact or deal (the timeline roll-up) is left out, as in
    services.related_records; records the user cannot see show with name and url null.
    """
    ids = [a.pk for a in activities]
    links = list(
        ActivityLink.objects.filter(activity_id__in=ids).order_by("id").values_list("activity_id", "record_type", "record_id")
    ) if ids else []
    wanted: dict[str, set[int]] = defaultdict(set)
    for _, kind, pk in links:
        wanted[kind].add(pk)
    objects: dict[tuple[str, int], Any] = {}
    visible: set[tuple[str, int]] = set()
    for kind, pks in wanted.items():
        model = record_model(kind)
        if model is None:
            continue
        for obj in model.all_objects.filter(pk__in=pks):
            objects[(kind, obj.pk)] = obj
        visible |= {(kind, pk) for pk in permissions.visible(model.all_objects.filter(pk__in=pks), user)
                    .values_list("pk", flat=True)}
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    per_activity: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for activity_id, kind, pk in links:
        if (kind, pk) in objects:
            per_activity[activity_id].append((kind, pk))
    for activity_id, keys in per_activity.items():
        implied = {("company", getattr(objects[k], "company_id", None)) for k in keys if k[0] in ("contact", "deal")}
        for key in keys:
            if key in implied:
                continue
            obj, seen = objects[key], key in visible
            out[activity_id].append({"type": key[0], "id": key[1], "name": str(obj) if seen else None,
                                     "url": _url(obj) if seen else None})
    return out


def attendee_dict(a) -> dict[str, Any]:
    return {"id": a.pk, "contact_id": a.contact_id, "user_id": a.user_id, "name": a.name, "email": a.email,
            "response": a.response, "invited_at": a.invited_at}


def activity_dict(a: Activity, related: list[dict[str, Any]]) -> dict[str, Any]:
    from kith.activities.text import sanitize_html

    attendees = list(a.attendees.all()) if a.type == ActivityType.MEETING else []
    return {
        "id": a.pk,
        "type": a.type,
        "subject": a.subject,
        "body": a.body,
        "occurred_at": a.occurred_at,
        "pinned": a.pinned,
        "owner_id": a.owner_id,
        "related": related,
        "direction": a.direction,
        "outcome": a.outcome,
        "duration_seconds": a.duration_seconds,
        "ends_at": a.ends_at,
        "location": a.location,
        "video_url": a.video_url,
        "reminder_minutes": a.reminder_minutes if a.type == ActivityType.MEETING else None,
        "attendees": [attendee_dict(x) for x in attendees],
        "email_from": a.email_from,
        "email_to": list(a.email_to or []),
        "email_cc": list(a.email_cc or []),
        "email_html": str(sanitize_html(a.email_html)) if a.email_html else "",
        "email_status": a.email_status,
        "email_error": a.email_error,
        "sent_at": a.sent_at,
        "url": _url(a),
        "version": a.version,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "deleted_at": a.deleted_at,
    }


def task_dict(t: Activity, related: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": t.pk,
        "type": t.type,
        "subject": t.subject,
        "body": t.body,
        "due_at": t.due_at,
        "priority": t.priority,
        "assignee_id": t.assignee_id,
        "status": t.status,
        "is_overdue": t.is_overdue,
        "completed_at": t.completed_at,
        "recurrence": t.recurrence,
        "recurrence_interval": t.recurrence_interval,
        "reminder_minutes": t.reminder_minutes,
        "owner_id": t.owner_id,
        "related": related,
        "url": _url(t),
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "deleted_at": t.deleted_at,
    }


def activity_dicts(rows: list[Activity], user) -> list[dict[str, Any]]:
    """Serialise a page (activities or tasks) with the related records read in bulk."""
    related = related_map(rows, user)
    return [(task_dict if a.type == ActivityType.TASK else activity_dict)(a, related.get(a.pk, [])) for a in rows]


class InvitationsOut(Schema):
    invited: int = Field(description="how many invitations were queued")


# --- comments --------------------------------------------------------------------------------------------


class CommentIn(Input):
    record_type: str | None = Field(None, description="contact, company, lead, deal, or activity (a comment on an "
                                    "activity or task)")
    record_id: int | None = None
    body: str | None = Field(None, description="Markdown; “@ann@example.com” mentions that user, who is notified")


class CommentPatch(Input):
    body: str | None = None


class CommentOut(Schema):
    id: int
    record_type: str
    record_id: int
    author_id: int | None
    author_name: str | None
    body: str
    body_html: str = Field(description="the body rendered from Markdown, sanitised, mentions highlighted")
    mention_ids: list[int] = Field(description="users mentioned (and notified)")
    created_at: dt.datetime
    updated_at: dt.datetime


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


def _name(user) -> str | None:
    return (user.full_name or user.email) if user is not None else None


def comment_dict(c: Comment, mention_ids: list[int] | None = None) -> dict[str, Any]:
    from kith.activities.text import markdown

    if mention_ids is None:
        mention_ids = sorted(u.pk for u in c.mentions.all())
    return {
        "id": c.pk,
        "record_type": c.record_type,
        "record_id": c.record_id,
        "author_id": c.author_id,
        "author_name": _name(c.author),
        "body": c.body,
        "body_html": str(markdown(c.body)),
        "mention_ids": mention_ids,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


# --- notifications ---------------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="assigned, mentioned, reminder …")
    title: str
    url: str = Field(description="where it points in the web app")
    actor_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


def notification_dict(n) -> dict[str, Any]:
    return {"id": n.pk, "kind": n.kind, "title": n.title, "url": n.url, "actor_id": n.actor_id,
            "created_at": n.created_at, "read_at": n.read_at}


class MarkReadIn(Input):
    ids: list[int] | None = Field(None, description="the notifications to mark read")
    all: bool | None = Field(None, description="true marks all of yours read")


class MarkReadOut(Schema):
    marked: int = Field(description="how many were unread and are now read")
    unread: int = Field(description="how many unread remain")


class UnreadOut(Schema):
    unread: int


class NotificationSettingsIn(Input):
    email_kinds: list[str] | None = Field(None, description="notification kinds also sent by email: "
                                          + ", ".join(EMAIL_KINDS))
    digest_enabled: bool | None = Field(None, description="the daily agenda email")
    digest_time: str | None = Field(None, description="local time of the daily agenda, e.g. 07:30")
    time_zone: str | None = Field(None, description="IANA name, e.g. Europe/Berlin; empty for the workspace's")
    default_reminder_minutes: int | None = Field(None, description="reminder before a meeting you log, 0 to 10080")


class NotificationSettingsOut(Schema):
    email_kinds: list[str]
    digest_enabled: bool
    digest_time: str = Field(description="HH:MM")
    time_zone: str
    default_reminder_minutes: int
    calendar_feed_url: str = Field(description="your private iCalendar feed (subscribe in a calendar app; keep secret)")


def settings_dict(row: UserSettings, feed_url: str) -> dict[str, Any]:
    return {
        "email_kinds": list(row.email_kinds or []),
        "digest_enabled": row.digest_enabled,
        "digest_time": row.digest_time.strftime("%H:%M") if isinstance(row.digest_time, dt.time) else str(row.digest_time)[:5],
        "time_zone": row.time_zone,
        "default_reminder_minutes": row.default_reminder_minutes,
        "calendar_feed_url": feed_url,
    }


# --- email templates and sending -------------------------------------------------------------------------


class EmailTemplateIn(Input):
    name: str | None = Field(None, description="unique")
    subject: str | None = Field(None, description="may use merge fields, e.g. {{ contact.first_name }}")
    body: str | None = Field(None, description="plain text or Markdown with merge fields "
                             '({{ company.name|default:"your team" }} gives a default)')


class EmailTemplateOut(Schema):
    id: int
    name: str
    subject: str
    body: str
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class EmailTemplatePage(Schema):
    items: list[EmailTemplateOut]
    next_cursor: str | None


def template_dict(t: EmailTemplate) -> dict[str, Any]:
    return {"id": t.pk, "name": t.name, "subject": t.subject, "body": t.body, "created_by_id": t.created_by_id,
            "created_at": t.created_at, "updated_at": t.updated_at}


class RenderIn(Input):
    related: RelatedList = None


class RenderOut(Schema):
    subject: str
    body: str
    body_html: str = Field(description="the body as the email's HTML part")


class MergeFieldsOut(Schema):
    fields: dict[str, list[str]] = Field(description="object → fields usable as {{ object.field }}")


class SendEmailIn(Input):
    to: EmailList = Field(None, description="default: the emails of the related contacts, leads and deal contacts")
    cc: EmailList = None
    subject: str | None = Field(None, description="merge fields allowed; default the template's")
    body: str | None = Field(None, description="Markdown, merge fields allowed; default the template's")
    template_id: int | None = None
    related: RelatedList = None


# --- timelines -------------------------------------------------------------------------------------------


class TimelineActivityOut(Schema):
    """An activity or task as the timeline shows it (GET /activities/{id} or /tasks/{id} has everything)."""

    id: int
    type: str
    subject: str
    body: str
    occurred_at: dt.datetime
    pinned: bool
    owner_id: int | None
    owner_name: str | None
    direction: str
    outcome: str
    duration_seconds: int | None
    ends_at: dt.datetime | None
    location: str
    video_url: str
    due_at: dt.datetime | None
    status: str | None = Field(description="tasks")
    priority: str | None = Field(description="tasks")
    assignee_id: int | None
    email_status: str
    email_to: list[str]
    comment_count: int
    url: str | None


class TimelineCommentOut(Schema):
    id: int
    record_type: str = Field(description="what it was written on: this record, or on a company's timeline one of "
                             "its contacts or deals")
    record_id: int
    author_id: int | None
    author_name: str | None
    body: str
    body_html: str


class TimelineEntryOut(Schema):
    kind: str = Field(description="activity, comment or change")
    type: str = Field(description="call, meeting, note, email, task, comment or change")
    at: dt.datetime
    id: int = Field(description="the activity's, comment's or history entry's id")
    pinned: bool
    activity: TimelineActivityOut | None = None
    comment: TimelineCommentOut | None = None
    change: HistoryEntryOut | None = None


class TimelinePage(Schema):
    pinned: list[TimelineEntryOut] = Field(description="pinned notes, on the first page only (not repeated in items)")
    items: list[TimelineEntryOut]
    next_cursor: str | None


def timeline_entry_dict(entry) -> dict[str, Any]:
    from kith.activities.text import markdown

    out: dict[str, Any] = {"kind": entry.kind, "type": entry.type, "at": entry.at, "id": entry.id,
                           "pinned": bool(entry.pinned), "activity": None, "comment": None, "change": None}
    obj = entry.obj
    if entry.kind == "activity":
        is_task = obj.type == ActivityType.TASK
        out["activity"] = {
            "id": obj.pk, "type": obj.type, "subject": obj.subject, "body": obj.body, "occurred_at": obj.occurred_at,
            "pinned": obj.pinned, "owner_id": obj.owner_id, "owner_name": _name(obj.owner),
            "direction": obj.direction, "outcome": obj.outcome, "duration_seconds": obj.duration_seconds,
            "ends_at": obj.ends_at, "location": obj.location, "video_url": obj.video_url, "due_at": obj.due_at,
            "status": obj.status if is_task else None, "priority": obj.priority if is_task else None,
            "assignee_id": obj.assignee_id, "email_status": obj.email_status, "email_to": list(obj.email_to or []),
            "comment_count": getattr(obj, "comment_count", 0), "url": _url(obj),
        }
    elif entry.kind == "comment":
        out["comment"] = {"id": obj.pk, "record_type": obj.record_type, "record_id": obj.record_id,
                          "author_id": obj.author_id, "author_name": _name(obj.author),
                          "body": obj.body, "body_html": str(markdown(obj.body))}
    else:
        out["change"] = history_dict(obj)
    return out
