"""Web pages for tasks, sending email from a record, email templates and notification settings.

Thin views: forms parse, kith.activities.services validates and writes. Each page answers htmx requests
with a fragment (the quick-add form, a task row, a checkbox, an email's status) and plain requests with
the full page, so everything also works without JavaScript. Times are shown and read in the user's time
zone (Settings → Notifications).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core import mail
from kith.core.errors import ConflictError, ValidationError
from kith.core.pagination import Ordering, paginate
from kith.core.records import visible_records
from kith.web.ui import is_fragment_request, page_size, safe_next, url_with, vary_htmx
from kith.web.views_settings import render_settings

from . import services, text
from .forms_tasks import (
    EmailComposeForm,
    EmailTemplateForm,
    NotificationSettingsForm,
    TaskFilterForm,
    TaskForm,
    minutes_label,
)
from .models import Activity, ActivityLink, ActivityType, EmailStatus, EmailTemplate, Recurrence, TaskStatus

NAV = "tasks"
DUE = Ordering("due", ("due_at",))
UNDATED = Ordering("created", ("created_at",))
GROUP_TITLES = {
    "overdue": "Overdue",
    "earlier": "Earlier",
    "today": "Today",
    "upcoming": "Upcoming",
    "nodate": "No date",
}
TEMPLATES_SECTION = "web:email_template_list"
NOTIFICATIONS_SECTION = "web:notification_settings"


def user_tz(user):
    return services._tz(user)


def _require_writer(request: HttpRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")


def _hx_trigger(response: HttpResponse, events: dict[str, Any]) -> HttpResponse:
    response["HX-Trigger"] = json.dumps(events)
    return response


# --- related records (the record a task or email is about) ---------------------------------------------


def _related_from(values: list[str], user) -> list[tuple[str, Any]]:
    """[(kind, obj)] for "contact:7"-style values the user can see; 404 for anything else."""
    errors = services._Errors()
    found = services.resolve_related([v for v in values if v and v.strip()], actor=user, errors=errors)
    if errors.errors:
        raise Http404("No such record.")
    return found


def _related_values(related: list[tuple[str, Any]]) -> list[str]:
    return [f"{kind}:{obj.pk}" for kind, obj in related]


def related_map(activities: list[Activity], user) -> dict[int, list[tuple[str, Any]]]:
    """The records each activity is about, in a few queries for a whole page (no company roll-ups when
    the contact or deal that implies them is there too); records the user cannot see are left out."""
    ids = [a.pk for a in activities]
    links = list(
        ActivityLink.objects.filter(activity_id__in=ids).values_list(
            "activity_id", "record_type", "record_id"
        )
    )
    objects = visible_records([(kind, pk) for _, kind, pk in links], user)
    out: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for activity_id, kind, pk in links:
        obj = objects.get((kind, pk))
        if obj is not None:
            out[activity_id].append((kind, obj))
    for activity_id, items in out.items():
        implied = {getattr(o, "company_id", None) for k, o in items if k in ("contact", "deal")}
        out[activity_id] = [(k, o) for k, o in items if not (k == "company" and o.pk in implied)]
    return out


# --- tasks ---------------------------------------------------------------------------------------------


def _tasks(user):
    return services.visible_activities(user).filter(type=ActivityType.TASK)


def _get_task(request: HttpRequest, pk: int) -> Activity:
    task = _tasks(request.user).select_related("assignee", "owner").filter(pk=pk).first()
    if task is None:
        raise Http404("No such task.")
    return task


def can_edit(user, activity: Activity) -> bool:
    if not user.can_write:
        return False
    try:
        services._require_can_edit(user, activity)
    except PermissionDenied:
        return False
    return True


def task_group(task: Activity, today_start: dt.datetime) -> str:
    if task.due_at is None:
        return "nodate"
    if task.due_at < today_start:
        return "overdue" if task.status == TaskStatus.OPEN else "earlier"
    if task.due_at < today_start + dt.timedelta(days=1):
        return "today"
    return "upcoming"


def _day_start(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def due_text(when: dt.datetime, tz, *, now: dt.datetime | None = None) -> str:
    """ "Today 14:00", "Tomorrow 09:00", "Yesterday 17:00", "Mon 24 Nov, 09:00" or "24 Nov 2025, 09:00"."""
    local = timezone.localtime(when, tz)
    today = timezone.localtime(now or timezone.now(), tz).date()
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return f"Today {clock}"
    if days == 1:
        return f"Tomorrow {clock}"
    if days == -1:
        return f"Yesterday {clock}"
    if local.year == today.year:
        return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}, {clock}"
    return f"{local.day} {local.strftime('%b')} {local.year}, {clock}"


def repeat_text(task: Activity) -> str:
    if not task.recurrence:
        return ""
    if task.recurrence == Recurrence.EVERY_N_DAYS:
        n = task.recurrence_interval
        return "Repeats every day" if n == 1 else f"Repeats every {n} days"
    return f"Repeats {task.get_recurrence_display().lower()}"


def _task_rows(tasks: list[Activity], user, tz) -> list[dict[str, Any]]:
    now = timezone.now()
    today_start = _day_start(timezone.localtime(now, tz).date(), tz)
    related = related_map(tasks, user)
    return [
        {
            "task": t,
            "group": task_group(t, today_start),
            "related": related.get(t.pk, []),
            "late": t.status == TaskStatus.OPEN and t.due_at is not None and t.due_at < now,
            "can_edit": can_edit(user, t),
            "reminder": minutes_label(t.reminder_minutes) if t.reminder_minutes is not None else "",
            "due_text": due_text(t.due_at, tz, now=now) if t.due_at else "",
            "repeat_text": repeat_text(t),
        }
        for t in tasks
    ]


def _filters(request: HttpRequest) -> tuple[TaskFilterForm, dict[str, str]]:
    values = {
        "assignee": request.GET.get("assignee") or "me",
        "status": request.GET.get("status") or "open",
        "priority": request.GET.get("priority", ""),
        "due_after": request.GET.get("due_after", ""),
        "due_before": request.GET.get("due_before", ""),
        "related": request.GET.get("related", ""),
    }
    return TaskFilterForm(values), values


def _filtered(qs, form: TaskFilterForm, user, tz):
    cd = form.cleaned_data
    assignee = cd.get("assignee") or "me"
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee != "anyone":
        qs = qs.filter(assignee_id=int(assignee))
    status = cd.get("status") or "open"
    if status != "all":
        qs = qs.filter(status=status)
    if cd.get("priority"):
        qs = qs.filter(priority=cd["priority"])
    if cd.get("due_after"):
        qs = qs.filter(due_at__gte=_day_start(cd["due_after"], tz))
    if cd.get("due_before"):
        qs = qs.filter(due_at__lt=_day_start(cd["due_before"] + dt.timedelta(days=1), tz))
    related = cd.get("related")
    if related == "none":
        qs = qs.exclude(pk__in=ActivityLink.objects.values("activity_id"))
    elif related:
        qs = qs.filter(pk__in=ActivityLink.objects.filter(record_type=related).values("activity_id"))
    return qs


def _page(qs, cursor: str, limit: int) -> tuple[list[Activity], str | None]:
    """Dated tasks by due time, then tasks without a date (oldest first): two index-friendly keyset
    segments behind one cursor ("d…" / "n…")."""
    rows: list[Activity] = []
    segment, _, inner = cursor.partition(".") if cursor else ("d", "", "")
    if segment not in ("d", "n"):
        raise ValidationError({"cursor": ["This cursor is not valid for this list."]})
    if segment == "d":
        rows, nxt = paginate(
            qs.filter(due_at__isnull=False), ordering=DUE, descending=False, cursor=inner or None, limit=limit
        )
        if nxt:
            return rows, f"d.{nxt}"
        inner = ""
    room = limit - len(rows)
    if room <= 0:
        return rows, ("n." if qs.filter(due_at__isnull=True).exists() else None)
    more, nxt = paginate(
        qs.filter(due_at__isnull=True), ordering=UNDATED, descending=False, cursor=inner or None, limit=room
    )
    return rows + more, (f"n.{nxt}" if nxt else None)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    tz = user_tz(user)
    form, values = _filters(request)
    cursor = request.GET.get("cursor", "")
    rows: list[dict[str, Any]] = []
    next_url = ""
    status = 200
    with timezone.override(tz):
        if form.is_valid():
            qs = _filtered(_tasks(user).select_related("assignee"), form, user, tz)
            try:
                tasks, next_cursor = _page(qs, cursor, page_size())
            except ValidationError:
                tasks, next_cursor, status = [], None, 400
                form.add_error(None, "This “Load more” link is out of date. Reload the list.")
            rows = _task_rows(tasks, user, tz)
            if next_cursor:
                last_group = rows[-1]["group"] if rows else ""
                next_url = url_with(request.path, request.GET, cursor=next_cursor, after=last_group)
        else:
            status = 400
        previous = request.GET.get("after", "") if cursor else ""
        for row in rows:
            row["new_group"] = row["group"] != previous
            previous = row["group"]
        defaults = {"assignee": "me", "status": "open"}
        ctx = {
            "nav_section": NAV,
            "form": form,
            "rows": rows,
            "next_url": next_url,
            "group_titles": GROUP_TITLES,
            "filtered": any(values[k] and values[k] != defaults.get(k, "") for k in values),
            "mine_open": values["assignee"] == "me" and values["status"] == "open",
            "can_write": user.can_write,
            "today": timezone.localtime(timezone.now(), tz).date(),
        }
        if is_fragment_request(request):
            template = "activities/task_list_more.html" if cursor else "activities/task_list_results.html"
            return vary_htmx(render(request, template, ctx, status=status))
        return vary_htmx(render(request, "activities/task_list.html", ctx, status=status))


def _task_form_context(request, form, *, task=None, related=None, inline=False, **extra) -> dict[str, Any]:
    return {
        "nav_section": NAV,
        "form": form,
        "task": task,
        "related": related or [],
        "related_values": _related_values(related or []),
        "inline": inline,
        "next": safe_next(request, ""),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    """The quick-add form (an htmx fragment on a record page) or the full "New task" page."""
    _require_writer(request)
    user = request.user
    tz = user_tz(user)
    source = request.POST if request.method == "POST" else request.GET
    related = _related_from(source.getlist("related"), user)
    slot = source.get("slot") == "1"  # loaded into a record timeline's form slot
    inline = slot or is_fragment_request(request) or source.get("inline") == "1"
    template = "activities/task_form_inline.html" if inline else "activities/task_form.html"
    with timezone.override(tz):
        if request.method == "POST":
            form = TaskForm(request.POST, tz=tz)
            if form.is_valid():
                try:
                    task = services.create_task(actor=user, data=form.service_data())
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return _task_created(request, task, related, inline, slot)
            ctx = _task_form_context(request, form, related=related, inline=inline, slot=slot)
            return render(request, template, ctx, status=400)
        form = TaskForm(tz=tz, initial=TaskForm.new_initial(user, tz))
        return render(
            request, template, _task_form_context(request, form, related=related, inline=inline, slot=slot)
        )


def _task_created(request, task: Activity, related, inline: bool, slot: bool = False) -> HttpResponse:
    due = ""
    if task.due_at:
        due = due_text(task.due_at, timezone.get_current_timezone())
    note = f"Task “{task.subject}” was added" + (f", due {due}." if due else ".")
    if inline:
        ctx = {
            "task": task,
            "note": note,
            "related_values": _related_values(related),
            "related": related,
            "slot": slot,
        }
        response = None
        if slot and related:
            try:  # the record's timeline, refreshed out of band (kith.activities.views_activities)
                from .views_activities import _timeline_refresh
            except ImportError:
                _timeline_refresh = None
            if _timeline_refresh is not None:
                response = _timeline_refresh(request, related[0][1], "activities/task_added.html", ctx)
        if response is None:
            response = render(request, "activities/task_added.html", ctx)
        return _hx_trigger(
            response,
            {
                "kith:timeline-changed": {"activity_id": task.pk},
                "kith:task-changed": {"id": task.pk, "status": task.status},
            },
        )
    messages.success(request, note)
    fallback = related[0][1].get_absolute_url() if related else reverse("web:task_list")
    return redirect(safe_next(request, fallback))


@login_required
@require_GET
def task_add_button(request: HttpRequest) -> HttpResponse:
    """The "Add task" button again (the quick-add form's Cancel); nothing in a timeline's form slot."""
    if request.GET.get("slot") == "1":
        return HttpResponse("")
    related = _related_from(request.GET.getlist("related"), request.user)
    return render(
        request,
        "activities/task_add_button.html",
        {"related_values": _related_values(related), "can_write": request.user.can_write},
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    task = _get_task(request, pk)
    if not can_edit(user, task):
        raise PermissionDenied("You can change only tasks you created or that are assigned to you.")
    tz = user_tz(user)
    conflict = None
    back = safe_next(request, task.get_absolute_url())
    with timezone.override(tz):
        status = 200
        if request.method == "POST":
            form = TaskForm(request.POST, tz=tz, task=task)
            if form.is_valid():
                try:
                    task = services.update_activity(
                        actor=user,
                        activity=task,
                        data=form.service_data(),
                        expected_version=form.expected_version(),
                    )
                except ValidationError as exc:
                    form.add_service_errors(exc)
                except ConflictError as exc:
                    conflict = exc.message
                    task.refresh_from_db()
                    form = TaskForm(tz=tz, task=task)
                else:
                    messages.success(request, f"Task “{task.subject}” was saved.")
                    return redirect(back)
            status = 409 if conflict else 400
        else:
            form = TaskForm(tz=tz, task=task)
        ctx = _task_form_context(
            request, form, task=task, related=services.related_records(task), conflict=conflict, back=back
        )
        return render(request, "activities/task_form.html", ctx, status=status)


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The checkbox: ticked = done, unticked = open again (undo). Answers with the checkbox or the row."""
    user = request.user
    task = _get_task(request, pk)
    if not can_edit(user, task):
        raise PermissionDenied("You can change only tasks you created or that are assigned to you.")
    done = request.POST.get("done") in ("1", "on", "true")
    try:
        if done:
            task = services.complete_task(actor=user, task=task)
        elif task.status != TaskStatus.OPEN:
            task = services.reopen_task(actor=user, task=task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    task = _get_task(request, pk)
    if not is_fragment_request(request):
        if done:
            messages.success(request, f"Task “{task.subject}” is done.")
        else:
            messages.success(request, f"Task “{task.subject}” is open again.")
        return redirect(safe_next(request, task.get_absolute_url()))
    return _task_fragment(request, task, {"kith:task-changed": {"id": task.pk, "status": task.status}})


def _task_fragment(request, task: Activity, events: dict[str, Any]) -> HttpResponse:
    tz = user_tz(request.user)
    with timezone.override(tz):
        if request.POST.get("swap") == "item":
            row = _task_rows([task], request.user, tz)[0]
            row["new_group"] = False
            response = render(
                request, "activities/task_item.html", {"row": row, "group_titles": GROUP_TITLES}
            )
        else:
            response = render(
                request,
                "activities/task_check.html",
                {"task": task, "can_edit": can_edit(request.user, task), "swap": "check"},
            )
    return _hx_trigger(response, events)


@login_required
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    task = _get_task(request, pk)
    if not can_edit(user, task):
        raise PermissionDenied("You can change only tasks you created or that are assigned to you.")
    if task.status != TaskStatus.CANCELLED:
        services.update_activity(actor=user, activity=task, data={"status": TaskStatus.CANCELLED})
    task = _get_task(request, pk)
    if is_fragment_request(request):
        return _task_fragment(request, task, {"kith:task-changed": {"id": task.pk, "status": task.status}})
    messages.success(request, f"Task “{task.subject}” was cancelled. Tick it or edit it to reopen it.")
    return redirect(safe_next(request, task.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    task = _get_task(request, pk)
    if not can_edit(user, task):
        raise PermissionDenied("You can change only tasks you created or that are assigned to you.")
    back = safe_next(request, reverse("web:task_list"))
    if request.method == "POST":
        services.delete_activity(actor=user, activity=task)
        messages.success(request, f"Task “{task.subject}” was moved to the trash.")
        if is_fragment_request(request):
            response = HttpResponse("")
            return _hx_trigger(
                response,
                {
                    "kith:task-changed": {"id": task.pk, "status": "deleted"},
                    "kith:timeline-changed": {"activity_id": task.pk},
                },
            )
        return redirect(back)
    return render(request, "activities/task_delete.html", {"nav_section": NAV, "task": task, "back": back})


# --- sending email -------------------------------------------------------------------------------------


def _templates():
    return list(EmailTemplate.objects.order_by("name"))


@login_required
@require_http_methods(["GET", "POST"])
def email_compose(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    related = _related_from(source.getlist("related"), user)
    templates = _templates()
    configured = mail.is_configured()
    back = safe_next(request, related[0][1].get_absolute_url() if related else reverse("web:task_list"))
    status = 200
    if request.method == "POST":
        form = EmailComposeForm(request.POST, templates=templates)
        if form.is_valid():
            try:
                activity = services.send_email(actor=user, data=form.service_data(_related_values(related)))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    f"Your email “{activity.subject}” is being sent to "
                    f"{', '.join(activity.email_to)}. Its status shows on the timeline.",
                )
                return redirect(back)
        status = 400
    else:
        initial: dict[str, Any] = {"to": ", ".join(services.default_recipients(related))}
        chosen = request.GET.get("template", "")
        tpl = next((t for t in templates if str(t.pk) == chosen), None)
        if tpl is not None:
            initial.update(template=str(tpl.pk), subject=tpl.subject, body=tpl.body)
        form = EmailComposeForm(initial=initial, templates=templates)
    ctx = {
        "form": form,
        "related": related,
        "related_values": _related_values(related),
        "configured": configured,
        "back": back,
        "sender": settings.KITH_EMAIL_FROM,
        "reply_to": user.email,
        "merge_fields": text.MERGE_FIELDS,
    }
    return render(request, "activities/email_compose.html", ctx, status=status)


@login_required
@require_GET
def email_template_fill(request: HttpRequest) -> HttpResponse:
    """htmx: the subject and message fields filled from the chosen template (merge fields kept; the
    preview shows them filled in)."""
    related = _related_from(request.GET.getlist("related"), request.user)
    tpl = (
        EmailTemplate.objects.filter(pk=int(request.GET["template"])).first()
        if request.GET.get("template", "").isdigit()
        else None
    )
    initial = {"subject": request.GET.get("subject", ""), "body": request.GET.get("body", "")}
    if tpl is not None:
        initial.update(subject=tpl.subject, body=tpl.body, template=str(tpl.pk))
    form = EmailComposeForm(initial=initial, templates=_templates())
    response = render(
        request, "activities/email_fields.html", {"form": form, "related_values": _related_values(related)}
    )
    return _hx_trigger(response, {"kith:email-filled": {}})


@login_required
@require_POST
def email_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the email as the recipient will see it, merge fields filled in from the related record."""
    related = _related_from(request.POST.getlist("related"), request.user)
    ctx_objects = services.merge_context(related, request.user)
    subject = request.POST.get("subject", "")
    body = request.POST.get("body", "")
    problems = text.merge_field_errors(subject) + text.merge_field_errors(body)
    ctx = {
        "subject": text.render_merge_fields(subject, ctx_objects),
        "body_html": text.markdown(text.render_merge_fields(body, ctx_objects)),
        "problems": problems,
        "empty": not subject.strip() and not body.strip(),
    }
    return render(request, "activities/email_preview.html", ctx)


def _get_email(request: HttpRequest, pk: int) -> Activity:
    activity = services.visible_activities(request.user).filter(pk=pk, type=ActivityType.EMAIL).first()
    if activity is None:
        raise Http404("No such email.")
    return activity


def _email_status_response(request, activity: Activity) -> HttpResponse:
    with timezone.override(user_tz(request.user)):
        return render(
            request,
            "activities/email_status.html",
            {"activity": activity, "can_write": request.user.can_write},
        )


@login_required
@require_GET
def email_status(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx polling while an email is being sent: Sending → Sent / Failed."""
    activity = _get_email(request, pk)
    response = _email_status_response(request, activity)
    if activity.email_status != EmailStatus.QUEUED:
        _hx_trigger(response, {"kith:email-status": {"id": activity.pk, "status": activity.email_status}})
    return response


@login_required
@require_POST
def email_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_writer(request)
    activity = _get_email(request, pk)
    try:
        activity = services.retry_email(actor=request.user, activity=activity)
    except ValidationError as exc:
        if not is_fragment_request(request):
            messages.error(request, " ".join(exc.messages))
    else:
        if not is_fragment_request(request):
            messages.success(request, f"Sending “{activity.subject}” again.")
    if is_fragment_request(request):
        return _email_status_response(request, activity)
    return redirect(safe_next(request, activity.get_absolute_url()))


# --- email templates (Settings → Email templates) ------------------------------------------------------


@login_required
@require_GET
def email_template_list(request: HttpRequest) -> HttpResponse:
    return render_settings(
        request,
        "activities/email_template_list.html",
        {"templates": _templates(), "can_write": request.user.can_write, "merge_fields": text.MERGE_FIELDS},
        section=TEMPLATES_SECTION,
    )


def _template_form_page(request, form, *, template=None, status=200) -> HttpResponse:
    return render_settings(
        request,
        "activities/email_template_form.html",
        {"form": form, "template": template, "creating": template is None, "merge_fields": text.MERGE_FIELDS},
        section=TEMPLATES_SECTION,
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def email_template_create(request: HttpRequest) -> HttpResponse:
    _require_writer(request)
    if request.method == "POST":
        form = EmailTemplateForm(request.POST)
        if form.is_valid():
            try:
                tpl = services.create_email_template(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"The template “{tpl.name}” was created.")
                return redirect("web:email_template_list")
        return _template_form_page(request, form, status=400)
    return _template_form_page(request, EmailTemplateForm())


@login_required
@require_http_methods(["GET", "POST"])
def email_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tpl = get_object_or_404(EmailTemplate, pk=pk)
    if request.method == "POST":
        _require_writer(request)
        form = EmailTemplateForm(request.POST)
        if form.is_valid():
            try:
                tpl = services.update_email_template(actor=request.user, template=tpl, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
                tpl.refresh_from_db()
            else:
                messages.success(request, f"The template “{tpl.name}” was saved.")
                return redirect("web:email_template_list")
        return _template_form_page(request, form, template=tpl, status=400)
    form = EmailTemplateForm(initial={"name": tpl.name, "subject": tpl.subject, "body": tpl.body})
    return _template_form_page(request, form, template=tpl)


@login_required
@require_http_methods(["GET", "POST"])
def email_template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_writer(request)
    tpl = get_object_or_404(EmailTemplate, pk=pk)
    if request.method == "POST":
        services.delete_email_template(actor=request.user, template=tpl)
        messages.success(request, f"The template “{tpl.name}” was deleted.")
        return redirect("web:email_template_list")
    return render_settings(
        request, "activities/email_template_delete.html", {"template": tpl}, section=TEMPLATES_SECTION
    )


# --- notification settings -----------------------------------------------------------------------------


_DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # settings.KITH_BASE_URL when the environment does not set it


def _feed_url(request) -> str:
    """The private feed address to copy. KITH_BASE_URL when the administrator set it (the public address);
    else the address this page was opened at, not the built-in default (http://127.0.0.1:8000), which
    would be wrong whenever Kith runs on another port or host."""
    try:
        url = services.feed_url(request.user)
    except NoReverseMatch:  # the calendar feed endpoint is not installed
        return ""
    if os.environ.get("KITH_BASE_URL") or settings.KITH_BASE_URL != _DEFAULT_BASE_URL:
        return url
    return request.build_absolute_uri(urlsplit(url).path)


def _settings_page(request, form=None, status=200) -> HttpResponse:
    user = request.user
    row = services.settings_for(user)
    if form is None:
        form = NotificationSettingsForm(
            initial={
                "email_kinds": row.email_kinds,
                "digest_enabled": row.digest_enabled,
                "digest_time": row.digest_time,
                "time_zone": row.time_zone,
                "default_reminder_minutes": str(row.default_reminder_minutes),
            },
            workspace_tz=settings.TIME_ZONE,
            current_reminder=row.default_reminder_minutes,
        )
    ctx = {
        "form": form,
        "feed_url": _feed_url(request),
        "mail_configured": mail.is_configured(),
        "user_tz": str(user_tz(user)),
        "now_local": timezone.localtime(timezone.now(), user_tz(user)),
    }
    return render_settings(
        request, "activities/settings_notifications.html", ctx, section=NOTIFICATIONS_SECTION, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        row = services.settings_for(request.user)
        form = NotificationSettingsForm(
            request.POST, workspace_tz=settings.TIME_ZONE, current_reminder=row.default_reminder_minutes
        )
        if form.is_valid():
            try:
                services.update_user_settings(actor=request.user, user=request.user, data=form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Your notification settings were saved.")
                return redirect("web:notification_settings")
        return _settings_page(request, form, status=400)
    return _settings_page(request)


@login_required
@require_POST
def calendar_token_reset(request: HttpRequest) -> HttpResponse:
    services.reset_calendar_token(actor=request.user, user=request.user)
    messages.success(
        request,
        "Your calendar link was reset. The old link no longer works: subscribe again with the new one.",
    )
    return redirect(reverse("web:notification_settings") + "#calendar-feed")
