"""My day, the home page's top half: overdue and today's tasks (done in one click with the tasks' own
checkbox, activities/task_check.html), today's meetings, leads waiting for a first response and deals going
cold, each a link.

A handful of queries whatever the data size: the settings row, tasks (overdue, today), meetings, one
query for the records those activities are about (plus one per kind of record), leads, deals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from kith.core.permissions import visible
from kith.core.records import record_model

from .models import Activity, ActivityLink, ActivityType, TaskStatus
from .views_calendar import local_midnight, user_tz

GOING_COLD_DAYS = 14
SECTION_LIMIT = 10
TASK_LIMIT = 25


def _about(activities: list[Activity], user) -> dict[int, list[Any]]:
    """{activity id: [records it is about]}: one query for the links, one per record kind; the company
    roll-up links of contacts and deals are left out when the contact or deal is there."""
    ids = [a.pk for a in activities]
    if not ids:
        return {}
    links = list(
        ActivityLink.objects.filter(activity_id__in=ids).values_list(
            "activity_id", "record_type", "record_id"
        )
    )
    wanted: dict[str, set[int]] = {}
    for _, kind, pk in links:
        wanted.setdefault(kind, set()).add(pk)
    found: dict[tuple[str, int], Any] = {}
    for kind, pks in wanted.items():
        model = record_model(kind)
        if model is not None:
            for obj in visible(model, user).filter(pk__in=pks):
                found[(kind, obj.pk)] = obj
    out: dict[int, list[Any]] = {}
    for activity_id, kind, pk in links:
        obj = found.get((kind, pk))
        if obj is not None:
            out.setdefault(activity_id, []).append((kind, obj))
    for activity_id, pairs in out.items():
        implied = {getattr(o, "company_id", None) for k, o in pairs if k in ("contact", "deal")}
        out[activity_id] = [o for k, o in pairs if not (k == "company" and o.pk in implied)][:3]
    return out


def _label(a: Activity, tz, today: dt.date) -> None:
    """Times as the user reads them, worked out here (template date filters would use the workspace's zone)."""
    if a.type == ActivityType.MEETING:
        start = timezone.localtime(a.occurred_at, tz)
        a.start_label = start.strftime("%H:%M")
        a.end_label = timezone.localtime(a.ends_at, tz).strftime("%H:%M") if a.ends_at else ""
        return
    due = timezone.localtime(a.due_at, tz) if a.due_at else None
    if due is None:
        a.due_label = ""
    elif due.date() == today:
        a.due_label = "Today" if (due.hour, due.minute) == (0, 0) else due.strftime("%H:%M")
        if a.is_overdue:
            a.due_label = f"Due {a.due_label}"
    else:
        a.due_label = f"Due {due.strftime('%b')} {due.day}" + (
            f", {due.year}" if due.year != today.year else ""
        )


def going_cold(user, *, now: dt.datetime | None = None, limit: int = SECTION_LIMIT):
    """Open deals owned by user, older than 14 days, whose latest activity (any activity on the deal's
    timeline) is older than 14 days or missing; the coldest first. One query."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=GOING_COLD_DAYS)
    from kith.sales.choices import StageKind
    from kith.sales.models import Deal

    latest = (
        ActivityLink.objects.filter(
            record_type="deal", record_id=OuterRef("pk"), activity__deleted_at__isnull=True
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        visible(Deal, user)
        .filter(owner=user, stage__kind=StageKind.OPEN, created_at__lt=cutoff)
        .annotate(last_activity_at=Subquery(latest, output_field=DateTimeField()))
        .filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
        .select_related("company", "stage")
        .order_by(F("last_activity_at").asc(nulls_first=True), "created_at", "id")[:limit]
    )


def waiting_leads(user, *, limit: int = SECTION_LIMIT):
    """New leads owned by (assigned to) user with no first response yet, the longest waiting first."""
    from kith.sales.choices import LeadStatus
    from kith.sales.models import Lead

    return (
        visible(Lead, user)
        .filter(owner=user, status=LeadStatus.NEW, first_response_at__isnull=True)
        .order_by("created_at", "id")[:limit]
    )


def my_day_context(user) -> dict[str, Any]:
    tz = user_tz(user)
    now = timezone.now()
    today = timezone.localtime(now, tz).date()
    start = local_midnight(today, tz)
    end = local_midnight(today + dt.timedelta(days=1), tz)
    tasks = Activity.objects.filter(type=ActivityType.TASK, assignee=user, status=TaskStatus.OPEN)
    overdue = list(tasks.filter(due_at__lt=start).order_by("due_at", "id")[:TASK_LIMIT])
    today_tasks = list(tasks.filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "id")[:TASK_LIMIT])
    meetings = list(
        Activity.objects.filter(type=ActivityType.MEETING, occurred_at__gte=start, occurred_at__lt=end)
        .filter(Q(owner=user) | Q(attendees__user=user))
        .distinct()
        .order_by("occurred_at", "id")[:TASK_LIMIT]
    )
    about = _about(overdue + today_tasks + meetings, user)
    for a in overdue + today_tasks + meetings:
        a.about = about.get(a.pk, [])
        _label(a, tz, today)
        if a.type == ActivityType.MEETING:
            a.is_now = a.occurred_at <= now < (a.ends_at or a.occurred_at + dt.timedelta(minutes=30))
            a.is_past = (a.ends_at or a.occurred_at + dt.timedelta(minutes=30)) <= now

    from kith.sales.models import SalesSettings

    leads = list(waiting_leads(user))
    response_minutes = SalesSettings.get().first_response_minutes if leads else 0
    for lead in leads:
        lead.waiting = now - lead.created_at
        lead.is_late = lead.waiting > dt.timedelta(minutes=response_minutes)
    cold = list(going_cold(user, now=now))
    for deal in cold:
        deal.quiet_days = (now - (deal.last_activity_at or deal.created_at)).days
    return {
        "myday_today": today,
        "myday_tz": str(tz),
        "task_count": len(overdue) + len(today_tasks),
        "overdue_tasks": overdue,
        "today_tasks": today_tasks,
        "today_meetings": meetings,
        "waiting_leads": leads,
        "cold_deals": cold,
        "going_cold_days": GOING_COLD_DAYS,
        "can_complete": user.can_write,
        "calendar_url": reverse("web:calendar"),
    }
