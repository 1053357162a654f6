"""Bulk activities for benchmarks (`kith seed --activities N`, `kith bench`): plain multi-row INSERTs in
batches, like kith.core.management.seeding — no history rows, events or reminders."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from kith.core.bulk import copy_rows
from kith.core.management.seeding import insert_rows, reserve_ids
from kith.core.models import User

from .models import Activity, ActivityLink, ActivityType, CallOutcome, Direction, EmailStatus, TaskStatus

TYPES = [ActivityType.CALL, ActivityType.EMAIL, ActivityType.NOTE, ActivityType.MEETING, ActivityType.TASK]
WEIGHTS = [35, 35, 15, 8, 7]
SUBJECTS = ["Discovery call", "Follow-up", "Pricing", "Check-in", "Proposal", "Renewal", "Demo", "Kick-off"]
BODIES = ["Talked about next steps.", "Left a voicemail.", "Sent the proposal.", "They want a pilot.",
          "**Budget** approved for Q3.", "Asked for references."]


def seed_activities(
    *,
    n: int,
    targets: list[tuple[str, int, int | None]],
    batch: int = 5000,
    seed_value: int = 1,
    days: int = 730,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Insert n activities spread over `targets` [(record_type, id, company_id or None)], each linked to
    its record (and the company of a contact/deal). Returns counts and timings."""
    rng = random.Random(seed_value)
    say = progress or (lambda text: None)
    owners = list(User.objects.filter(is_active=True).exclude(role="viewer").values_list("pk", flat=True)[:20]) or [None]
    now = timezone.now()
    started = time.monotonic()
    links_total = 0
    link_columns = ["activity_id", "record_type", "record_id", "occurred_at", "type", "pinned"]
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    for start in range(0, n, batch):
        size = min(batch, n - start)
        objs = []
        chosen = []
        for _ in range(size):
            kind = rng.choices(TYPES, weights=WEIGHTS)[0]
            when = now - dt.timedelta(seconds=rng.randint(60, days * 86400))
            owner = rng.choice(owners)
            a = Activity(
                type=kind, subject=rng.choice(SUBJECTS), body=rng.choice(BODIES), occurred_at=when,
                owner_id=owner, created_at=when, updated_at=when,
            )
            if kind == ActivityType.CALL:
                a.direction, a.outcome, a.duration_seconds = Direction.OUTBOUND, CallOutcome.CONNECTED, rng.randint(60, 1800)
            elif kind == ActivityType.EMAIL:
                a.direction, a.email_status = Direction.OUTBOUND, EmailStatus.SENT
            elif kind == ActivityType.MEETING:
                a.ends_at = when + dt.timedelta(minutes=45)
            elif kind == ActivityType.TASK:
                a.due_at, a.assignee_id = when, owner
                a.status = TaskStatus.DONE if when < now else TaskStatus.OPEN
                a.completed_at = when if a.status == TaskStatus.DONE else None
            objs.append(a)
            chosen.append(targets[rng.randrange(len(targets))])
        with transaction.atomic():
            for obj, pk in zip(objs, reserve_ids(Activity, len(objs)), strict=True):
                obj.pk = pk
            insert_rows(Activity, objs)
            rows = []
            for a, (kind, pk, company_id) in zip(objs, chosen, strict=True):
                when = adapt(a.occurred_at)
                rows.append((a.pk, kind, pk, when, a.type, False))
                if company_id and kind != "company":
                    rows.append((a.pk, "company", company_id, when, a.type, False))
            copy_rows(ActivityLink._meta.db_table, link_columns, rows)
            links_total += len(rows)
        if (start // batch) % 20 == 19:
            say(f"  {start + size:,} activities …")
    seconds = time.monotonic() - started
    return {"activities": n, "links": links_total, "seconds": seconds,
            "rows_per_second": (n + links_total) / seconds if seconds else 0.0}


def contact_targets(limit: int | None = None) -> list[tuple[str, int, int | None]]:
    from kith.contacts.models import Contact

    qs = Contact.objects.order_by("id").values_list("pk", "company_id")
    if limit:
        qs = qs[:limit]
    return [("contact", pk, company_id) for pk, company_id in qs]
