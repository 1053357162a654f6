"""Exports: a list as the user filtered and sorted it, in CSV, XLSX or vCard.

The rows are the list's rows: permissions.visible() for the user, the model's FilterSet with the list's
query parameters (q, filters, cf_<key>), the list's ordering, read in keyset batches (constant memory,
no OFFSET). Up to KITH_EXPORT_STREAM_LIMIT rows (5,000) stream straight to the browser; more run as a
background job that writes a file under KITH_DATA_DIR/exports/, notifies the user and keeps the file for
KITH_EXPORT_KEEP_HOURS (168) before the periodic purge removes it.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from kith.core import jobs, notifications, records
from kith.core.errors import PermissionDenied, ValidationError
from kith.core.pagination import Ordering, paginate, parse_ordering
from kith.core.permissions import visible

from . import kinds, writers
from .models import Export

log = logging.getLogger(__name__)

BATCH = 1000
# Query parameters of a list that are not filters of the export.
IGNORED_PARAMS = {"cursor", "format", "columns", "query", "csrfmiddlewaretoken"}


def stream_limit() -> int:
    return int(getattr(settings, "KITH_EXPORT_STREAM_LIMIT", 5000))


def keep_hours() -> int:
    return int(getattr(settings, "KITH_EXPORT_KEEP_HOURS", 168))


def export_dir() -> Path:
    path = Path(getattr(settings, "KITH_EXPORT_DIR", "") or Path(settings.DATA_DIR) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Plan:
    """What one export will write: validated, not yet read."""

    kind: kinds.Kind
    file_format: str
    columns: str
    params: dict[str, list[str]]
    user: Any  # None: every record (the CLI)
    qs: Any
    ordering: Ordering
    descending: bool
    cols: list[kinds.Col]

    @property
    def header(self) -> list[str]:
        return [c.label if self.columns == kinds.SHOWN else c.key for c in self.cols]

    def count_upto(self, limit: int) -> int:
        return self.qs.order_by()[: limit + 1].count()


def clean_params(params: Any) -> dict[str, list[str]]:
    """The list's query parameters as {name: [values]}, without paging and empty values."""
    if isinstance(params, str):
        params = QueryDict(params)
    out: dict[str, list[str]] = {}
    items = params.lists() if hasattr(params, "lists") else params.items()
    for key, values in items:
        if key in IGNORED_PARAMS:
            continue
        values = values if isinstance(values, list | tuple) else [values]
        kept = [str(v) for v in values if str(v).strip()]
        if kept:
            out[key] = kept
    return out


def base_queryset(kind: kinds.Kind, user):
    model = kind.model()
    qs = model.objects.all() if user is None else visible(model, user)
    qs = qs.select_related(*kind.select_related)
    unread = [f"{name}__{f.name}" for name, kept in (kind.related_fields or {}).items()
              for f in model._meta.get_field(name).related_model._meta.concrete_fields
              if not f.primary_key and f.name not in kept]
    if unread:
        qs = qs.defer(*unread)
    return kind.prepare(qs) if kind.prepare else qs


def plan_export(*, user, kind: str, file_format: str, columns: str = kinds.SHOWN, params: Any = None) -> Plan:
    """Check the request and build the filtered, ordered queryset; ValidationError names what is wrong."""
    if user is not None and (not user.is_authenticated or not user.is_active):
        raise PermissionDenied("Sign in to export.")
    spec = kinds.get(kind)
    if spec is None:
        raise ValidationError({"kind": [f"Cannot export “{kind}”. Use one of: {', '.join(kinds.KINDS)}."]})
    errors: dict[str, list[str]] = {}
    if file_format not in spec.formats:
        if file_format == "vcf":
            errors["format"] = ["vCard is for contacts only; choose CSV or Excel."]
        else:
            errors["format"] = [f"Use one of: {', '.join(spec.formats)}."]
    if columns not in kinds.COLUMN_CHOICES:
        errors["columns"] = [f"Use one of: {', '.join(kinds.COLUMN_CHOICES)}."]
    if errors:
        raise ValidationError(errors)
    clean = clean_params(params or {})
    if user is None:
        for key, values in clean.items():
            if "me" in values:
                raise ValidationError({key: ["“me” needs a user: export as one (kith export --as EMAIL)."]})
    fs_class = spec.filterset()
    orderings = clean.get("ordering") or []
    ordering_value = orderings[-1] if orderings else None
    ordering, descending = parse_ordering(ordering_value, fs_class.orderings, fs_class.default_ordering)
    qs = fs_class(clean, user).apply(base_queryset(spec, user))
    return Plan(kind=spec, file_format=file_format, columns=columns, params=clean, user=user, qs=qs,
                ordering=ordering, descending=descending, cols=spec.columns(columns))


def iter_records(plan: Plan, *, batch: int = BATCH) -> Iterator[Any]:
    """Every row of the list in its order, read in keyset pages (memory stays flat however many)."""
    cursor = None
    while True:
        rows, cursor = paginate(plan.qs, ordering=plan.ordering, descending=plan.descending, cursor=cursor,
                                limit=batch)
        records.attach_tags(rows)
        jobs.heartbeat()  # a big export's job is alive: no other worker takes it for dead and runs it again
        yield from rows
        if not cursor:
            return


