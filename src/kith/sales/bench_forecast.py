"""Forecast benchmark helpers (for the CLI): seed many realistic deals fast, and time the forecast page.

    seed_forecast_deals(300_000)                 # bulk_create, no services, no history rows
    forecast_bench(client, "2026-Q4")            # client: a signed-in django.test.Client
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kith.core.models import Role, User

from . import money
from .choices import StageKind
from .models import Deal, Pipeline, SalesSettings, Stage
from .services.pipelines import ensure_default_pipeline

SEED_PREFIX = "Forecast seed"
WORDS = ["Expansion", "Renewal", "Pilot", "Rollout", "Upgrade", "Migration", "Licences", "Support", "Onboarding",
         "Enterprise plan", "Team plan", "Analytics add-on", "Integration", "Training"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
             "Soylent", "Aperture", "Massive Dynamic", "Vandelay", "Pied Piper", "Oscorp"]


def _owners(count: int = 8) -> list[User]:
    owners = list(User.objects.filter(is_active=True).exclude(role=Role.VIEWER).order_by("id")[:count])
    if owners:
        return owners
    return [
        User.objects.create_user(f"seller{i}@forecast.example", None, role=Role.MEMBER, full_name=f"Seller {i}")
        for i in range(1, 5)
    ]


def seed_forecast_deals(n: int, *, seed: int = 42, batch_size: int = 5000, owners: list[User] | None = None) -> int:
    """Create n deals spread over the past year and the next: past ones mostly won or lost (closed_at near
    their expected close date), future ones open across the pipeline's stages, some committed.
    Amounts are in the default currency. Returns how many were created."""
    rng = random.Random(seed)
    pipelines = list(Pipeline.objects.prefetch_related("stages").order_by("position", "id")) or [
        ensure_default_pipeline()
    ]
    owners = owners or _owners()
    currency = SalesSettings.get().default_currency
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    stage_sets = []
    for p in pipelines:
        stages = list(p.stages.order_by("position", "id"))
        open_ = [s for s in stages if s.kind == StageKind.OPEN]
        won = [s for s in stages if s.kind == StageKind.WON]
        lost = [s for s in stages if s.kind == StageKind.LOST]
        if open_:
            stage_sets.append((p, open_, won, lost))
    if not stage_sets:
        raise ValueError("No pipeline has an open stage.")
    created = 0
    now = timezone.now()
    while created < n:
        rows = []
        for _ in range(min(batch_size, n - created)):
            pipeline, open_, won, lost = rng.choice(stage_sets)
            offset = rng.randint(-365, 365)
            close = today + dt.timedelta(days=offset)
            amount = money.q(Decimal(rng.randint(500_00, 120_000_00)) / 100)
            stage: Stage
            closed_at = None
            if offset < -20 or (offset < 0 and rng.random() < 0.6):
                roll = rng.random()
                if roll < 0.45 and won:
                    stage = won[0]
                elif roll < 0.8 and lost:
                    stage = lost[0]
                else:
                    stage = rng.choice(open_)
                if stage.kind != StageKind.OPEN:
                    day = close + dt.timedelta(days=rng.randint(-10, 10))
                    day = min(day, today)
                    closed_at = dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.randint(0, 59)), tzinfo=tz)
            else:
                stage = rng.choice(open_)
            created_at = min(now, dt.datetime.combine(close - dt.timedelta(days=rng.randint(20, 160)),
                                                      dt.time(10), tzinfo=tz))
            rows.append(Deal(
                name=f"{rng.choice(COMPANIES)} {rng.choice(WORDS)}", amount=amount, currency=currency,
                amount_default=amount, expected_close_date=close, pipeline=pipeline, stage=stage,
                owner=rng.choice(owners) if rng.random() < 0.97 else None,
                is_commit=stage.kind == StageKind.OPEN and stage.probability >= 50 and rng.random() < 0.35,
                stage_changed_at=closed_at or created_at, closed_at=closed_at,
                lost_reason="Chose a competitor" if stage.kind == StageKind.LOST else "",
                created_at=created_at, updated_at=closed_at or created_at, custom_fields={},
            ))
        with transaction.atomic():
            Deal.all_objects.bulk_create(rows, batch_size=1000)
        created += len(rows)
    return created


def forecast_bench(client, period: str, *, group_by: str = "owner", repeat: int = 3,
                   pipeline: Any = None, owner: Any = None) -> dict[str, Any]:
    """GET the forecast page `repeat` times with a signed-in test client; timings in milliseconds and the
    SQL it ran (the last run)."""
    params: dict[str, Any] = {"period": period, "group_by": group_by}
    if pipeline:
        params["pipeline"] = pipeline
    if owner:
        params["owner"] = owner
    url = reverse("web:forecast")
    runs = []
    status = None
    last_queries: list[dict[str, Any]] = []
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(max(1, repeat)):
            first = len(ctx.captured_queries)
            t0 = time.perf_counter()
            response = client.get(url, params)
            runs.append(round((time.perf_counter() - t0) * 1000, 1))
            status = response.status_code
            last_queries = ctx.captured_queries[first:]
    return {
        "url": f"{url}?period={period}&group_by={group_by}",
        "status": status,
        "runs_ms": runs,
        "best_ms": min(runs),
        "queries": len(last_queries),
        "forecast_sql": [q["sql"] for q in last_queries if "expected_close_date" in q["sql"] or "closed_at" in q["sql"]],
    }
