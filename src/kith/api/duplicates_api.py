"""/api/v1/duplicates (the review queue) and /api/v1/merges (merge two records, undo a merge).

(No `from __future__ import annotations`: ninja reads the parameter annotations.)
"""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from kith.contacts.models import Company, Contact
from kith.core import permissions
from kith.core.pagination import Ordering, parse_ordering
from kith.duplicates import detection, services
from kith.duplicates.models import DuplicatePair, Merge
from kith.duplicates.movers import describe

from . import common, errors
from .auth import write_auth
from .schemas import Input, with_errors

TYPES = {"contact": Contact, "company": Company}
PAIR_ORDERINGS = {"confidence": Ordering("confidence", ("confidence",)),
                  "detected_at": Ordering("detected_at", ("detected_at",))}


class RecordRef(Schema):
    id: int
    name: str


class PairOut(Schema):
    id: int
    type: str = Field(description="contact or company")
    a: RecordRef
    b: RecordRef
    confidence: int = Field(description="0–100: how likely the two are one")
    reasons: list[str] = Field(description='why, e.g. "same email (jon@acme.com)", "similar name (92%) at the same company"')
    status: str = Field(description="open, merged or dismissed (“not a duplicate”, never proposed again)")
    detected_at: dt.datetime


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None


class MergeIn(Input):
    type: Literal["contact", "company"]
    survivor_id: int = Field(description="the record that stays")
    loser_id: int = Field(description="the record merged into it (goes to the trash)")
    fields: dict[str, Literal["survivor", "loser"]] = Field(
        default_factory=dict,
        description=("Whose value each field keeps, e.g. {\"phone\": \"loser\", \"custom_fields.tier\": \"loser\"}. "
                     "Fields left out keep the non-empty value, or of two values the newer record's. All emails "
                     "and phone numbers are kept either way."),
    )
    pair_id: int | None = Field(None, description="the duplicate pair this merge resolves, if any")


class MergeFieldOut(Schema):
    key: str
    label: str
    survivor: Any = None
    loser: Any = None
    default: str = Field(description="survivor or loser")


class MergePreviewOut(Schema):
    type: str
    survivor: RecordRef
    loser: RecordRef
    fields: list[MergeFieldOut]


class MergeOut(Schema):
    id: int
    type: str
    survivor_id: int
    loser_id: int
    loser_name: str
    created_at: dt.datetime
    actor_id: int | None
    fields: dict[str, str] = Field(description="whose value each field kept")
    moved: list[str] = Field(description='what moved to the survivor, e.g. "2 deals", "14 history entries"')
    other_phones: list[str] = Field(description="numbers that fitted no phone field (listed in the history)")
    undone_at: dt.datetime | None
    can_undo: bool
    undo_blockers: list[str] = Field(description="why undo is refused now ([] when it is possible)")


router = Router(tags=["duplicates"])
merges = Router(tags=["duplicates"])


def _labels(object_type: str, ids: set[int]) -> dict[int, str]:
    return {k: v.label for k, v in detection.profiles_for(object_type, ids).items()}


@router.get(
    "",
    response=with_errors({200: PairPage}, errors.LIST),
    operation_id="list_duplicates",
    summary="List likely duplicate pairs",
    description=(
        "Pairs found by the duplicate scan (`kith dedupe --scan` or the nightly job), most confident first. Only "
        "pairs of records you can both see are listed. Follow `next_cursor` for more (keyset pagination)."
    ),
)
def list_duplicates(
    request: HttpRequest,
    type: Literal["contact", "company"] = Query("contact", description="contact or company"),
    min_confidence: int = Query(0, ge=0, le=100, description="only pairs at or above this confidence"),
    status: Literal["open", "merged", "dismissed"] = Query("open", description="open (default), merged, dismissed"),
    ordering: str | None = Query(None, description=common.ordering_description(PAIR_ORDERINGS, "-confidence")),
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
):
    user = request.auth
    order, descending = parse_ordering(ordering, PAIR_ORDERINGS, "-confidence")
    qs = visible_pairs(type, user).filter(status=status, confidence__gte=min_confidence)
    rows, next_cursor = common.page(qs, ordering=order, descending=descending, cursor=cursor, limit=limit)
    labels = _labels(type, {i for p in rows for i in (p.a_id, p.b_id)})
    return common.json_page([pair_dict(p, labels) for p in rows], next_cursor)


def visible_pairs(object_type: str, user):
    """Pairs of two records the user can see (a subquery only under KITH_RECORD_VISIBILITY=own)."""
    qs = DuplicatePair.objects.filter(object_type=object_type)
    model = TYPES[object_type]
    everything = model.objects.all()
    seen = permissions.visible(everything, user)
    if seen.query.where != everything.query.where:
        ids = seen.values("pk")
        qs = qs.filter(a_id__in=ids, b_id__in=ids)
    return qs


def pair_dict(p: DuplicatePair, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "id": p.pk, "type": p.object_type, "confidence": p.confidence, "reasons": p.reasons, "status": p.status,
        "detected_at": p.detected_at,
        "a": {"id": p.a_id, "name": labels.get(p.a_id, f"#{p.a_id} (in the trash)")},
        "b": {"id": p.b_id, "name": labels.get(p.b_id, f"#{p.b_id} (in the trash)")},
    }


