"""/api/v1/quotas: how much each person should win per month or quarter (admins and managers set them).

Everyone sees everyone's quotas, except where records are private (KITH_RECORD_VISIBILITY=own): there members
and viewers see their own only, as in the forecast.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core import permissions
from kith.core.errors import ValidationError
from kith.core.models import Role
from kith.core.pagination import Ordering
from kith.sales import services
from kith.sales.choices import PeriodKind
from kith.sales.models import Quota

from . import common, errors
from .auth import settings_auth
from .sales_schemas import QuotaIn, QuotaOut, QuotaPage, quota_dict
from .schemas import with_errors

router = Router(tags=["quotas"])
PERIOD_ORDERING = Ordering("period_start", ("period_start", "user_id"))


def _quotas(user):
    qs = Quota.objects.all()
    if user.role not in (Role.ADMIN, Role.MANAGER) and permissions.visibility_rule() != "all":
        qs = qs.filter(user=user)
    return qs


@router.get("", response=with_errors({200: QuotaPage}, errors.LIST), operation_id="list_quotas",
            summary="List quotas", description="By period, then user. Follow `next_cursor` for the next page.")
def list_quotas(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    user: int | None = Query(None, description="Only this user's quotas (id)."),
    period_kind: str | None = Query(None, description="month or quarter"),
):
    qs = _quotas(request.auth)
    if user is not None:
        qs = qs.filter(user_id=user)
    if period_kind:
        if period_kind not in PeriodKind.values:
            raise ValidationError({"period_kind": [f"Use one of: {', '.join(PeriodKind.values)}."]})
        qs = qs.filter(period_kind=period_kind)
    rows, next_cursor = common.page(qs, ordering=PERIOD_ORDERING, descending=False, cursor=cursor, limit=limit)
    return {"items": [quota_dict(q) for q in rows], "next_cursor": next_cursor}


def _set(request: HttpRequest, payload: QuotaIn) -> dict:
    data = payload.model_dump()
    try:
        quota = services.set_quota(actor=request.auth, user=data["user_id"], period_kind=data["period_kind"],
                                   period_start=data["period_start"], amount=data["amount"])
    except ValidationError as exc:
        # The service names the user "user"; the API calls it user_id.
        raise ValidationError({("user_id" if k == "user" else k): v for k, v in exc.message_dict.items()}) from None
    return quota_dict(quota)


SET_DESCRIPTION = (
    "Creates the quota of the user for the month or quarter containing `period_start`, or changes it when there "
    "is one (so sending it twice is harmless). A quarter without a quarterly quota counts the sum of its monthly "
    "ones in the forecast."
)


@router.put("", response=with_errors({200: QuotaOut}, errors.CREATE), operation_id="put_quota",
            summary="Set a quota (admins and managers)", description=SET_DESCRIPTION, auth=settings_auth)
def put_quota(request: HttpRequest, payload: QuotaIn):
    return _set(request, payload)


@router.post("", response=with_errors({200: QuotaOut}, errors.CREATE), operation_id="set_quota",
             summary="Set a quota (admins and managers)", description=SET_DESCRIPTION + " Same as PUT.",
             auth=settings_auth)
def post_quota(request: HttpRequest, payload: QuotaIn):
    return _set(request, payload)


@router.get("/{int:id}", response=with_errors({200: QuotaOut}, errors.READ), operation_id="get_quota",
            summary="Get a quota")
def get_quota(request: HttpRequest, id: int):
    return quota_dict(_quotas(request.auth).get(pk=id))


@router.delete("/{int:id}", response=with_errors({204: None}, (401, 403, 404)), operation_id="delete_quota",
               summary="Delete a quota (admins and managers)", auth=settings_auth)
def delete_quota(request: HttpRequest, id: int):
    services.delete_quota(actor=request.auth, quota=Quota.objects.get(pk=id))
    return Status(204, None)
