"""POST /api/v1/{contacts,companies,leads,deals}/bulk: create or upsert up to 1,000 records, answered per item;
/api/v1/exports: export a list (as its filters select it) to a file, in the background, and download it.

(No `from __future__ import annotations`: ninja reads the parameter annotations.)
"""

import datetime as dt
from typing import Any, Literal

import pydantic
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.exports import bulk, services, writers
from kith.exports.models import Export

from . import errors
from .auth import write_auth
from .sales_schemas import DealIn, LeadIn
from .schemas import CompanyIn, ContactIn, FieldErrorOut, Input, WarningOut, with_errors

EXTERNAL_ID = Field(None, description="the record's id in another system; match_on=external_id finds it")


class ContactBulkItem(ContactIn):
    external_id: str | None = EXTERNAL_ID


class CompanyBulkItem(CompanyIn):
    external_id: str | None = EXTERNAL_ID


class LeadBulkItem(LeadIn):
    external_id: str | None = EXTERNAL_ID


class DealBulkItem(DealIn):
    external_id: str | None = EXTERNAL_ID


class BulkIn(Input):
    items: list[Any] = Field(description=f"up to {bulk.MAX_ITEMS:,} objects, each shaped like the create body "
                             "(plus external_id)")
    match_on: str | None = Field(None, description="the key that finds an existing record: email or external_id "
                                 "(contacts, leads), domain or external_id (companies), external_id (deals); "
                                 "null to match nothing")
    mode: Literal["create", "upsert"] = Field("create", description="create: always create, and report an item "
                                              "matching an existing record as an error; upsert: update the "
                                              "match (only the keys sent change) or create")


class BulkResultOut(Schema):
    index: int = Field(description="the item's position in `items`, from 0")
    status: Literal["created", "updated", "error"]
    id: int | None = Field(description="the record written; null on error")
    errors: list[FieldErrorOut] = Field(description="why the item was not written (empty unless status is error)")
    warnings: list[WarningOut] = []


class BulkOut(Schema):
    created: int
    updated: int
    failed: int
    results: list[BulkResultOut] = Field(description="one per item, in order")


ITEM_SCHEMAS = {"contacts": ContactBulkItem, "companies": CompanyBulkItem, "leads": LeadBulkItem,
                "deals": DealBulkItem}


def _item_validator(schema: type[pydantic.BaseModel]):
    def validate(raw: dict) -> tuple[dict | None, list[dict[str, str]]]:
        try:
            item = schema.model_validate(raw)
        except pydantic.ValidationError as exc:
            out = []
            for err in exc.errors():
                field = errors._field_from_loc(err.get("loc", ()), set())
                message = str(err.get("msg", "Invalid value."))
                if err.get("type") == "extra_forbidden":
                    message = "Unknown field."
                out.append({"field": field, "message": message})
            return None, out
        return item.model_dump(exclude_unset=True), []

    return validate


def _too_many(request: HttpRequest, count: int):
    from .api import api

    body = errors.error_body(
        f"Too many items: at most {bulk.MAX_ITEMS:,} per call.",
        [{"field": "items", "message": f"At most {bulk.MAX_ITEMS:,} items per call (this one has {count:,}); "
                                       "split them over several calls."}],
    )
    return api.create_response(request, body, status=400)


router = Router()


def _add(name: str) -> None:
    target = bulk.target(name)
    validate = _item_validator(ITEM_SCHEMAS[name])
    keys = " or ".join(target.match_keys)

    @router.post(
        f"/{name}/bulk",
        response=with_errors({200: BulkOut}, (400, 401, 403, 422)),
        operation_id=f"bulk_{name}",
        auth=write_auth,
        tags=[name],
        summary=f"Create or update up to {bulk.MAX_ITEMS:,} {name}",
        description=(
            f"Each item is written through the same checks as a single create or update, in its own savepoint: "
            f"a bad item is reported in `results` with its field errors and the others are written. "
            f"`match_on` ({keys}) finds an existing {target.noun} among those you can see; with `mode` "
            f"“upsert” it is updated, otherwise created. Two items with the same key in one call: in upsert "
            f"mode the second updates the {target.noun} the first wrote; in create mode it is an error. "
            f"More than {bulk.MAX_ITEMS:,} items is a 400 naming `items`; an unknown `match_on` is a 422."
        ),
    )
    def bulk_write(request: HttpRequest, payload: BulkIn):
        if len(payload.items) > bulk.MAX_ITEMS:
            return _too_many(request, len(payload.items))
        results = bulk.run(target, actor=request.auth, items=payload.items, match_on=payload.match_on,
                           mode=payload.mode, validate=validate)
        counts = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "updated", "error")}
        return {"created": counts["created"], "updated": counts["updated"], "failed": counts["error"],
                "results": results}

    bulk_write.__name__ = f"bulk_{name}"


