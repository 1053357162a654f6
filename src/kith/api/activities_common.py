"""Helpers shared by the activities API modules (activities_api, activities_social, activities_email,
activities_timeline): visibility, serialising one activity, query-parameter parsing, the SMTP check."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from ninja.errors import HttpError

from kith.activities import services
from kith.activities.models import Activity, ActivityType
from kith.core import mail

from .activities_schemas import activity_dicts

MAIL_NOT_SET_UP = (
    "Sending email is not set up: an administrator must set KITH_SMTP_URL "
    "(e.g. smtp://user:password@mail.example.com:587?starttls=1) and restart Kith."
)


def require_mail() -> None:
    """400 naming the setting when no SMTP server is configured (nothing is queued)."""
    if not mail.is_configured():
        raise HttpError(400, MAIL_NOT_SET_UP)


def visible(user, *, tasks: bool, include_trashed: bool = False, trashed: bool = False):
    base = Activity.all_objects.all() if (include_trashed or trashed) else None
    qs = services.visible_activities(user, base)
    if trashed:
        qs = qs.filter(deleted_at__isnull=False)
    return qs.filter(type=ActivityType.TASK) if tasks else qs.exclude(type=ActivityType.TASK)


def get_activity(user, pk: int, *, tasks: bool, include_trashed: bool = False) -> Activity:
    """One activity (or task) the user can see; DoesNotExist answers 404."""
    return visible(user, tasks=tasks, include_trashed=include_trashed).prefetch_related("attendees").get(pk=pk)


def one_dict(user, activity: Activity) -> dict:
    return activity_dicts([activity], user)[0]


def reload(user, pk: int, *, tasks: bool) -> Activity:
    return get_activity(user, pk, tasks=tasks, include_trashed=True)


def parse_when(value: str | None, field: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO date-time or date from a query parameter (a date means its start, or its end for *_before)."""
    if value in (None, ""):
        return None
    text = value.strip()
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is not None:
                parsed = dt.datetime.combine(day + dt.timedelta(days=1) if end_of_day else day, dt.time.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({field: [f"“{value}” is not a date or date and time (use ISO 8601, e.g. 2026-11-23 "
                                       "or 2026-11-23T14:30:00Z)."]})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def record_filter(qs, value: str | None, user, field: str = "record"):
    """Narrow to activities on one record ("contact:7"); an unknown or invisible record is a 422 naming field."""
    if not value:
        return qs
    problems = services._Errors()
    found = services.resolve_related([value.strip()], actor=user, errors=problems, field=field)
    if problems.errors or not found:
        raise ValidationError(problems.errors or {field: ['Use the form "contact:7".']})
    kind, obj = found[0]
    return qs.filter(links__record_type=kind, links__record_id=obj.pk)


def multi(request: HttpRequest, name: str) -> list[str]:
    """A filter given once with commas or repeated: ?type=call,note or ?type=call&type=note."""
    return [v.strip() for raw in request.GET.getlist(name) for v in raw.split(",") if v.strip()]


def choices(request: HttpRequest, name: str, allowed: list[str]) -> list[str]:
    values = multi(request, name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError({name: [f"Unknown {name} {', '.join(unknown)} (use {', '.join(allowed)})."]})
    return values


def location(kind: str, obj) -> str:
    return f"/api/v1/{kind}/{obj.pk}"


def check_type_unchanged(activity: Activity, data: dict) -> None:
    new = data.pop("type", None)
    if new is not None and new != activity.type:
        raise ValidationError({"type": [f"An activity's type cannot change (this one is a {activity.type}); "
                                        "log a new one instead."]})


