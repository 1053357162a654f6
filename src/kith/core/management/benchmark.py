"""The measuring half of `kith bench`: runs inside one database (a subprocess per database).

Seeds N contacts into an empty, migrated database, then times real requests in-process through
Django's test Client (full middleware, token authentication, serialisation, templates; no network),
and EXPLAINs the slowest query of each request to show whether an index serves it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import django
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

PAGE = 50


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "django": django.get_version()}
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            out["postgresql"] = cur.fetchone()[0].split()[0]
        else:
            cur.execute("SELECT sqlite_version()")
            out["sqlite"] = cur.fetchone()[0]
    return out


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def summarise(samples: list[float]) -> dict[str, float]:
    values = sorted(samples)
    return {
        "p50": statistics.median(values) if values else float("nan"),
        "p95": _percentile(values, 95),
        "max": values[-1] if values else float("nan"),
        "n": len(values),
    }


# --- EXPLAIN ---------------------------------------------------------------------------------------------

PG_INDEX = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)?(?: using| on) (\S+)")
PG_SEQ = re.compile(r"Seq Scan on (\S+)")
SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+)|USING (INTEGER PRIMARY KEY)|VIRTUAL TABLE INDEX")
SQLITE_SCAN = re.compile(r"^SCAN (\S+)(?! USING)(?:\s*$)")
BIG_TABLES = {"contacts_contact", "contacts_company", "kith_search", "core_auditentry", "contacts_contact_tags"}


def explain(sql: str) -> dict[str, Any]:
    """The plan of one captured query, the indexes it uses and any full scan of a big table."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN " + sql)
            lines = [r[0] for r in cur.fetchall()]
            indexes = sorted({m.group(1) for line in lines for m in [PG_INDEX.search(line)] if m})
            scans = sorted({m.group(1) for line in lines for m in [PG_SEQ.search(line)] if m} & BIG_TABLES)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql)
            lines = [r[-1] for r in cur.fetchall()]
            indexes, scans_set = set(), set()
            for line in lines:
                m = SQLITE_INDEX.search(line)
                if m:
                    indexes.add(m.group(1) or m.group(2) or "FTS5 index")
                elif line.startswith("SCAN "):
                    table = line.split()[1]
                    if table in BIG_TABLES or table.split(".")[-1] in BIG_TABLES:
                        scans_set.add(table)
            indexes = sorted(indexes)
            scans = sorted(scans_set)
    return {"plan": lines, "indexes": indexes, "full_scans": scans}


def hot_query(captured: list[dict[str, str]]) -> str | None:
    """The slowest SELECT that touches a big table (Django records each query's time)."""
    candidates = [
        q for q in captured
        if q["sql"].lstrip().upper().startswith("SELECT") and any(t in q["sql"] for t in BIG_TABLES)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda q: float(q.get("time") or 0))["sql"]


