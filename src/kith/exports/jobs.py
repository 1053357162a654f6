"""Background jobs of this app (registered when the app loads)."""

from __future__ import annotations

from datetime import timedelta

from kith.core.jobs import job, periodic


@job("exports.run", max_attempts=1)
def run(export_id: int) -> dict:
    """Write a large export's file and notify the user who asked for it."""
    from .services import run_export

    return run_export(export_id)


@periodic("exports.purge", every=timedelta(hours=1))
def purge() -> dict:
    """Remove exports (and their files) older than KITH_EXPORT_KEEP_HOURS."""
    from .services import purge_exports

    return {"purged": purge_exports()}