def _pair(user, pk: int) -> DuplicatePair:
    pair = DuplicatePair.objects.get(pk=pk)
    return visible_pairs(pair.object_type, user).get(pk=pk)


@router.post(
    "/{int:id}/dismiss",
    response=with_errors({200: PairOut}, (*errors.ACTION, 400)),
    operation_id="dismiss_duplicate",
    auth=write_auth,
    summary="Mark a pair as not a duplicate",
    description="Remembered: the scan never proposes this pair again. A merged pair answers 422 (undo the merge).",
)
def dismiss(request: HttpRequest, id: int):
    pair = services.dismiss_pair(actor=request.auth, pair=_pair(request.auth, id))
    return pair_dict(pair, _labels(pair.object_type, {pair.a_id, pair.b_id}))


@router.post(
    "/{int:id}/reopen",
    response=with_errors({200: PairOut}, errors.ACTION),
    operation_id="reopen_duplicate",
    auth=write_auth,
    summary="Put a dismissed pair back in the queue",
)
def reopen(request: HttpRequest, id: int):
    pair = services.reopen_pair(actor=request.auth, pair=_pair(request.auth, id))
    return pair_dict(pair, _labels(pair.object_type, {pair.a_id, pair.b_id}))


# --- merges --------------------------------------------------------------------------------------------


def merge_dict(m: Merge, user=None) -> dict[str, Any]:
    blockers = services.undo_problems(m) if m.undone_at is None else ["This merge was already undone."]
    return {
        "id": m.pk, "type": m.object_type, "survivor_id": m.survivor_id, "loser_id": m.loser_id,
        "loser_name": m.loser_label, "created_at": m.created_at, "actor_id": m.actor_id, "fields": m.choices,
        "moved": describe(m.moved), "other_phones": m.extra_phones, "undone_at": m.undone_at,
        "can_undo": not blockers, "undo_blockers": blockers,
    }


def _visible_merge(user, pk: int) -> Merge:
    m = Merge.objects.get(pk=pk)
    permissions.visible(TYPES[m.object_type].all_objects.filter(pk=m.survivor_id), user).get()
    return m


@merges.get(
    "/preview",
    response=with_errors({200: MergePreviewOut}, (*errors.READ, 422)),
    operation_id="preview_merge",
    summary="The fields of a merge, side by side, with the default choice",
)
def preview(
    request: HttpRequest,
    type: Literal["contact", "company"] = Query(..., description="contact or company"),
    survivor_id: int = Query(..., description="the record that stays"),
    loser_id: int = Query(..., description="the record merged into it"),
):
    model = TYPES[type]
    qs = permissions.visible(model, request.auth)
    survivor, loser = qs.get(pk=survivor_id), qs.get(pk=loser_id)
    defaults = services.default_choices(survivor, loser)
    fields = [{"key": k, "label": label, "survivor": services.display(survivor, k) or None,
               "loser": services.display(loser, k) or None, "default": defaults[k]}
              for k, label in services.field_specs(type)]
    return {"type": type, "survivor": {"id": survivor.pk, "name": str(survivor)},
            "loser": {"id": loser.pk, "name": str(loser)}, "fields": fields}


@merges.post(
    "",
    response=with_errors({201: MergeOut}, errors.CREATE),
    operation_id="merge_records",
    auth=write_auth,
    summary="Merge two contacts or two companies",
    description=(
        "The loser goes to the trash and everything linked to it (deals, converted leads, a company's people, "
        "history, activities …) moves to the survivor; each field keeps the value chosen in `fields`. "
        "Undo with POST /merges/{id}/undo while the survivor is unchanged. 422 names the field in error "
        "(an unknown or trashed record, the same id twice, an unknown field)."
    ),
)
def create_merge(request: HttpRequest, payload: MergeIn):
    m = services.merge(actor=request.auth, object_type=payload.type, survivor_id=payload.survivor_id,
                       loser_id=payload.loser_id, choices=payload.fields, pair_id=payload.pair_id)
    return Status(201, merge_dict(m))


@merges.get(
    "/{int:id}",
    response=with_errors({200: MergeOut}, errors.READ),
    operation_id="get_merge",
    summary="A merge: what moved and whether it can still be undone",
)
def get_merge(request: HttpRequest, id: int):
    return merge_dict(_visible_merge(request.auth, id))


@merges.post(
    "/{int:id}/undo",
    response=with_errors({200: MergeOut}, (*errors.ACTION, 409)),
    operation_id="undo_merge",
    auth=write_auth,
    summary="Undo a merge",
    description=(
        "Restores the merged record from the trash, moves back the rows the merge moved and puts the survivor's "
        "values back. 409 when that is no longer possible (the survivor changed since, the merged record was "
        "restored or deleted for good, or the survivor was merged again); `detail` says why."
    ),
)
def undo(request: HttpRequest, id: int):
    m = _visible_merge(request.auth, id)
    m = services.undo_merge(actor=request.auth, merge_id=m.pk)
    return merge_dict(Merge.objects.get(pk=m.pk))


ROUTERS: list = [("/duplicates", router), ("/merges", merges)]


def hints(object_type: str, obj, user) -> list[dict[str, Any]]:
    """The `duplicates` hint of a create/update answer: existing records that look like this one."""
    if obj.deleted_at is not None:
        return []
    return [h.as_dict() for h in detection.check(object_type, {}, user=user, instance=obj)]


