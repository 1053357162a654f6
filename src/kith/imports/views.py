"""Import pages: history, upload, column mapping with a live preview, dry run, progress, result and undo.

The flow: /imports/new/ (object type + file) → /imports/<id>/mapping/ (each column's target, custom fields,
saved mappings, duplicates policy, the first rows as they will be imported) → dry run or import →
/imports/<id>/ (a progress bar polled by htmx while the job runs, then the counts, the problems, the failed
rows as CSV and undo). Every write goes through kith.imports.services.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.activities.templatetags.activities_tags import duration
from kith.core import permissions
from kith.core.errors import ConflictError
from kith.core.models import CustomField
from kith.core.pagination import Ordering, paginate
from kith.web.ui import is_fragment_request, vary_htmx

from . import mapping as mapping_mod
from . import services
from .forms import IGNORE, LoadMappingForm, MappingForm, UploadForm
from .models import Import

NEWEST = Ordering("id", ())
BY_ROW = Ordering("row_number", ("row_number",))
PAGE_SIZE = 25
PROBLEMS_SHOWN = 100
PROBLEMS_COUNT_CAP = 100_000
POLL_SECONDS = 1


# --- who sees and changes imports ----------------------------------------------------------------------


def can_change(user, imp: Import) -> bool:
    """Who may map, start, cancel and undo an import: whoever can see it (its creator, admins and managers),
    never a viewer."""
    return bool(user.can_write) and (imp.created_by_id == user.pk or user.can_manage_settings)


def require_change(user, imp: Import | None = None) -> None:
    permissions.require_write(user)
    if imp is not None and not can_change(user, imp):
        raise PermissionDenied("Only the person who uploaded this file, or an admin or manager, can change it.")


def get_import(request: HttpRequest, pk: int) -> Import:
    imp = services.visible_imports(request.user).filter(pk=pk).first()
    if imp is None:
        raise Http404("No such import.")
    return imp


def can_map(imp: Import) -> bool:
    """The mapping can change before the import runs, and after a dry run (to fix what it reported)."""
    if imp.status == Import.Status.UPLOADED:
        return True
    return imp.dry_run and imp.status in (Import.Status.DONE, Import.Status.FAILED, Import.Status.CANCELLED)


# --- history -------------------------------------------------------------------------------------------


@login_required
@require_GET
def import_list(request):
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = paginate(services.visible_imports(request.user), ordering=NEWEST, descending=True,
                                     cursor=cursor, limit=PAGE_SIZE)
    except ValidationError:
        return redirect("web:import_list")
    next_url = f"{reverse('web:import_list')}?cursor={next_cursor}" if next_cursor else ""
    ctx = {"rows": rows, "next_url": next_url, "colspan": 9, "paged": bool(cursor),
           "can_import": request.user.can_write}
    if is_fragment_request(request) and cursor:
        return vary_htmx(render(request, "imports/_list_rows.html", ctx))
    return vary_htmx(render(request, "imports/list.html", ctx))


# --- upload --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    require_change(request.user)
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imp = services.create_import(actor=request.user, object_type=form.cleaned_data["object_type"],
                                             file_name=PurePath(upload.name).name, fileobj=upload)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("web:import_mapping", pk=imp.pk)
        status = 400
    else:
        initial = {}
        if request.GET.get("type") in {c for c, _ in UploadForm.base_fields["object_type"].choices}:
            initial["object_type"] = request.GET["type"]
        form = UploadForm(initial=initial)
    return render(request, "imports/new.html", {"form": form, "step": 1}, status=status)


# --- mapping -------------------------------------------------------------------------------------------


def _columns(preview: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": col["column"], "header": col["column"] or f"Column {i + 1}", "samples": col.get("samples") or [],
             "target": col.get("target")} for i, col in enumerate(preview.get("columns") or [])]


def _mapping_form(request, imp: Import, preview: dict[str, Any], data=None) -> MappingForm:
    columns = _columns(preview)
    initial: dict[str, Any] = {"match_on": imp.match_on, "on_duplicate": imp.on_duplicate}
    for i, col in enumerate(columns):
        initial[f"col_{i}"] = col["target"] or IGNORE
    form = MappingForm(data, columns=columns, targets=preview.get("targets") or [], initial=initial,
                       match_on_choices=[(c["key"], c["label"]) for c in preview.get("match_on_choices") or []])
    # Each change stores the mapping and shows the preview again (htmx); without JavaScript, "Update preview".
    autosave = {"hx-post": reverse("web:import_mapping", args=[imp.pk]), "hx-trigger": "change",
                "hx-target": "#mapping-form", "hx-select": "#mapping-form", "hx-swap": "outerHTML",
                "hx-vals": '{"action": "preview"}'}
    for name in [*form.column_fields, "match_on", "on_duplicate"]:
        form.fields[name].widget.attrs.update(autosave)
    return form


def _preview_table(preview: dict[str, Any]) -> dict[str, Any]:
    """The preview's first rows as a table: one column per mapped target, in the file's column order."""
    labels = {t["key"]: t["label"] for t in preview.get("targets") or [] if t.get("key")}
    target_of = {c["column"]: c["target"] for c in preview.get("columns") or [] if c.get("target")}
    keys = list(dict.fromkeys(target_of.values()))
    rows = []
    for row in preview.get("rows") or []:
        values = row.get("values") or {}
        # A problem is named by the target or by the file's column: shown in the target's cell either way.
        errors = {target_of.get(k, k): str(m) for k, m in (row.get("errors") or {}).items()}
        for k in values:
            if k not in keys:
                keys.append(k)
        rows.append({"row_number": row.get("row_number", ""), "values": values, "errors": errors})
    table_rows = []
    for row in rows:
        cells = []
        for k in keys:
            cells.append({"value": _cell(row["values"].get(k)), "error": row["errors"].get(k, "")})
        other = [f"{_label(labels, k)}: {m}" for k, m in row["errors"].items() if k not in keys]
        table_rows.append({"row_number": row["row_number"], "cells": cells, "other_errors": other,
                           "has_errors": bool(row["errors"])})
    return {"headers": [_label(labels, k) for k in keys], "rows": table_rows}


def _label(labels: dict[str, str], key: str) -> str:
    return labels.get(key) or str(key)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _mapping_context(request, imp: Import, preview: dict[str, Any], form: MappingForm, *,
                     load_form: LoadMappingForm | None = None, new_field: dict[str, Any] | None = None,
                     ) -> dict[str, Any]:
    labels = {t["key"]: t["label"] for t in preview.get("targets") or [] if t.get("key")}
    proposed = mapping_mod.propose(imp.object_type, [c["key"] for c in form.columns])
    new_field = new_field or {}
    columns = []
    for i, col in enumerate(form.columns):
        suggestion = proposed.get(col["key"])
        columns.append({
            **col,
            "field": form[f"col_{i}"],
            "index": i,
            "recognised": labels.get(suggestion, "") if suggestion else "",
            "new_label": request.POST.get(f"new_label_{i}", "") if request.method == "POST" else "",
            "new_type": request.POST.get(f"new_type_{i}", "text") if request.method == "POST" else "text",
            "new_errors": new_field.get("errors", []) if new_field.get("index") == i else [],
            "new_open": new_field.get("index") == i,
        })
    saved = list(services.saved_mappings(imp.object_type))
    return {
        "imp": imp,
        "form": form,
        "columns": columns,
        "preview": _preview_table(preview),
        "load_form": load_form or LoadMappingForm(object_type=imp.object_type),
        "has_saved_mappings": bool(saved) or load_form is not None,
        "can_create_fields": request.user.can_manage_settings,
        "field_types": CustomField.FieldType.choices,
        "step": 2,
    }


def _render_mapping(request, imp: Import, form: MappingForm, preview: dict[str, Any], *, status: int = 200,
                    **extra) -> HttpResponse:
    return render(request, "imports/mapping.html", _mapping_context(request, imp, preview, form, **extra),
                  status=status)


def _save_mapping(request, imp: Import, form: MappingForm) -> bool:
    """Validate the form and store the mapping through the service; errors land on the form."""
    if not form.is_valid():
        return False
    cd = form.cleaned_data
    try:
        services.set_mapping(actor=request.user, imp=imp, mapping=form.mapping(), match_on=cd.get("match_on") or "",
                             on_duplicate=cd["on_duplicate"], save_as=(cd.get("save_as") or "").strip() or None)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    except ConflictError as exc:
        form.add_error(None, exc.message)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    imp = get_import(request, pk)
    require_change(request.user, imp)
    if not can_map(imp):
        messages.info(request, "This import has run; its mapping can no longer change.")
        return redirect(imp.get_absolute_url())
    try:
        preview = services.preview(imp)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(imp.get_absolute_url())
    if request.method == "GET":
        return _render_mapping(request, imp, _mapping_form(request, imp, preview), preview)

    action = request.POST.get("action", "preview")
    form = _mapping_form(request, imp, preview, request.POST)
    saved = _save_mapping(request, imp, form)
    if saved:
        imp.refresh_from_db()
    if is_fragment_request(request):
        # The live preview: the mapping is stored as the user changes it, and the rows shown again.
        if saved:
            preview = services.preview(imp)
        return vary_htmx(_render_mapping(request, imp, form, preview, status=200 if saved else 400))
    if not saved:
        return _render_mapping(request, imp, form, preview, status=400)
    if form.cleaned_data.get("save_as"):
        messages.success(request, f"The mapping was saved as “{' '.join(form.cleaned_data['save_as'].split())}”.")
    if action in ("dry_run", "import"):
        try:
            services.start_import(actor=request.user, imp=imp, dry_run=action == "dry_run")
        except ValidationError as exc:
            form.add_service_errors(exc)
            return _render_mapping(request, imp, form, services.preview(imp), status=400)
        except ConflictError as exc:
            messages.error(request, exc.message)
        return redirect(imp.get_absolute_url())
    return redirect("web:import_mapping", pk=imp.pk)


@login_required
@require_POST
def import_load_mapping(request, pk: int):
    imp = get_import(request, pk)
    require_change(request.user, imp)
    if not can_map(imp):
        return redirect(imp.get_absolute_url())
    load_form = LoadMappingForm(request.POST, object_type=imp.object_type)
    if load_form.is_valid():
        saved = load_form.cleaned_data["saved_mapping"]
        try:
            services.apply_saved_mapping(actor=request.user, imp=imp, saved_mapping=saved)
        except (ValidationError, ConflictError) as exc:
            for message in getattr(exc, "messages", None) or [exc.message]:
                load_form.add_error("saved_mapping", message)
        else:
            messages.success(request, f"The saved mapping “{saved.name}” was applied. Check it below.")
            return redirect("web:import_mapping", pk=imp.pk)
    preview = services.preview(imp)
    return _render_mapping(request, imp, _mapping_form(request, imp, preview), preview, status=400,
                           load_form=load_form)


FIELD_TYPES = dict(CustomField.FieldType.choices)


@login_required
@require_POST
def import_new_field(request, pk: int):
    """“Create a custom field from this column”: stores the other columns' choices, creates the field and
    maps the column to it."""
    imp = get_import(request, pk)
    require_change(request.user, imp)
    permissions.require_settings(request.user)
    if not can_map(imp):
        return redirect(imp.get_absolute_url())
    preview = services.preview(imp)
    columns = _columns(preview)
    raw = request.POST.get("new_field", "")
    if not raw.isdigit() or int(raw) >= len(columns):
        messages.error(request, "Choose the column to create a custom field from.")
        return redirect("web:import_mapping", pk=imp.pk)
    index = int(raw)
    label = " ".join(request.POST.get(f"new_label_{index}", "").split())
    field_type = request.POST.get(f"new_type_{index}", "text")
    form = _mapping_form(request, imp, preview, request.POST)
    errors = []
    if not label:
        errors.append("Enter a label for the new field.")
    elif len(label) > 100:
        errors.append("Use at most 100 characters for the label.")
    if field_type not in FIELD_TYPES:
        errors.append("Choose the type of the new field.")
    if errors or not _save_mapping(request, imp, form):
        return _render_mapping(request, imp, form, preview, status=400,
                               new_field={"index": index, "errors": errors})
    try:
        field = services.create_custom_field_from_column(actor=request.user, imp=imp, column=columns[index]["key"],
                                                         label=label, field_type=field_type)
    except (ValidationError, ConflictError) as exc:
        errors = list(getattr(exc, "messages", None) or [exc.message])
        return _render_mapping(request, imp, form, preview, status=400, new_field={"index": index, "errors": errors})
    messages.success(request, f"The custom field “{field.label}” was created; column “{columns[index]['header']}” "
                              "is imported into it.")
    return redirect("web:import_mapping", pk=imp.pk)


# --- run -----------------------------------------------------------------------------------------------


def _errors_to_messages(request, exc: Exception) -> None:
    for message in getattr(exc, "messages", None) or [getattr(exc, "message", str(exc))]:
        messages.error(request, message)


@login_required
@require_POST
def import_start(request, pk: int):
    """Start the run from the record page: “Import now” after a dry run, or “Dry run again”."""
    imp = get_import(request, pk)
    require_change(request.user, imp)
    dry_run = request.POST.get("dry_run") in ("1", "true", "on")
    try:
        services.start_import(actor=request.user, imp=imp, dry_run=dry_run)
    except (ValidationError, ConflictError) as exc:
        _errors_to_messages(request, exc)
    return redirect(imp.get_absolute_url())


@login_required
@require_POST
def import_cancel(request, pk: int):
    imp = get_import(request, pk)
    require_change(request.user, imp)
    try:
        imp = services.cancel_import(actor=request.user, imp=imp)
    except (ValidationError, ConflictError) as exc:
        _errors_to_messages(request, exc)
    else:
        if imp.status == Import.Status.CANCELLED:
            messages.info(request, "The import was cancelled before it started.")
        else:
            messages.info(request, "The import stops after the rows it is writing now. What it wrote stays "
                                   "until you undo the import.")
    return redirect(imp.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def import_undo(request, pk: int):
    """GET: the confirmation (without JavaScript; with it, a dialog on the record page). POST: undo."""
    imp = get_import(request, pk)
    require_change(request.user, imp)
    if request.method == "GET":
        if not imp.can_undo:
            return redirect(imp.get_absolute_url())
        return render(request, "imports/confirm_undo.html", {"imp": imp, "step": 3})
    try:
        report = services.undo_import(actor=request.user, imp=imp)
    except (ValidationError, ConflictError) as exc:
        _errors_to_messages(request, exc)
    else:
        if report.get("queued"):
            messages.info(request, "The import is being undone in the background. This page shows how far it "
                                   "got, and what could not be undone when it is done.")
    return redirect(imp.get_absolute_url())


# --- record page and progress --------------------------------------------------------------------------


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"about {max(seconds, 1)} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds // 3600} h {round(seconds % 3600 / 60)} min left"


NO_WORKER_AFTER = 15  # seconds an import waits with no job running before the page asks whether a worker runs


def duration_text(seconds: float) -> str:
    """"40 s", "1 min 35 s", "2 h 5 min": the activities' duration filter, to the nearest second."""
    return duration(round(seconds))


