"""/api/v1/imports: upload a file, review and change its column mapping, dry-run or run it as a background
job, follow its progress, read its problems, download its failed rows, cancel it and undo it.

An import is visible to the person who uploaded it, and to admins and managers; viewers cannot import.
Every write goes through kith.imports.services (the same functions as the web UI and `kith import`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from kith.core.errors import ValidationError
from kith.core.pagination import Ordering
from kith.imports import services
from kith.imports.models import Import, ImportProblem

from . import common, errors
from .auth import write_auth
from .schemas import with_errors

router = Router(tags=["imports"])
ROUTERS = [("/imports", router)]

NEWEST = Ordering("id", ())
BY_ROW = Ordering("row_number", ("row_number",))
OBJECT_TYPES = {"contact": "contact", "contacts": "contact", "company": "company", "companies": "company",
                "lead": "lead", "leads": "lead", "deal": "deal", "deals": "deal"}
CSV_RESPONSE = {
    "description": "The file's failed rows with their original header and cells, plus a “reason” column "
                   "(UTF-8 with a byte order mark; cells starting with = + - @ are prefixed with ').",
    "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
}


# --- schemas -------------------------------------------------------------------------------------------


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class ImportUserOut(Schema):
    id: int
    name: str
    email: str


class ProgressOut(Schema):
    phase: Literal["writing", "indexing"] | None = Field(
        None, description="while running: `writing` (rows are read, checked and written; the records exist as "
        "each batch commits), then `indexing` (contacts: the new records' history and search index); null "
        "otherwise")
    rows_done: int
    total_rows: int | None = Field(description="data rows in the file; null until the run has counted them")
    percent: float | None
    rows_per_second: float | None = Field(description="rows read, checked and written per second")
    eta_seconds: float | None = Field(description="estimated seconds left in the current phase while running; "
                                                  "null otherwise")
    records_indexed: int = Field(0, description="new records whose history and search document are written")
    records_to_index: int = Field(0, description="new records the `indexing` phase writes them for")
    index_percent: float | None = None


class BusyJobOut(Schema):
    label: str = Field(description="what a worker is doing, e.g. “a duplicate scan”")
    seconds: float = Field(description="how long it has been running")


class QueueOut(Schema):
    queued_seconds: float = Field(description="how long the import has waited for a worker")
    busy: list[BusyJobOut] = Field(description="what the background workers are running meanwhile (at most 3, "
                                   "longest first); empty while none is: then no worker may be running")


class CountsOut(Schema):
    created: int
    updated: int
    skipped: int
    failed: int
    companies_created: int = Field(description="companies created to link contacts by company name")


class UndoProgressOut(Schema):
    records_done: int = Field(description="records the undo has gone through")
    records_total: int = Field(description="records it goes through: what the import created and updated")
    percent: float
    deleted: int = Field(description="records removed so far")
    restored: int = Field(description="records restored so far")
    not_undone_count: int = Field(description="records left as they are because they changed since")


class DuplicateScanOut(Schema):
    object_type: str = Field(description="contact or company")
    status: Literal["queued", "running", "done", "failed"]
    pairs_found: int | None = Field(description="possible duplicates involving the records written since the "
                                    "previous scan (this import's among them), once done")
    pairs_new: int | None = Field(description="of those, the pairs new to the review queue")
    pairs_known: int | None = Field(description="of those, the pairs found before (in the queue, dismissed or "
                                    "merged)")
    finished_at: dt.datetime | None
    review_url: str = Field(description="the review queue in the web app, for this type")


class ImportOut(Schema):
    id: int
    object_type: str = Field(description="contact, company, lead or deal")
    file_name: str
    file_size: int
    format: str = Field(description="csv, xlsx or vcf")
    encoding: str
    delimiter: str
    status: str = Field(description="uploaded, queued, running, done, failed, cancelled, undoing (a large undo "
                        "running as a background job: see `undo`) or undone")
    dry_run: bool = Field(description="true for a run that checks every row and writes nothing")
    mapping: dict[str, str | None] = Field(description="column → target (a field, cf_<key>), or null to ignore")
    match_on: str = Field(description="email, phone, domain, external_id, name, or empty (no matching)")
    on_duplicate: str = Field(description="skip, fill (empty fields only), overwrite or create")
    counts: CountsOut
    progress: ProgressOut
    queue: QueueOut | None = Field(None, description="while `queued`: how long it has waited and what the "
                                   "workers are busy with; null otherwise")
    error: str = Field(description="why the run failed as a whole, if it did; or why an undo stopped midway "
                       "(what it undid stays undone; undo again to continue)")
    can_undo: bool
    undo: UndoProgressOut | None = Field(description="the undo's progress and counts while it runs, after it "
                                         "stopped midway or finished; null before any undo")
    created_by: ImportUserOut | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    undone_at: dt.datetime | None
    url: str = Field(description="the import's page in the web app")
    duplicate_scans: list[DuplicateScanOut] = Field(description="a contact or company import that wrote records "
                                                    "queues a duplicate scan of them when it finishes; its state "
                                                    "(empty for dry runs, leads and deals, and undone imports)")


class ImportPage(Schema):
    items: list[ImportOut]
    next_cursor: str | None


class ColumnOut(Schema):
    column: str
    samples: list[str] = Field(description="up to three non-empty values from the first rows")
    target: str | None = Field(description="what the column is imported into (proposed from its header "
                               "until changed); null to ignore it")


class TargetOut(Schema):
    key: str | None = Field(description="the value to use in `mapping`; null means ignore the column")
    label: str
    help: str = ""


class ChoiceOut(Schema):
    key: str
    label: str


class PreviewRowOut(Schema):
    row_number: int = Field(description="as in the file: the header is row 1 of a CSV or sheet")
    values: dict[str, Any] = Field(description="target → value as it will be imported (normalised)")
    errors: dict[str, str] = Field(description="target or column → what is wrong with it")


class ImportSetupOut(ImportOut):
    columns: list[ColumnOut]
    targets: list[TargetOut]
    match_on_choices: list[ChoiceOut]
    on_duplicate_choices: list[ChoiceOut]
    preview: list[PreviewRowOut] = Field(description="the first rows as they will be imported")


class ImportPatch(Input):
    mapping: dict[str, str | None] | None = Field(
        None, description="column → target key, or null to ignore the column; columns left out are ignored")
    match_on: str | None = Field(None, description="email, phone, domain, external_id, name, or \"\" for none")
    on_duplicate: str | None = Field(None, description="skip, fill, overwrite or create")
    save_as: str | None = Field(None, description="also save this mapping under this name for later files")


class StartIn(Input):
    dry_run: bool = Field(False, description="check every row and report problems without writing anything")


class ProblemOut(Schema):
    row_number: int
    column: str = Field(description="the file's column, or empty for the row as a whole")
    value: str
    reason: str


class ProblemPage(Schema):
    items: list[ProblemOut]
    next_cursor: str | None


class NotUndoneOut(Schema):
    type: str
    id: int | None
    label: str
    reason: str


class UndoOut(Schema):
    deleted: int = Field(description="records the import created that were removed")
    restored: int = Field(description="records the import updated whose earlier values were restored")
    not_undone: list[NotUndoneOut] = Field(description="records left as they are because they changed since "
                                           "(the first 1,000; empty while a queued undo runs)")
    not_undone_count: int = Field(0, description="how many records were left as they are in all")
    import_: ImportOut = Field(alias="import")

    model_config = ConfigDict(populate_by_name=True)


# --- serialisers ---------------------------------------------------------------------------------------


def import_dict(imp: Import, progress: dict[str, Any] | None = None,
                scans: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    p = progress or services.progress(imp)
    user = imp.created_by
    return {
        "id": imp.pk,
        "object_type": imp.object_type,
        "file_name": imp.file_name,
        "file_size": imp.file_size,
        "format": imp.format,
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "status": p.get("status", imp.status),
        "dry_run": p.get("dry_run", imp.dry_run),
        "mapping": imp.mapping or {},
        "match_on": imp.match_on,
        "on_duplicate": imp.on_duplicate,
        "counts": {k: p.get(k, getattr(imp, k)) for k in ("created", "updated", "skipped", "failed",
                                                           "companies_created")},
        "progress": {"rows_done": p.get("rows_done", imp.rows_done), "total_rows": p.get("total_rows"),
                     "percent": p.get("percent"), "rows_per_second": p.get("rows_per_second"),
                     "eta_seconds": p.get("eta_seconds"), "phase": p.get("phase"),
                     "records_indexed": p.get("indexed", 0), "records_to_index": p.get("to_index", 0),
                     "index_percent": p.get("index_percent")},
        "queue": services.queue_wait(imp) if p.get("status", imp.status) == Import.Status.QUEUED else None,
        "error": p.get("error", imp.error) or "",
        "can_undo": imp.can_undo,
        "undo": services.undo_progress(imp),
        "created_by": {"id": user.pk, "name": user.display_name, "email": user.email} if user else None,
        "created_at": imp.created_at,
        "started_at": imp.started_at,
        "finished_at": imp.finished_at,
        "undone_at": imp.undone_at,
        "duplicate_scans": services.duplicate_scans(imp) if scans is None else scans,
        "url": imp.get_absolute_url(),
    }


def setup_dict(imp: Import) -> dict[str, Any]:
    preview = services.preview(imp)
    return {
        **import_dict(imp),
        "columns": [{"column": c["column"], "samples": c.get("samples") or [], "target": c.get("target")}
                    for c in preview.get("columns") or []],
        "targets": preview.get("targets") or [],
        "match_on_choices": preview.get("match_on_choices") or [],
        "on_duplicate_choices": preview.get("on_duplicate_choices") or [],
        "preview": [{"row_number": r.get("row_number") or 0, "values": r.get("values") or {},
                     "errors": {str(k): str(v) for k, v in (r.get("errors") or {}).items()}}
                    for r in preview.get("rows") or []],
    }


def _get(request: HttpRequest, id: int) -> Import:
    return services.get_import(actor=request.auth, pk=id)


def _location(imp: Import) -> str:
    return f"/api/v1/imports/{imp.pk}"


# --- operations ----------------------------------------------------------------------------------------


@router.post(
    "", response=with_errors({201: ImportSetupOut}, errors.CREATE), operation_id="create_import", auth=write_auth,
    summary="Upload a file to import",
    description="multipart/form-data with `object_type` (contact, company, lead or deal; plurals accepted) and "
    "`file` (CSV with any delimiter and encoding, Excel .xlsx, or vCard .vcf for contacts). The file is stored "
    "and its columns mapped by their headers; the answer shows the proposed mapping, every target a column can "
    "be mapped to and the first rows as they would be imported. Change the mapping with PATCH, then POST "
    "…/start. A file Kith cannot read, or that has no data rows, is 422 naming `file`.",
)
def create_import(request: HttpRequest, response: HttpResponse, object_type: Form[str],
                  file: File[UploadedFile]):
    kind = OBJECT_TYPES.get((object_type or "").strip().lower())
    if kind is None:
        raise ValidationError({"object_type": ["Must be one of: contact, company, lead, deal."]})
    imp = services.create_import(actor=request.auth, object_type=kind, file_name=PurePath(file.name or "").name,
                                 fileobj=file)
    response["Location"] = _location(imp)
    return Status(201, setup_dict(imp))


@router.get(
    "", response=with_errors({200: ImportPage}, errors.LIST), operation_id="list_imports", summary="List imports",
    description="Imports you can see (yours; admins and managers see everyone's), newest first. Follow "
    "`next_cursor` for the next page.",
)
def list_imports(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    status: str | None = Query(None, description="uploaded, queued, running, done, failed, cancelled, undoing or undone"),
    object_type: str | None = Query(None, description="contact, company, lead or deal"),
):
    qs = services.visible_imports(request.auth)
    if status:
        if status not in Import.Status.values:
            raise ValidationError({"status": [f"Use one of: {', '.join(Import.Status.values)}."]})
        qs = qs.filter(status=status)
    if object_type:
        kind = OBJECT_TYPES.get(object_type.strip().lower())
        if kind is None:
            raise ValidationError({"object_type": ["Use one of: contact, company, lead, deal."]})
        qs = qs.filter(object_type=kind)
    rows, next_cursor = common.page(qs, ordering=NEWEST, descending=True, cursor=cursor, limit=limit)
    # the page's rows are fresh (no re-read for their progress); their duplicate scans in one go
    scans = services.duplicate_scans_of(rows)
    return common.json_page([import_dict(imp, services.progress(imp, reload=False), scans[imp.pk]) for imp in rows],
                            next_cursor)


@router.get(
    "/{int:id}", response=with_errors({200: ImportOut}, errors.READ), operation_id="get_import",
    summary="Get an import: status, progress and counts",
    description="Poll this while an import runs: `progress` has rows done, rows per second and the estimated "
    "time left; `counts` the rows created, updated, skipped and failed so far.",
)
def get_import(request: HttpRequest, id: int):
    return import_dict(_get(request, id))


@router.patch(
    "/{int:id}", response=with_errors({200: ImportSetupOut}, errors.UPDATE), operation_id="update_import",
    auth=write_auth, summary="Change an import's mapping and duplicates policy",
    description="Before the import runs (or after a dry run, which it then forgets). An unknown column or "
    "target is 422 naming `mapping.<column>`; a match key no column is mapped to, 422 naming `match_on`. "
    "An import that has run is 409.",
)
def update_import(request: HttpRequest, id: int, payload: ImportPatch):
    imp = _get(request, id)
    data = payload.model_dump(exclude_unset=True)
    mapping = data.get("mapping")
    if mapping is None:
        mapping = imp.mapping or {}
    imp = services.set_mapping(actor=request.auth, imp=imp, mapping=mapping, match_on=data.get("match_on"),
                               on_duplicate=data.get("on_duplicate"), save_as=data.get("save_as"))
    return setup_dict(imp)


@router.post(
    "/{int:id}/start", response=with_errors({202: ImportOut}, errors.UPDATE), operation_id="start_import",
    auth=write_auth, summary="Run an import (or a dry run) as a background job",
    description="Queues the run; follow it with GET /imports/{id}. With `dry_run`, every row is checked and its "
    "problems reported (GET …/problems) without writing anything; afterwards start it again without "
    "`dry_run` to import. An import that is running or has run is 409.",
)
def start_import(request: HttpRequest, id: int, payload: StartIn | None = None):
    imp = _get(request, id)
    imp = services.start_import(actor=request.auth, imp=imp, dry_run=bool(payload and payload.dry_run))
    return Status(202, import_dict(imp))


@router.post(
    "/{int:id}/cancel", response=with_errors({200: ImportOut}, (*errors.ACTION, 409)),
    operation_id="cancel_import", auth=write_auth, summary="Cancel a queued or running import",
    description="A queued import is cancelled at once; a running one stops after the batch it is writing (what "
    "it wrote stays and can be undone). An import that is not queued or running is 409.",
)
def cancel_import(request: HttpRequest, id: int):
    imp = services.cancel_import(actor=request.auth, imp=_get(request, id))
    return import_dict(imp)


@router.post(
    "/{int:id}/undo", response=with_errors({200: UndoOut, 202: UndoOut}, (*errors.ACTION, 409)),
    operation_id="undo_import", auth=write_auth, by_alias=True, summary="Undo an import",
    description="Removes the records the import created and restores the fields it updated, where nothing else "
    "has changed those records since; `not_undone` lists the others and why.\n\n"
    "**200**: an import that wrote at most 2,000 records (the server's KITH_IMPORT_UNDO_INLINE_MAX) is undone "
    "at once; the answer is its report.\n\n"
    "**202**: a larger one is undone by a background job: the import's status is `undoing` and the answer "
    "holds what is undone so far (`not_undone` empty). Follow it with GET /imports/{id}: `undo` has the "
    "progress, then the counts once the status is `undone`. Should the job stop midway, the status goes back "
    "to what it was, `error` says why, and undoing again continues with the rest.\n\n"
    "An import that wrote nothing, is being undone, or was already undone, is 409.",
)
def undo_import(request: HttpRequest, id: int):
    imp = _get(request, id)
    report = services.undo_import(actor=request.auth, imp=imp)
    imp.refresh_from_db()
    body = {
        "deleted": int(report.get("deleted", 0)),
        "restored": int(report.get("restored", 0)),
        "not_undone": [{"type": str(item.get("type", "")), "id": item.get("id"), "label": str(item.get("label", "")),
                        "reason": str(item.get("reason", ""))} for item in report.get("not_undone") or []],
        "not_undone_count": int(report.get("not_undone_count", 0)),
        "import": import_dict(imp),
    }
    return Status(202, body) if report.get("queued") else body


@router.get(
    "/{int:id}/problems", response=with_errors({200: ProblemPage}, (*errors.READ, 422)),
    operation_id="list_import_problems", summary="List an import's problems",
    description="What is wrong, per row (as numbered in the file) and column, in file order. Follow "
    "`next_cursor` for the next page.",
)
def list_problems(
    request: HttpRequest,
    id: int,
    limit: int = Query(100, ge=1, le=1000, description="Rows per page, 1 to 1000."),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
):
    imp = _get(request, id)
    qs = ImportProblem.objects.filter(imp=imp)
    rows, next_cursor = common.page(qs, ordering=BY_ROW, descending=False, cursor=cursor, limit=limit)
    items = [{"row_number": p.row_number, "column": p.column, "value": p.value, "reason": p.reason} for p in rows]
    return common.json_page(items, next_cursor)


@router.get(
    "/{int:id}/failed-rows.csv", response=with_errors({200: None}, errors.READ),
    operation_id="get_import_failed_rows", summary="The failed rows as CSV",
    openapi_extra={"responses": {200: CSV_RESPONSE}},
)
def failed_rows(request: HttpRequest, id: int):
    imp = _get(request, id)
    rows = services.failed_rows_csv(imp)
    first = next(rows)  # a missing file is a 422 here, before the response starts

    def body():
        yield first
        yield from rows

    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in PurePath(imp.file_name).stem)[:80]
    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem or "import"}-failed-rows.csv"'
    return response
