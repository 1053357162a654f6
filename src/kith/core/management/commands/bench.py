"""kith bench: seed N contacts into fresh SQLite and PostgreSQL databases, time the hot paths, write a report."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/kith_bench"


class Command(BaseCommand):
    help = (
        "Benchmark Kith on SQLite and PostgreSQL: each database is created fresh in its own subprocess, seeded "
        "with --contacts rows (`kith seed`), then API and HTML requests are timed in-process (Django test "
        "client, Bearer token) and the hot queries are EXPLAINed. Writes a Markdown report."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=100_000, help="contacts to seed (default 100000)")
        parser.add_argument("--iterations", type=int, default=200, help="timed requests per operation (default 200)")
        parser.add_argument("--output", default="docs/benchmarks.md", help="report file (default docs/benchmarks.md)")
        parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
        parser.add_argument("--postgres-url", default=DEFAULT_PG,
                            help=f"PostgreSQL database to create, use and drop (default {DEFAULT_PG})")
        parser.add_argument("--json", dest="json_path", help="also write the raw results as JSON here")
        parser.add_argument("--imports", type=int, default=50_000,
                            help="rows for the import benchmark: Kith's contact import vs a raw COPY of the same "
                                 "rows (default 50000; 0 skips it)")
        # Internal: run the measurements in this process (database chosen by the environment).
        parser.add_argument("--run-one", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--result-file", help=argparse.SUPPRESS)

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options):
        if options["run_one"]:
            return self.run_one(options)
        if options["contacts"] < 100 or options["iterations"] < 1:
            raise CommandError("Use --contacts 100 or more and --iterations 1 or more.", returncode=2)
        command = self.command_line(options)
        started = time.monotonic()
        from kith.core.management.benchmark import machine

        load_before = machine().get("load")
        runs: dict[str, Any] = {}
        runs["sqlite"] = self.run_database("sqlite", None, options)
        if not options["sqlite_only"]:
            url = options["postgres_url"]
            self.create_pg(url)
            try:
                runs["postgresql"] = self.run_database("postgresql", url, options)
            finally:
                self.drop_pg(url)
        info = machine()
        info["load_before"] = load_before
        report = render(runs, info, command, time.monotonic() - started)
        out = Path(options["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        if options["json_path"]:
            Path(options["json_path"]).write_text(json.dumps({"machine": info, "runs": runs}, indent=2, default=str))
        self.say(f"Wrote {out} in {time.monotonic() - started:.0f} s.")
        failed = [f"{db}: {name}" for db, r in runs.items() for name, t in r["timings"].items() if t["errors"]]
        if failed:
            raise CommandError("Some requests did not answer as expected: " + "; ".join(failed), returncode=1)
        return None

    @staticmethod
    def command_line(options) -> str:
        parts = ["kith", "bench", "--contacts", str(options["contacts"]), "--iterations", str(options["iterations"])]
        if options["output"] != "docs/benchmarks.md":
            parts += ["--output", options["output"]]
        if options.get("imports", 50_000) != 50_000:
            parts += ["--imports", str(options["imports"])]
        if options["sqlite_only"]:
            parts.append("--sqlite-only")
        elif options["postgres_url"] != DEFAULT_PG:
            parts += ["--postgres-url", "<url>"]
        return shlex.join(parts)

    # --- PostgreSQL database lifecycle -----------------------------------------------------------------

    @staticmethod
    def _admin_conn(url: str):
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(url)
        name = params.get("dbname")
        if not name:
            raise CommandError("--postgres-url must name a database, e.g. …/kith_bench.", returncode=2)
        params["dbname"] = "postgres"
        try:
            conn = psycopg.connect(**params, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise CommandError(
                f"PostgreSQL is not reachable ({' '.join(str(exc).split())}). Start it, pass --postgres-url, "
                "or use --sqlite-only.", returncode=1,
            ) from None
        return conn, name

    def create_pg(self, url: str) -> None:
        from psycopg import sql

        conn, name = self._admin_conn(url)
        with conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_pg(self, url: str) -> None:
        from psycopg import sql

        conn, name = self._admin_conn(url)
        with conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # --- one database in a subprocess ------------------------------------------------------------------

    def run_database(self, label: str, url: str | None, options) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix=f"kith-bench-{label}-") as tmp:
            env = {**os.environ, "KITH_DATA_DIR": tmp, "KITH_LOG_LEVEL": "WARNING"}
            env.pop("KITH_SQLITE_PATH", None)
            if url:
                env["DATABASE_URL"] = url
            else:
                env.pop("DATABASE_URL", None)
            result_file = Path(tmp) / "result.json"
            cmd = [sys.executable, "-m", "kith", "bench", "--run-one", "--contacts", str(options["contacts"]),
                   "--iterations", str(options["iterations"]), "--result-file", str(result_file),
                   "--imports", str(options["imports"])]
            self.say(f"== {label}: fresh database, {options['contacts']:,} contacts, {options['iterations']} "
                     "requests per operation")
            proc = subprocess.run(cmd, env=env, check=False)  # noqa: S603 - our own interpreter and module
            if proc.returncode != 0 or not result_file.exists():
                raise CommandError(f"The {label} benchmark failed (exit code {proc.returncode}); see above.",
                                   returncode=1)
            return json.loads(result_file.read_text())

    def run_one(self, options) -> None:
        from kith.core.management.benchmark import run

        result = run(contacts=options["contacts"], iterations=options["iterations"], say=self.say)
        if options["imports"]:
            try:
                from kith.imports import bench as imports_bench

                result["imports"] = imports_bench.run(rows=options["imports"], say=self.say)
            except Exception as exc:  # reported in the results; the other numbers still count
                result["imports"] = {"error": f"{exc.__class__.__name__}: {exc}"}
                self.say(f"import benchmark failed: {result['imports']['error']}")
        Path(options["result_file"]).write_text(json.dumps(result, default=str))


# --- the report ----------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}" if value == value else "–"  # NaN → dash


def render_imports(runs: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The import benchmark's section (kith.imports.bench): rows/s of Kith's import, of a raw COPY, the ratio."""
    results = {db: r["imports"] for db, r in runs.items() if r.get("imports")}
    if not results:
        return []
    rows = next((r["rows"] for r in results.values() if "rows" in r), 0)
    lines = [
        "## Import",
        "",
        f"One CSV of {rows:,} contacts shaped like a HubSpot export (names in many scripts, phones in national "
        "formats, a company name from a pool of one per 20 rows, lifecycle stage, owner email), imported into the "
        "seeded database with `kith import contacts`'s engine, in two phases. **Write**: detection, mapping, "
        "normalisation and validation, matching on email, companies linked or created, the contacts and the "
        "undo log, in batches (8,000 rows on SQLite, 2,000 on PostgreSQL), each its own transaction: when it "
        "ends every record exists (lists, "
        "filters, API, exports). **Index**: each new company's and contact's history row and search document. The physical "
        "limit: a raw `COPY` of the same rows, already normalised and turned into COPY text, into the same "
        "contacts table with all its indexes and foreign keys checked (rolled back, then vacuumed away before the "
        "import, which would otherwise meet each of its emails as a dead entry of the unique index); each row "
        "links its company, "
        "as the import's do (the file's companies are inserted first, not timed). Until 2026-11-23 the raw COPY "
        "linked no company and sent its rows through psycopg's write_row: about 7% faster than now, measured "
        "alternately. On PostgreSQL, from 10,000 rows, the import reads "
        "and checks the rows in a forked process, and builds the second phase's rows in another, while its "
        "own process works with the database.",
        "",
        "| Database | Raw COPY rows/s | Write rows/s | Write / COPY | Index rows/s | End to end rows/s "
        "| End to end / COPY | Seconds (write + index) | Peak RSS (MB) | Peak own heap (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for db, r in results.items():
        if "error" in r:
            lines.append(f"| {names[db]} | – | failed: {r['error']} | – | – | – | – | – | – | – |")
            continue
        raw = r.get("raw_copy", {}).get("rows_per_second")
        imp = r["import"]
        raw_text = f"{raw:,.0f}" if raw else "–"
        ratio = f"{r['ratio']:.0%}" if "ratio" in r else "–"
        total_ratio = f"{r['total_ratio']:.0%}" if "total_ratio" in r else "–"
        lines.append(f"| {names[db]} | {raw_text} | {imp['rows_per_second']:,.0f} | {ratio} | "
                     f"{imp.get('index_rows_per_second', 0):,.0f} | {imp.get('total_rows_per_second', 0):,.0f} | "
                     f"{total_ratio} | {imp['seconds']:.1f} + {imp.get('index_seconds', 0):.1f} | "
                     f"{imp['rss_peak_mb']:,.0f} | {imp.get('rss_anon_peak_mb', 0):,.0f} |")
    lines += ["", "Peak RSS is the benchmark process's resident memory during the import (the seeded database's "
              "earlier work included); on SQLite it includes SQLite's page cache (64 MB; the import turns the "
              "256 MB memory map off for its connection while it runs). The own heap is its anonymous memory.", ""]
    for db, r in results.items():
        imp = r.get("import", {})
        if imp.get("helper_rss_peak_mb"):
            lines += [f"{names[db]}'s helper processes: the reading process peaked at "
                      f"{imp['helper_rss_peak_mb']:,.0f} MB resident (much of it pages it shares with the process "
                      f"that forked it); the import's processes together peaked at {imp['pss_peak_mb']:,.0f} MB "
                      "(proportional set size, sampled every 0.2 s: a shared page counts once).", ""]
    for db, r in results.items():
        stages = r.get("import", {}).get("stages")
        if stages:
            lines.append(f"Where the import's time went on {names[db]} (seconds; on PostgreSQL the work marked "
                         "\"alongside\" runs in a helper process while the database works): "
                         + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) + ".")
            lines.append("")
    cpu_lines = [_cpu_line(names[db], r) for db, r in results.items() if r.get("import", {}).get("cpu_write")]
    if cpu_lines:
        lines += ["CPU time each phase used (user + system seconds): the benchmark process (all its threads, and "
                  "its helper processes) and, "
                  "on PostgreSQL, the server process serving its connection (read from /proc; the server runs "
                  "on this machine). On PostgreSQL it bounds the ratio: however the work were spread over the "
                  "cores, the write phase cannot take less than its CPU time divided by the cores, nor less than "
                  "the server's own time (one connection, one statement at a time).", ""]
        lines += [line for line in cpu_lines if line] + [""]
    return lines