def _status_context(request, imp: Import) -> dict[str, Any]:
    progress = services.progress(imp)
    imp.refresh_from_db()
    problems: list[Any] = []
    n_problems = 0
    next_url = ""
    if imp.is_finished:
        problems, next_url = _problem_page(imp, None)
        n_problems = imp.problems.order_by()[:PROBLEMS_COUNT_CAP + 1].count() if next_url else len(problems)
    indexing = progress.get("phase") == "indexing"
    undo = services.undo_progress(imp)
    # an undo that stopped midway put the status back and its reason in the error; the import's own error
    # (why a failed run failed) is kept in its report
    undo_stopped = bool(imp.undo_report) and imp.status not in (Import.Status.UNDOING, Import.Status.UNDONE)
    rate = progress.get("index_rows_per_second" if indexing else "rows_per_second")
    percent = progress.get("index_percent" if indexing else "percent")
    scans = services.duplicate_scans(imp)
    wait = services.queue_wait(imp) if imp.status == Import.Status.QUEUED else None
    return {
        "wait": wait,
        "wait_busy": [f"{b['label']} (running for {duration_text(b['seconds'])})" for b in wait["busy"]] if wait else [],
        "wait_for": duration_text(wait["queued_seconds"]) if wait else "",
        "no_worker": bool(wait and not wait["busy"] and wait["queued_seconds"] >= NO_WORKER_AFTER),
        "is_admin": getattr(request.user, "is_admin", False),
        "duplicate_scans": scans,
        "scan_pending": any(s["status"] in ("queued", "running") for s in scans),
        "imp": imp,
        "progress": progress,
        "indexing": indexing,
        "percent": int(percent) if percent is not None else None,
        "rate": round(rate) if rate else None,
        "eta": eta_text(progress.get("eta_seconds")),
        "problems": problems,
        "problems_count": min(n_problems, PROBLEMS_COUNT_CAP),
        "problems_capped": n_problems > PROBLEMS_COUNT_CAP,
        "problems_more": n_problems > len(problems),
        "next_url": next_url,
        "colspan": 4,
        "can_change": can_change(request.user, imp),
        "can_map": can_map(imp),
        "poll_seconds": POLL_SECONDS,
        "step": 3,
        "undo": undo,
        "undo_percent": int(undo["percent"]) if undo else None,
        "undo_stopped": undo_stopped,
        "import_error": (imp.undo_report.get("error_before", "") if undo_stopped else imp.error),
        "undo_report": imp.undo_report if imp.status == Import.Status.UNDONE else None,
    }


