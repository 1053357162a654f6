"""The calendar (week and month views of one's meetings and tasks), the private iCalendar feed, a meeting's
.ics download and "Send invitations".

/calendar/?view=week|month&date=YYYY-MM-DD&user=<id>   (user: admins and managers may open a colleague's)
/calendar/<token>.ics                                  (the private feed, outside the login: urls_public)
/activities/<id>/meeting.ics                            (one meeting, for a download)
/activities/<id>/invitations/                           (POST: email the attendees the meeting's .ics)

Everything is drawn on the server in the user's time zone (their settings, else the workspace's). The week
view is a CSS grid of quarter hours per day: a meeting spans the rows of its start and end, items that
overlap share the day's width side by side (lay_out_lanes), the others use all of it, tasks sit at their
due time, and tasks due at midnight ("some time that day") and meetings over several days sit in the
all-day row at the top.
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST, require_safe

from kith.core.models import Role, User
from kith.web.ui import is_fragment_request, safe_next, url_with, vary_htmx

from . import ics, services
from .models import Activity, ActivityType, TaskStatus

SLOT_MINUTES = 15
DAY_START_HOUR = 7  # the week view shows 07:00-20:00 unless something falls outside
DAY_END_HOUR = 20
MONTH_ITEMS_PER_DAY = 3
VIEWS = ("week", "month")


# --- time zones and ranges -----------------------------------------------------------------------------


def user_tz(user) -> dt.tzinfo:
    """The user's time zone (their activity settings), else the workspace's TIME_ZONE, else UTC."""
    name = services.settings_for(user).time_zone or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def week_range(day: dt.date, tz: dt.tzinfo) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """(Monday, start, end) of the ISO week holding day: local midnights, so a week with a daylight-saving
    change is 167 or 169 hours long."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, local_midnight(monday, tz), local_midnight(monday + dt.timedelta(days=7), tz)


def month_range(day: dt.date, tz: dt.tzinfo) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    """(first Monday shown, last Sunday shown, start, end) of the weeks covering day's month."""
    first = day.replace(day=1)
    last = day.replace(day=pycal.monthrange(day.year, day.month)[1])
    grid_first = first - dt.timedelta(days=first.weekday())
    grid_last = last + dt.timedelta(days=6 - last.weekday())
    return (
        grid_first,
        grid_last,
        local_midnight(grid_first, tz),
        local_midnight(grid_last + dt.timedelta(days=1), tz),
    )


# --- items ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    obj: Activity
    kind: str  # meeting | task
    title: str
    url: str
    start: dt.datetime  # local
    end: dt.datetime  # local
    all_day: bool = False
    row: int = 1
    span: int = 1
    continues: bool = False  # a multi-day meeting shown on a day after its first
    col: int = 1  # grid column (of LANE_COLUMNS) where the item starts in its day
    width: int = 12  # grid columns the item spans: the whole day unless it overlaps others

    @property
    def done(self) -> bool:
        return self.kind == "task" and self.obj.status == TaskStatus.DONE

    @property
    def overdue(self) -> bool:
        return self.obj.is_overdue

    @property
    def time_label(self) -> str:
        if self.all_day:
            return "All day" if self.kind == "meeting" else ""
        if self.kind == "task":
            return self.start.strftime("%H:%M")
        return f"{self.start.strftime('%H:%M')}–{self.end.strftime('%H:%M')}"

    @property
    def start_label(self) -> str:
        return self.start.strftime("%H:%M")

    @property
    def end_label(self) -> str:
        return self.end.strftime("%H:%M")

    @property
    def where(self) -> str:
        return self.obj.location or ("Video call" if self.obj.video_url else "")


def _is_all_day_task(local: dt.datetime) -> bool:
    """A task due at midnight (a date without a time) or at 23:59 ("by the end of the day")."""
    return (local.hour, local.minute) in ((0, 0), (23, 59))


