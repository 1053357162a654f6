"""Background jobs of this app (registered when the app loads): the nightly duplicate scan, and the scan an
import queues when it finishes (so its records are checked against everyone at once, not the next night)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from kith.core import events, jobs
from kith.core.jobs import job, periodic

from . import detection

IMPORT_SCAN = "duplicates.scan_imported"


@periodic("duplicates.scan", every=timedelta(hours=24))
def scheduled_scan() -> dict:
    """Incremental scan of contacts and companies (records written since the last scan; full the first time)."""
    return {t: detection.scan(t).__dict__ for t in ("contact", "company")}


@job("duplicates.full_scan", max_attempts=2)
def full_scan(object_type: str = "", min_confidence: int | None = None) -> dict:
    types = [object_type] if object_type else ["contact", "company"]
    return {t: detection.scan(t, full=True, min_conf=min_confidence).__dict__ for t in types}


@job(IMPORT_SCAN, max_attempts=3)
def scan_imported(object_type: str) -> dict:
    """An incremental scan of one type: the records imports wrote since the last scan, against all the others
    (several imports that finish while it waits share it)."""
    return {object_type: detection.scan(object_type).__dict__}


def import_scan_key(object_type: str) -> str:
    return f"{IMPORT_SCAN}:{object_type}"


def import_scan_types(object_type: str, *, created: int, updated: int, companies_created: int) -> list[str]:
    """The types an import's scan covers: a contact or company import that wrote records (also one cancelled
    or stopped midway), that type; a contact import that created companies, companies too."""
    types = []
    if object_type in ("contact", "company") and (created or updated):
        types.append(object_type)
    if companies_created and "company" not in types:
        types.append("company")
    return types


@events.subscribe("import.finished")
def _scan_after_import(_name: str, payload: dict) -> None:
    types = import_scan_types(payload.get("object_type", ""), created=payload.get("created", 0),
                              updated=payload.get("updated", 0), companies_created=payload.get("companies_created", 0))
    for object_type in types:
        jobs.enqueue(IMPORT_SCAN, object_type=object_type, unique_key=import_scan_key(object_type))


def scan_status(object_type: str, since) -> dict | None:
    """The duplicate scan of one type that covers records written before `since` (an import's end): the
    first scan started after it (the import's own, the nightly one or a manual one). None when none ran and
    none is queued."""
    from kith.core.models import Job

    from .models import ScanRun

    runs = ScanRun.objects.filter(object_type=object_type, started_at__gte=since)
    review_url = reverse("web:duplicate_list") + f"?type={object_type}"
    base = {"object_type": object_type, "noun": "companies" if object_type == "company" else "contacts",
            "review_url": review_url}
    done = runs.filter(finished_at__isnull=False).order_by("pk").first()
    if done is not None:
        return {**base, "status": "done", "pairs_found": done.found, "pairs_new": done.created,
                "pairs_known": max(0, done.found - done.created), "finished_at": done.finished_at}
    status = (Job.objects.filter(unique_key=import_scan_key(object_type),
                                 status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
              .values_list("status", flat=True).first())
    if status is None and runs.filter(finished_at__isnull=True).exists():
        status = Job.Status.RUNNING  # a nightly or manual scan, still going
    if status is None:
        failed = Job.objects.filter(name=IMPORT_SCAN, args__object_type=object_type, status=Job.Status.FAILED,
                                    created_at__gte=since).exists()
        if not failed:
            return None
        status = Job.Status.FAILED
    return {**base, "status": str(status), "pairs_found": None, "pairs_new": None, "pairs_known": None,
            "finished_at": None}
