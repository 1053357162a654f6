"""/api/v1/comments (on any record or activity, with @mentions) and /api/v1/notifications (yours: list,
mark read, unread count, settings).

(No `from __future__ import annotations` here: ninja reads the parameter annotations.)
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from kith.activities import services
from kith.activities.models import RECORD_TYPES, Comment
from kith.core import notifications, permissions
from kith.core.models import Notification
from kith.core.pagination import Ordering, parse_ordering
from kith.core.records import record_model

from . import common, errors
from .activities_schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    CommentPatch,
    MarkReadIn,
    MarkReadOut,
    NotificationPage,
    NotificationSettingsIn,
    NotificationSettingsOut,
    UnreadOut,
    comment_dict,
    notification_dict,
    settings_dict,
)
from .auth import write_auth
from .schemas import with_errors

COMMENT_ORDERINGS = {"created_at": Ordering("created_at", ("created_at",))}
ID_ORDERING = Ordering("id", ())


# --- comments --------------------------------------------------------------------------------------------

comments = Router(tags=["comments"])


def _target_visible(user, record_type: str, record_id: int) -> bool:
    if record_type == "activity":
        return services.visible_activities(user).filter(pk=record_id).exists()
    model = record_model(record_type)
    return model is not None and permissions.visible(model, user).filter(pk=record_id).exists()


def _comment(user, pk: int) -> Comment:
    """A live comment on something the user can see; otherwise 404."""
    comment = Comment.objects.select_related("author").prefetch_related("mentions").get(pk=pk)
    if not _target_visible(user, comment.record_type, comment.record_id):
        raise Comment.DoesNotExist
    return comment


@comments.get(
    "",
    response=with_errors({200: CommentPage}, errors.LIST),
    operation_id="list_comments",
    summary="List the comments on a record",
    description="Newest first unless `ordering` is created_at. `record_type` and `record_id` are required.",
)
def list_comments(
    request: HttpRequest,
    record_type: str = Query(..., description="contact, company, lead, deal or activity"),
    record_id: int = Query(..., description="the record's (or activity's) id"),
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    ordering: str | None = Query(None, description=common.ordering_description(COMMENT_ORDERINGS, "-created_at")),
):
    user = request.auth
    order, descending = parse_ordering(ordering, COMMENT_ORDERINGS, "-created_at")
    kinds = [t for t in RECORD_TYPES if record_model(t) is not None] + ["activity"]
    if record_type not in kinds:
        raise ValidationError({"record_type": [f"“{record_type}” is not a record type (use {', '.join(kinds)})."]})
    if not _target_visible(user, record_type, record_id):
        raise ValidationError({"record_id": [f"No {record_type} with id {record_id}."]})
    qs = Comment.objects.filter(record_type=record_type, record_id=record_id).select_related("author")
    rows, next_cursor = common.page(qs.prefetch_related("mentions"), ordering=order, descending=descending,
                                    cursor=cursor, limit=limit)
    return common.json_page([comment_dict(c) for c in rows], next_cursor)


@comments.post(
    "",
    response=with_errors({201: CommentOut}, errors.CREATE),
    operation_id="create_comment",
    auth=write_auth,
    summary="Comment on a record or activity",
    description="Mention colleagues as “@ann@example.com”: each one is notified with a link to the comment.",
)
def create_comment(request: HttpRequest, payload: CommentIn, response: HttpResponse):
    user = request.auth
    data = payload.model_dump(exclude_unset=True)
    missing = {name: ["This field is required."] for name in ("record_type", "record_id", "body") if data.get(name) in (None, "")}
    if missing:
        raise ValidationError(missing)
    comment = services.add_comment(actor=user, record_type=data["record_type"], record_id=data["record_id"],
                                   body=data["body"])
    response["Location"] = f"/api/v1/comments/{comment.pk}"
    return Status(201, comment_dict(_comment(user, comment.pk)))


@comments.get(
    "/{int:id}",
    response=with_errors({200: CommentOut}, errors.READ),
    operation_id="get_comment",
    summary="Get a comment",
)
def get_comment(request: HttpRequest, id: int):
    return comment_dict(_comment(request.auth, id))


@comments.patch(
    "/{int:id}",
    response=with_errors({200: CommentOut}, (400, 401, 403, 404, 422)),
    operation_id="update_comment",
    auth=write_auth,
    summary="Edit your comment",
    description="Only its author can edit a comment (403 otherwise). Newly mentioned users are notified.",
)
def update_comment(request: HttpRequest, id: int, payload: CommentPatch):
    user = request.auth
    data = payload.model_dump(exclude_unset=True)
    comment = _comment(user, id)
    services.update_comment(actor=user, comment=comment, body=data.get("body", comment.body))
    return comment_dict(_comment(user, id))


@comments.delete(
    "/{int:id}",
    response=with_errors({204: None}, (401, 403, 404)),
    operation_id="delete_comment",
    auth=write_auth,
    summary="Delete a comment",
    description="Its author or an admin.",
)
def delete_comment(request: HttpRequest, id: int):
    user = request.auth
    services.delete_comment(actor=user, comment=_comment(user, id))
    return Status(204, None)


# --- notifications ---------------------------------------------------------------------------------------

notifications_router = Router(tags=["notifications"])


@notifications_router.get(
    "",
    response=with_errors({200: NotificationPage}, errors.LIST),
    operation_id="list_notifications",
    summary="Your notifications",
    description="Newest first: assignments, mentions, reminders. Follow `next_cursor` for older ones.",
)
def list_notifications(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    unread: bool | None = Query(None, description="true: unread only; false: read only"),
    kind: str | None = Query(None, description="assigned, mentioned, reminder …"),
):
    qs = Notification.objects.filter(user=request.auth)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    if kind:
        qs = qs.filter(kind=kind.strip())
    rows, next_cursor = common.page(qs, ordering=ID_ORDERING, descending=True, cursor=cursor, limit=limit)
    return common.json_page([notification_dict(n) for n in rows], next_cursor)


@notifications_router.get(
    "/unread-count",
    response=with_errors({200: UnreadOut}, (401,)),
    operation_id="unread_notification_count",
    summary="How many of your notifications are unread",
    description="The number on the bell.",
)
def unread_count(request: HttpRequest):
    return {"unread": notifications.unread_count(request.auth)}


@notifications_router.post(
    "/read",
    response=with_errors({200: MarkReadOut}, (400, 401, 403, 422)),
    operation_id="mark_notifications_read",
    summary="Mark notifications read",
    description='Send `{"ids": [1, 2]}` for some or `{"all": true}` for all of yours. Others\' ids are ignored.',
)
def mark_read(request: HttpRequest, payload: MarkReadIn):
    user = request.auth
    data = payload.model_dump(exclude_unset=True)
    if data.get("all"):
        marked = notifications.mark_read(user=user)
    elif data.get("ids"):
        marked = notifications.mark_read(user=user, ids=list(data["ids"]))
    else:
        raise ValidationError({"ids": ['Send the ids to mark read, or {"all": true}.']})
    return {"marked": marked, "unread": notifications.unread_count(user)}


def _settings(user) -> dict:
    return settings_dict(services.settings_for(user), services.feed_url(user))


@notifications_router.get(
    "/settings",
    response=with_errors({200: NotificationSettingsOut}, (401,)),
    operation_id="get_notification_settings",
    summary="Your notification settings",
    description="Which notifications also come by email, your daily agenda email, time zone and default "
    "meeting reminder, and your private calendar feed URL.",
)
def get_settings(request: HttpRequest):
    return _settings(request.auth)


@notifications_router.patch(
    "/settings",
    response=with_errors({200: NotificationSettingsOut}, (400, 401, 403, 422)),
    operation_id="update_notification_settings",
    summary="Change your notification settings",
    description="Only the keys sent change. Every role may change their own settings.",
)
def update_settings(request: HttpRequest, payload: NotificationSettingsIn):
    user = request.auth
    services.update_user_settings(actor=user, user=user, data=payload.model_dump(exclude_unset=True))
    return _settings(user)


ROUTERS: list = [("/comments", comments), ("/notifications", notifications_router)]