@login_required
@require_GET
def import_detail(request, pk: int):
    imp = get_import(request, pk)
    ctx = _status_context(request, imp)
    return render(request, "imports/detail.html", ctx)


@login_required
@require_GET
def import_progress(request, pk: int):
    """The status block alone, polled by htmx while the import runs; once it has finished, the result."""
    imp = get_import(request, pk)
    if not is_fragment_request(request):
        return redirect(imp.get_absolute_url())
    ctx = {**_status_context(request, imp), "fragment": True, "scan_part": request.GET.get("part") == "scan"}
    return vary_htmx(render(request, "imports/_status.html", ctx))


def _problem_page(imp: Import, cursor: str | None) -> tuple[list[Any], str]:
    rows, next_cursor = paginate(imp.problems.all(), ordering=BY_ROW, descending=False, cursor=cursor,
                                 limit=PROBLEMS_SHOWN)
    next_url = f"{reverse('web:import_problems', args=[imp.pk])}?cursor={next_cursor}" if next_cursor else ""
    return rows, next_url


@login_required
@require_GET
def import_problems(request, pk: int):
    """More rows of the problems table (“Show more problems”), in file order."""
    imp = get_import(request, pk)
    if not is_fragment_request(request):
        return redirect(imp.get_absolute_url())
    try:
        problems, next_url = _problem_page(imp, request.GET.get("cursor") or None)
    except ValidationError:
        return redirect(imp.get_absolute_url())
    return vary_htmx(render(request, "imports/_problem_rows.html",
                            {"problems": problems, "next_url": next_url, "colspan": 4}))


@login_required
@require_GET
def import_failed_rows(request, pk: int):
    imp = get_import(request, pk)
    try:
        rows = services.failed_rows_csv(imp)
        first = next(rows)  # the header: a missing file fails here, before the response starts
    except ValidationError as exc:
        _errors_to_messages(request, exc)
        return redirect(imp.get_absolute_url())
    stem = PurePath(imp.file_name).stem or "import"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:80] or "import"

    def body():
        yield first
        yield from rows

    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe}-failed-rows.csv"'
    return response
