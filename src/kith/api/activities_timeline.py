"""GET /api/v1/{contacts|companies|leads|deals}/{id}/timeline: a record's activities, tasks, emails, comments
and changes in one reverse-chronological stream (kith.activities.timeline), pinned notes first.

One small router per record type, mounted under that type's prefix next to its record router (the paths,
/{id}/timeline, do not collide with /{id}, /{id}/history …).

(No `from __future__ import annotations` here: ninja reads the parameter annotations.)
"""

from django.http import HttpRequest
from ninja import Query, Router

from kith.activities import timeline as timelines
from kith.core import permissions
from kith.core.records import record_model

from . import common
from .activities_schemas import TimelinePage, timeline_entry_dict
from .schemas import with_errors

RECORDS = [("contacts", "contact"), ("companies", "company"), ("leads", "lead"), ("deals", "deal")]
TYPES_HELP = "only these, comma-separated: " + ", ".join(timelines.TYPES) + " (change = field changes, stage " \
    "moves, conversions); default all"


def build_router(plural: str, singular: str) -> Router:
    router = Router(tags=[plural])

    @router.get(
        "/{int:id}/timeline",
        response=with_errors({200: TimelinePage}, (401, 404, 422)),
        operation_id=f"{singular}_timeline",
        summary=f"Timeline of a {singular}",
        description=(
            "Activities, tasks, emails, comments and changes, newest first; pinned notes come first, on the first "
            "page only. Follow `next_cursor` (keyset: no entry repeats or goes missing across pages)."
            + (" A company's timeline includes its contacts' and deals' activities and comments (a comment's "
               "`record_type` and `record_id` say where it was written)." if singular == "company" else "")
        ),
    )
    def record_timeline(
        request: HttpRequest,
        id: int,
        cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
        types: str | None = Query(None, description=TYPES_HELP),
        limit: int = Query(timelines.DEFAULT_LIMIT, ge=1, le=timelines.MAX_LIMIT, description="Entries per page, 1 to 100."),
    ):
        record = permissions.visible(record_model(singular), request.auth).get(pk=id)
        wanted = [t for raw in request.GET.getlist("types") for t in raw.split(",")] if types else None
        page = timelines.timeline(record, cursor=cursor, types=timelines.parse_types(wanted), limit=limit)
        return {
            "pinned": [timeline_entry_dict(e) for e in page.pinned],
            "items": [timeline_entry_dict(e) for e in page.entries],
            "next_cursor": page.next_cursor,
        }

    record_timeline.__name__ = f"{singular}_timeline"
    return router


ROUTERS: list = [(f"/{plural}", build_router(plural, singular)) for plural, singular in RECORDS]
