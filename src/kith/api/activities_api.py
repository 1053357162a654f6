"""/api/v1/activities and /api/v1/tasks: calls, meetings, notes and emails logged on records, and tasks.

Thin: every write calls kith.activities.services (which validates, names the field at fault, writes history
and schedules reminders). Lists are keyset pages. Comments, notifications, email templates, sending email and
record timelines live in the other activities_*.py modules; all are registered through ROUTERS.

(No `from __future__ import annotations` here: ninja reads the parameter annotations.)
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from kith.activities import ics, services
from kith.activities.models import ActivityType, Priority, TaskStatus
from kith.core.pagination import Ordering, parse_ordering

from . import activities_email, activities_social, activities_timeline, common, errors
from .activities_common import (
    check_type_unchanged,
    choices,
    get_activity,
    location,
    one_dict,
    parse_when,
    record_filter,
    reload,
    require_mail,
    visible,
)
from .activities_schemas import (
    LOGGED_TYPES,
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
    InvitationsOut,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    activity_dicts,
)
from .auth import write_auth
from .schemas import with_errors

WHEN_ORDERING = Ordering("occurred_at", ("occurred_at",))
# Tasks without a due date sort after every dated one (a far-future stand-in keeps the keyset total).
NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
TASK_ORDERINGS = {
    "due_at": Ordering("due_at", (Coalesce("due_at", Value(NO_DUE), output_field=DateTimeField()),)),
    "created_at": Ordering("created_at", ("created_at",)),
    "updated_at": Ordering("updated_at", ("updated_at",)),
}
RECORD_HELP = 'only those on this record, e.g. "contact:7" (a company includes its contacts\' and deals\')'


# --- activities ------------------------------------------------------------------------------------------

activities = Router(tags=["activities"])


@activities.get(
    "",
    response=with_errors({200: ActivityPage}, errors.LIST),
    operation_id="list_activities",
    summary="List activities",
    description="Calls, meetings, notes and emails you can see, newest first (by `occurred_at`; a meeting's is "
    "its start). Follow `next_cursor` for the next page. Filters combine with AND. Tasks: GET /api/v1/tasks.",
)
def list_activities(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    type: str | None = Query(None, description="call, meeting, note or email; comma-separated or repeated for any"),
    record: str | None = Query(None, description=RECORD_HELP),
    owner_id: int | None = Query(None, description="logged by this user"),
    occurred_after: str | None = Query(None, description="on or after this date or date-time"),
    occurred_before: str | None = Query(None, description="before this date-time (a date: up to its end)"),
    trashed: bool = Query(False, description="true lists activities in the trash instead"),
):
    user = request.auth
    qs = visible(user, tasks=False, trashed=trashed)
    kinds = choices(request, "type", LOGGED_TYPES)
    if kinds:
        qs = qs.filter(type__in=kinds)
    qs = record_filter(qs, record, user)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    after = parse_when(occurred_after, "occurred_after")
    before = parse_when(occurred_before, "occurred_before", end_of_day=True)
    if after:
        qs = qs.filter(occurred_at__gte=after)
    if before:
        qs = qs.filter(occurred_at__lt=before)
    rows, next_cursor = common.page(qs.prefetch_related("attendees"), ordering=WHEN_ORDERING, descending=True,
                                    cursor=cursor, limit=limit)
    return common.json_page(activity_dicts(rows, user), next_cursor)


@activities.post(
    "",
    response=with_errors({201: ActivityOut}, errors.CREATE),
    operation_id="create_activity",
    auth=write_auth,
    summary="Log an activity",
    description="A call, meeting, note or email (logged by hand; to send one use POST /api/v1/emails/send) on "
    "one or more records (`related`). A meeting gets a reminder for its organiser and user attendees.",
)
def create_activity(request: HttpRequest, payload: ActivityIn, response: HttpResponse):
    user = request.auth
    activity = services.log_activity(actor=user, data=payload.model_dump(exclude_unset=True))
    activity = reload(user, activity.pk, tasks=False)
    common.set_record_headers(response, activity, location("activities", activity))
    return Status(201, one_dict(user, activity))


@activities.get(
    "/{int:id}",
    response=with_errors({200: ActivityOut}, errors.READ),
    operation_id="get_activity",
    summary="Get an activity",
    description="The ETag header carries the version, for If-Match on PATCH and DELETE.",
)
def get_activity_op(
    request: HttpRequest,
    id: int,
    response: HttpResponse,
    include_trashed: bool = Query(False, description="true also finds one in the trash"),
):
    activity = get_activity(request.auth, id, tasks=False, include_trashed=include_trashed)
    common.set_record_headers(response, activity)
    return one_dict(request.auth, activity)


@activities.patch(
    "/{int:id}",
    response=with_errors({200: ActivityOut}, errors.UPDATE),
    operation_id="update_activity",
    auth=write_auth,
    summary="Change an activity",
    description="Only the keys sent change; `related` and `attendees` replace the whole list. Send the version "
    "you read as `If-Match` or `version` (409 when stale). Members change only what they logged.",
)
def update_activity(request: HttpRequest, id: int, payload: ActivityPatch, response: HttpResponse):
    user = request.auth
    activity = get_activity(user, id, tasks=False)
    data = payload.model_dump(exclude_unset=True)
    expected = common.expected_version(request, activity, data.pop("version", None))
    check_type_unchanged(activity, data)
    services.update_activity(actor=user, activity=activity, data=data, expected_version=expected)
    activity = reload(user, id, tasks=False)
    common.set_record_headers(response, activity)
    return one_dict(user, activity)


@activities.delete(
    "/{int:id}",
    response=with_errors({204: None}, errors.DELETE),
    operation_id="delete_activity",
    auth=write_auth,
    summary="Move an activity to the trash",
    description="Restorable with POST …/restore; pending reminders are cancelled. Honours If-Match (409 when stale).",
)
def delete_activity(request: HttpRequest, id: int):
    user = request.auth
    activity = get_activity(user, id, tasks=False)
    services.delete_activity(actor=user, activity=activity, expected_version=common.expected_version(request, activity))
    return Status(204, None)


@activities.post(
    "/{int:id}/restore",
    response=with_errors({200: ActivityOut}, errors.ACTION),
    operation_id="restore_activity",
    auth=write_auth,
    summary="Restore an activity from the trash",
)
def restore_activity(request: HttpRequest, id: int, response: HttpResponse):
    user = request.auth
    services.restore_activity(actor=user, activity=get_activity(user, id, tasks=False, include_trashed=True))
    activity = reload(user, id, tasks=False)
    common.set_record_headers(response, activity)
    return one_dict(user, activity)


@activities.post(
    "/{int:id}/invitations",
    response=with_errors({200: InvitationsOut}, (400, *errors.ACTION)),
    operation_id="send_meeting_invitations",
    auth=write_auth,
    summary="Email a meeting's invitations",
    description="Each attendee with an email address (except you) gets an invitation with the meeting's .ics "
    "attached, which their calendar can accept. 400 when sending email is not set up (KITH_SMTP_URL).",
)
def send_invitations(
    request: HttpRequest,
    id: int,
    only_new: bool = Query(False, description="true invites only attendees not invited before"),
):
    user = request.auth
    meeting = get_activity(user, id, tasks=False)
    require_mail()
    count = services.send_invitations(actor=user, meeting=meeting, only_new=only_new)
    return {"invited": count}


@activities.get(
    "/{int:id}/ics",
    response=with_errors({200: None}, (401, 404, 422)),
    operation_id="meeting_ics",
    summary="A meeting as an .ics file",
    description="text/calendar (iCalendar) for importing the meeting into a calendar app.",
    openapi_extra={"responses": {200: {"description": "The meeting as iCalendar",
                                         "content": {"text/calendar": {"schema": {"type": "string"}}}}}},
)
def meeting_ics(request: HttpRequest, id: int):
    meeting = get_activity(request.auth, id, tasks=False)
    if meeting.type != ActivityType.MEETING:
        raise ValidationError({"type": [f"Only meetings have a calendar file (this is a {meeting.type})."]})
    response = HttpResponse(ics.meeting_ics(meeting, organizer_email=getattr(meeting.owner, "email", "")),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


# --- tasks -----------------------------------------------------------------------------------------------

tasks = Router(tags=["tasks"])


@tasks.get(
    "",
    response=with_errors({200: TaskPage}, errors.LIST),
    operation_id="list_tasks",
    summary="List tasks",
    description="Tasks you can see, soonest due first (undated last) unless `ordering` says otherwise. Follow "
    "`next_cursor` for the next page. Filters combine with AND.",
)
def list_tasks(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    assignee_id: str | None = Query(None, description='a user id, or "me"'),
    status: str | None = Query(None, description="open, done or cancelled; comma-separated or repeated for any"),
    priority: str | None = Query(None, description="low, normal, high or urgent; comma-separated or repeated"),
    due_after: str | None = Query(None, description="due on or after this date or date-time"),
    due_before: str | None = Query(None, description="due before this date-time (a date: up to its end)"),
    overdue: bool | None = Query(None, description="true: open tasks whose due time has passed"),
    record: str | None = Query(None, description=RECORD_HELP),
    ordering: str | None = Query(None, description=common.ordering_description(TASK_ORDERINGS, "due_at")),
    trashed: bool = Query(False, description="true lists tasks in the trash instead"),
):
    user = request.auth
    order, descending = parse_ordering(ordering, TASK_ORDERINGS, "due_at")
    qs = visible(user, tasks=True, trashed=trashed)
    if assignee_id:
        if assignee_id.strip().lower() == "me":
            qs = qs.filter(assignee_id=user.pk)
        elif assignee_id.strip().isdigit():
            qs = qs.filter(assignee_id=int(assignee_id))
        else:
            raise ValidationError({"assignee_id": ['A user id or "me".']})
    statuses = choices(request, "status", list(TaskStatus.values))
    if statuses:
        qs = qs.filter(status__in=statuses)
    priorities = choices(request, "priority", list(Priority.values))
    if priorities:
        qs = qs.filter(priority__in=priorities)
    after = parse_when(due_after, "due_after")
    before = parse_when(due_before, "due_before", end_of_day=True)
    if after:
        qs = qs.filter(due_at__gte=after)
    if before:
        qs = qs.filter(due_at__lt=before)
    now = timezone.now()
    if overdue is True:
        qs = qs.filter(status=TaskStatus.OPEN, due_at__lt=now)
    elif overdue is False:
        qs = qs.exclude(status=TaskStatus.OPEN, due_at__lt=now)
    qs = record_filter(qs, record, user)
    rows, next_cursor = common.page(qs, ordering=order, descending=descending, cursor=cursor, limit=limit)
    return common.json_page(activity_dicts(rows, user), next_cursor)


@tasks.post(
    "",
    response=with_errors({201: TaskOut}, errors.CREATE),
    operation_id="create_task",
    auth=write_auth,
    summary="Create a task",
    description="Assigned to you unless `assignee_id` says otherwise (the assignee is notified). With "
    "`reminder_minutes` the assignee is reminded in the app and by email, exactly once.",
)
def create_task(request: HttpRequest, payload: TaskIn, response: HttpResponse):
    user = request.auth
    task = services.create_task(actor=user, data=payload.model_dump(exclude_unset=True))
    task = reload(user, task.pk, tasks=True)
    common.set_record_headers(response, task, location("tasks", task))
    return Status(201, one_dict(user, task))


@tasks.get(
    "/{int:id}",
    response=with_errors({200: TaskOut}, errors.READ),
    operation_id="get_task",
    summary="Get a task",
    description="The ETag header carries the version, for If-Match on PATCH and DELETE.",
)
def get_task(
    request: HttpRequest,
    id: int,
    response: HttpResponse,
    include_trashed: bool = Query(False, description="true also finds one in the trash"),
):
    task = get_activity(request.auth, id, tasks=True, include_trashed=include_trashed)
    common.set_record_headers(response, task)
    return one_dict(request.auth, task)


@tasks.patch(
    "/{int:id}",
    response=with_errors({200: TaskOut}, errors.UPDATE),
    operation_id="update_task",
    auth=write_auth,
    summary="Change a task",
    description="Only the keys sent change. Send the version you read as `If-Match` or `version` (409 when "
    "stale). Members change tasks they created or are assigned.",
)
def update_task(request: HttpRequest, id: int, payload: TaskPatch, response: HttpResponse):
    user = request.auth
    task = get_activity(user, id, tasks=True)
    data = payload.model_dump(exclude_unset=True)
    expected = common.expected_version(request, task, data.pop("version", None))
    services.update_activity(actor=user, activity=task, data=data, expected_version=expected)
    task = reload(user, id, tasks=True)
    common.set_record_headers(response, task)
    return one_dict(user, task)


@tasks.delete(
    "/{int:id}",
    response=with_errors({204: None}, errors.DELETE),
    operation_id="delete_task",
    auth=write_auth,
    summary="Move a task to the trash",
    description="Restorable with POST …/restore; its pending reminder is cancelled. Honours If-Match.",
)
def delete_task(request: HttpRequest, id: int):
    user = request.auth
    task = get_activity(user, id, tasks=True)
    services.delete_activity(actor=user, activity=task, expected_version=common.expected_version(request, task))
    return Status(204, None)


def _task_action(request: HttpRequest, id: int, response: HttpResponse, action) -> dict:
    user = request.auth
    task = get_activity(user, id, tasks=True)
    action(actor=user, task=task)
    task = reload(user, id, tasks=True)
    common.set_record_headers(response, task)
    return one_dict(user, task)


@tasks.post(
    "/{int:id}/complete",
    response=with_errors({200: TaskOut}, errors.ACTION),
    operation_id="complete_task",
    auth=write_auth,
    summary="Complete a task",
    description="Status done (idempotent). A repeating task's next occurrence is created in the background.",
)
def complete_task(request: HttpRequest, id: int, response: HttpResponse):
    return _task_action(request, id, response, services.complete_task)


@tasks.post(
    "/{int:id}/reopen",
    response=with_errors({200: TaskOut}, errors.ACTION),
    operation_id="reopen_task",
    auth=write_auth,
    summary="Reopen a task",
    description="Status open again; its reminder is scheduled again if still ahead.",
)
def reopen_task(request: HttpRequest, id: int, response: HttpResponse):
    return _task_action(request, id, response, services.reopen_task)


@tasks.post(
    "/{int:id}/restore",
    response=with_errors({200: TaskOut}, errors.ACTION),
    operation_id="restore_task",
    auth=write_auth,
    summary="Restore a task from the trash",
)
def restore_task(request: HttpRequest, id: int, response: HttpResponse):
    user = request.auth
    services.restore_activity(actor=user, activity=get_activity(user, id, tasks=True, include_trashed=True))
    task = reload(user, id, tasks=True)
    common.set_record_headers(response, task)
    return one_dict(user, task)


ROUTERS: list = [
    ("/activities", activities),
    ("/tasks", tasks),
    *activities_social.ROUTERS,
    *activities_email.ROUTERS,
    *activities_timeline.ROUTERS,
]
