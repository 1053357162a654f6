"""Writes for activities, tasks, comments, reminders, email templates and sending email.

Views, the API, the CLI and the demo all call these. Each function is keyword-only, takes the acting user,
runs in one transaction, records the change in history and emits a domain event after commit; reminders
and emails are rows plus durable jobs written in the same transaction, so they exist exactly when the
write commits. Bad input raises ValidationError naming the field; nothing is written on error.

`related` (which records an activity shows on) is a list like [{"type": "contact", "id": 7}, …].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kith.core import audit, events, jobs, mail, notifications, permissions
from kith.core.errors import PermissionDenied, ValidationError
from kith.core.models import AuditEntry, User
from kith.core.records import bump, check_version, record_model

from . import ics, text
from .models import (
    RECORD_TYPES,
    Activity,
    ActivityLink,
    ActivityType,
    Attendee,
    AttendeeResponse,
    CallOutcome,
    Comment,
    Direction,
    EmailStatus,
    EmailTemplate,
    Priority,
    Recurrence,
    Reminder,
    TaskStatus,
    UserSettings,
)

LOGGABLE = {ActivityType.CALL, ActivityType.MEETING, ActivityType.NOTE, ActivityType.EMAIL}
COMMON_FIELDS = {"type", "subject", "body", "occurred_at", "pinned", "related", "owner_id"}
TYPE_FIELDS: dict[str, set[str]] = {
    ActivityType.CALL: {"direction", "outcome", "duration_seconds"},
    ActivityType.MEETING: {"ends_at", "location", "video_url", "attendees", "outcome", "reminder_minutes"},
    ActivityType.NOTE: set(),
    ActivityType.EMAIL: {"direction", "email_from", "email_to", "email_cc", "email_html"},
    ActivityType.TASK: {
        "due_at", "priority", "assignee_id", "status", "recurrence", "recurrence_interval", "reminder_minutes",
    },
}
TEXT_LIMITS = {"subject": 300, "location": 300, "outcome": 500, "email_from": 254, "body": 100_000}
MAX_RELATED = 50
MAX_ATTENDEES = 200
EMAIL_KINDS = ["assigned", "mentioned", "reminder"]
LATE_AFTER = dt.timedelta(minutes=2)


# --- small validators ----------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _datetime(value: Any, field: str, errors: _Errors) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed: dt.datetime | None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            errors.add(field, f"“{value}” is not a date and time (use ISO 8601, e.g. 2026-11-23T14:30:00+01:00).")
            return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _text(data: dict[str, Any], name: str, errors: _Errors) -> str | None:
    if name not in data:
        return None
    value = data[name]
    if value is not None and not isinstance(value, str | int | float):
        errors.add(name, "Must be text.")
        return None
    out = str(value or "").strip()
    limit = TEXT_LIMITS.get(name, 200)
    if len(out) > limit:
        errors.add(name, f"Must be at most {limit} characters (it has {len(out)}).")
        return None
    return out


def _email_list(value: Any, field: str, errors: _Errors) -> list[str]:
    from kith.contacts.services import normalise_email

    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else str(value).replace(";", ",").split(",")
    out: list[str] = []
    for item in items:
        raw = str(item).strip()
        if not raw:
            continue
        try:
            email = normalise_email(raw)
        except ValueError as exc:
            errors.add(field, str(exc))
            continue
        if email not in out:
            out.append(email)
    return out


def _user(value: Any, field: str, errors: _Errors) -> User | None:
    if value in (None, ""):
        return None
    try:
        return User.objects.get(pk=int(value), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        errors.add(field, f"No active user with id {value}.")
        return None


def resolve_related(value: Any, *, actor, errors: _Errors, field: str = "related") -> list[tuple[str, Any]]:
    """[(record_type, record)] for [{"type": "contact", "id": 7}, …], each one visible to the actor."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.add(field, 'Must be a list like [{"type": "contact", "id": 7}].')
        return []
    if len(value) > MAX_RELATED:
        errors.add(field, f"At most {MAX_RELATED} related records.")
        return []
    out: list[tuple[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for item in value:
        if isinstance(item, str) and ":" in item:  # "contact:7", the web forms' format
            kind, _, raw_id = item.partition(":")
            item = {"type": kind, "id": raw_id}
        if not isinstance(item, dict):
            errors.add(field, 'Each related record is {"type": "contact", "id": 7}.')
            continue
        kind = str(item.get("type", "")).strip()
        if kind not in RECORD_TYPES or record_model(kind) is None:
            errors.add(field, f"“{kind}” is not a record type (use {', '.join(t for t in RECORD_TYPES if record_model(t))}).")
            continue
        try:
            pk = int(cast(Any, item.get("id")))  # None or junk: the error below
        except (TypeError, ValueError):
            errors.add(field, f"{kind} id “{item.get('id')}” is not a number.")
            continue
        if (kind, pk) in seen:
            continue
        seen.add((kind, pk))
        obj = permissions.visible(record_model(kind), actor).filter(pk=pk).first()
        if obj is None:
            errors.add(field, f"No {kind} with id {pk}.")
            continue
        out.append((kind, obj))
    return out


def rollup_company(kind: str, obj) -> int | None:
    """The company whose timeline also shows what is logged or said on this record: a contact's or a deal's."""
    return getattr(obj, "company_id", None) if kind in ("contact", "deal") else None


def _rollups(related: list[tuple[str, Any]]) -> list[tuple[str, int]]:
    """Every (record_type, id) an activity shows on: the related records, plus the company of each
    related contact and deal, so a company's timeline includes its people's and deals' activities."""
    keys: list[tuple[str, int]] = []
    for kind, obj in related:
        keys.append((kind, obj.pk))
        company_id = rollup_company(kind, obj)
        if company_id:
            keys.append(("company", company_id))
    return list(dict.fromkeys(keys))


def _set_links(activity: Activity, related: list[tuple[str, Any]]) -> None:
    wanted = _rollups(related)
    existing = set(ActivityLink.objects.filter(activity=activity).values_list("record_type", "record_id"))
    stale = existing - set(wanted)
    if stale:
        ActivityLink.objects.filter(activity=activity).filter(_link_q(sorted(stale))).delete()
    ActivityLink.objects.bulk_create(
        [
            ActivityLink(activity=activity, record_type=k, record_id=i, occurred_at=activity.occurred_at,
                         type=activity.type, pinned=activity.pinned)
            for k, i in wanted
            if (k, i) not in existing
        ]
    )


def _link_q(keys: list[tuple[str, int]]) -> Q:
    q = Q()
    for kind, pk in keys:
        q |= Q(record_type=kind, record_id=pk)
    return q


def related_records(activity: Activity) -> list[tuple[str, Any]]:
    """The records an activity was logged on (company roll-ups of contacts/deals excluded when implied)."""
    links = list(ActivityLink.objects.filter(activity=activity).values_list("record_type", "record_id"))
    out: list[tuple[str, Any]] = []
    for kind, pk in links:
        model = record_model(kind)
        obj = model.all_objects.filter(pk=pk).first() if model else None
        if obj is not None:
            out.append((kind, obj))
    implied = {("company", getattr(o, "company_id", None)) for k, o in out if k in ("contact", "deal")}
    return [(k, o) for k, o in out if (k, o.pk) not in implied]


# --- history & events ----------------------------------------------------------------------------------


def _finish(activity: Activity, *, action: str, actor, before: dict[str, Any]) -> None:
    after = audit.snapshot(activity)
    changes = audit.diff(before, after, activity) if action in ("create", "update") else {}
    audit.record(activity, action=action, actor=actor, changes=changes)
    verb = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}[action]
    events.emit(
        f"activity.{verb}",
        {
            "type": "activity",
            "activity_type": activity.type,
            "id": activity.pk,
            "version": activity.version,
            "actor_id": getattr(actor, "pk", None),
            "related": [{"type": k, "id": i} for k, i in ActivityLink.objects.filter(activity=activity).values_list("record_type", "record_id")],
            "changes": {k: {"old": v["old"], "new": v["new"]} for k, v in changes.items()},
        },
    )
    if activity.type == ActivityType.TASK and action in ("create", "update"):
        events.emit(f"task.{verb}", {"id": activity.pk, "status": activity.status, "actor_id": getattr(actor, "pk", None)})


def _first_response(activity: Activity, related: list[tuple[str, Any]]) -> None:
    """A call, meeting or email on a lead answers it (sales' first-response clock)."""
    if activity.type not in (ActivityType.CALL, ActivityType.MEETING, ActivityType.EMAIL):
        return
    if activity.type == ActivityType.EMAIL and activity.direction == Direction.INBOUND:
        return
    from kith.sales.services import leads as lead_services

    for kind, obj in related:
        if kind == "lead":
            lead_services.record_first_response(lead_id=obj.pk)


# --- apply fields --------------------------------------------------------------------------------------


def _apply(activity: Activity, data: dict[str, Any], *, actor, creating: bool) -> tuple[list | None, list | None]:
    """Validate and assign fields. Returns (related or None when unchanged, attendees or None)."""
    errors = _Errors()
    kind = activity.type
    allowed = COMMON_FIELDS | TYPE_FIELDS.get(kind, set()) | {"version", "template_id"}
    for name in sorted(set(data) - allowed):
        errors.add(name, "Unknown field." if name not in set().union(*TYPE_FIELDS.values()) else f"Not a field of a {kind}.")

    for name in ("subject", "body", "location", "email_from"):
        if name in allowed and name in data:
            value = _text(data, name, errors)
            if value is not None:
                setattr(activity, name, value)
    if "outcome" in data and "outcome" in allowed:
        value = _text(data, "outcome", errors)
        if value is not None:
            if kind == ActivityType.CALL and value and value not in CallOutcome.values:
                errors.add("outcome", f"“{value}” is not a call outcome (use {', '.join(CallOutcome.values)}).")
            else:
                activity.outcome = value
    if "pinned" in data:
        activity.pinned = bool(data["pinned"])
    if "direction" in data and "direction" in allowed:
        value = str(data["direction"] or "").strip()
        if value and value not in Direction.values:
            errors.add("direction", f"“{value}” is not a direction (use inbound or outbound).")
        else:
            activity.direction = value
    if "duration_seconds" in data and "duration_seconds" in allowed:
        raw = data["duration_seconds"]
        if raw in (None, ""):
            activity.duration_seconds = None
        else:
            try:
                seconds = int(raw)
                if seconds < 0 or seconds > 7 * 24 * 3600:
                    raise ValueError
                activity.duration_seconds = seconds
            except (TypeError, ValueError):
                errors.add("duration_seconds", "Must be a whole number of seconds between 0 and 604800.")
    if "occurred_at" in data:
        when = _datetime(data["occurred_at"], "occurred_at", errors)
        if when is not None:
            activity.occurred_at = when
        elif data["occurred_at"] in (None, "") and kind != ActivityType.TASK:
            activity.occurred_at = timezone.now()
    if "ends_at" in data and "ends_at" in allowed:
        activity.ends_at = _datetime(data["ends_at"], "ends_at", errors)
    if "video_url" in data and "video_url" in allowed:
        from kith.contacts.services import normalise_url

        try:
            activity.video_url = normalise_url(data["video_url"])
        except ValueError as exc:
            errors.add("video_url", str(exc))
    if "email_to" in data and "email_to" in allowed:
        activity.email_to = _email_list(data["email_to"], "email_to", errors)
    if "email_cc" in data and "email_cc" in allowed:
        activity.email_cc = _email_list(data["email_cc"], "email_cc", errors)
    if "email_html" in data and "email_html" in allowed:
        activity.email_html = str(data["email_html"] or "")[:500_000]
    if "owner_id" in data:
        activity.owner = _user(data["owner_id"], "owner_id", errors)

    # tasks
    if "due_at" in data and "due_at" in allowed:
        activity.due_at = _datetime(data["due_at"], "due_at", errors)
    if "priority" in data and "priority" in allowed:
        value = str(data["priority"] or Priority.NORMAL).strip()
        if value not in Priority.values:
            errors.add("priority", f"“{value}” is not a priority (use {', '.join(Priority.values)}).")
        else:
            activity.priority = value
    if "assignee_id" in data and "assignee_id" in allowed:
        activity.assignee = _user(data["assignee_id"], "assignee_id", errors)
    if "status" in data and "status" in allowed:
        value = str(data["status"] or "").strip()
        if value not in TaskStatus.values:
            errors.add("status", f"“{value}” is not a task status (use {', '.join(TaskStatus.values)}).")
        else:
            activity.status = value
    if "recurrence" in data and "recurrence" in allowed:
        value = str(data["recurrence"] or "").strip()
        if value == "none":
            value = ""
        if value not in Recurrence.values:
            errors.add("recurrence", f"“{value}” is not a repeat rule (use daily, weekly, monthly, every_n_days or none).")
        else:
            activity.recurrence = value
    if "recurrence_interval" in data and "recurrence_interval" in allowed:
        try:
            n = int(data["recurrence_interval"] or 1)
            if not 1 <= n <= 365:
                raise ValueError
            activity.recurrence_interval = n
        except (TypeError, ValueError):
            errors.add("recurrence_interval", "Must be a whole number of days from 1 to 365.")
    if "reminder_minutes" in data and "reminder_minutes" in allowed:
        raw = data["reminder_minutes"]
        if raw in (None, ""):
            activity.reminder_minutes = None
        else:
            try:
                n = int(raw)
                if not 0 <= n <= 60 * 24 * 30:
                    raise ValueError
                activity.reminder_minutes = n
            except (TypeError, ValueError):
                errors.add("reminder_minutes", "Must be a whole number of minutes from 0 to 43200 (30 days).")

    related = resolve_related(data["related"], actor=actor, errors=errors) if "related" in data else None
    attendees = _attendees(data["attendees"], actor=actor, errors=errors) if "attendees" in data and "attendees" in allowed else None

    # cross-field rules
    if kind == ActivityType.TASK:
        if not activity.subject:
            errors.add("subject", "A task needs a title.")
        if activity.reminder_minutes is not None and activity.due_at is None and "reminder_minutes" not in errors.errors:
            errors.add("reminder_minutes", "A reminder needs a due date and time.")
        if activity.recurrence and activity.due_at is None and "recurrence" not in errors.errors:
            errors.add("recurrence", "A repeating task needs a due date.")
        activity.occurred_at = activity.due_at or activity.created_at or timezone.now()
        if activity.status == TaskStatus.DONE and activity.completed_at is None:
            activity.completed_at = timezone.now()
        elif activity.status != TaskStatus.DONE:
            activity.completed_at = None
    elif kind == ActivityType.MEETING:
        if not activity.subject:
            errors.add("subject", "A meeting needs a title.")
        if activity.ends_at and activity.ends_at < activity.occurred_at:
            errors.add("ends_at", "The meeting cannot end before it starts.")
        if activity.reminder_minutes is None and creating and "reminder_minutes" not in data and actor is not None:
            activity.reminder_minutes = settings_for(actor).default_reminder_minutes
    elif kind == ActivityType.NOTE:
        if not activity.body:
            errors.add("body", "A note needs some text.")
    elif kind == ActivityType.CALL:
        if not activity.direction:
            activity.direction = Direction.OUTBOUND
    elif kind == ActivityType.EMAIL:
        if not (activity.subject or activity.body or activity.email_html):
            errors.add("subject", "An email needs a subject or a body.")
        if not activity.email_status:
            activity.email_status = EmailStatus.LOGGED
    if creating and not related and related is not None and kind != ActivityType.TASK:
        pass  # an activity on no record is allowed (e.g. a note to self); it shows in "My activities"
    errors.raise_if_any()
    return related, attendees


def _attendees(value: Any, *, actor, errors: _Errors) -> list[dict[str, Any]]:
    from kith.contacts.models import Contact
    from kith.contacts.services import normalise_email

    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.add("attendees", 'Must be a list like [{"contact_id": 7}, {"user_id": 2}, {"email": "x@example.com"}].')
        return []
    if len(value) > MAX_ATTENDEES:
        errors.add("attendees", f"At most {MAX_ATTENDEES} attendees.")
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in value:
        if isinstance(item, str) and ":" in item:
            kind, _, raw = item.partition(":")
            item = {f"{kind}_id": raw} if kind in ("contact", "user") else {"email": raw}
        if not isinstance(item, dict):
            errors.add("attendees", "Each attendee is {contact_id}, {user_id} or {email, name}.")
            continue
        row: dict[str, Any] = {"response": item.get("response") or AttendeeResponse.NEEDS_ACTION}
        if row["response"] not in AttendeeResponse.values:
            errors.add("attendees", f"“{row['response']}” is not a response ({', '.join(AttendeeResponse.values)}).")
            continue
        if item.get("contact_id") not in (None, ""):
            contact = permissions.visible(Contact, actor).filter(pk=_int(item["contact_id"])).first()
            if contact is None:
                errors.add("attendees", f"No contact with id {item['contact_id']}.")
                continue
            row.update(contact=contact, name=str(contact), email=contact.email)
        elif item.get("user_id") not in (None, ""):
            user = User.objects.filter(pk=_int(item["user_id"]), is_active=True).first()
            if user is None:
                errors.add("attendees", f"No active user with id {item['user_id']}.")
                continue
            row.update(user=user, name=user.full_name or user.email, email=user.email)
        else:
            try:
                email = normalise_email(item.get("email"))
            except ValueError as exc:
                errors.add("attendees", str(exc))
                continue
            if not email:
                errors.add("attendees", "An attendee needs a contact, a user or an email address.")
                continue
            row.update(email=email, name=str(item.get("name") or "").strip()[:300])
        key = row.get("email") or f"{row.get('contact')}{row.get('user')}"
        if key in seen:
            continue
        seen.add(key)
        out.append(row)
    return out


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _set_attendees(activity: Activity, rows: list[dict[str, Any]]) -> None:
    existing = {(a.contact_id, a.user_id, a.email): a for a in activity.attendees.all()}
    keep: list[int] = []
    for row in rows:
        key = (getattr(row.get("contact"), "pk", None), getattr(row.get("user"), "pk", None), row.get("email", ""))
        current = existing.get(key)
        if current is not None:
            if row.get("response") and row["response"] != AttendeeResponse.NEEDS_ACTION:
                current.response = row["response"]
                current.save(update_fields=["response"])
            keep.append(current.pk)
            continue
        a = Attendee.objects.create(
            activity=activity,
            contact=row.get("contact"),
            user=row.get("user"),
            name=row.get("name", ""),
            email=row.get("email", ""),
            response=row.get("response", AttendeeResponse.NEEDS_ACTION),
        )
        keep.append(a.pk)
    activity.attendees.exclude(pk__in=keep).delete()


# --- activities and tasks ------------------------------------------------------------------------------


def log_activity(*, actor, data: dict[str, Any]) -> Activity:
    """Log a call, meeting, note or email (by hand) on one or more records."""
    kind = str(data.get("type") or "").strip()
    if kind not in {t.value for t in LOGGABLE}:
        hint = " Tasks are created with create_task (POST /api/v1/tasks)." if kind == ActivityType.TASK else ""
        raise ValidationError({"type": [f"“{kind}” is not an activity type (use call, meeting, note or email).{hint}"]})
    return _create(actor=actor, kind=kind, data={k: v for k, v in data.items() if k != "type"})


def create_task(*, actor, data: dict[str, Any]) -> Activity:
    data = {k: v for k, v in data.items() if k != "type"}
    if "assignee_id" not in data:
        data["assignee_id"] = getattr(actor, "pk", None)
    return _create(actor=actor, kind=ActivityType.TASK, data=data)


def _create(*, actor, kind: str, data: dict[str, Any]) -> Activity:
    permissions.require_write(actor)
    activity = Activity(type=kind, owner=actor if getattr(actor, "pk", None) else None)
    activity.created_at = activity.updated_at = timezone.now()
    related, attendees = _apply(activity, data, actor=actor, creating=True)
    with transaction.atomic():
        activity.save()
        _set_links(activity, related or [])
        if attendees is not None:
            _set_attendees(activity, attendees)
        _finish(activity, action=AuditEntry.Action.CREATE, actor=actor, before={})
        schedule_reminders(activity)
        _first_response(activity, related or [])
        if activity.type == ActivityType.TASK and activity.assignee_id and activity.assignee_id != getattr(actor, "pk", None):
            notifications.notify(
                user=activity.assignee, kind="assigned", actor=actor,
                title=f"{actor_name(actor)} assigned you a task: {activity.subject}", url=activity.get_absolute_url(),
            )
    return activity


def update_activity(*, actor, activity: Activity, data: dict[str, Any], expected_version: int | None = None) -> Activity:
    permissions.require_write(actor)
    _require_can_edit(actor, activity)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        check_version(activity, expected_version)
        before = audit.snapshot(activity)
        old_assignee = activity.assignee_id
        old_status = activity.status
        old_schedule = (activity.occurred_at, activity.ends_at, activity.location, activity.video_url, activity.subject)
        related, attendees = _apply(activity, data, actor=actor, creating=False)
        bump(activity)
        if activity.type == ActivityType.MEETING and old_schedule != (
            activity.occurred_at, activity.ends_at, activity.location, activity.video_url, activity.subject
        ):
            activity.ics_sequence += 1
        activity.save()
        if related is not None:
            _set_links(activity, related)
        ActivityLink.objects.filter(activity=activity).exclude(
            occurred_at=activity.occurred_at, pinned=activity.pinned
        ).update(occurred_at=activity.occurred_at, pinned=activity.pinned)
        if attendees is not None:
            _set_attendees(activity, attendees)
        _finish(activity, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
        schedule_reminders(activity)
        if related:
            _first_response(activity, related)
        if activity.type == ActivityType.TASK:
            if activity.assignee_id and activity.assignee_id != old_assignee:
                notifications.notify(
                    user=activity.assignee, kind="assigned", actor=actor,
                    title=f"{actor_name(actor)} assigned you a task: {activity.subject}",
                    url=activity.get_absolute_url(),
                )
            if activity.status == TaskStatus.DONE and old_status != TaskStatus.DONE and activity.recurrence:
                jobs.enqueue("activities.next_occurrence", task_id=activity.pk, unique_key=f"recur:{activity.pk}")
    return activity


def complete_task(*, actor, task: Activity) -> Activity:
    if task.type != ActivityType.TASK:
        raise ValidationError({"type": ["Only tasks can be completed."]})
    if task.status == TaskStatus.DONE:
        return task
    return update_activity(actor=actor, activity=task, data={"status": TaskStatus.DONE})


def reopen_task(*, actor, task: Activity) -> Activity:
    if task.type != ActivityType.TASK:
        raise ValidationError({"type": ["Only tasks can be reopened."]})
    return update_activity(actor=actor, activity=task, data={"status": TaskStatus.OPEN})


def _require_can_edit(actor, activity: Activity) -> None:
    from kith.core.models import Role

    if actor.role in (Role.ADMIN, Role.MANAGER) or permissions.visibility_rule() == "all":
        return
    if activity.owner_id in (None, actor.pk) or activity.assignee_id == actor.pk:
        return
    raise PermissionDenied("You can change only activities you logged or tasks assigned to you.")


def delete_activity(*, actor, activity: Activity, expected_version: int | None = None) -> Activity:
    permissions.require_write(actor)
    _require_can_edit(actor, activity)
    with transaction.atomic():
        activity = Activity.all_objects.select_for_update().get(pk=activity.pk)
        check_version(activity, expected_version)
        if activity.deleted_at is not None:
            return activity
        activity.deleted_at = timezone.now()
        activity.deleted_by = actor
        bump(activity)
        activity.save()
        Reminder.objects.filter(activity=activity, fired_at__isnull=True).delete()
        _finish(activity, action=AuditEntry.Action.DELETE, actor=actor, before={})
    return activity


def restore_activity(*, actor, activity: Activity) -> Activity:
    permissions.require_write(actor)
    with transaction.atomic():
        activity = Activity.all_objects.select_for_update().get(pk=activity.pk)
        if activity.deleted_at is None:
            return activity
        activity.deleted_at = None
        activity.deleted_by = None
        bump(activity)
        activity.save()
        _finish(activity, action=AuditEntry.Action.RESTORE, actor=actor, before={})
        schedule_reminders(activity)
    return activity


def visible_activities(user, base=None):
    """Activities a user may see: all of them, or under KITH_RECORD_VISIBILITY=own (members, viewers) the
    ones they logged, are assigned, or that sit on a record they can see. base: a queryset to narrow
    (e.g. Activity.all_objects.all() to include trashed ones); default Activity.objects.all()."""
    from kith.core.models import Role

    qs = Activity.objects.all() if base is None else base
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.role in (Role.ADMIN, Role.MANAGER) or permissions.visibility_rule() == "all":
        return qs
    visible_links = Q()
    for kind in ("contact", "company", "lead", "deal"):
        model = record_model(kind)
        if model is not None:
            visible_links |= Q(record_type=kind, record_id__in=permissions.visible(model, user).values("pk"))
    on_visible = ActivityLink.objects.filter(visible_links).values("activity_id")
    return qs.filter(Q(owner=user) | Q(assignee=user) | Q(owner__isnull=True) | Q(pk__in=on_visible))


def actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "Kith"
    return actor.full_name or actor.email


# --- recurrence ----------------------------------------------------------------------------------------


def next_due(task: Activity) -> dt.datetime | None:
    if not task.due_at or not task.recurrence:
        return None
    due = task.due_at
    if task.recurrence == Recurrence.DAILY:
        return due + dt.timedelta(days=1)
    if task.recurrence == Recurrence.WEEKLY:
        return due + dt.timedelta(weeks=1)
    if task.recurrence == Recurrence.EVERY_N_DAYS:
        return due + dt.timedelta(days=max(task.recurrence_interval, 1))
    if task.recurrence == Recurrence.MONTHLY:
        import calendar

        month = due.month % 12 + 1
        year = due.year + (1 if due.month == 12 else 0)
        day = min(due.day, calendar.monthrange(year, month)[1])
        return due.replace(year=year, month=month, day=day)
    return None


def create_next_occurrence(*, task_id: int) -> Activity | None:
    """The next task of a repeating series, created once (the series continues from the done task)."""
    with transaction.atomic():
        task = Activity.all_objects.select_for_update().filter(pk=task_id, type=ActivityType.TASK).first()
        if task is None or task.deleted_at is not None or task.status != TaskStatus.DONE or not task.recurrence:
            return None
        series = task.recurrence_parent_id or task.pk
        due = next_due(task)
        if due is None:  # no due date to repeat from
            return None
        if Activity.objects.filter(
            Q(recurrence_parent_id=series) | Q(pk=series), type=ActivityType.TASK, due_at=due
        ).exclude(pk=task.pk).exists():
            return None
        nxt = Activity(
            type=ActivityType.TASK, subject=task.subject, body=task.body, due_at=due, occurred_at=due,
            priority=task.priority, assignee=task.assignee, owner=task.owner, recurrence=task.recurrence,
            recurrence_interval=task.recurrence_interval, recurrence_parent_id=series,
            reminder_minutes=task.reminder_minutes,
        )
        nxt.save()
        links = list(ActivityLink.objects.filter(activity=task).values_list("record_type", "record_id"))
        ActivityLink.objects.bulk_create(
            [ActivityLink(activity=nxt, record_type=k, record_id=i, occurred_at=nxt.occurred_at, type=nxt.type) for k, i in links]
        )
        _finish(nxt, action=AuditEntry.Action.CREATE, actor=None, before={})
        schedule_reminders(nxt)
    return nxt


# --- reminders -----------------------------------------------------------------------------------------


def settings_for(user) -> UserSettings:
    row = UserSettings.objects.filter(user=user).first()
    if row is None:
        row, created = UserSettings.objects.get_or_create(user=user, defaults={"email_kinds": list(EMAIL_KINDS)})
        if created:
            row.refresh_from_db()  # field defaults such as digest_time "08:00" come back as their real types
    return row


def _reminder_targets(activity: Activity) -> list[tuple[int, dt.datetime]]:
    if activity.deleted_at is not None or activity.reminder_minutes is None:
        return []
    before = dt.timedelta(minutes=activity.reminder_minutes)
    if activity.type == ActivityType.TASK:
        if activity.status != TaskStatus.OPEN or activity.due_at is None or activity.assignee_id is None:
            return []
        return [(activity.assignee_id, activity.due_at - before)]
    if activity.type == ActivityType.MEETING:
        users = {activity.owner_id} | set(activity.attendees.filter(user__isnull=False).values_list("user_id", flat=True))
        active = set(User.objects.filter(pk__in=[u for u in users if u], is_active=True).values_list("pk", flat=True))
        return [(u, activity.occurred_at - before) for u in sorted(active)]
    return []


def schedule_reminders(activity: Activity) -> None:
    """Make the pending reminders match the activity: drop stale ones, add missing ones with a job at the
    reminder time. Reminders that already fired stay (history); a new time gets a new reminder."""
    wanted = set(_reminder_targets(activity))
    pending = list(Reminder.objects.filter(activity=activity, fired_at__isnull=True))
    for r in pending:
        if (r.user_id, r.remind_at) not in wanted:
            r.delete()
    have = {(r.user_id, r.remind_at) for r in pending}
    fired = set(Reminder.objects.filter(activity=activity, fired_at__isnull=False).values_list("user_id", "remind_at"))
    for user_id, when in sorted(wanted - have - fired):
        r = Reminder.objects.create(activity=activity, user_id=user_id, remind_at=when)
        jobs.enqueue("activities.fire_reminder", reminder_id=r.pk, run_at=when, unique_key=f"reminder:{r.pk}")


def fire_reminder(*, reminder_id: int, now: dt.datetime | None = None) -> bool:
    """Deliver one reminder (in-app + email) exactly once. Returns False if it was not due, gone, or
    already fired. A reminder delivered more than two minutes late says so."""
    now = now or timezone.now()
    with transaction.atomic():
        r = Reminder.objects.select_related("activity", "user").filter(pk=reminder_id).first()
        if r is None or r.fired_at is not None or r.remind_at > now:
            return False
        late = now - r.remind_at > LATE_AFTER
        claimed = Reminder.objects.filter(pk=r.pk, fired_at__isnull=True).update(fired_at=now, late=late)
        if not claimed:
            return False
        a = r.activity
        if a.deleted_at is not None or (a.type == ActivityType.TASK and a.status != TaskStatus.OPEN):
            return False
        local = timezone.localtime(a.due_at if a.type == ActivityType.TASK else a.occurred_at, _tz(r.user))
        when = local.strftime("%a %d %b %H:%M")
        if a.type == ActivityType.TASK:
            title = f"Reminder: task “{a.subject}” is due {when}"
        else:
            title = f"Reminder: meeting “{a.subject}” starts {when}"
        if late:
            title += f" (late: this reminder was due {timezone.localtime(r.remind_at, _tz(r.user)).strftime('%H:%M')}; Kith was not running)"
        notifications.notify(user=r.user, kind="reminder", title=title, url=a.get_absolute_url())
    return True


def fire_due_reminders(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Safety net run every minute: fires reminders whose own job was lost or delayed."""
    now = now or timezone.now()
    ids = list(
        Reminder.objects.filter(fired_at__isnull=True, remind_at__lte=now).order_by("remind_at").values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if fire_reminder(reminder_id=pk, now=now))


def _tz(user):
    import zoneinfo

    name = ""
    row = UserSettings.objects.filter(user=user).values_list("time_zone", flat=True).first()
    if row:
        name = row
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# --- notification e-mails and user settings ------------------------------------------------------------


def wants_email(user, kind: str) -> bool:
    if not mail.is_configured() or not user.email:
        return False
    return kind in settings_for(user).email_kinds


def email_notification(notification) -> None:
    """Hooked into kith.core.notifications: emails a notification when the user asked for that kind."""
    user = notification.user
    if not wants_email(user, notification.kind):
        return
    base = settings.KITH_BASE_URL.rstrip("/")
    link = f"{base}{notification.url}" if notification.url.startswith("/") else notification.url
    body = f"{notification.title}\n\n{link}\n\n— Kith. Choose which notifications you get by email: {base}/settings/notifications/"
    mail.queue_email(to=[user.email], subject=notification.title[:200], text=body, kind=notification.kind)


def update_user_settings(*, actor, user, data: dict[str, Any]) -> UserSettings:
    import zoneinfo

    if actor.pk != user.pk:
        permissions.require_admin(actor)
    errors = _Errors()
    row = settings_for(user)
    allowed = {"email_kinds", "digest_enabled", "digest_time", "time_zone", "default_reminder_minutes"}
    for name in sorted(set(data) - allowed):
        errors.add(name, "Unknown field.")
    if "email_kinds" in data:
        kinds = data["email_kinds"] or []
        if not isinstance(kinds, list) or any(k not in EMAIL_KINDS for k in kinds):
            errors.add("email_kinds", f"Must be a list of: {', '.join(EMAIL_KINDS)}.")
        else:
            row.email_kinds = sorted(set(kinds))
    if "digest_enabled" in data:
        row.digest_enabled = bool(data["digest_enabled"])
    if "digest_time" in data:
        value = data["digest_time"]
        try:
            row.digest_time = value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value).strip())
        except ValueError:
            errors.add("digest_time", f"“{value}” is not a time of day (e.g. 07:30).")
    if "time_zone" in data:
        name = str(data["time_zone"] or "").strip()
        if name:
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors.add("time_zone", f"“{name}” is not a time zone (use a name like Europe/Berlin).")
        row.time_zone = name
    if "default_reminder_minutes" in data:
        try:
            n = int(data["default_reminder_minutes"])
            if not 0 <= n <= 10080:
                raise ValueError
            row.default_reminder_minutes = n
        except (TypeError, ValueError):
            errors.add("default_reminder_minutes", "Must be a whole number of minutes from 0 to 10080.")
    errors.raise_if_any()
    row.save()
    return row


def reset_calendar_token(*, actor, user) -> UserSettings:
    """A new private feed URL; the old one stops working at once."""
    from .models import new_calendar_token

    if actor.pk != user.pk:
        permissions.require_admin(actor)
    row = settings_for(user)
    row.calendar_token = new_calendar_token()
    row.save(update_fields=["calendar_token"])
    return row


# --- daily agenda --------------------------------------------------------------------------------------


def agenda(user, day: dt.date, tz) -> dict[str, list[Activity]]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    tasks = Activity.objects.filter(type=ActivityType.TASK, assignee=user, status=TaskStatus.OPEN)
    meetings = Activity.objects.filter(type=ActivityType.MEETING, occurred_at__gte=start, occurred_at__lt=end).filter(
        Q(owner=user) | Q(attendees__user=user)
    ).distinct()
    return {
        "overdue": list(tasks.filter(due_at__lt=start).order_by("due_at")[:50]),
        "today": list(tasks.filter(due_at__gte=start, due_at__lt=end).order_by("due_at")[:50]),
        "meetings": list(meetings.order_by("occurred_at")[:50]),
    }


def send_digest(*, user_id: int, now: dt.datetime | None = None) -> bool:
    """The daily agenda email, at most once per user per local day (claimed by a conditional UPDATE)."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not mail.is_configured():
        return False
    tz = _tz(user)
    local = timezone.localtime(now, tz)
    today = local.date()
    row = settings_for(user)
    if not row.digest_enabled or local.time() < row.digest_time:
        return False
    with transaction.atomic():
        claimed = UserSettings.objects.filter(pk=row.pk).filter(
            Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=today)
        ).update(last_digest_on=today)
        if not claimed:
            return False
        items = agenda(user, today, tz)
        if not any(items.values()):
            return True  # nothing to say today; still counted as sent so we don't ask again
        base = settings.KITH_BASE_URL.rstrip("/")
        lines = [f"Your day, {local.strftime('%A %d %B %Y')}", ""]
        html = [f"<h2>Your day, {local.strftime('%A %d %B %Y')}</h2>"]

        def section(title: str, acts: list[Activity], when_attr: str) -> None:
            if not acts:
                return
            lines.append(f"{title} ({len(acts)})")
            html.append(f"<h3>{text.escape(title)} ({len(acts)})</h3><ul>")
            for a in acts:
                when = timezone.localtime(getattr(a, when_attr), tz)
                stamp = when.strftime("%H:%M") if when.date() == today else when.strftime("%d %b %H:%M")
                lines.append(f"  - {stamp}  {a.subject}  {base}{a.get_absolute_url()}")
                html.append(f'<li>{stamp} <a href="{base}{a.get_absolute_url()}">{text.escape(a.subject)}</a></li>')
            lines.append("")
            html.append("</ul>")

        section("Overdue tasks", items["overdue"], "due_at")
        section("Today's tasks", items["today"], "due_at")
        section("Today's meetings", items["meetings"], "occurred_at")
        lines.append(f"Change the time of this email: {base}/settings/notifications/")
        mail.queue_email(
            to=[user.email], subject=f"Your day: {len(items['today'])} tasks, {len(items['meetings'])} meetings"
            + (f", {len(items['overdue'])} overdue" if items["overdue"] else ""),
            text="\n".join(lines), html="".join(html), kind="digest",
        )
    return True


def send_due_digests(*, now: dt.datetime | None = None) -> int:
    if not mail.is_configured():
        return 0
    ids = list(User.objects.filter(is_active=True).values_list("pk", flat=True))
    return sum(1 for pk in ids if send_digest(user_id=pk, now=now))


# --- comments and mentions -----------------------------------------------------------------------------


def _comment_target(record_type: str, record_id: Any, actor) -> tuple[Any, str]:
    errors = _Errors()
    if record_type == "activity":
        target = visible_activities(actor).filter(pk=_int(record_id)).first()
        if target is None:
            raise ValidationError({"record_id": [f"No activity with id {record_id}."]})
        return target, target.get_absolute_url()
    found = resolve_related([{"type": record_type, "id": record_id}], actor=actor, errors=errors, field="record_id")
    if errors.errors:
        key = "record_type" if record_type not in RECORD_TYPES else "record_id"
        raise ValidationError({key: errors.errors["record_id"]})
    obj = found[0][1]
    return obj, obj.get_absolute_url()


def add_comment(*, actor, record_type: str, record_id: Any, body: str) -> Comment:
    permissions.require_write(actor)
    body = str(body or "").strip()
    if not body:
        raise ValidationError({"body": ["A comment needs some text."]})
    if len(body) > 20_000:
        raise ValidationError({"body": [f"Must be at most 20000 characters (it has {len(body)})."]})
    target, url = _comment_target(record_type, record_id, actor)
    with transaction.atomic():
        comment = Comment.objects.create(record_type=record_type, record_id=target.pk, author=actor, body=body,
                                         company_rollup_id=rollup_company(record_type, target))
        _mentions(comment, target, url, actor, previous=set())
        events.emit("comment.created", {"id": comment.pk, "record_type": record_type, "record_id": target.pk,
                                        "actor_id": actor.pk})
    return comment


def update_comment(*, actor, comment: Comment, body: str) -> Comment:
    if comment.author_id != actor.pk:
        raise PermissionDenied("Only the author can edit a comment.")
    body = str(body or "").strip()
    if not body:
        raise ValidationError({"body": ["A comment needs some text."]})
    target, url = _comment_target(comment.record_type, comment.record_id, actor)
    with transaction.atomic():
        previous = set(comment.mentions.values_list("pk", flat=True))
        comment.body = body
        comment.updated_at = timezone.now()
        comment.save(update_fields=["body", "updated_at"])
        _mentions(comment, target, url, actor, previous=previous)
    return comment


def delete_comment(*, actor, comment: Comment) -> None:
    from kith.core.models import Role

    if comment.author_id != actor.pk and actor.role != Role.ADMIN:
        raise PermissionDenied("Only the author or an admin can delete a comment.")
    comment.deleted_at = timezone.now()
    comment.deleted_by = actor
    comment.save(update_fields=["deleted_at", "deleted_by"])


def _mentions(comment: Comment, target, url: str, actor, *, previous: set[int]) -> None:
    emails = text.mentioned_emails(comment.body)
    users = list(User.objects.filter(email__in=emails, is_active=True)) if emails else []
    comment.mentions.set(users)
    where = str(target)
    for user in users:
        if user.pk in previous:
            continue  # already told when the comment was first written
        notifications.notify(
            user=user, kind="mentioned", actor=actor,
            title=f"{actor_name(actor)} mentioned you on {where}: “{_excerpt(comment.body)}”",
            url=f"{url}#comment-{comment.pk}",
        )


def _excerpt(body: str, limit: int = 120) -> str:
    """A comment as one line of plain text for a notification (no Markdown marks, no HTML)."""
    import html

    from django.utils.html import strip_tags

    plain = " ".join(html.unescape(strip_tags(text.markdown(body))).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


# --- email templates -----------------------------------------------------------------------------------


def _template_fields(tpl: EmailTemplate, data: dict[str, Any]) -> None:
    errors = _Errors()
    for name in sorted(set(data) - {"name", "subject", "body"}):
        errors.add(name, "Unknown field.")
    for name, limit in (("name", 200), ("subject", 300), ("body", 100_000)):
        if name in data:
            value = str(data[name] or "").strip()
            if len(value) > limit:
                errors.add(name, f"Must be at most {limit} characters (it has {len(value)}).")
            setattr(tpl, name, value)
    for name in ("name", "subject", "body"):
        if not getattr(tpl, name):
            errors.add(name, "Required.")
    for name in ("subject", "body"):
        for problem in text.merge_field_errors(getattr(tpl, name)):
            errors.add(name, problem)
    if tpl.name and EmailTemplate.objects.filter(name__iexact=tpl.name).exclude(pk=tpl.pk).exists():
        errors.add("name", f"A template named “{tpl.name}” already exists.")
    errors.raise_if_any()


def create_email_template(*, actor, data: dict[str, Any]) -> EmailTemplate:
    permissions.require_write(actor)
    tpl = EmailTemplate(created_by=actor)
    _template_fields(tpl, data)
    tpl.save()
    return tpl


def update_email_template(*, actor, template: EmailTemplate, data: dict[str, Any]) -> EmailTemplate:
    permissions.require_write(actor)
    _template_fields(template, data)
    template.updated_at = timezone.now()
    template.save()
    return template


def delete_email_template(*, actor, template: EmailTemplate) -> None:
    permissions.require_write(actor)
    template.delete()


def merge_context(related: Iterable[tuple[str, Any]], actor) -> dict[str, Any]:
    """Objects for merge fields: the first contact/lead/deal/company among the records, the sender, and
    the contact's company or the deal's company when not given."""
    ctx: dict[str, Any] = {"user": actor}
    for kind, obj in related:
        ctx.setdefault(kind, obj)
    if "contact" in ctx and "company" not in ctx and getattr(ctx["contact"], "company", None):
        ctx["company"] = ctx["contact"].company
    if "deal" in ctx and "company" not in ctx and getattr(ctx["deal"], "company", None):
        ctx["company"] = ctx["deal"].company
    if "lead" in ctx and "contact" not in ctx:
        ctx["contact"] = ctx["lead"]  # {{ contact.first_name }} works when writing to a lead
    return ctx


def render_template(template: EmailTemplate, related: Iterable[tuple[str, Any]], actor) -> dict[str, str]:
    ctx = merge_context(list(related), actor)
    return {"subject": text.render_merge_fields(template.subject, ctx), "body": text.render_merge_fields(template.body, ctx)}


# --- sending email from a record -----------------------------------------------------------------------


def default_recipients(related: list[tuple[str, Any]]) -> list[str]:
    out: list[str] = []
    for kind, obj in related:
        email = getattr(obj, "email", "") if kind in ("contact", "lead") else ""
        if email:
            out.append(email)
        if kind == "deal":
            out += [c.email for c in obj.contacts.all() if c.email]
    return list(dict.fromkeys(out))


def send_email(*, actor, data: dict[str, Any]) -> Activity:
    """Compose and send an email through KITH_SMTP_URL, logged on the related records' timelines.

    data: to (list or comma-separated; default: the related contacts'/leads' emails), cc, subject, body
    (Markdown/plain; merge fields rendered), template_id (fills subject/body when they are not given), related.
    The activity shows "Sending" until the job delivered it, then "Sent" or "Failed" with the error; failures
    are retried with backoff.
    """
    permissions.require_write(actor)
    errors = _Errors()
    allowed = {"to", "cc", "subject", "body", "template_id", "related"}
    for name in sorted(set(data) - allowed):
        errors.add(name, "Unknown field.")
    if not mail.is_configured():
        errors.add("to", "Sending email is not set up: an administrator must set KITH_SMTP_URL (see the README).")
        errors.raise_if_any()
    related = resolve_related(data.get("related") or [], actor=actor, errors=errors)
    subject = str(data.get("subject") or "").strip()
    body = str(data.get("body") or "").strip()
    if data.get("template_id") not in (None, ""):
        tpl = EmailTemplate.objects.filter(pk=_int(data["template_id"])).first()
        if tpl is None:
            errors.add("template_id", f"No email template with id {data['template_id']}.")
        else:
            rendered = render_template(tpl, related, actor)
            subject = subject or rendered["subject"]
            body = body or rendered["body"]
    ctx = merge_context(related, actor)
    for name, value in (("subject", subject), ("body", body)):
        for problem in text.merge_field_errors(value):
            errors.add(name, problem)
    subject = text.render_merge_fields(subject, ctx)
    body = text.render_merge_fields(body, ctx)
    to = _email_list(data.get("to"), "to", errors) if data.get("to") not in (None, "", []) else default_recipients(related)
    cc = _email_list(data.get("cc"), "cc", errors)
    if not to and "to" not in errors.errors:
        errors.add("to", "Who should receive it? Add an email address (the related records have none).")
    if not subject:
        errors.add("subject", "An email needs a subject.")
    if len(subject) > 300:
        errors.add("subject", f"Must be at most 300 characters (it has {len(subject)}).")
    if not body:
        errors.add("body", "An email needs a body.")
    errors.raise_if_any()
    sender = settings.KITH_EMAIL_FROM
    html_body = str(text.markdown(body))
    with transaction.atomic():
        activity = Activity(
            type=ActivityType.EMAIL, owner=actor, subject=subject, body=body, email_html=html_body,
            direction=Direction.OUTBOUND, email_from=sender, email_to=to, email_cc=cc,
            email_status=EmailStatus.QUEUED, occurred_at=timezone.now(),
        )
        activity.message_id = mail.new_message_id()
        activity.save()
        _set_links(activity, related)
        _finish(activity, action=AuditEntry.Action.CREATE, actor=actor, before={})
        mail.queue_email(
            to=to, cc=cc, subject=subject, text=body, html=html_body, from_email=sender,
            reply_to=actor.email, kind="email", activity_id=activity.pk, message_id=activity.message_id,
        )
        _first_response(activity, related)
    return activity


def retry_email(*, actor, activity: Activity) -> Activity:
    from kith.core.models import OutboundEmail

    permissions.require_write(actor)
    row = OutboundEmail.objects.filter(activity_id=activity.pk).order_by("-id").first()
    if row is None or row.status != OutboundEmail.Status.FAILED:
        raise ValidationError({"email_status": ["Only a failed email can be sent again."]})
    with transaction.atomic():
        mail.resend(row)
        Activity.objects.filter(pk=activity.pk).update(email_status=EmailStatus.QUEUED, email_error="")
    activity.refresh_from_db()
    return activity


@events.subscribe("email.sent")
@events.subscribe("email.retrying")
@events.subscribe("email.failed")
def _email_status(event: str, payload: dict[str, Any]) -> None:
    """Mirror the delivery of a one-to-one email onto its activity (shown on the timeline)."""
    if not payload.get("activity_id"):
        return
    if event == "email.sent":
        Activity.all_objects.filter(pk=payload["activity_id"]).update(
            email_status=EmailStatus.SENT, sent_at=timezone.now(), email_error=""
        )
    else:
        status = EmailStatus.FAILED if event == "email.failed" else EmailStatus.QUEUED
        note = payload.get("error", "")
        if event == "email.retrying":
            note = f"Not sent yet, retrying automatically: {note}"
        Activity.all_objects.filter(pk=payload["activity_id"]).update(email_status=status, email_error=note[:2000])


# --- meeting invitations -------------------------------------------------------------------------------


def send_invitations(*, actor, meeting: Activity, only_new: bool = False) -> int:
    """Email each attendee with an address an invitation with the meeting's .ics attached (METHOD:REQUEST).
    Returns how many were queued."""
    permissions.require_write(actor)
    if meeting.type != ActivityType.MEETING:
        raise ValidationError({"type": ["Only meetings have invitations."]})
    if not mail.is_configured():
        raise ValidationError({"attendees": ["Sending email is not set up: an administrator must set KITH_SMTP_URL."]})
    attendees = [a for a in meeting.attendees.all() if a.email and a.email != actor.email]
    if only_new:
        attendees = [a for a in attendees if a.invited_at is None]
    if not attendees:
        raise ValidationError({"attendees": ["No attendee with an email address to invite."]})
    organizer = actor.email
    calendar = ics.meeting_ics(meeting, method="REQUEST", organizer_email=organizer)
    start = timezone.localtime(meeting.occurred_at, _tz(actor))
    when = start.strftime("%A %d %B %Y, %H:%M %Z")
    lines = [f"{actor_name(actor)} invites you to: {meeting.subject}", f"When: {when}"]
    if meeting.location:
        lines.append(f"Where: {meeting.location}")
    if meeting.video_url:
        lines.append(f"Join: {meeting.video_url}")
    if meeting.body:
        lines += ["", meeting.body]
    now = timezone.now()
    with transaction.atomic():
        for a in attendees:
            mail.queue_email(
                to=[a.email], subject=f"Invitation: {meeting.subject} ({start.strftime('%d %b %H:%M')})",
                text="\n".join(lines), reply_to=organizer, kind="invitation",
                attachments=[{"filename": "invite.ics", "content": calendar,
                              "content_type": "text/calendar; method=REQUEST; charset=utf-8"}],
            )
        Attendee.objects.filter(pk__in=[a.pk for a in attendees]).update(invited_at=now)
        audit.record(meeting, action=AuditEntry.Action.UPDATE, actor=actor,
                     changes={"invited": {"old": None, "new": [a.email for a in attendees], "label": "Invitations sent"}})
    return len(attendees)


def calendar_items(user, start: dt.datetime, end: dt.datetime):
    """A user's meetings (owner or attendee) and open or done tasks (assignee) between start and end."""
    meetings = Activity.objects.filter(type=ActivityType.MEETING, occurred_at__gte=start, occurred_at__lt=end).filter(
        Q(owner=user) | Q(attendees__user=user)
    )
    tasks = Activity.objects.filter(
        type=ActivityType.TASK, assignee=user, due_at__gte=start, due_at__lt=end
    ).exclude(status=TaskStatus.CANCELLED)
    return (meetings | tasks).distinct().order_by("occurred_at", "id")


def feed_for_token(token: str):
    """(user, activities) of a calendar feed token, or None. Covers 60 days back and a year ahead."""
    row = UserSettings.objects.select_related("user").filter(calendar_token=token, user__is_active=True).first() if token else None
    if row is None:
        return None
    now = timezone.now()
    return row.user, calendar_items(row.user, now - dt.timedelta(days=60), now + dt.timedelta(days=366)).prefetch_related("attendees")


def feed_url(user) -> str:
    from django.urls import reverse

    return settings.KITH_BASE_URL.rstrip("/") + reverse("calendar_feed", args=[settings_for(user).calendar_token])



def purge_trash(*, older_than_days: int | None = None) -> dict[str, int]:
    from kith.core.records import trash_days

    days = trash_days() if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    counts = {"activities": 0, "comments": 0, "links": 0}
    with transaction.atomic():
        counts["activities"] = Activity.all_objects.filter(deleted_at__lt=cutoff).delete()[1].get("activities.Activity", 0)
        counts["comments"] = Comment.all_objects.filter(deleted_at__lt=cutoff).delete()[0]
    for kind in RECORD_TYPES:
        model = record_model(kind)
        if model is None:
            continue
        gone_links = ActivityLink.objects.filter(record_type=kind).exclude(record_id__in=model.all_objects.values("pk"))
        counts["links"] += gone_links.delete()[0]
        counts["comments"] += Comment.all_objects.filter(record_type=kind).exclude(
            record_id__in=model.all_objects.values("pk")
        ).delete()[0]
    return counts
