"""Benchmark helpers of the sales app, called by `kith bench`.

seed_deals() writes open deals with bulk_create (no services, no history, no events) spread over a
pipeline's open stages; board_first_paint() times the board page as a signed-in client sees it.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kith.core import search
from kith.core.models import User

from .choices import StageKind
from .models import Deal, Pipeline, SalesSettings

DEAL_WORDS = ["Renewal", "Expansion", "Pilot", "Platform", "Enterprise", "Starter", "Upgrade", "Services",
              "Onboarding", "Licences", "Support", "Migration", "Rollout", "Add-on", "Annual"]
BATCH = 1000


def seed_deals(n_open: int, pipeline: Pipeline | None = None, *, index: bool = True, seed: int = 11) -> int:
    """Bulk-create n_open open deals over the pipeline's open stages (round robin); returns how many.

    Amounts are whole Decimals in the default currency; owners rotate over the active users; updated_at
    is spread over the last 180 days, so the board's keyset order has realistic depth. With index=True
    the deals are added to the search index too (the board's search filter finds them).
    """
    from .services import ensure_default_pipeline

    if n_open <= 0:
        return 0
    pipeline = pipeline or ensure_default_pipeline()
    stages = list(pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id"))
    if not stages:
        raise ValueError(f"Pipeline “{pipeline}” has no open stage.")
    currency = SalesSettings.get().default_currency
    owners = list(User.objects.filter(is_active=True).exclude(role="viewer").order_by("id")
                  .values_list("id", flat=True)[:50]) or [None]
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    created = 0
    for start in range(0, n_open, BATCH):
        rows = []
        for i in range(start, min(n_open, start + BATCH)):
            amount = Decimal(rng.randrange(5, 2000) * 50)
            updated = now - dt.timedelta(minutes=rng.randrange(0, 180 * 24 * 60))
            rows.append(Deal(
                name=f"{rng.choice(DEAL_WORDS)} {rng.choice(DEAL_WORDS).lower()} #{i + 1}",
                amount=amount, currency=currency, amount_default=amount,
                expected_close_date=today + dt.timedelta(days=rng.randrange(-30, 180)),
                pipeline=pipeline, stage=stages[i % len(stages)], owner_id=owners[i % len(owners)],
                created_at=updated - dt.timedelta(days=rng.randrange(0, 60)), updated_at=updated,
                stage_changed_at=updated,
            ))
        with transaction.atomic():
            made = Deal.objects.bulk_create(rows)
            if index:
                if any(d.pk is None for d in made):  # a database that does not return ids from bulk inserts
                    made = list(Deal.objects.filter(pipeline=pipeline).order_by("-id")[: len(rows)])
                search.index_many("deal", made)
        created += len(rows)
    return created


def board_first_paint(client, pipeline: Pipeline) -> float:
    """Seconds for the board page (all columns' first cards and their totals) for a signed-in client."""
    url = reverse("web:deal_board", args=[pipeline.pk])
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"The board answered {response.status_code} at {url}.")
    return elapsed
