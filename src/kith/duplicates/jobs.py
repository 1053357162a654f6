"""Background jobs of this app (registered when the app loads): the nightly duplicate scan, and the scan an
import queues when it finishes (so its records are checked against everyone at once, not the next night)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.urls import reverse

from kith.core import events, jobs
from kith.core.jobs import job, periodic

from . import detection

IMPORT_SCAN = "duplicates.scan_imported"


BUSY_RETRY = timedelta(seconds=60)  # a scan that finds another of its type running is queued again this much later


def _scan_or_later(object_type: str) -> dict:
    """An incremental scan of one type; if another process is scanning it, an incremental scan of it is queued
    for later instead (it covers what was written meanwhile)."""
    try:
        return detection.scan(object_type).__dict__
    except detection.ScanBusy as exc:
        jobs.enqueue(IMPORT_SCAN, object_type=object_type, unique_key=import_scan_key(object_type), delay=BUSY_RETRY)
        return {"deferred": str(exc)}


@periodic("duplicates.scan", every=timedelta(hours=24))
def scheduled_scan() -> dict:
    """Incremental scan of contacts and companies (records written since the last scan; full the first time)."""
    return {t: _scan_or_later(t) for t in ("contact", "company")}


@job("duplicates.full_scan", max_attempts=2)
def full_scan(object_type: str = "", min_confidence: int | None = None) -> dict:
    types = [object_type] if object_type else ["contact", "company"]
    out = {}
    for t in types:
        try:
            out[t] = detection.scan(t, full=True, min_conf=min_confidence).__dict__
        except detection.ScanBusy as exc:  # after the running one, then in full
            jobs.enqueue("duplicates.full_scan", object_type=t, min_confidence=min_confidence, delay=BUSY_RETRY)
            out[t] = {"deferred": str(exc)}
    return out


@job(IMPORT_SCAN, max_attempts=3)
def scan_imported(object_type: str) -> dict:
    """An incremental scan of one type: the records imports wrote since the last scan, against all the others
    (several imports that finish while it waits share it)."""
    return {object_type: _scan_or_later(object_type)}


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
    return scan_statuses([(object_type, since)])[0]


def scan_statuses(wanted: list[tuple[str, datetime]]) -> list[dict | None]:
    """scan_status of each (object_type, since), in three queries whatever their number (a page of imports)."""
    from kith.core.models import Job

    from .models import ScanRun

    if not wanted:
        return []
    types = sorted({t for t, _ in wanted})
    oldest = min(since for _, since in wanted)
    # the scans since the oldest: one a night and one per import that wrote records, at most
    runs = list(ScanRun.objects.filter(object_type__in=types, started_at__gte=oldest).order_by("pk")
                .values_list("object_type", "started_at", "finished_at", "found", "created"))
    pending = dict(Job.objects.filter(unique_key__in=[import_scan_key(t) for t in types],
                                      status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
                   .order_by("pk").values_list("unique_key", "status"))
    failed = [(args.get("object_type"), created_at) for args, created_at in
              Job.objects.filter(name=IMPORT_SCAN, status=Job.Status.FAILED, created_at__gte=oldest)
              .values_list("args", "created_at")]
    review = reverse("web:duplicate_list")
    out: list[dict | None] = []
    for object_type, since in wanted:
        base = {"object_type": object_type, "noun": "companies" if object_type == "company" else "contacts",
                "review_url": f"{review}?type={object_type}"}
        after = [r for r in runs if r[0] == object_type and r[1] >= since]
        done = next((r for r in after if r[2] is not None), None)
        if done is not None:
            _, _, finished_at, found, created = done
            out.append({**base, "status": "done", "pairs_found": found, "pairs_new": created,
                        "pairs_known": max(0, found - created), "finished_at": finished_at})
            continue
        status = pending.get(import_scan_key(object_type))
        if status is None and after:
            status = Job.Status.RUNNING  # a nightly or manual scan, still going
        if status is None and any(t == object_type and at >= since for t, at in failed):
            status = Job.Status.FAILED
        out.append(None if status is None else {**base, "status": str(status), "pairs_found": None,
                                                 "pairs_new": None, "pairs_known": None, "finished_at": None})
    return out
