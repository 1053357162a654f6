"""Settings → Background jobs (admins only): counts, queued / running / failed tables, retry.

Every query is bounded: counts stop at COUNT_CAP rows, tables read one keyset page through the
(status, run_at) index, so the page stays fast however many finished jobs pile up.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core import jobs as job_services
from kith.core.errors import PermissionDenied, ValidationError
from kith.core.models import Job
from kith.core.pagination import Ordering, paginate

from .views_settings import render_settings

SECTION = "web:settings_jobs"
PAGE_SIZE = 25
COUNT_CAP = 10_000
NEWEST = Ordering("run_at", ("run_at",))
TABLES = [
    (Job.Status.QUEUED, "Queued", "Waiting for a worker, including retries scheduled for later."),
    (Job.Status.RUNNING, "Running", "Claimed by a worker right now."),
    (Job.Status.FAILED, "Failed", "Gave up after their last attempt. Retry runs them again from the first attempt."),
]
ARGS_PREVIEW = 120


def require_admin(user) -> None:
    if not user.is_admin:
        raise PermissionDenied("Only admins can see and retry background jobs.")


class JobRow:
    """What the tables show of a job."""

    def __init__(self, job: Job):
        self.job = job
        args = json.dumps(job.args, ensure_ascii=False, sort_keys=True, default=str) if job.args else ""
        self.args_full = args
        self.args = args if len(args) <= ARGS_PREVIEW else args[: ARGS_PREVIEW - 1] + "…"
        error = (job.last_error or "").strip()
        first_line = error.splitlines()[0] if error else ""
        self.error_summary = first_line if len(first_line) <= 160 else first_line[:159] + "…"
        self.error_has_more = error != self.error_summary
        self.error = error


def _count(status: str) -> tuple[int, bool]:
    n = Job.objects.filter(status=status).order_by()[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def _table(status: str, title: str, text: str, cursor: str | None) -> dict:
    rows, next_cursor = paginate(
        Job.objects.filter(status=status), ordering=NEWEST, descending=True, cursor=cursor, limit=PAGE_SIZE
    )
    more_url = f"{reverse('web:settings_jobs')}?status={status}&cursor={next_cursor}" if next_cursor else ""
    return {
        "status": status,
        "title": title,
        "text": text,
        "rows": [JobRow(j) for j in rows],
        "more_url": more_url,
        "colspan": 7 if status == Job.Status.FAILED else 6,
    }


@login_required
@require_GET
def job_list(request):
    require_admin(request.user)
    only = request.GET.get("status")
    cursor = request.GET.get("cursor") or None
    tables_spec = [t for t in TABLES if t[0] == only] if only else TABLES
    if not tables_spec:
        return redirect("web:settings_jobs")
    try:
        tables = [_table(status, title, text, cursor if only else None) for status, title, text in tables_spec]
    except ValidationError:
        return redirect("web:settings_jobs")
    if request.htmx and only and cursor:
        # "Show older" in place: the next rows, ending with a new "Show older" row.
        return render(request, "web/settings/jobs/_rows.html", {"table": tables[0]})
    counts = []
    for status, label in Job.Status.choices:
        n, capped = _count(status)
        counts.append({"status": status, "label": label, "count": n, "capped": capped})
    return render_settings(
        request,
        "web/settings/jobs/list.html",
        {"counts": counts, "tables": tables, "only": only, "paged": bool(cursor)},
        section=SECTION,
    )


@login_required
@require_POST
def job_retry(request, pk: int):
    require_admin(request.user)
    job = get_object_or_404(Job, pk=pk)
    if job.status != Job.Status.FAILED:
        messages.info(request, f"Job #{job.pk} ({job.name}) is {job.get_status_display().lower()}, not failed.")
    else:
        job_services.retry(job)
        messages.success(request, f"Job #{job.pk} ({job.name}) was queued again.")
    return redirect(reverse("web:settings_jobs") + "#failed-jobs")
