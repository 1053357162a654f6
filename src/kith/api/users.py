"""/api/v1/users: everyone may list and read users; admins create and change them.

A user may change their own full_name. Password hashes are never served.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core import users as user_services
from kith.core.models import User
from kith.core.pagination import Ordering

from . import common, errors
from .auth import admin_auth
from .schemas import UserIn, UserOut, UserPage, UserPatch, user_dict, with_errors

router = Router(tags=["users"])
EMAIL_ORDERING = Ordering("email", ("email",))


@router.get("", response=with_errors({200: UserPage}, errors.LIST), operation_id="list_users", summary="List users")
def list_users(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    q: str | None = Query(None, description="Part of the email or name."),
    role: str | None = Query(None, description="admin, manager, member or viewer"),
    is_active: bool | None = Query(None, description="true for active users only, false for deactivated"),
):
    qs = User.objects.all()
    if q and q.strip():
        qs = qs.filter(Q(email__icontains=q.strip()) | Q(full_name__icontains=q.strip()))
    if role:
        qs = qs.filter(role=role)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    rows, next_cursor = common.page(qs, ordering=EMAIL_ORDERING, descending=False, cursor=cursor, limit=limit)
    return {"items": [user_dict(u) for u in rows], "next_cursor": next_cursor}


@router.get("/me", response=with_errors({200: UserOut}, (401,)), operation_id="get_me", summary="The calling user")
def me(request: HttpRequest):
    return user_dict(request.auth)


@router.get("/{int:id}", response=with_errors({200: UserOut}, errors.READ), operation_id="get_user",
            summary="Get a user")
def get_user(request: HttpRequest, id: int):
    return user_dict(User.objects.get(pk=id))


@router.post("", response=with_errors({201: UserOut}, errors.CREATE), operation_id="create_user",
             summary="Create a user (admins)", auth=admin_auth)
def create_user(request: HttpRequest, payload: UserIn):
    user = user_services.create_user(actor=request.auth, **payload.model_dump(exclude_unset=True))
    return Status(201, user_dict(user))


@router.patch("/{int:id}", response=with_errors({200: UserOut}, (400, 401, 403, 404, 422)),
              operation_id="update_user", summary="Change a user (admins; anyone their own full_name)")
def update_user(request: HttpRequest, id: int, payload: UserPatch):
    user = User.objects.get(pk=id)
    user = user_services.update_user(actor=request.auth, user=user, data=payload.model_dump(exclude_unset=True))
    return user_dict(user)
