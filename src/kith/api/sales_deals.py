"""/api/v1/deals: list, create, get, patch, trash, restore, history; move, line items, stage history."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kith.core import permissions
from kith.sales import services
from kith.sales.filtersets import DealFilterSet
from kith.sales.models import Deal, DealContact

from . import common, errors
from .auth import write_auth
from .resources import RecordResource, build_router
from .sales_schemas import (
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    DealWriteOut,
    LineItemIn,
    MoveIn,
    StageHistoryOut,
    cf_keys,
    deal_dict,
)
from .schemas import with_errors


def _prepare(qs):
    # Everything a deal's JSON shows, in a constant number of queries per page.
    return qs.select_related("stage").prefetch_related(
        Prefetch("deal_contacts", queryset=DealContact.objects.order_by("id")), "line_items"
    )


resource = RecordResource(
    model=Deal,
    path="deals",
    singular="deal",
    filterset=DealFilterSet,
    in_schema=DealIn,
    patch_schema=DealPatch,
    out_schema=DealOut,
    detail_schema=DealOut,
    write_schema=DealWriteOut,
    page_schema=DealPage,
    to_dict=deal_dict,
    create=lambda actor, data: services.create_deal(actor=actor, data=data),
    update=lambda actor, obj, data, version: services.update_deal(
        actor=actor, deal=obj, data=data, expected_version=version
    ),
    delete=lambda actor, obj, version: services.delete_deal(actor=actor, deal=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_deal(actor=actor, deal=obj),
    prepare=_prepare,
)

router = build_router(resource)


def _deal(user, pk: int, *, include_trashed: bool = False) -> Deal:
    qs = Deal.all_objects.all() if include_trashed else Deal.objects.all()
    return _prepare(permissions.visible(qs, user).prefetch_related("tags")).get(pk=pk)


def _written(user, pk: int, response: HttpResponse) -> dict:
    deal = _deal(user, pk)
    common.set_record_headers(response, deal)
    return {**deal_dict(deal, cf_keys("deal")), "warnings": []}


@router.post(
    "/{int:id}/move",
    response=with_errors({200: DealWriteOut}, errors.UPDATE),
    operation_id="move_deal",
    auth=write_auth,
    summary="Move a deal to a stage",
    description=(
        "To any stage of any pipeline; the move is recorded in the stage history. A lost stage needs "
        "`lost_reason`. Honours If-Match or `version` (409 when stale)."
    ),
)
def move_deal(request: HttpRequest, id: int, payload: MoveIn, response: HttpResponse):
    user = request.auth
    deal = _deal(user, id)
    data = payload.model_dump(exclude_unset=True)
    services.move_deal(
        actor=user,
        deal=deal,
        stage_id=data["stage_id"],
        lost_reason=data.get("lost_reason"),
        expected_version=common.expected_version(request, deal, data.get("version")),
    )
    return _written(user, id, response)


@router.put(
    "/{int:id}/line-items",
    response=with_errors({200: DealWriteOut}, errors.UPDATE),
    operation_id="set_deal_line_items",
    auth=write_auth,
    summary="Replace a deal's line items",
    description=(
        "The body is the complete list, in order (an empty list removes them all). With line items the deal's "
        "amount is the sum of their totals, each quantity × unit price less the discount, rounded half-up to the "
        "cent; without, it stays as it was. Errors name the line, e.g. `items.0.quantity`. Honours If-Match "
        "(409 when stale)."
    ),
)
def set_line_items(request: HttpRequest, id: int, items: list[LineItemIn], response: HttpResponse):
    user = request.auth
    deal = _deal(user, id)
    services.set_line_items(
        actor=user,
        deal=deal,
        items=[item.model_dump(exclude_unset=True) for item in items],
        expected_version=common.expected_version(request, deal),
    )
    return _written(user, id, response)


@router.get(
    "/{int:id}/stage-history",
    response=with_errors({200: StageHistoryOut}, errors.READ),
    operation_id="deal_stage_history",
    summary="Stages a deal went through",
    description="When the deal entered and left each stage and how long it stayed; the current stage counts "
    "until now.",
)
def stage_history(request: HttpRequest, id: int):
    deal = _deal(request.auth, id, include_trashed=True)
    changes = list(deal.stage_changes.select_related("to_stage").order_by("changed_at", "id"))
    now = timezone.now()
    items, totals = [], {}
    for i, change in enumerate(changes):
        left = changes[i + 1].changed_at if i + 1 < len(changes) else None
        seconds = max(0, int(((left or now) - change.changed_at).total_seconds()))
        items.append({
            "stage_id": change.to_stage_id,
            "stage_name": change.to_stage.name,
            "from_stage_id": change.from_stage_id,
            "entered_at": change.changed_at,
            "left_at": left,
            "duration_seconds": seconds,
            "actor_id": change.actor_id,
        })
        total = totals.setdefault(change.to_stage_id, {"stage_id": change.to_stage_id,
                                                       "stage_name": change.to_stage.name,
                                                       "visits": 0, "duration_seconds": 0})
        total["visits"] += 1
        total["duration_seconds"] += seconds
    return {"items": items, "totals": list(totals.values())}
