"""Background jobs of this app (registered when the app loads): the nightly duplicate scan."""

from __future__ import annotations

from datetime import timedelta

from kith.core.jobs import job, periodic

from . import detection


@periodic("duplicates.scan", every=timedelta(hours=24))
def scheduled_scan() -> dict:
    """Incremental scan of contacts and companies (records written since the last scan; full the first time)."""
    return {t: detection.scan(t).__dict__ for t in ("contact", "company")}


@job("duplicates.full_scan", max_attempts=2)
def full_scan(object_type: str = "", min_confidence: int | None = None) -> dict:
    types = [object_type] if object_type else ["contact", "company"]
    return {t: detection.scan(t, full=True, min_conf=min_confidence).__dict__ for t in types}
