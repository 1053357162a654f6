"""A record's timeline: its activities and tasks, comments and change history (field changes, stage moves,
conversions) in one reverse-chronological stream, with keyset pages and a type filter.

Each source is read with its own index range scan ("rows before the cursor, newest first, limit n+1"), and
the three short lists are merged in Python, so a page costs the same at the top and deep down, whatever the
record's size. The cursor is (time, source rank, id): a total order across sources.

Pinned notes come first, on the first page only, and are not repeated in the stream.
A company's timeline includes its contacts' and deals' activities and comments: those activities are
linked to the company too when they are written (kith.activities.services._rollups), and those comments
keep the company (Comment.company_rollup_id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from kith.core.models import AuditEntry
from kith.core.pagination import decode_cursor, encode_cursor

from .models import Activity, ActivityLink, ActivityType, Comment

ACTIVITY_TYPES = [t.value for t in ActivityType]
TYPES = [*ACTIVITY_TYPES, "comment", "change"]
RANK = {"change": 1, "comment": 2, "activity": 3}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass
class Entry:
    kind: str  # "activity", "comment" or "change"
    at: dt.datetime
    id: int
    obj: Any
    pinned: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.obj.type if self.kind == "activity" else self.kind


@dataclass
class Page:
    entries: list[Entry]
    pinned: list[Entry]
    next_cursor: str | None


def parse_types(value: str | list[str] | None) -> list[str]:
    if not value:
        return list(TYPES)
    items = value if isinstance(value, list) else str(value).split(",")
    wanted = [t.strip() for t in items if t and t.strip()]
    unknown = [t for t in wanted if t not in TYPES]
    if unknown:
        raise ValidationError({"types": [f"Unknown type {', '.join(unknown)} (use {', '.join(TYPES)})."]})
    return wanted or list(TYPES)


def _before(ts_field: str, id_field: str, cursor: tuple[dt.datetime, int, int] | None, rank: int) -> Q:
    if cursor is None:
        return Q()
    c_ts, c_rank, c_id = cursor
    if rank < c_rank:
        return Q(**{f"{ts_field}__lte": c_ts})
    if rank > c_rank:
        return Q(**{f"{ts_field}__lt": c_ts})
    # The redundant "<=" bound lets the database use it as an index range (an OR alone is a filter).
    return Q(**{f"{ts_field}__lte": c_ts}) & (Q(**{f"{ts_field}__lt": c_ts}) | Q(**{ts_field: c_ts, f"{id_field}__lt": c_id}))


def _decode(cursor: str | None) -> tuple[dt.datetime, int, int] | None:
    if not cursor:
        return None
    values = decode_cursor(cursor, 3)
    ts, rank, pk = values
    if not isinstance(ts, dt.datetime) or not isinstance(rank, int) or not isinstance(pk, int):
        raise ValidationError({"cursor": ["This cursor is not valid; start again without one."]})
    return ts, rank, pk


def timeline(record, *, cursor: str | None = None, types: list[str] | None = None, limit: int = DEFAULT_LIMIT) -> Page:
    """One page of a record's timeline (record: a Contact, Company, Lead or Deal instance)."""
    limit = max(1, min(int(limit or DEFAULT_LIMIT), MAX_LIMIT))
    types = types or list(TYPES)
    after = _decode(cursor)
    record_type = record.object_type
    entries: list[Entry] = []
    pinned: list[Entry] = []

    act_types = [t for t in types if t in ACTIVITY_TYPES]
    if act_types:
        links = ActivityLink.objects.filter(
            _before("occurred_at", "activity_id", after, RANK["activity"]),
            record_type=record_type, record_id=record.pk,
        )
        if len(act_types) < len(ACTIVITY_TYPES):
            links = links.filter(type__in=act_types)
        # Over-read a little so trashed and pinned activities (filtered below) rarely shorten a page.
        rows = list(links.order_by("-occurred_at", "-activity_id").values_list("activity_id", "occurred_at")[: limit + 1 + 10])
        acts = _load_activities([pk for pk, _ in rows])
        for pk, at in rows:
            a = acts.get(pk)
            if a is None or (a.pinned and a.type == ActivityType.NOTE):
                continue
            entries.append(Entry("activity", at, pk, a))
        if after is None and "note" in act_types:
            pinned_ids = list(
                ActivityLink.objects.filter(record_type=record_type, record_id=record.pk, pinned=True, type=ActivityType.NOTE)
                .filter(activity__deleted_at__isnull=True)
                .order_by("-occurred_at")
                .values_list("activity_id", flat=True)[:20]
            )
            pacts = _load_activities(pinned_ids)
            pinned = [Entry("activity", pacts[p].occurred_at, p, pacts[p], pinned=True) for p in pinned_ids if p in pacts]

    if "comment" in types:
        before = _before("created_at", "id", after, RANK["comment"])
        comments = list(
            Comment.objects.filter(before, record_type=record_type, record_id=record.pk)
            .select_related("author")
            .order_by("-created_at", "-id")[: limit + 1]
        )
        if record_type == "company":  # its contacts' and deals' comments too (each its own index range)
            rolled = list(
                Comment.objects.filter(before, company_rollup_id=record.pk)
                .exclude(record_type="company")
                .select_related("author")
                .order_by("-created_at", "-id")[: limit + 1]
            )
            comments += rolled
        entries += [Entry("comment", c.created_at, c.pk, c) for c in comments]

    if "change" in types:
        ct = ContentType.objects.get_for_model(type(record))
        changes = (
            AuditEntry.objects.filter(
                _before("created_at", "id", after, RANK["change"]), content_type=ct, object_id=record.pk
            )
            .select_related("actor")
            .order_by("-created_at", "-id")[: limit + 1]
        )
        entries += [Entry("change", e.created_at, e.pk, e) for e in changes]

    entries.sort(key=lambda e: (e.at, RANK[e.kind], e.id), reverse=True)
    page = entries[:limit]
    more = len(entries) > limit
    next_cursor = encode_cursor([page[-1].at, RANK[page[-1].kind], page[-1].id]) if more and page else None
    return Page(entries=page, pinned=pinned, next_cursor=next_cursor)


def _load_activities(ids: list[int]) -> dict[int, Activity]:
    if not ids:
        return {}
    qs = Activity.objects.filter(pk__in=ids).select_related("owner", "assignee")
    acts = {a.pk: a for a in qs}
    counts = dict(
        Comment.objects.filter(record_type="activity", record_id__in=list(acts), deleted_at__isnull=True)
        .values("record_id")
        .annotate(n=Count("id"))
        .values_list("record_id", "n")
    )
    for a in acts.values():
        a.comment_count = counts.get(a.pk, 0)
    return acts