def _cpu_line(name: str, r: dict[str, Any]) -> str:
    from kith.imports.bench import cpu_text

    imp = r["import"]
    text = (f"- {name}: write phase {cpu_text(imp['cpu_write'])}; history and search index "
            f"{cpu_text(imp['cpu_index'])}")
    raw = r.get("raw_copy", {}).get("cpu", {})
    if raw.get("database") is not None:
        text += f"; the raw COPY {cpu_text(raw)}"
    if "ceiling_ratio" in r:
        text += (f". With every core busy throughout, the write phase would still take "
                 f"{imp['cpu_floor_seconds']:.1f} s: at most {r['ceiling_ratio']:.0%} of COPY here "
                 f"(measured: {r['ratio']:.0%})")
    return text + "."


def render(runs: dict[str, Any], info: dict[str, Any], command: str, seconds: float) -> str:
    dbs = list(runs)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    first = next(iter(runs.values()))
    vers = {k: v for r in runs.values() for k, v in r["versions"].items()}
    lines = [
        "# Kith benchmarks",
        "",
        f"Generated by `{command}` on {dt.date.today().isoformat()} ({seconds / 60:.1f} minutes in all).",
        "",
        "## Set-up",
        "",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}"
        + (f"; load average {info['load_before'][0]:.1f} at the start, {info['load'][0]:.1f} at the end"
           if info.get("load") and info.get("load_before") else ""),
        f"- Python {vers.get('python')}, Django {vers.get('django')}"
        + (f", SQLite {vers['sqlite']}" if "sqlite" in vers else "")
        + (f", PostgreSQL {vers['postgresql']}" if "postgresql" in vers else ""),
        f"- Data: {first['seed']['contacts']:,} contacts and {first['seed']['companies']:,} companies per "
        "database, seeded by `kith seed` (tags, custom field values, a history row each, search index); the "
        "create test adds its own contacts as it goes.",
        "- Each database is fresh (migrated from scratch) and runs in its own process. Requests go through "
        "Django's test client in-process: full middleware, Bearer-token authentication (API) or a signed-in "
        "session (HTML), serialisation and templates, but no network and no web server.",
        f"- Each operation: 3 warm-up requests, then {first['timings'][next(iter(first['timings']))]['n']} timed "
        "requests, one after another. Times are wall-clock milliseconds per request.",
        *(
            [f"- Note: the machine was busy with other work during the run (load above its {info['cores']} "
             "cores), so these numbers are pessimistic."]
            if info.get("load") and max(info["load"][0], (info.get("load_before") or [0])[0]) > info["cores"]
            else []
        ),
        "",
        "## Seeding",
        "",
        "| Database | Rows | Seconds | Rows/s |",
        "|---|---:|---:|---:|",
    ]
    for db in dbs:
        s = runs[db]["seed"]
        lines.append(f"| {names[db]} | {s['contacts'] + s['companies']:,} | {s['seconds']:.1f} | "
                     f"{s['rows_per_second']:,.0f} |")
    lines += ["", "## Latency (ms)", ""]
    header = "| Operation | " + " | ".join(f"{names[db]} p50 | p95 | max" for db in dbs) + " |"
    lines += [header, "|---|" + "---:|---:|---:|" * len(dbs)]
    for op in first["timings"]:
        cells = []
        for db in dbs:
            t = runs[db]["timings"].get(op)
            cells += [_ms(t["p50"]), _ms(t["p95"]), _ms(t["max"])] if t else ["–"] * 3
        flag = " ⚠" if any(runs[db]["timings"].get(op, {}).get("errors") for db in dbs) else ""
        lines.append(f"| {op}{flag} | " + " | ".join(cells) + " |")
    lines += ["", "Search queries used (cycled): " + ", ".join(f"`{q}`" for q in first.get("search_queries", [])), ""]
    sales_ops = [k for k, v in first.get("sales", {}).items() if isinstance(v, dict) and "p50" in v]
    if sales_ops:
        seeded = first["sales"]["seeded"]
        lines += [
            "### Sales",
            "",
            f"With {seeded['open_deals']:,} open deals on the default pipeline plus {seeded['forecast_deals']:,} "
            "deals over two years (the sales app's own bulk seeding), timed with the signed-in client.",
            "",
            header,
            "|---|" + "---:|---:|---:|" * len(dbs),
        ]
        for op in sales_ops:
            cells = []
            for db in dbs:
                t = runs[db].get("sales", {}).get(op)
                cells += [_ms(t["p50"]), _ms(t["p95"]), _ms(t["max"])] if isinstance(t, dict) else ["–"] * 3
            lines.append(f"| {op} | " + " | ".join(cells) + " |")
        lines.append("")
    act_ops = [k for k, v in first.get("activities", {}).items() if isinstance(v, dict) and "p50" in v]
    if act_ops:
        seeded = first["activities"]["seeded"]
        lines += [
            "### Activities",
            "",
            f"{seeded['activities']:,} activities ({seeded['heavy']:,} of them on one contact, the rest spread over "
            "the contacts and their companies), bulk-inserted; the timeline merges activities, comments and history.",
            "",
            header,
            "|---|" + "---:|---:|---:|" * len(dbs),
        ]
        for op in act_ops:
            cells = []
            for db in dbs:
                t = runs[db].get("activities", {}).get(op)
                cells += [_ms(t["p50"]), _ms(t["p95"]), _ms(t["max"])] if isinstance(t, dict) and "p50" in t else ["–"] * 3
            lines.append(f"| {op} | " + " | ".join(cells) + " |")
        lines.append("")
    for db in dbs:
        note = runs[db].get("activities", {}).get("error")
        if note:
            lines += [f"Activities benchmark on {names[db]}: {note}", ""]
    for db in dbs:
        note = runs[db].get("sales", {}).get("error") or runs[db].get("sales", {}).get("skipped")
        if note:
            lines += [f"Sales benchmark on {names[db]}: {note}", ""]
    errors = [(db, op, t["errors"]) for db in dbs for op, t in runs[db]["timings"].items() if t["errors"]]
    if errors:
        lines += ["### Errors", ""]
        lines += [f"- {names[db]}, {op}: {errs[0]}" for db, op, errs in errors]
        lines.append("")
    lines += render_imports(runs, names)
    lines += [
        "## Query plans",
        "",
        "For each operation, the slowest SELECT on a large table (contacts, companies, search index, history) "
        "from one request, EXPLAINed. “Full scan” names a large table read without an index.",
        "",
        "| Operation | " + " | ".join(f"{names[db]}: queries, indexes used" for db in dbs) + " |",
        "|---|" + "---|" * len(dbs),
    ]
    for op in first["timings"]:
        cells = []
        for db in dbs:
            p = runs[db]["plans"].get(op)
            if not p:
                cells.append("–")
                continue
            used = ", ".join(f"`{i}`" for i in p["indexes"]) or "no index"
            scans = f"; **full scan: {', '.join(p['full_scans'])}**" if p["full_scans"] else ""
            cells.append(f"{runs[db]['timings'][op].get('queries', '?')} queries; {used}{scans}")
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines += ["", "<details><summary>Full plans</summary>", ""]
    for db in dbs:
        for op, p in runs[db]["plans"].items():
            lines += [f"**{names[db]} – {op}**", "", "```sql", p["sql"][:1200], "```", "", "```"]
            lines += p["plan"] or [p.get("error", "")]
            lines += ["```", ""]
    lines += ["</details>", ""]
    return "\n".join(lines)