# --- the run -------------------------------------------------------------------------------------------


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randint(1, len(word) - 3)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def run(*, contacts: int, iterations: int, say: Callable[[str], None]) -> dict[str, Any]:
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kith.contacts.models import Company, Contact
    from kith.core.pagination import encode_cursor
    from kith.core.tokens import create_token
    from kith.core.users import create_user

    from . import seeding

    result: dict[str, Any] = {"vendor": connection.vendor}
    from django.conf import settings

    os.makedirs(settings.STATIC_ROOT, exist_ok=True)  # WhiteNoise warns when it is missing
    call_command("migrate", interactive=False, verbosity=0)
    result["versions"] = versions()

    say(f"[{connection.vendor}] seeding {contacts:,} contacts …")
    user = create_user(actor=None, email="bench@example.com", password="Bench-password-2026", role="admin",
                       full_name="Bench Admin")
    seeded = seeding.seed(contacts=contacts, companies=max(1, contacts // 50), progress=None)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    result["seed"] = {k: seeded[k] for k in ("contacts", "companies", "seconds", "rows_per_second")}
    say(f"[{connection.vendor}] seeded in {seeded['seconds']:.1f} s ({seeded['rows_per_second']:,.0f} rows/s)")

    setup_test_environment()  # lets the test Client's "testserver" host through ALLOWED_HOSTS
    _, secret = create_token(user=user, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    web = Client()
    web.force_login(user)

    rng = random.Random(7)
    total = Contact.objects.count()
    sample = list(Contact.objects.filter(pk__in=[rng.randint(1, total) for _ in range(400)])
                  .select_related("company"))
    ids = [c.pk for c in sample]
    deep_row = Contact.objects.order_by("-updated_at", "-id").values_list("updated_at", "id")[int(total * 0.9)]
    deep_cursor = encode_cursor([deep_row[0], deep_row[1]])
    owner_id = user.pk
    with_mobile = [c for c in sample if c.mobile]
    queries = []
    for c in sample[:6]:
        queries.append(c.full_name)
    queries += [
        _typo(sample[6].last_name, rng) if len(sample[6].last_name) >= 5 else "Jonh Smtih",
        _typo(sample[7].first_name, rng) + " " + sample[7].last_name[:3],
        re.sub(r"\D", "", with_mobile[0].mobile)[-7:] if with_mobile else "5550123",
        sample[8].email.split("@")[0],
        sample[9].company.name.split()[0] if sample[9].company else "Atlas",
        "mar",
    ]
    result["search_queries"] = queries
    counter = {"n": 0}

    def pick(seq):
        counter["n"] += 1
        return seq[counter["n"] % len(seq)]

    def create_body():
        counter["n"] += 1
        return json.dumps({
            "first_name": "Bench", "last_name": f"Writer {counter['n']}",
            "email": f"bench.writer.{counter['n']}@bench.example", "mobile": "+4915123456789",
            "lifecycle_stage": "lead", "tags": ["Bench"],
        })

    scenarios: list[tuple[str, Callable[[], Any], int]] = [
        ("API list, first page", lambda: api.get(f"/api/v1/contacts?limit={PAGE}"), 200),
        ("API list, deep page (cursor at 90%)",
         lambda: api.get(f"/api/v1/contacts?limit={PAGE}&ordering=-updated_at&cursor={deep_cursor}"), 200),
        ("API list, filtered (stage + owner)",
         lambda: api.get(f"/api/v1/contacts?limit={PAGE}&lifecycle_stage=customer&owner={owner_id}"), 200),
        ("API list, sorted by name", lambda: api.get(f"/api/v1/contacts?limit={PAGE}&ordering=name"), 200),
        ("API list, q= search filter", lambda: api.get("/api/v1/contacts", {"q": pick(queries), "limit": PAGE}), 200),
        ("API search (names, typo, phone digits, email, prefix)",
         lambda: api.get("/api/v1/search", {"q": pick(queries)}), 200),
        ("API get contact", lambda: api.get(f"/api/v1/contacts/{pick(ids)}"), 200),
        ("API contact history", lambda: api.get(f"/api/v1/contacts/{pick(ids)}/history"), 200),
        ("HTML contact list", lambda: web.get("/contacts/"), 200),
        ("HTML contact record", lambda: web.get(f"/contacts/{pick(ids)}/"), 200),
        ("API create contact",
         lambda: api.post("/api/v1/contacts", create_body(), content_type="application/json"), 201),
    ]
    timings: dict[str, Any] = {}
    plans: dict[str, Any] = {}
    for name, call, expected in scenarios:
        errors: list[str] = []
        for _ in range(3):  # warm caches, compile templates
            call()
        reset_queries()  # request_started clears the log too; start from empty so nothing is cut off
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        captured = list(ctx.captured_queries)
        if response.status_code != expected:
            errors.append(f"{response.status_code}: {response.content[:200]!r}")
        sql = hot_query(captured)
        if sql:
            try:
                plans[name] = {"sql": sql[:2000], "queries": len(captured), **explain(sql)}
            except Exception as exc:  # a plan we cannot EXPLAIN must not sink the benchmark
                plans[name] = {"sql": sql[:2000], "queries": len(captured), "error": str(exc),
                               "plan": [], "indexes": [], "full_scans": []}
        samples = []
        for _ in range(iterations):
            started = time.perf_counter()
            response = call()
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != expected and len(errors) < 3:
                errors.append(f"{response.status_code}: {response.content[:200]!r}")
        timings[name] = {**summarise(samples), "errors": errors, "queries": len(captured)}
        s = timings[name]
        say(f"[{connection.vendor}] {name}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms"
            + (f"  ERRORS: {errors[0]}" if errors else ""))
    result["timings"] = timings
    result["plans"] = plans
    result["sales"] = sales(web, contacts=contacts, iterations=iterations, say=say)
    try:
        from kith.activities import bench as activities_bench

        result["activities"] = activities_bench.run(api, web, contacts=contacts, iterations=iterations, say=say,
                                                    summarise=summarise)
    except Exception as exc:  # a broken hook must not sink the rest of the benchmark
        result["activities"] = {"error": f"{exc.__class__.__name__}: {exc}"}
        say(f"[{connection.vendor}] activities benchmark failed: {result['activities']['error']}")
    result["counts"] = {"contacts": Contact.objects.count(), "companies": Company.objects.count()}
    result["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return result


def sales(web, *, contacts: int, iterations: int, say: Callable[[str], None]) -> dict[str, Any]:
    """The sales app's own benchmark hooks (kith.sales.bench*), when present: deal board and forecast."""
    out: dict[str, Any] = {}
    try:
        from kith.sales import bench as sales_bench
        from kith.sales import bench_forecast
        from kith.sales.services import ensure_default_pipeline
    except Exception as exc:  # the app is optional for this benchmark
        return {"skipped": f"sales benchmark hooks not available: {exc}"}
    repeat = max(5, iterations // 10)
    try:
        pipeline = ensure_default_pipeline()
        started = time.monotonic()
        n_open = sales_bench.seed_deals(max(100, contacts // 10), pipeline)
        n_forecast = bench_forecast.seed_forecast_deals(max(100, contacts // 4))
        out["seeded"] = {"open_deals": n_open, "forecast_deals": n_forecast, "seconds": time.monotonic() - started}
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        for _ in range(2):
            sales_bench.board_first_paint(web, pipeline)
        board = [sales_bench.board_first_paint(web, pipeline) * 1000 for _ in range(repeat)]
        out["Deal board (HTML)"] = summarise(board)
        today = dt.date.today()
        period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        forecast = bench_forecast.forecast_bench(web, period, repeat=repeat)
        if forecast["status"] != 200:
            raise RuntimeError(f"forecast page answered {forecast['status']}")
        out[f"Forecast {period} by owner (HTML)"] = {**summarise(forecast["runs_ms"]), "queries": forecast["queries"]}
        for name, t in out.items():
            if isinstance(t, dict) and "p50" in t:
                say(f"[{connection.vendor}] {name}: p50 {t['p50']:.1f} ms, p95 {t['p95']:.1f} ms, max {t['max']:.1f} ms")
    except Exception as exc:
        out["error"] = f"{exc.__class__.__name__}: {exc}"
        say(f"[{connection.vendor}] sales benchmark failed: {out['error']}")
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cores": os.cpu_count(), "os": f"{platform.system()} {platform.release()}",
                            "cpu": platform.processor() or platform.machine(), "ram_gb": None}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    info["ram_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    try:
        info["load"] = os.getloadavg()
    except OSError:
        info["load"] = None
    info["python_build"] = sys.version.split()[0]
    return info
