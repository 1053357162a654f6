"""`kith bench` hook: the timeline of a record with 10,000 activities, first page and a deep page."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from kith.core.pagination import encode_cursor

from .models import ActivityLink
from .seeding import contact_targets, seed_activities
from .timeline import RANK

HEAVY = 10_000


def run(api, web, *, contacts: int, iterations: int, say: Callable[[str], None], summarise) -> dict[str, Any]:
    from kith.contacts.models import Contact

    out: dict[str, Any] = {}
    heavy = Contact.objects.order_by("id").first()
    if heavy is None:
        return {"skipped": "no contacts"}
    started = time.monotonic()
    background = max(1000, contacts * 2)
    seeded = seed_activities(n=background, targets=contact_targets(), seed_value=3)
    seed_activities(n=HEAVY, targets=[("contact", heavy.pk, heavy.company_id)], seed_value=4)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    out["seeded"] = {"activities": background + HEAVY, "links": seeded["links"], "heavy": HEAVY,
                     "seconds": time.monotonic() - started}
    say(f"[{connection.vendor}] seeded {background + HEAVY:,} activities in {out['seeded']['seconds']:.1f} s")
    row = (ActivityLink.objects.filter(record_type="contact", record_id=heavy.pk)
           .order_by("-occurred_at", "-activity_id").values_list("occurred_at", "activity_id")[int(HEAVY * 0.9)])
    deep = encode_cursor([row[0], RANK["activity"], row[1]])
    base = f"/api/v1/contacts/{heavy.pk}/timeline"
    scenarios = [
        (f"API timeline, first page ({HEAVY:,} activities)", lambda: api.get(f"{base}?limit=25")),
        ("API timeline, deep page (cursor at 90%)", lambda: api.get(f"{base}?limit=25&cursor={deep}")),
        ("API timeline, calls only", lambda: api.get(f"{base}?limit=25&types=call")),
        ("HTML contact record with timeline", lambda: web.get(f"/contacts/{heavy.pk}/")),
    ]
    for name, call in scenarios:
        first = call()
        if first.status_code != 200:
            out[name] = {"error": f"{first.status_code}: {first.content[:200]!r}"}
            say(f"[{connection.vendor}] {name}: ERROR {out[name]['error']}")
            continue
        for _ in range(3):
            call()
        samples = []
        for _ in range(iterations):
            t = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t) * 1000)
        out[name] = summarise(samples)
        s = out[name]
        say(f"[{connection.vendor}] {name}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms")
    return out
