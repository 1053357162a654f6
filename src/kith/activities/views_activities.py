"""Web UI of activities: the timeline on record pages, logging calls/meetings/notes/emails inline, the
activity page (edit, trash, restore, pin), comments with @mentions, and the pickers' lookups.

Views stay thin: they read through kith.activities.timeline and services.visible_activities and write
through kith.activities.services. htmx requests get fragments; the same URLs answer plain requests with
full pages (no-JS fallback).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core import audit
from kith.core.errors import ConflictError
from kith.core.models import Role, User
from kith.core.permissions import visible
from kith.core.records import record_model, visible_records
from kith.web.ui import history_entries, is_fragment_request, safe_next, url_with, vary_htmx

from . import services
from . import timeline as tl
from .forms_activities import NOUNS, ActivityForm, CommentForm
from .models import RECORD_TYPES, Activity, ActivityLink, ActivityType, Comment

TYPE_CHIPS = [
    ("", "All"),
    ("call", "Calls"),
    ("meeting", "Meetings"),
    ("note", "Notes"),
    ("email", "Emails"),
    ("task", "Tasks"),
    ("comment", "Comments"),
    ("change", "Changes"),
]
LOG_KINDS = [
    (ActivityType.CALL.value, "Log call", "phone"),
    (ActivityType.MEETING.value, "Log meeting", "meeting"),
    (ActivityType.NOTE.value, "Add note", "note"),
    (ActivityType.EMAIL.value, "Log email", "mail"),
]
PAGE_SIZE = 20
LOOKUP_LIMIT = 10
FORM_SLOT = "activity-form-slot"


# --- loading records and activities --------------------------------------------------------------------


def record_types() -> list[str]:
    return [t for t in RECORD_TYPES if record_model(t) is not None]


def get_record(request: HttpRequest, record_type: str, record_id: int, *, include_trash: bool = True):
    """A contact/company/lead/deal the user may see, or 404."""
    model = record_model(record_type) if record_type in RECORD_TYPES else None
    if model is None:
        raise Http404("No such kind of record.")
    base = model.all_objects.all() if include_trash else model.objects.all()
    obj = visible(base, request.user).filter(pk=record_id).first()
    if obj is None:
        raise Http404(f"No such {record_type}.")
    return obj


def get_activity(request: HttpRequest, pk: int, *, include_trash: bool = False) -> Activity:
    base = Activity.all_objects.all() if include_trash else Activity.objects.all()
    activity = (
        services.visible_activities(request.user, base=base)
        .select_related("owner", "assignee")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404("No such activity.")
    return activity


def require_writer(request: HttpRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")


def attach_related(activities: list[Activity], user, exclude: tuple[str, int] | None = None) -> None:
    """Set a.related_list = [{"kind", "obj"}] on each activity: the records it was logged on that the user
    can see, without `exclude` (the page's own record) and without a company implied by a contact or deal.
    One query per record kind for the whole page."""
    if not activities:
        return
    links = list(
        ActivityLink.objects.filter(activity_id__in=[a.pk for a in activities])
        .order_by("id")
        .values_list("activity_id", "record_type", "record_id")
    )
    objs = visible_records([(kind, pk) for _, kind, pk in links], user)
    per_activity: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for activity_id, kind, pk in links:
        per_activity[activity_id].append((kind, pk))
    for a in activities:
        keys = per_activity.get(a.pk, [])
        implied = {
            ("company", getattr(objs[k], "company_id", None))
            for k in keys
            if k[0] in ("contact", "deal") and k in objs
        }
        a.related_list = [
            {"kind": k[0], "obj": objs[k]} for k in keys if k in objs and k != exclude and k not in implied
        ]


def _prepare_activities(activities: list[Activity], user, exclude=None) -> None:
    from django.db.models import prefetch_related_objects

    attach_related(activities, user, exclude)
    meetings = [a for a in activities if a.type == ActivityType.MEETING]
    if meetings:
        prefetch_related_objects(meetings, "attendees")
    for a in activities:
        a.can_edit = can_edit(user, a)


def can_edit(user, activity: Activity) -> bool:
    if not user.can_write:
        return False
    try:
        services._require_can_edit(user, activity)
    except PermissionDenied:
        return False
    return True


def can_change_comment(user, comment: Comment) -> dict[str, bool]:
    own = comment.author_id == user.pk and user.can_write
    return {"edit": own, "delete": own or user.role == Role.ADMIN}


# --- the timeline --------------------------------------------------------------------------------------


def timeline_url(record) -> str:
    return reverse("web:activity_timeline", args=[record.object_type, record.pk])


def timeline_context(
    request: HttpRequest, record, *, types_value: str = "", cursor: str | None = None
) -> dict:
    """Everything the timeline card and its fragments need for one page of a record's timeline."""
    user = request.user
    error = ""
    try:
        types = tl.parse_types(types_value) if types_value else None
    except ValidationError as exc:
        error, types_value, types = " ".join(exc.messages), "", None
    try:
        page = tl.timeline(record, cursor=cursor, types=types, limit=PAGE_SIZE)
    except ValidationError:
        error = "This page link is no longer valid; showing the newest entries."
        cursor = None
        page = tl.timeline(record, types=types, limit=PAGE_SIZE)
    decorate_entries(request, record, [*page.pinned, *page.entries])
    base_url = timeline_url(record)
    chips = []
    for value, label in TYPE_CHIPS:
        chips.append(
            {
                "value": value,
                "label": label,
                "active": value == types_value,
                "url": url_with(base_url, _empty(), types=value or None),
            }
        )
    next_url = (
        url_with(base_url, _empty(), types=types_value or None, cursor=page.next_cursor)
        if page.next_cursor
        else ""
    )
    record_type = record.object_type
    return {
        "record": record,
        "record_type": record_type,
        "record_key": f"{record_type}:{record.pk}",
        "entries": page.entries,
        "pinned": page.pinned,
        "next_url": next_url,
        "chips": chips,
        "types_value": types_value,
        "timeline_url": base_url,
        "filter_label": next((label for value, label in TYPE_CHIPS if value and value == types_value), ""),
        "timeline_error": error,
        "can_log": user.can_write and not getattr(record, "in_trash", False),
        "log_kinds": [
            {
                "kind": k,
                "label": label,
                "icon": icon,
                "url": reverse("web:activity_log", args=[record_type, record.pk, k]),
            }
            for k, label, icon in LOG_KINDS
        ],
        "form_slot": FORM_SLOT,
        "comment_url": reverse("web:comment_add", args=[record_type, record.pk]),
        "nav_section": _SECTIONS.get(record_type, ""),
        "is_first_page": not cursor,
        "user": user,
    }


def _empty():
    from django.http import QueryDict

    return QueryDict(mutable=True)


def _history_rows(record, raws: list, noun: str) -> list[dict]:
    """The record's history rows (web.ui.history_entries: labels, custom fields, tags, merges with their undo
    state); for a lead, with its status labels, country names, the assignment reason and the web form that
    created it."""
    rows = history_entries(record, raws, noun)
    if record.object_type != "lead":
        return rows
    from kith.core.countries import country_name
    from kith.sales.choices import LeadStatus

    labels = dict(LeadStatus.choices)
    for raw, row in zip(raws, rows, strict=True):
        row["reason"] = ((raw.changes or {}).get("owner") or {}).get("reason", "")
        if raw.action == "create" and raw.actor_id is None and getattr(record, "form_id", None):
            row["actor"] = f"Web form “{record.form.name}”"
        for change in row["changes"]:
            if change["label"] == "Status":
                change["old"] = labels.get(change["old"], change["old"])
                change["new"] = labels.get(change["new"], change["new"])
            elif change["label"] == "Country":
                change["old"], change["new"] = country_name(change["old"]), country_name(change["new"])
    return rows


def decorate_entries(request: HttpRequest, record, entries: list) -> None:
    user = request.user
    acts = [e.obj for e in entries if e.kind == "activity"]
    _prepare_activities(acts, user, exclude=(record.object_type, record.pk))
    changes = [e for e in entries if e.kind == "change"]
    if changes:
        noun = getattr(record._meta, "verbose_name", record.object_type)
        rows = _history_rows(record, [e.obj for e in changes], str(noun))
        for e, row in zip(changes, rows, strict=True):
            e.extra["history"] = row
            keys = set((e.obj.changes or {}).keys()) if e.obj.action == "update" else set()
            e.extra["is_stage_move"] = "stage" in keys or "stage_id" in keys
            e.extra["is_conversion"] = bool(keys) and (
                "converted_at" in keys
                or any(k.startswith("converted_") for k in keys)
                or ((e.obj.changes or {}).get("status", {}) or {}).get("new") == "converted"
            )
    comments = [e for e in entries if e.kind == "comment"]
    # a company's timeline also shows its contacts' and deals' comments: "on contact Ada Lovelace", when
    # the user can see Ada
    elsewhere = [(e.obj.record_type, e.obj.record_id) for e in comments
                 if (e.obj.record_type, e.obj.record_id) != (record.object_type, record.pk)]
    on = visible_records(elsewhere, user) if elsewhere else {}
    for e in comments:
        e.extra.update(can_change_comment(user, e.obj))
        e.obj.on_record = on.get((e.obj.record_type, e.obj.record_id))


@login_required
@require_GET
def timeline(request, record_type: str, record_id: int):
    record = get_record(request, record_type, record_id)
    types_value = (request.GET.get("types") or "").strip()
    cursor = (request.GET.get("cursor") or "").strip() or None
    ctx = timeline_context(request, record, types_value=types_value, cursor=cursor)
    status = 400 if ctx["timeline_error"] else 200
    if is_fragment_request(request):
        template = (
            "activities/_timeline_entries.html"
            if cursor and not ctx["timeline_error"]
            else "activities/_timeline_body.html"
        )
        return vary_htmx(render(request, template, ctx, status=status))
    return vary_htmx(render(request, "activities/timeline_page.html", ctx, status=status))


def _timeline_refresh(
    request, record, template: str, extra: dict | None = None, status: int = 200
) -> HttpResponse:
    """A fragment plus the record's refreshed timeline (first page, all types) swapped out of band."""
    ctx = timeline_context(request, record)
    ctx.update(extra or {})
    ctx["oob"] = True
    return vary_htmx(render(request, template, ctx, status=status))


# --- logging and editing -------------------------------------------------------------------------------


def _form_ctx(form: ActivityForm, *, action: str, cancel_url: str, record=None, inline: bool) -> dict:
    kind = form.kind
    related = []
    values = form["related"].value() or []
    if isinstance(values, str):
        values = [values]
    related = describe_keys(values, form.user)
    attendees = (
        describe_attendees(form["attendees"].value() or [], form.user) if "attendees" in form.fields else []
    )
    return {
        "form": form,
        "kind": kind,
        "noun": NOUNS[kind],
        "action": action,
        "cancel_url": cancel_url,
        "record": record,
        "inline": inline,
        "related_items": related,
        "attendee_items": attendees,
        "form_slot": FORM_SLOT,
        "fields": form.visible_fields_in_order(),
    }


KIND_LABELS = {
    "contact": "Contact",
    "company": "Company",
    "lead": "Lead",
    "deal": "Deal",
    "ticket": "Ticket",
    "user": "User",
    "email": "Guest",
}


def describe_keys(values: list[str], user) -> list[dict[str, str]]:
    """[{"value": "contact:7", "label": "Ada Lovelace", "kind": "Contact"}] for picked records."""
    out = []
    for value in values:
        kind, _, raw = str(value).partition(":")
        model = record_model(kind) if kind in RECORD_TYPES else None
        obj = (
            visible(model.all_objects.all(), user).filter(pk=int(raw)).first()
            if model and raw.isdigit()
            else None
        )
        out.append({"value": value, "label": str(obj) if obj else value, "kind": KIND_LABELS.get(kind, kind)})
    return out


def describe_attendees(values: list[str], user) -> list[dict[str, str]]:
    from kith.contacts.models import Contact

    out = []
    for value in values if isinstance(values, list) else [values]:
        kind, _, raw = str(value).partition(":")
        label = raw
        if kind == "contact" and raw.isdigit():
            obj = visible(Contact, user).filter(pk=int(raw)).first()
            label = str(obj) if obj else value
        elif kind == "user" and raw.isdigit():
            u = User.objects.filter(pk=int(raw)).first()
            label = u.display_name if u else value
        out.append({"value": value, "label": label, "kind": KIND_LABELS.get(kind, kind)})
    return out


def _attendee_values(activity: Activity) -> list[str]:
    out = []
    for a in activity.attendees.all():
        if a.contact_id:
            out.append(f"contact:{a.contact_id}")
        elif a.user_id:
            out.append(f"user:{a.user_id}")
    return out


def _attendee_emails(activity: Activity) -> str:
    return ", ".join(
        a.email for a in activity.attendees.all() if not a.contact_id and not a.user_id and a.email
    )


def _bound_form(request, kind: str, *, instance=None, initial=None) -> ActivityForm:
    form = (
        ActivityForm(request.POST, kind=kind, instance=instance)
        if request.method == "POST"
        else ActivityForm(kind=kind, instance=instance, initial=initial)
        if initial is not None
        else ActivityForm(kind=kind, instance=instance)
    )
    form.user = request.user
    return form


@login_required
@require_http_methods(["GET", "POST"])
def log_activity(request, record_type: str, record_id: int, kind: str):
    record = get_record(request, record_type, record_id, include_trash=False)
    if kind not in NOUNS or kind == ActivityType.TASK:
        raise Http404("No such kind of activity.")
    require_writer(request)
    initial = ActivityForm.initial_for_new(kind)
    initial["related"] = [f"{record_type}:{record.pk}"]
    if kind == ActivityType.MEETING:
        initial["attendees"] = [
            *([f"contact:{record.pk}"] if record_type == "contact" else []),
            f"user:{request.user.pk}",
        ]
    if kind == ActivityType.EMAIL and getattr(record, "email", ""):
        initial["email_to"] = record.email
        initial["email_from"] = request.user.email
    form = _bound_form(request, kind, initial=initial)
    fragment = is_fragment_request(request)
    action = reverse("web:activity_log", args=[record_type, record.pk, kind])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                activity = services.log_activity(
                    actor=request.user, data={"type": kind, **form.service_data()}
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                if fragment:
                    return _timeline_refresh(
                        request,
                        record,
                        "activities/_log_done.html",
                        {"logged": activity, "noun": NOUNS[kind]},
                    )
                messages.success(request, f"The {NOUNS[kind]} was logged.")
                return redirect(record.get_absolute_url())
        status = 400
    ctx = _form_ctx(form, action=action, cancel_url=record.get_absolute_url(), record=record, inline=fragment)
    ctx["nav_section"] = _SECTIONS.get(record.object_type, "")
    if fragment:
        return vary_htmx(render(request, "activities/_activity_form.html", ctx, status=status))
    return vary_htmx(render(request, "activities/log.html", ctx, status=status))


@login_required
@require_GET
def activity_detail(request, pk: int):
    activity = get_activity(request, pk, include_trash=True)
    _prepare_activities([activity], request.user)
    entries = list(audit.history(activity)[:100])
    comments = list(
        Comment.objects.filter(record_type="activity", record_id=activity.pk)
        .select_related("author")
        .order_by("created_at", "id")
    )
    for c in comments:
        c.perms = can_change_comment(request.user, c)
    ctx = {
        "a": activity,
        "obj": activity,
        "noun": NOUNS.get(activity.type, "activity"),
        "history": history_entries(activity, entries, NOUNS.get(activity.type, "activity")),
        "comments": comments,
        "comment_form": CommentForm(),
        "comment_url": reverse("web:comment_add", args=["activity", activity.pk]),
        "can_write": request.user.can_write,
        "can_edit": activity.can_edit and activity.deleted_at is None,
        "editable_kind": activity.type in (ActivityType.CALL, ActivityType.MEETING, ActivityType.NOTE)
        or (activity.type == ActivityType.EMAIL and activity.email_status in ("", "logged")),
        "nav_section": _nav_section(activity),
    }
    return render(request, "activities/detail.html", ctx)


_SECTIONS = {"contact": "contacts", "company": "companies", "deal": "deals", "lead": "leads"}


def _nav_section(activity: Activity) -> str:
    """The sidebar entry an activity's page belongs to: Tasks for a task, else the section of the first record
    it is about (a call with a contact is under Contacts), else Calendar for a meeting."""
    if activity.type == ActivityType.TASK:
        return "tasks"
    related = getattr(activity, "related_list", None)
    kinds = (
        [r["kind"] for r in related]
        if related is not None
        else list(activity.links.order_by("id").values_list("record_type", flat=True)[:4])
    )
    for kind in kinds:
        if kind in _SECTIONS:
            return _SECTIONS[kind]
    return "calendar" if activity.type == ActivityType.MEETING else ""


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk: int):
    activity = get_activity(request, pk)
    require_writer(request)
    kind = activity.type
    if kind not in (ActivityType.CALL, ActivityType.MEETING, ActivityType.NOTE, ActivityType.EMAIL):
        raise Http404("This kind of activity is edited elsewhere.")
    if not can_edit(request.user, activity):
        raise PermissionDenied("You can change only activities you logged or tasks assigned to you.")
    conflict = ""
    if request.method == "POST":
        form = _bound_form(request, kind, instance=activity)
        if form.is_valid():
            try:
                services.update_activity(
                    actor=request.user,
                    activity=activity,
                    data=form.service_data(),
                    expected_version=form.expected_version(),
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            except ConflictError as exc:
                conflict = exc.message
            else:
                messages.success(request, f"The {NOUNS[kind]} was saved.")
                return redirect(activity.get_absolute_url())
        status = 409 if conflict else 400
    else:
        initial = ActivityForm.initial_from(activity)
        initial["related"] = [f"{k}:{o.pk}" for k, o in services.related_records(activity)]
        if kind == ActivityType.MEETING:
            initial["attendees"] = _attendee_values(activity)
            initial["attendee_emails"] = _attendee_emails(activity)
        form = _bound_form(request, kind, instance=activity, initial=initial)
        status = 200
    ctx = _form_ctx(
        form,
        action=reverse("web:activity_edit", args=[activity.pk]),
        cancel_url=activity.get_absolute_url(),
        inline=False,
    )
    ctx.update({"a": activity, "conflict": conflict, "nav_section": _nav_section(activity)})
    return render(request, "activities/edit.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def activity_delete(request, pk: int):
    activity = get_activity(request, pk)
    if request.method != "POST":
        return redirect(activity.get_absolute_url())
    require_writer(request)
    version = (request.POST.get("version") or "").strip()
    try:
        services.delete_activity(
            actor=request.user,
            activity=activity,
            expected_version=int(version) if version.isdigit() else None,
        )
    except ConflictError as exc:
        messages.error(request, exc.message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The {NOUNS.get(activity.type, 'activity')} was moved to the trash.")
    return redirect(activity.get_absolute_url())


@login_required
@require_POST
def activity_restore(request, pk: int):
    activity = get_activity(request, pk, include_trash=True)
    require_writer(request)
    try:
        services.restore_activity(actor=request.user, activity=activity)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"The {NOUNS.get(activity.type, 'activity')} was restored.")
    return redirect(activity.get_absolute_url())


def _record_from_key(request, key: str):
    kind, _, raw = (key or "").partition(":")
    if kind in RECORD_TYPES and raw.isdigit():
        try:
            return get_record(request, kind, int(raw))
        except Http404:
            return None
    return None


@login_required
@require_POST
def activity_pin(request, pk: int):
    activity = get_activity(request, pk)
    require_writer(request)
    pinned = request.POST.get("pinned") == "1"
    try:
        services.update_activity(actor=request.user, activity=activity, data={"pinned": pinned})
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    record = _record_from_key(request, request.POST.get("record", ""))
    if is_fragment_request(request) and record is not None:
        ctx = timeline_context(request, record)
        return vary_htmx(render(request, "activities/_timeline_body.html", ctx))
    return redirect(safe_next(request, activity.get_absolute_url()))


# --- comments ------------------------------------------------------------------------------------------


def _comment_target(request, record_type: str, record_id: int):
    if record_type == "activity":
        return get_activity(request, record_id)
    return get_record(request, record_type, record_id, include_trash=False)


@login_required
@require_POST
def comment_add(request, record_type: str, record_id: int):
    target = _comment_target(request, record_type, record_id)
    require_writer(request)
    form = CommentForm(request.POST)
    fragment = is_fragment_request(request)
    comment = None
    if form.is_valid():
        try:
            comment = services.add_comment(
                actor=request.user,
                record_type=record_type,
                record_id=target.pk,
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
    comment_url = reverse("web:comment_add", args=[record_type, target.pk])
    if comment is None:
        if fragment:
            return vary_htmx(
                render(
                    request,
                    "activities/_comment_form.html",
                    {"comment_form": form, "comment_url": comment_url},
                    status=400,
                )
            )
        for message in [m for errs in form.errors.values() for m in errs]:
            messages.error(request, message)
        return redirect(target.get_absolute_url())
    if not fragment:
        messages.success(request, "Your comment was posted.")
        return redirect(f"{target.get_absolute_url()}#comment-{comment.pk}")
    fresh = {"comment_form": CommentForm(), "comment_url": comment_url, "posted": True}
    if record_type == "activity":
        comments = list(
            Comment.objects.filter(record_type="activity", record_id=target.pk)
            .select_related("author")
            .order_by("created_at", "id")
        )
        for c in comments:
            c.perms = can_change_comment(request.user, c)
        return vary_htmx(
            render(
                request,
                "activities/_comment_posted_activity.html",
                {**fresh, "comments": comments, "oob": True},
            )
        )
    return _timeline_refresh(request, target, "activities/_comment_posted.html", fresh)


def _get_comment(request, pk: int) -> Comment:
    comment = Comment.objects.select_related("author").filter(pk=pk).first()
    if comment is None:
        raise Http404("No such comment.")
    _comment_target(request, comment.record_type, comment.record_id)  # 404 unless the user can see it
    return comment


def _comment_page_url(comment: Comment) -> str:
    if comment.record_type == "activity":
        return reverse("web:activity_detail", args=[comment.record_id]) + f"#comment-{comment.pk}"
    model = record_model(comment.record_type)
    obj = model.all_objects.filter(pk=comment.record_id).first() if model else None
    return (obj.get_absolute_url() if obj else "/") + f"#comment-{comment.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request, pk: int):
    comment = _get_comment(request, pk)
    if not can_change_comment(request.user, comment)["edit"]:
        raise PermissionDenied("Only the author can edit a comment.")
    fragment = is_fragment_request(request)
    status = 200
    if request.method == "POST":
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                comment = services.update_comment(
                    actor=request.user, comment=comment, body=form.cleaned_data["body"]
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                if fragment:
                    comment.perms = can_change_comment(request.user, comment)
                    return vary_htmx(
                        render(
                            request, "activities/_comment_item.html", {"c": comment, "perms": comment.perms}
                        )
                    )
                messages.success(request, "Your comment was saved.")
                return redirect(_comment_page_url(comment))
        status = 400
    else:
        form = CommentForm(initial={"body": comment.body})
    ctx = {"c": comment, "form": form, "cancel_url": _comment_page_url(comment)}
    if fragment:
        return vary_htmx(render(request, "activities/_comment_edit.html", ctx, status=status))
    return render(request, "activities/comment_edit.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def comment_view(request, pk: int):
    """One comment (htmx: its item, e.g. after cancelling an edit; otherwise the page it is on)."""
    comment = _get_comment(request, pk)
    if is_fragment_request(request):
        return vary_htmx(
            render(
                request,
                "activities/_comment_item.html",
                {"c": comment, "perms": can_change_comment(request.user, comment)},
            )
        )
    return redirect(_comment_page_url(comment))


@login_required
@require_http_methods(["GET", "POST"])
def comment_delete(request, pk: int):
    comment = _get_comment(request, pk)
    back = _comment_page_url(comment).split("#")[0]
    if request.method != "POST":
        return redirect(back)
    try:
        services.delete_comment(actor=request.user, comment=comment)
    except PermissionDenied as exc:
        if is_fragment_request(request):
            return HttpResponse(str(exc), status=403)
        messages.error(request, str(exc))
        return redirect(back)
    if is_fragment_request(request):
        return HttpResponse("")
    messages.success(request, "The comment was deleted.")
    return redirect(back)


# --- pickers -------------------------------------------------------------------------------------------


@login_required
@require_GET
def record_lookup(request):
    """Records for the "related records" picker: [{"id": "contact:7", "label", "hint"}]."""
    from kith.contacts.models import Contact
    from kith.web.views_main import search_hits

    q = (request.GET.get("q") or "").strip()[:200]
    if q:
        rows = search_hits(request.user, q, LOOKUP_LIMIT)
        results = [
            {
                "id": f"{r['kind']}:{r['obj'].pk}",
                "label": r["title"],
                "hint": " · ".join(p for p in [r["kind_label"], r["detail"]] if p),
            }
            for r in rows
        ]
    else:
        recent = visible(Contact, request.user).order_by("-updated_at", "-id")[:LOOKUP_LIMIT]
        results = [
            {
                "id": f"contact:{c.pk}",
                "label": str(c),
                "hint": " · ".join(p for p in ["Contact", c.email] if p),
            }
            for c in recent
        ]
    return JsonResponse({"results": results})


def _users(q: str):
    qs = User.objects.filter(is_active=True)
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    return list(qs.order_by(Lower("full_name"), "email")[:LOOKUP_LIMIT])


@login_required
@require_GET
def people_lookup(request):
    """Meeting attendees: contacts and users, [{"id": "contact:7" | "user:3", "label", "hint"}]."""
    from kith.contacts.models import Contact
    from kith.core import search

    q = (request.GET.get("q") or "").strip()[:200]
    results = [
        {"id": f"user:{u.pk}", "label": u.display_name, "hint": f"User · {u.email}"} for u in _users(q)
    ]
    if q:
        ids = [oid for _, oid, _ in search.search(q, kinds=["contact"], limit=LOOKUP_LIMIT)]
        found = {c.pk: c for c in visible(Contact, request.user).filter(pk__in=ids)}
        contacts = [found[i] for i in ids if i in found]
    else:
        contacts = list(visible(Contact, request.user).order_by("-updated_at", "-id")[:LOOKUP_LIMIT])
    results += [
        {"id": f"contact:{c.pk}", "label": str(c), "hint": " · ".join(p for p in ["Contact", c.email] if p)}
        for c in contacts
    ]
    return JsonResponse({"results": results})


@login_required
@require_GET
def mention_lookup(request):
    """Colleagues for the @mention picker: [{"id": email, "label": name, "hint": email}]."""
    q = (request.GET.get("q") or "").strip()[:100]
    return JsonResponse(
        {"results": [{"id": u.email, "label": u.display_name, "hint": u.email} for u in _users(q)]}
    )
