"""Imports: upload, preview, mapping, run (as a job), cancel, undo, progress, failed rows.

Every function is keyword-only with the acting user first (except read-only helpers that take the import).
The web UI, the API and ``kith import`` call these. Bad input raises kith.core.errors.ValidationError naming
the field (``file``, ``mapping``, ``mapping.<column>``, ``match_on``, ``on_duplicate``, ``column``, ...).

Who may import: anyone who can write records (not viewers). An import belongs to its creator; admins and
managers may act on anyone's import (``visible_imports``).
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kith.core import jobs, permissions
from kith.core.errors import ConflictError, NotFoundError, ValidationError
from kith.core.models import CustomField

from . import mapping as mapping_mod
from . import readers
from .models import Import, ImportProblem, ObjectType, SavedMapping

PREVIEW_ROWS = 10
MAX_PROBLEMS_PER_IMPORT = 100_000  # beyond this, failed rows are still counted, but their reasons not stored


def imports_dir() -> Path:
    base = Path(getattr(settings, "KITH_DATA_DIR", None) or settings.DATA_DIR) / "imports"
    base.mkdir(parents=True, exist_ok=True)
    return base


def visible_imports(user):
    """Imports the user may see: their own; admins and managers see all."""
    qs = Import.objects.select_related("created_by")
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.can_manage_settings:
        return qs
    return qs.filter(created_by=user)


def get_import(*, actor, pk: int) -> Import:
    try:
        return visible_imports(actor).get(pk=pk)
    except (Import.DoesNotExist, ValueError, TypeError):
        raise NotFoundError(f"No import with id {pk}.") from None


def _require(actor, imp: Import | None = None) -> None:
    permissions.require_write(actor)
    if imp is not None and not visible_imports(actor).filter(pk=imp.pk).exists():
        raise permissions.PermissionDenied("This import belongs to someone else.")


def _check_object_type(object_type: str) -> None:
    if object_type not in ObjectType.values:
        raise ValidationError({"object_type": [f"Must be one of: {', '.join(ObjectType.values)}."]})


# --- upload --------------------------------------------------------------------------------------------


def create_import(*, actor, object_type: str, file_name: str, fileobj) -> Import:
    """Store the uploaded file under KITH_DATA_DIR/imports/, detect its format, encoding and delimiter,
    and propose a mapping. The file is copied in chunks (never read whole into memory)."""
    _require(actor)
    _check_object_type(object_type)
    file_name = Path(str(file_name or "upload.csv").replace("\\", "/")).name[:255] or "upload.csv"
    if object_type != "contact" and file_name.lower().endswith((".vcf", ".vcard")):
        raise ValidationError({"file": ["vCard files can only be imported as contacts."]})
    suffix = Path(file_name).suffix.lower()[:10]
    path = imports_dir() / f"{timezone.now():%Y%m%d}-{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as out:
        shutil.copyfileobj(fileobj, out, 1 << 20)
    try:
        sniffed = readers.sniff(path, file_name)
        if sniffed.format == "vcf" and object_type != "contact":
            raise readers.FileProblem("vCard files can only be imported as contacts.")
        source = readers.open_source(path, sniffed.format, sniffed.encoding, sniffed.delimiter)
        first = next(iter(source.rows()), None)
        if first is None:
            raise readers.FileProblem("The file has a header row but no data rows.")
    except readers.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": [str(exc)]}) from None
    proposed = mapping_mod.propose(object_type, source.columns)
    # The first key of the record type that the file has (deals: only an external ID; names repeat).
    candidates = ["external_id"] if object_type == "deal" else mapping_mod.MATCH_ON[object_type]
    match_on = next((m for m in candidates if mapping_mod.MATCH_TARGET[m] in proposed.values()), "")
    imp = Import.objects.create(
        object_type=object_type, file_name=file_name, file_path=str(path), file_size=path.stat().st_size,
        format=sniffed.format, encoding=sniffed.encoding, delimiter=sniffed.delimiter,
        mapping=proposed, match_on=match_on, created_by=actor if getattr(actor, "pk", None) else None,
    )
    return imp


def _keep_days() -> int:
    from .jobs import keep_days

    return keep_days()


def source_for(imp: Import) -> readers.Source:
    if not imp.file_path:
        raise ValidationError({"file": ["The uploaded file was deleted (files are kept for "
                                        f"{_keep_days()} days); upload it again."]})
    try:
        return readers.open_source(imp.file_path, imp.format, imp.encoding, imp.delimiter)
    except OSError:
        raise ValidationError({"file": ["The uploaded file is gone; upload it again."]}) from None
    except readers.FileProblem as exc:
        raise ValidationError({"file": [str(exc)]}) from None


# --- preview and mapping -------------------------------------------------------------------------------


def preview(imp: Import, *, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """What the mapping screen shows.

    {"columns": [{"column", "samples": [..], "target"}], "rows": [{"row_number", "values": {target: value},
     "errors": {target or column: message}}], "targets": [{"key", "label", "help"}] (the last one is
     {"key": None, "label": "Ignore this column"}), "match_on_choices", "on_duplicate_choices",
     "format", "encoding", "delimiter", "file_name"}.
    Rows are shown as they will be imported (normalised: emails lower-cased, phones in E.164, companies
    and owners resolved), with the per-field problem a real run would report.
    """
    from .engine import preview_rows

    source = source_for(imp)
    samples: dict[str, list[str]] = {c: [] for c in source.columns}
    raw: list[tuple[int, list[str]]] = []
    for number, cells in source.rows():
        raw.append((number, cells))
        for i, c in enumerate(source.columns):
            if i < len(cells) and cells[i].strip() and len(samples[c]) < 3:
                samples[c].append(cells[i][:200])
        if len(raw) >= rows:
            break
    all_targets = mapping_mod.targets(imp.object_type)
    return {
        "file_name": imp.file_name,
        "format": imp.format,
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "columns": [{"column": c, "samples": samples[c], "target": imp.mapping.get(c)} for c in source.columns],
        "rows": preview_rows(imp, source.columns, raw),
        "targets": [{"key": t.key, "label": t.label, "help": t.help} for t in all_targets]
        + [{"key": None, "label": "Ignore this column", "help": ""}],
        "match_on_choices": [{"key": k, "label": Import.MatchOn(k).label} for k in
                             mapping_mod.MATCH_ON[imp.object_type]] + [{"key": "", "label": "Do not match"}],
        "on_duplicate_choices": [{"key": k, "label": label} for k, label in Import.OnDuplicate.choices],
    }


def _validate_mapping(imp: Import, mapping: Any, columns: list[str]) -> dict[str, str | None]:
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": ["Must be an object of column → target (or null to ignore)."]})
    known = mapping_mod.target_keys(imp.object_type)
    errors: dict[str, list[str]] = {}
    clean: dict[str, str | None] = dict.fromkeys(columns)
    used: dict[str, str] = {}
    for column, target in mapping.items():
        column = str(column)
        if column not in clean:
            # a column index ("3" or "#3") is accepted too
            idx = column.lstrip("#")
            if idx.isdigit() and int(idx) < len(columns):
                column = columns[int(idx)]
            else:
                errors[f"mapping.{column}"] = [f"The file has no column “{column}”."]
                continue
        if target in (None, "", "ignore"):
            clean[column] = None
            continue
        if target not in known:
            errors[f"mapping.{column}"] = [f"Column “{column}”: “{target}” is not something a "
                                           f"{imp.object_type} can be imported into."]
            continue
        if target in used and not known[target].multi:
            errors[f"mapping.{column}"] = [f"Column “{column}”: {known[target].label} is already imported from "
                                           f"column “{used[target]}”."]
            continue
        used[target] = column
        clean[column] = target
    if errors:
        raise ValidationError(errors)
    return clean


def _check_policy(imp: Import, clean: dict[str, str | None], match_on: str, on_duplicate: str) -> None:
    errors: dict[str, list[str]] = {}
    if match_on and match_on not in mapping_mod.MATCH_ON[imp.object_type]:
        errors["match_on"] = [f"{imp.get_object_type_display()} can be matched on: "
                              f"{', '.join(mapping_mod.MATCH_ON[imp.object_type])}."]
    elif match_on and mapping_mod.MATCH_TARGET[match_on] not in clean.values() and not (
        match_on == "phone" and "mobile" in clean.values()
    ) and not (match_on == "domain" and "website" in clean.values()):
        errors["match_on"] = [f"To match on {match_on.replace('_', ' ')}, map a column to it."]
    if on_duplicate not in Import.OnDuplicate.values:
        errors["on_duplicate"] = [f"Must be one of: {', '.join(Import.OnDuplicate.values)}."]
    if not any(clean.values()):
        errors["mapping"] = ["Map at least one column."]
    if errors:
        raise ValidationError(errors)


def _editable(imp: Import) -> None:
    if imp.status not in (Import.Status.UPLOADED, Import.Status.DONE, Import.Status.FAILED,
                          Import.Status.CANCELLED) or (imp.status != Import.Status.UPLOADED and not imp.dry_run):
        raise ConflictError("This import has already run; upload the file again to import it with another mapping.")


def set_mapping(*, actor, imp: Import, mapping: dict, match_on: str | None = None,
                on_duplicate: str | None = None, save_as: str | None = None) -> Import:
    """Set the column mapping and the duplicates policy (after a dry run too). Errors name the column
    (``mapping.<column>``). ``save_as`` also stores the mapping as a SavedMapping of that name (replacing one
    of the same name)."""
    _require(actor, imp)
    _editable(imp)
    columns = source_for(imp).columns
    clean = _validate_mapping(imp, mapping, columns)
    match_on = imp.match_on if match_on is None else (match_on or "")
    on_duplicate = on_duplicate or imp.on_duplicate
    _check_policy(imp, clean, match_on, on_duplicate)
    with transaction.atomic():
        imp.mapping, imp.match_on, imp.on_duplicate = clean, match_on, on_duplicate
        if imp.dry_run and imp.status != Import.Status.UPLOADED:
            _reset(imp)
        imp.save()
        if save_as is not None:
            name = " ".join(str(save_as).split())
            if not name or len(name) > 100:
                raise ValidationError({"save_as": ["Give the mapping a name of at most 100 characters."]})
            SavedMapping.objects.update_or_create(
                object_type=imp.object_type, name=name,
                defaults={"mapping": {k: v for k, v in clean.items() if v}, "match_on": match_on,
                          "on_duplicate": on_duplicate, "created_by": actor},
            )
    return imp


def _reset(imp: Import) -> None:
    """Back to "uploaded" after a dry run, so the real run starts from clean counts."""
    imp.problems.all().delete()
    imp.status = Import.Status.UPLOADED
    imp.dry_run = False
    imp.rows_done = imp.created = imp.updated = imp.skipped = imp.failed = imp.companies_created = 0
    imp.started_at = imp.finished_at = imp.written_at = None
    imp.to_index = imp.indexed_rows = 0
    imp.error = ""
    imp.cancel_requested = False


def apply_saved_mapping(*, actor, imp: Import, saved_mapping: SavedMapping) -> Import:
    """Use a saved mapping: its columns that this file has are mapped as saved, others proposed as usual."""
    _require(actor, imp)
    if saved_mapping.object_type != imp.object_type:
        raise ValidationError({"saved_mapping": [f"“{saved_mapping}” is a mapping for "
                                                 f"{saved_mapping.get_object_type_display().lower()}."]})
    columns = source_for(imp).columns
    known = mapping_mod.target_keys(imp.object_type)
    lower = {c.lower(): c for c in columns}
    mapping: dict[str, str | None] = dict.fromkeys(columns)
    for column, target in saved_mapping.mapping.items():
        actual = lower.get(str(column).lower())
        if actual and target in known:
            mapping[actual] = target
    match_on = saved_mapping.match_on if (not saved_mapping.match_on or
                                          mapping_mod.MATCH_TARGET.get(saved_mapping.match_on) in mapping.values()) \
        else ""
    return set_mapping(actor=actor, imp=imp, mapping=mapping, match_on=match_on,
                       on_duplicate=saved_mapping.on_duplicate)


def saved_mappings(object_type: str):
    return SavedMapping.objects.filter(object_type=object_type).order_by("name")


def create_custom_field_from_column(*, actor, imp: Import, column: str, label: str, field_type: str,
                                    choices: list[str] | None = None) -> CustomField:
    """Create a custom field on the import's record type (admins and managers) and map the column to it.
    For select fields without explicit choices, the distinct values of the column (up to 100) become them."""
    from kith.core.custom_field_services import create_custom_field

    _require(actor, imp)
    _editable(imp)
    source = source_for(imp)
    if column not in source.columns:
        raise ValidationError({"column": [f"The file has no column “{column}”."]})
    data: dict[str, Any] = {"object_type": imp.object_type, "label": label or column, "field_type": field_type}
    if field_type in ("select", "multiselect"):
        if not choices:
            idx = source.columns.index(column)
            seen: list[str] = []
            for _, cells in source.rows():
                value = cells[idx].strip() if idx < len(cells) else ""
                parts = [v.strip() for v in value.split(",")] if field_type == "multiselect" else [value]
                for v in parts:
                    if v and v not in seen:
                        seen.append(v)
                if len(seen) > 100:
                    raise ValidationError({"field_type": [f"Column “{column}” has more than 100 different "
                                                          "values; use a text field."]})
            choices = seen
        data["choices"] = choices
    if field_type == "currency":
        data["currency"] = getattr(settings, "KITH_DEFAULT_CURRENCY", "USD")
    with transaction.atomic():
        field = create_custom_field(actor=actor, data=data)
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        imp.mapping = {**imp.mapping, column: f"cf_{field.key}"}
        imp.save(update_fields=["mapping"])
    return field


# --- running -------------------------------------------------------------------------------------------


def start_import(*, actor, imp: Import, dry_run: bool = False, enqueue: bool = True) -> Import:
    """Queue the run (a background job "imports.run"). A dry run validates every row and reports problems
    without writing any record; afterwards the mapping can still change and the real run be started.
    enqueue=False leaves the run to the caller (``kith import`` runs it in-process with engine.run)."""
    _require(actor, imp)
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status != Import.Status.UPLOADED:
            if imp.dry_run and imp.status in (Import.Status.DONE, Import.Status.FAILED, Import.Status.CANCELLED):
                _reset(imp)
            else:
                raise ConflictError(f"This import is {imp.get_status_display().lower()}; it cannot start again.")
        clean = _validate_mapping(imp, imp.mapping, source_for(imp).columns)
        _check_policy(imp, clean, imp.match_on, imp.on_duplicate)
        imp.mapping = clean
        imp.status = Import.Status.QUEUED
        imp.dry_run = bool(dry_run)
        imp.cancel_requested = False
        imp.save()
        if enqueue:
            jobs.enqueue("imports.run", import_id=imp.pk, max_attempts=1, unique_key=f"import:{imp.pk}")
    return imp


def cancel_import(*, actor, imp: Import) -> Import:
    """Ask a queued or running import to stop. A queued one stops at once; a running one after its current
    batch (what earlier batches wrote stays, and can be undone)."""
    _require(actor, imp)
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=imp.pk)
        if imp.status == Import.Status.QUEUED:
            imp.status = Import.Status.CANCELLED
            imp.finished_at = timezone.now()
            imp.cancel_requested = True
        elif imp.status == Import.Status.RUNNING and imp.written_at is not None:
            raise ConflictError("Every row of this import is written; only their history and search index are "
                                "still being written, which cannot be stopped. Undo the import when it is done.")
        elif imp.status == Import.Status.RUNNING:
            imp.cancel_requested = True
        else:
            raise ConflictError(f"This import is {imp.get_status_display().lower()}; there is nothing to cancel.")
        imp.save()
    return imp


def undo_inline_max() -> int:
    """Imports that wrote at most this many records (KITH_IMPORT_UNDO_INLINE_MAX, 2,000) are undone in the
    request, so the person sees the result at once; larger ones as a background job with progress."""
    return int(getattr(settings, "KITH_IMPORT_UNDO_INLINE_MAX", 2000))


def undo_import(*, actor, imp: Import, enqueue: bool = True) -> dict[str, Any]:
    """Remove the records the import created and restore the fields it updated, record by record, where
    nothing else has changed them since (their version is still the one the import left).

    An import that wrote at most undo_inline_max() records is undone now; returns
    {"deleted": n, "restored": n, "not_undone": [{"type", "id", "label", "reason"}] (the first 1,000),
    "not_undone_count": n}. A larger one becomes ``undoing`` and the "imports.undo" job undoes it (its
    progress and, at the end, the same report are on the import: undo_progress); returns the report so far
    (what an earlier undo that stopped midway did) with "queued": True. enqueue=False leaves that undo to
    the caller (``kith import undo`` runs engine.undo in its own process; "queued" is then False).
    """
    from .engine import undo, undo_size, undo_start_report

    _require(actor, imp)
    with transaction.atomic():
        locked = Import.objects.select_for_update().get(pk=imp.pk)
        if not locked.can_undo:
            if locked.status == Import.Status.UNDONE:
                raise ConflictError("This import was already undone.")
            if locked.status == Import.Status.UNDOING:
                raise ConflictError("This import is being undone already.")
            raise ConflictError("Only a finished import that wrote records can be undone.")
        size = undo_size(locked)
        if size > undo_inline_max():
            report = undo_start_report(locked)
            locked.status = Import.Status.UNDOING
            locked.undo_total, locked.undo_done, locked.undo_report = size, 0, report
            locked.save(update_fields=["status", "undo_total", "undo_done", "undo_report"])
            if enqueue:
                jobs.enqueue("imports.undo", import_id=locked.pk, actor_id=getattr(actor, "pk", None),
                             max_attempts=1, unique_key=f"import-undo:{locked.pk}")
            return {"deleted": report["deleted"], "restored": report["restored"], "not_undone": [],
                    "not_undone_count": 0, "queued": enqueue, "undoing": True}
    return undo(imp=locked, actor=actor)


def undo_progress(imp: Import) -> dict[str, Any] | None:
    """{"records_done", "records_total", "percent", "deleted", "restored", "not_undone_count"} of the undo
    running, stopped or finished; None before any undo (and for imports undone before undos kept a report)."""
    report = imp.undo_report or {}
    if not report and imp.status != Import.Status.UNDOING:
        return None
    total, done = imp.undo_total, min(imp.undo_done, imp.undo_total)
    percent = 100.0 * done / total if total else (100.0 if imp.status == Import.Status.UNDONE else 0.0)
    return {"records_done": done, "records_total": total, "percent": round(percent, 1),
            "deleted": int(report.get("deleted", 0)), "restored": int(report.get("restored", 0)),
            "not_undone_count": int(report.get("not_undone_count", len(report.get("not_undone") or [])))}


JOB_LABELS = {
    "imports.run": "another import", "imports.undo": "undoing an import", "exports.run": "an export",
    "duplicates.scan": "a duplicate scan", "duplicates.full_scan": "a full duplicate scan",
    "duplicates.scan_imported": "a duplicate scan of imported records", "mail.send": "sending email",
}


def queue_wait(imp: Import) -> dict[str, Any] | None:
    """For a queued import: how long its job has waited, and what the workers are running meanwhile
    ([{"label", "seconds"}], longest first). None when the import is not waiting for a worker."""
    from kith.core.models import Job

    job = Job.objects.filter(unique_key=f"import:{imp.pk}", status=Job.Status.QUEUED).only("created_at").first()
    if job is None:  # (queued without a job: a run started in this process, e.g. kith import)
        return None
    now = timezone.now()
    busy = [{"label": JOB_LABELS.get(name, name.replace("_", " ")),
             "seconds": max(0.0, (now - locked_at).total_seconds()) if locked_at else 0.0}
            for name, locked_at in Job.objects.filter(status=Job.Status.RUNNING)
            .order_by("locked_at").values_list("name", "locked_at")[:3]]
    return {"queued_seconds": max(0.0, (now - job.created_at).total_seconds()), "busy": busy}


def duplicate_scans(imp: Import) -> list[dict[str, Any]]:
    """The duplicate scans that check what a finished contact or company import wrote (queued by it when it
    finished; see kith.duplicates.jobs): one per type, {"object_type", "noun", "status" (queued, running,
    done or failed), "pairs_found", "pairs_new", "pairs_known", "finished_at", "review_url"}. Empty for a dry
    run, an import that wrote nothing or was undone, and for leads and deals."""
    return duplicate_scans_of([imp])[imp.pk]


def duplicate_scans_of(imps: list[Import]) -> dict[int, list[dict[str, Any]]]:
    """duplicate_scans of each import (by id), in at most three queries (a page of the list)."""
    from kith.duplicates.jobs import import_scan_types, scan_statuses

    wanted: list[tuple[int, str, Any]] = []
    for imp in imps:
        if imp.dry_run or imp.finished_at is None or imp.status in (Import.Status.UNDOING, Import.Status.UNDONE):
            continue
        for t in import_scan_types(imp.object_type, created=imp.created, updated=imp.updated,
                                   companies_created=imp.companies_created):
            wanted.append((imp.pk, t, imp.finished_at))
    out: dict[int, list[dict[str, Any]]] = {imp.pk: [] for imp in imps}
    for (pk, _, _), status in zip(wanted, scan_statuses([(t, since) for _, t, since in wanted]), strict=True):
        if status is not None:
            out[pk].append(status)
    return out


# --- reading -------------------------------------------------------------------------------------------


def progress(imp: Import, *, reload: bool = True) -> dict[str, Any]:
    """{"status", "phase", "dry_run", "rows_done", "total_rows", "percent", "rows_per_second", "created",
    "updated", "skipped", "failed", "eta_seconds", "indexed", "to_index", "index_percent",
    "index_rows_per_second", "error", "finished"} from the latest committed batch.

    phase: "writing" (rows are read, checked and written; rows_done of total_rows), then "indexing" (the
    new contacts' history and search documents: indexed of to_index), None when not running. The speed and
    time left are those of the current phase; rows_per_second after "writing" is that phase's.
    reload=False: imp was just read (a page of the list), use it as it is."""
    if reload:
        imp = Import.objects.get(pk=imp.pk)
    now = timezone.now()
    running = imp.status == Import.Status.RUNNING
    phase = ("indexing" if imp.written_at else "writing") if running else None
    rate = eta = index_rate = None
    if imp.started_at and imp.rows_done:
        end = imp.written_at or imp.finished_at or now
        rate = imp.rows_done / max((end - imp.started_at).total_seconds(), 1e-3)
        if imp.total_rows and phase == "writing" and rate > 0:
            eta = max(0.0, (imp.total_rows - imp.rows_done) / rate)
    if imp.written_at and imp.indexed_rows:
        end = imp.finished_at or now
        index_rate = imp.indexed_rows / max((end - imp.written_at).total_seconds(), 1e-3)
        if phase == "indexing":
            eta = max(0.0, (imp.to_index - imp.indexed_rows) / index_rate)
    percent = None
    if imp.total_rows:
        percent = min(100.0, 100.0 * imp.rows_done / imp.total_rows)
    elif imp.total_rows == 0 and imp.is_finished:
        percent = 100.0
    index_percent = min(100.0, 100.0 * imp.indexed_rows / imp.to_index) if imp.to_index else None
    return {
        "id": imp.pk,
        "status": imp.status,
        "phase": phase,
        "dry_run": imp.dry_run,
        "rows_done": imp.rows_done,
        "total_rows": imp.total_rows,
        "percent": percent,
        "rows_per_second": rate,
        "created": imp.created,
        "updated": imp.updated,
        "skipped": imp.skipped,
        "failed": imp.failed,
        "companies_created": imp.companies_created,
        "eta_seconds": eta,
        "indexed": imp.indexed_rows,
        "to_index": imp.to_index,
        "index_percent": index_percent,
        "index_rows_per_second": index_rate,
        "error": imp.error,
        "finished": imp.is_finished,
    }


def failed_rows_csv(imp: Import) -> Iterator[bytes]:
    """The file's failed rows (original header and cells) plus a "reason" column, as UTF-8 (with a BOM so
    Excel reads it), streamed. Cells that start with = + - @ are prefixed with ' (no formulas)."""
    source = source_for(imp)
    reasons: dict[int, list[str]] = {}
    for row_number, column, reason in ImportProblem.objects.filter(imp=imp).values_list(
        "row_number", "column", "reason"
    ).iterator(chunk_size=2000):
        reasons.setdefault(row_number, []).append(f"{column}: {reason}" if column else reason)

    def safe(cell: str) -> str:
        return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", *source.columns, "reason"])
    yield ("\ufeff" + buf.getvalue()).encode()
    if not reasons:
        return
    last = max(reasons)
    for number, cells in source.rows():
        if number in reasons:
            buf.seek(0)
            buf.truncate()
            cells = (list(cells) + [""] * len(source.columns))[: len(source.columns)]
            writer.writerow([number, *(safe(c) for c in cells), "; ".join(reasons[number])])
            yield buf.getvalue().encode()
        if number >= last:
            break