def build_items(activities, tz: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[Item]:
    """Calendar items in local time for activities overlapping [start, end), sorted by start."""
    out: list[Item] = []
    for a in activities:
        if a.type == ActivityType.MEETING:
            s = a.occurred_at
            e = a.ends_at if a.ends_at and a.ends_at > s else s + dt.timedelta(minutes=30)
            if e <= start or s >= end:
                continue
            ls, le = timezone.localtime(s, tz), timezone.localtime(e, tz)
            last_day = (le - dt.timedelta(microseconds=1)).date()
            all_day = last_day > ls.date()
            out.append(
                Item(a, "meeting", a.subject or "Meeting", a.get_absolute_url(), ls, le, all_day=all_day)
            )
        elif a.type == ActivityType.TASK and a.due_at is not None:
            if not start <= a.due_at < end:
                continue
            ls = timezone.localtime(a.due_at, tz)
            out.append(
                Item(
                    a,
                    "task",
                    a.subject or "Task",
                    a.get_absolute_url(),
                    ls,
                    ls + dt.timedelta(minutes=SLOT_MINUTES),
                    all_day=_is_all_day_task(ls),
                )
            )
    out.sort(key=lambda i: (i.start, i.obj.pk))
    return out


def items_by_day(items: list[Item], first: dt.date, last: dt.date) -> dict[dt.date, list[Item]]:
    """Each day's items; a meeting over several days is on each of them (all-day row)."""
    days: dict[dt.date, list[Item]] = {
        first + dt.timedelta(days=i): [] for i in range((last - first).days + 1)
    }
    for item in items:
        if item.all_day and item.kind == "meeting":
            day = max(item.start.date(), first)
            last_day = min((item.end - dt.timedelta(microseconds=1)).date(), last)
            while day <= last_day:
                copy = Item(**{**item.__dict__, "continues": day != item.start.date()})
                days[day].append(copy)
                day += dt.timedelta(days=1)
        elif item.start.date() in days:
            days[item.start.date()].append(item)
    for day_items in days.values():
        day_items.sort(key=lambda i: (not i.all_day, i.start, i.obj.pk))
    return days


def _minutes(local: dt.datetime) -> int:
    return local.hour * 60 + local.minute


def hour_span(items: list[Item]) -> tuple[int, int]:
    """The hours the week view shows: 07-20, widened to every timed item."""
    lo, hi = DAY_START_HOUR, DAY_END_HOUR
    for item in items:
        if item.all_day:
            continue
        lo = min(lo, item.start.hour)
        end_minutes = _minutes(item.end) if item.end.date() == item.start.date() else 24 * 60
        hi = max(hi, math.ceil(max(end_minutes, _minutes(item.start) + SLOT_MINUTES) / 60))
    return lo, min(hi, 24)


def place(item: Item, first_hour: int, last_hour: int) -> None:
    """Grid rows (quarter hours from first_hour) of a timed item on its start day."""
    rows = (last_hour - first_hour) * 60 // SLOT_MINUTES
    start = _minutes(item.start) - first_hour * 60
    end = _minutes(item.end) if item.end.date() == item.start.date() else 24 * 60
    end -= first_hour * 60
    item.row = min(max(start // SLOT_MINUTES + 1, 1), rows)
    shortest = 2 if item.kind == "task" else 1  # a task is a point in time: give its line room to be read
    item.span = min(max(math.ceil((end - start) / SLOT_MINUTES), shortest), rows - item.row + 1)


LANE_COLUMNS = 12  # a day column is 12 grid columns wide; overlapping items share them


def lay_out_lanes(items: list[Item]) -> None:
    """Side by side only where they overlap: items of one day (already placed in rows) are grouped into
    clusters of overlapping items; each item gets a lane within its cluster, and the cluster's lanes share
    the day's width. An item that overlaps nothing keeps the whole width."""
    ordered = sorted(items, key=lambda i: (i.row, -i.span, i.obj.pk))
    cluster: list[Item] = []
    lane_ends: list[int] = []
    cluster_end = 0

    def close() -> None:
        lanes = max(len(lane_ends), 1)
        width = max(LANE_COLUMNS // lanes, 1)
        for it in cluster:
            it.width = width
            it.col = min(it.col * width, LANE_COLUMNS - 1) + 1

    for item in ordered:
        end = item.row + item.span
        if cluster and item.row >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for lane, lane_end in enumerate(lane_ends):
            if item.row >= lane_end:
                lane_ends[lane] = end
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(end)
        item.col = lane  # the lane number until the cluster closes
        cluster.append(item)
        cluster_end = max(cluster_end, end) if len(cluster) > 1 else end
    if cluster:
        close()


# --- the page ------------------------------------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    items: list[Item] = field(default_factory=list)
    timed: list[Item] = field(default_factory=list)
    all_day: list[Item] = field(default_factory=list)
    is_today: bool = False
    in_month: bool = True
    more: int = 0
    shown: list[Item] = field(default_factory=list)
    url: str = ""

    @property
    def label(self) -> str:
        return f"{self.date.strftime('%A')} {self.date.day} {self.date.strftime('%B')}"


def can_view_others(user) -> bool:
    return user.is_active and user.role in (Role.ADMIN, Role.MANAGER)


def _parse_day(raw: str, today: dt.date, errors: dict[str, list[str]]) -> dt.date:
    if not raw:
        return today
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        errors["date"] = [f"“{raw[:40]}” is not a date (use YYYY-MM-DD). Showing today instead."]
        return today
    if not 1900 <= day.year <= 9998:
        errors["date"] = ["Choose a date between the years 1900 and 9998. Showing today instead."]
        return today
    return day


def _target_user(request, errors: dict[str, list[str]]) -> User:
    raw = (request.GET.get("user") or "").strip()
    if not raw or raw == str(request.user.pk) or raw == "me":
        return request.user
    if not can_view_others(request.user):
        raise Http404("You can view only your own calendar.")
    target = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
    if target is None:
        errors["user"] = ["Choose a person from the list. Showing your own calendar."]
        return request.user
    return target


def calendar_context(request) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    target = _target_user(request, errors)
    tz = user_tz(target)
    now_local = timezone.localtime(timezone.now(), tz)
    today = now_local.date()
    view = request.GET.get("view") or "week"
    if view not in VIEWS:
        errors["view"] = ["Choose week or month. Showing the week."]
        view = "week"
    day = _parse_day(request.GET.get("date") or "", today, errors)
    base = reverse("web:calendar")
    params = request.GET

    def link(**changes: Any) -> str:
        return url_with(base, params, **changes)

    if view == "week":
        first, start, end = week_range(day, tz)
        last = first + dt.timedelta(days=6)
        prev_day, next_day = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
        if first.month == last.month:
            title = f"{first.day}–{last.day} {last.strftime('%B %Y')}"
        elif first.year == last.year:
            title = f"{first.day} {first.strftime('%b')} – {last.day} {last.strftime('%b %Y')}"
        else:
            title = f"{first.day} {first.strftime('%b %Y')} – {last.day} {last.strftime('%b %Y')}"
        unit = "week"
    else:
        first, last, start, end = month_range(day, tz)
        month_first = day.replace(day=1)
        prev_day = (month_first - dt.timedelta(days=1)).replace(day=1)
        next_day = (month_first + dt.timedelta(days=32)).replace(day=1)
        title = month_first.strftime("%B %Y")
        unit = "month"

    # Meetings that began up to a week earlier may still run into the range.
    rows = services.calendar_items(target, start - dt.timedelta(days=7), end).select_related("owner")
    items = build_items(rows, tz, start, end)
    by_day = items_by_day(items, first, last)
    days = []
    for d, day_items in by_day.items():
        entry = Day(d, day_items, is_today=d == today, in_month=view == "week" or d.month == day.month)
        entry.all_day = [i for i in day_items if i.all_day]
        entry.timed = [i for i in day_items if not i.all_day]
        entry.shown = day_items[:MONTH_ITEMS_PER_DAY]
        entry.more = max(len(day_items) - MONTH_ITEMS_PER_DAY, 0)
        entry.url = link(view="week", date=d.isoformat())
        days.append(entry)

    ctx: dict[str, Any] = {
        "view": view,
        "title": title,
        "unit": unit,
        "days": days,
        "items_count": sum(len(d.items) for d in days),
        "target": target,
        "is_own": target.pk == request.user.pk,
        "tz_name": str(tz),
        "errors": errors,
        "prev_url": link(date=prev_day.isoformat()),
        "next_url": link(date=next_day.isoformat()),
        "today_url": link(date=None),
        "week_url": link(view="week"),
        "month_url": link(view="month"),
        "prev_label": f"Previous {unit}",
        "next_label": f"Next {unit}",
        "date_value": day.isoformat(),
        "people": list(User.objects.filter(is_active=True).order_by("full_name", "email"))
        if can_view_others(request.user)
        else [],
    }
    if view == "week":
        lo, hi = hour_span(items)
        for d in days:
            for item in d.timed:
                place(item, lo, hi)
            lay_out_lanes(d.timed)
        ctx["hours"] = [f"{h:02d}:00" for h in range(lo, hi)]
        ctx["hour_count"] = hi - lo
        ctx["has_all_day"] = any(d.all_day for d in days)
        ctx["weeks"] = [days]
        now_minutes = _minutes(now_local) - lo * 60
        if any(d.is_today for d in days) and 0 <= now_minutes < (hi - lo) * 60:
            ctx["now_row"] = now_minutes // SLOT_MINUTES + 1
            ctx["now_label"] = now_local.strftime("%H:%M")
    else:
        ctx["weeks"] = [days[i : i + 7] for i in range(0, len(days), 7)]
        ctx["weekday_names"] = [(first + dt.timedelta(days=i)).strftime("%a") for i in range(7)]
    return ctx


@login_required
@require_GET
def calendar_page(request):
    ctx = calendar_context(request)
    if is_fragment_request(request):
        return vary_htmx(render(request, "activities/calendar_body.html", ctx))
    return vary_htmx(render(request, "activities/calendar_page.html", ctx))


# --- iCalendar -----------------------------------------------------------------------------------------


def _ics_response(body: str, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def feed(request, token: str):
    """A user's private calendar feed: no session; the token in the URL is the key (reset to revoke)."""
    found = services.feed_for_token(token)
    if found is None:
        raise Http404("No calendar feed here: the address is wrong or was reset.")
    user, activities = found
    body = ics.feed(activities, name=f"Kith · {user.display_name}")
    response = _ics_response(body, "kith.ics", inline=True)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _meeting_for(request, pk: int) -> Activity:
    qs = services.visible_activities(request.user).filter(type=ActivityType.MEETING).select_related("owner")
    return get_object_or_404(qs.prefetch_related("attendees"), pk=pk)


@login_required
@require_GET
def meeting_ics(request, pk: int):
    meeting = _meeting_for(request, pk)
    organizer = meeting.owner.email if meeting.owner_id else ""
    body = ics.meeting_ics(meeting, organizer_email=organizer)
    filename = (slugify(meeting.subject)[:60] or "meeting") + ".ics"
    return _ics_response(body, filename, inline=False)


@login_required
@require_POST
def send_invitations(request, pk: int):
    meeting = _meeting_for(request, pk)
    only_new = request.POST.get("only_new") == "1"
    try:
        count = services.send_invitations(actor=request.user, meeting=meeting, only_new=only_new)
    except ValidationError as exc:
        messages.error(request, "Invitations not sent: " + " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Invitation{'s' if count != 1 else ''} with the meeting’s calendar file "
            f"{'are' if count != 1 else 'is'} on {'their' if count != 1 else 'its'} way to "
            f"{count} attendee{'s' if count != 1 else ''}.",
        )
    return redirect(safe_next(request, meeting.get_absolute_url()))


def meeting_actions_context(meeting: Activity, user) -> dict[str, Any]:
    """For the include activities/calendar_meeting_actions.html on a meeting's page."""
    attendees = list(meeting.attendees.all())
    invitable = [a for a in attendees if a.email and a.email != user.email]
    return {
        "meeting": meeting,
        "attendees": attendees,
        "can_invite": user.can_write and bool(invitable),
        "has_new": any(a.invited_at is None for a in invitable),
        "any_invited": any(a.invited_at for a in invitable),
    }