def iter_rows(plan: Plan) -> Iterator[list[Any]]:
    for obj in iter_records(plan):
        yield [col.get(obj) for col in plan.cols]


def chunks(plan: Plan, *, bom: bool = True) -> Iterator[bytes]:
    """The export as bytes, streamed (CSV and vCard)."""
    if plan.file_format == "vcf":
        return writers.vcard_chunks(iter_records(plan))
    if plan.file_format == "csv":
        return writers.csv_chunks(plan.header, iter_rows(plan), bom=bom)
    raise ValueError("XLSX is written to a file: use write().")


class _Counter:
    def __init__(self, rows):
        self.rows = rows
        self.count = 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def write(plan: Plan, out: IO[bytes], *, bom: bool = True) -> int:
    """Write the whole export to a binary file; returns the number of records."""
    if plan.file_format == "xlsx":
        rows = _Counter(iter_rows(plan))
        writers.write_xlsx(out, plan.header, rows, title=plan.kind.noun_plural.capitalize())
        return rows.count
    records_ = _Counter(iter_records(plan))
    if plan.file_format == "vcf":
        for chunk in writers.vcard_chunks(records_):
            out.write(chunk)
    else:
        lines = ([col.get(obj) for col in plan.cols] for obj in records_)
        for chunk in writers.csv_chunks(plan.header, lines, bom=bom):
            out.write(chunk)
    return records_.count


def xlsx_tempfile(plan: Plan) -> IO[bytes]:
    """A small XLSX in an anonymous temporary file (deleted when closed), rewound for reading."""
    f = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    write(plan, f)
    f.seek(0)
    return f


def filename(plan: Plan) -> str:
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    return f"{plan.kind.name}-{stamp}.{plan.file_format}"


# --- large exports: a background job ------------------------------------------------------------------


def request_export(*, user, kind: str, file_format: str, columns: str = kinds.SHOWN,
                   params: Any = None) -> tuple[Plan, Export | None]:
    """Plan an export for a signed-in user. Returns (plan, None) when it is small enough to stream now,
    or (plan, export) when it was queued as a background job."""
    plan = plan_export(user=user, kind=kind, file_format=file_format, columns=columns, params=params)
    limit = stream_limit()
    count = plan.count_upto(limit)
    if count <= limit:
        return plan, None
    return plan, queue(plan, estimated_rows=count)


def queue(plan: Plan, *, estimated_rows: int | None = None) -> Export:
    """Record the export and queue its job (both or neither)."""
    with transaction.atomic():
        export = Export.objects.create(
            user=plan.user, kind=plan.kind.name, file_format=plan.file_format, columns=plan.columns,
            params=plan.params, estimated_rows=estimated_rows,
        )
        jobs.enqueue("exports.run", export_id=export.pk)
    return export


def run_export(export_id: int) -> dict[str, Any]:
    """The job: write the file as the requesting user sees the records now, then tell them."""
    export = Export.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status == Export.Status.DONE:
        return {"skipped": True}
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING, error="")
    directory = export_dir()
    name = f"{export.pk}-{secrets.token_hex(8)}.{export.file_format}"
    part = directory / (name + ".part")
    try:
        plan = plan_export(user=export.user, kind=export.kind, file_format=export.file_format,
                           columns=export.columns, params=export.params)
        with open(part, "wb") as out:
            count = write(plan, out)
        os.replace(part, directory / name)
    except Exception as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, ValidationError | PermissionDenied):
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            log.exception("export %s failed", export.pk)
            message = "Something went wrong while writing the file."
        Export.objects.filter(pk=export.pk).update(status=Export.Status.FAILED, error=message,
                                                   finished_at=timezone.now())
        notifications.notify(user=export.user, kind="export.failed", url=reverse("web:export_list"),
                             title=f"Your export of {export.kind} failed: {message}")
        return {"failed": message}
    size = (directory / name).stat().st_size
    Export.objects.filter(pk=export.pk).update(status=Export.Status.DONE, row_count=count, file_path=name,
                                               file_size=size, finished_at=timezone.now())
    noun = plan.kind.noun if count == 1 else plan.kind.noun_plural
    notifications.notify(user=export.user, kind="export.ready", url=reverse("web:export_list"),
                         title=f"Your export of {count:,} {noun} ({export.file_format.upper()}) is ready to download")
    return {"rows": count, "bytes": size}


def file_for(*, user, export_id: int) -> tuple[Export, Path]:
    """The file of a finished export of this user (anyone else's answers NotFound, like a missing one)."""
    export = Export.objects.filter(pk=export_id, user=user, status=Export.Status.DONE).first()
    path = (export_dir() / export.file_path) if export is not None and export.file_path else None
    if export is None or path is None or not path.is_file():
        raise Export.DoesNotExist("No such export.")
    return export, path


def purge_exports(*, older_than_hours: int | None = None) -> int:
    """Delete exports (rows and files) older than KITH_EXPORT_KEEP_HOURS, and stray files. Returns how many."""
    hours = keep_hours() if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    directory = export_dir()
    count = 0
    for export in Export.objects.filter(created_at__lt=cutoff).exclude(status=Export.Status.RUNNING).iterator():
        if export.file_path:
            (directory / export.file_path).unlink(missing_ok=True)
        export.delete()
        count += 1
    known = set(Export.objects.exclude(file_path="").values_list("file_path", flat=True))
    for path in directory.iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
    return count
