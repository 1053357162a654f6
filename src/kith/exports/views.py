"""Export pages: start an export from a list (download now, or queued as a job), the Exports page, downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import ValidationError
from kith.core.pagination import Ordering, paginate
from kith.web.ui import is_fragment_request, page_size, vary_htmx

from . import kinds, services, writers
from .models import Export

NEWEST = Ordering("id", ())


def _list_url(kind: kinds.Kind, query: str) -> str:
    url = reverse(kind.list_spec().url_name)
    return f"{url}?{query}" if query else url


def _board_scope(kind: str, board: str, query: str) -> tuple[QueryDict, str]:
    """An export started from a deal board: the deals the board shows, i.e. its pipeline (every stage) with the
    board's own filters (the list-only ones, such as status or stage, do not apply there). Returns the
    parameters and the board's address to come back to."""
    from kith.sales.models import Pipeline
    from kith.sales.views.board import board_params

    pipeline = Pipeline.objects.filter(pk=int(board)).first() if kind == "deals" and board.isdigit() else None
    if pipeline is None:
        raise Http404("No such pipeline.")
    params = board_params(QueryDict(query))
    back = reverse("web:deal_board", args=[pipeline.pk])
    back = f"{back}?{params.urlencode()}" if params else back
    params["pipeline"] = str(pipeline.pk)
    return params, back


@login_required
@require_POST
def export_start(request, kind: str):
    spec = kinds.get(kind)
    if spec is None:
        raise Http404("Nothing to export here.")
    query = request.POST.get("query", "").lstrip("?")
    params, back = QueryDict(query), ""
    if request.POST.get("board"):
        params, back = _board_scope(kind, request.POST["board"], query)
    try:
        plan, export = services.request_export(
            user=request.user, kind=kind, file_format=request.POST.get("format", "csv"),
            columns=request.POST.get("columns", kinds.SHOWN), params=params,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"The export could not start: {message}")
        return redirect(back or _list_url(spec, query))
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
    """The user's exports, newest first, a page at a time ("Load more" appends the next page's rows)."""
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = paginate(Export.objects.filter(user=request.user), ordering=NEWEST, descending=True,
                                     cursor=cursor, limit=page_size())
    except ValidationError:
        return redirect("web:export_list")  # a stale or mangled page link: start from the newest
    ctx = {
        "rows": rows,
        "next_url": f"{reverse('web:export_list')}?cursor={next_cursor}" if next_cursor else "",
        "colspan": 7,
        "paged": bool(cursor),
        "keep_hours": services.keep_hours(),
        "nav_section": "exports",
    }
    if is_fragment_request(request):
        return vary_htmx(render(request, "exports/_rows.html" if cursor else "exports/_table.html", ctx))
    return vary_htmx(render(request, "exports/list.html", ctx))


@login_required
@require_GET
def export_row(request, pk: int):
    """One export's row: a row waiting for its file polls this until the file is ready (or failed)."""
    export = Export.objects.filter(user=request.user, pk=pk).first()
    if export is None:
        raise Http404("No such export, or it has expired.")
    return vary_htmx(render(request, "exports/_row.html", {"e": export}))


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
