"""Background jobs of this app (registered when the app loads)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from kith.core.jobs import job, periodic


@job("imports.run", max_attempts=1)
def run_import(import_id: int) -> dict:
    """Run a queued import (kith.imports.engine.run); returns its final counts. If the worker running it
    died, the job is re-queued (kith.core.jobs.requeue_stale) and the import resumes after its last batch."""
    from .engine import run

    imp = run(import_id, resume=True)
    return {"status": imp.status, "created": imp.created, "updated": imp.updated, "skipped": imp.skipped,
            "failed": imp.failed}


@job("imports.undo", max_attempts=1)
def undo_import(import_id: int, actor_id: int | None = None) -> dict:
    """Undo a large import (queued by services.undo_import, which set it ``undoing``); returns the counts of
    its report. Should it stop on an error, kith.imports.engine.undo has put the import's status back and
    said why in its error (what it undid stays undone; undoing again continues), and the job fails with it.
    An import no longer ``undoing`` (this job re-queued after it finished) is left alone."""
    from kith.core.models import User

    from .engine import undo
    from .models import Import

    imp = Import.objects.filter(pk=import_id).first()
    if imp is None or imp.status != Import.Status.UNDOING:
        return {"status": imp.status if imp else "missing"}
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    report = undo(imp=imp, actor=actor)
    return {"status": Import.Status.UNDONE, "deleted": report["deleted"], "restored": report["restored"],
            "not_undone": report["not_undone_count"]}


def keep_days() -> int:
    return int(getattr(settings, "KITH_IMPORT_KEEP_DAYS", 30))


@periodic("imports.cleanup", every=timedelta(hours=6))
def cleanup_files() -> int:
    """Delete stored upload files of imports finished more than KITH_IMPORT_KEEP_DAYS (30) days ago, and of
    uploads never started for as long. The import records (counts, problems, undo log) stay; only the
    failed-rows download (which re-reads the file) is no longer offered. Returns how many files went."""
    from pathlib import Path

    from .models import Import

    cutoff = timezone.now() - timedelta(days=keep_days())
    old = Import.objects.exclude(file_path="").filter(created_at__lt=cutoff).exclude(
        status__in=Import.ACTIVE)
    removed = 0
    for imp in old.iterator():
        Path(imp.file_path).unlink(missing_ok=True)
        Import.objects.filter(pk=imp.pk).update(file_path="")
        removed += 1
    return removed
