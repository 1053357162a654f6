"""Background jobs of the contacts app."""

from datetime import timedelta

from kith.core.jobs import periodic

from . import services


@periodic("contacts.purge_trash", every=timedelta(hours=6))
def purge_trash() -> dict:
    """Delete for good what has sat in the trash longer than KITH_TRASH_DAYS (default 30)."""
    return {"purged": services.purge_trash()}
