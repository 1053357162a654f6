"""Export pages: start an export from a list (download now, or queued as a job), the Exports page, downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import ValidationError
from kith.web.ui import is_fragment_request, vary_htmx

from . import kinds, services, writers
from .models import Export

LIST_LIMIT = 100


def _list_url(kind: kinds.Kind, query: str) -> str:
    url = reverse(kind.list_spec().url_name)
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def export_start(request, kind: str):
    spec = kinds.get(kind)
    if spec is None:
        raise Http404("Nothing to export here.")
    query = request.POST.get("query", "").lstrip("?")
    try:
        plan, export = services.request_export(
            user=request.user, kind=kind, file_format=request.POST.get("format", "csv"),
            columns=request.POST.get("columns", kinds.SHOWN), params=QueryDict(query),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"The export could not start: {message}")
        return redirect(_list_url(spec, query))
    if export is not None:
        messages.success(
            request,
            f"More than {services.stream_limit():,} {spec.noun_plural} match, so the file is being prepared in the "
            "background. It will appear here, and you will get a notification when it is ready.",
        )
        return redirect("web:export_list")
    name = services.filename(plan)
    content_type = writers.CONTENT_TYPES[plan.file_format]
    if plan.file_format == "xlsx":
        return FileResponse(services.xlsx_tempfile(plan), as_attachment=True, filename=name,
                            content_type=content_type)
    response = StreamingHttpResponse(services.chunks(plan), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export_list(request):
    rows = list(Export.objects.filter(user=request.user).order_by("-id")[:LIST_LIMIT])
    ctx = {
        "rows": rows,
        "pending": any(e.is_pending for e in rows),
        "keep_hours": services.keep_hours(),
        "nav_section": "exports",
    }
    if is_fragment_request(request):
        return vary_htmx(render(request, "exports/_table.html", ctx))
    return vary_htmx(render(request, "exports/list.html", ctx))


@login_required
@require_GET
def export_download(request, pk: int):
    try:
        export, path = services.file_for(user=request.user, export_id=pk)
    except Export.DoesNotExist:
        raise Http404("No such export, or it has expired.") from None
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=export.download_name,  # noqa: SIM115
                            content_type=writers.CONTENT_TYPES[export.file_format])
    response["Cache-Control"] = "private, no-store"
    return response