for _name in ("contacts", "companies", "leads", "deals"):
    _add(_name)


# --- exports -------------------------------------------------------------------------------------------


class ExportIn(Input):
    kind: Literal["contacts", "companies", "leads", "deals"]
    format: Literal["csv", "xlsx", "vcf"] = Field("csv", description="vcf (vCard 3.0) for contacts only")
    columns: Literal["shown", "all"] = Field("all", description="all: every field with machine names as headers "
                                             "(custom fields as cf_<key>); shown: the web list's columns")
    filters: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="the list filters, as in GET /api/v1/<kind> (e.g. {\"tag\": \"vip\", \"cf_region\": "
        "\"EMEA\", \"q\": \"acme\", \"ordering\": \"-created_at\"})",
    )


class ExportOut(Schema):
    id: int
    kind: str
    format: str
    columns: str
    filters: dict[str, list[str]]
    status: Literal["queued", "running", "done", "failed"]
    row_count: int | None = Field(description="records written, once done")
    file_size: int | None = Field(description="bytes, once done")
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download_url: str | None = Field(description="GET it (same credentials) once status is done")


class ExportPage(Schema):
    items: list[ExportOut]
    next_cursor: str | None = None


def export_dict(e: Export) -> dict[str, Any]:
    return {
        "id": e.pk, "kind": e.kind, "format": e.file_format, "columns": e.columns, "filters": e.params or {},
        "status": e.status, "row_count": e.row_count, "file_size": e.file_size, "error": e.error,
        "created_at": e.created_at, "finished_at": e.finished_at,
        "download_url": f"/api/v1/exports/{e.pk}/file" if e.status == Export.Status.DONE else None,
    }


exports_router = Router(tags=["exports"])
FILE_RESPONSE = {"description": "The file", "content": {t.split(";")[0]: {} for t in writers.CONTENT_TYPES.values()}}


@exports_router.post(
    "",
    response=with_errors({202: ExportOut}, (400, 401, 403, 422)),
    operation_id="create_export",
    summary="Export a list to a file",
    description=(
        "Queues a background job that writes the records you can see, selected and ordered by `filters` exactly "
        "as the list endpoint would, to CSV, XLSX or vCard. Poll GET /api/v1/exports/{id} until `status` is "
        "`done`, then GET its `download_url`. Spreadsheet formulas in values (= + - @) are neutralised with a "
        "leading quote; numbers and phone numbers are kept. Files are deleted after a week."
    ),
)
def create_export(request: HttpRequest, payload: ExportIn, response: HttpResponse):
    plan = services.plan_export(user=request.auth, kind=payload.kind, file_format=payload.format,
                                columns=payload.columns, params=payload.filters)
    export = services.queue(plan)
    response["Location"] = f"/api/v1/exports/{export.pk}"
    return Status(202, export_dict(export))


@exports_router.get("", response=with_errors({200: ExportPage}, (401,)), operation_id="list_exports",
                    summary="Your exports, newest first")
def list_exports(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    rows = Export.objects.filter(user=request.auth).order_by("-id")[:limit]
    return {"items": [export_dict(e) for e in rows], "next_cursor": None}


def _mine(user, pk: int) -> Export:
    export = Export.objects.filter(pk=pk, user=user).first()
    if export is None:
        raise Http404("No such export.")
    return export


@exports_router.get("/{int:id}", response=with_errors({200: ExportOut}, errors.READ), operation_id="get_export",
                    summary="An export's status", description="Only the user who asked for an export sees it.")
def get_export(request: HttpRequest, id: int):
    return export_dict(_mine(request.auth, id))


@exports_router.get(
    "/{int:id}/file", response=with_errors({200: None}, (*errors.READ, 409)), operation_id="download_export",
    summary="Download an export's file", description="409 while the file is still being written.",
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def download_export(request: HttpRequest, id: int):
    export = _mine(request.auth, id)
    if export.status != Export.Status.DONE:
        from .api import api

        detail = f"The export is {export.get_status_display().lower()}; try again when its status is done."
        return api.create_response(request, errors.error_body(detail), status=409)
    try:
        export, path = services.file_for(user=request.auth, export_id=id)
    except Export.DoesNotExist:
        raise Http404("The file has expired.") from None
    return FileResponse(open(path, "rb"), as_attachment=True, filename=export.download_name,
                        content_type=writers.CONTENT_TYPES[export.file_format])



ROUTERS: list = [("", router), ("/exports", exports_router)]
