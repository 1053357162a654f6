"""The import half of `kith bench`: Kith's contact import against a raw COPY of the same rows.

``run(rows=N, say=...)`` (inside one database, after the bench has seeded it):

1. writes a CSV of N contacts shaped like a HubSpot export (names from every culture of the demo data,
   unique emails, phones in national formats, a company name from a pool of N/20, city, country,
   lifecycle stage, owner email);
2. PostgreSQL only: the physical limit — ``COPY`` of the same N rows, already normalised, as COPY text, each
   linked to its company, into the same contacts table with all its indexes, in one transaction that is then
   rolled back (and vacuumed away: see run);
3. Kith's import of that file end to end (``kith import contacts FILE``'s path: detection, mapping,
   normalisation and validation, duplicate matching on email, company linking and creation, history rows,
   search index, undo log, batches of 8,000 rows on SQLite and 2,000 on PostgreSQL, each in its own
   transaction);
4. reports rows/s of each, the ratio, where the import's time went, and the process's resident memory
   (total and its own heap) before and at its peak during the import.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name",
          "Lifecycle Stage", "City", "Country/Region", "Contact owner"]
STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]


def write_csv(path: Path, rows: int, *, owner_email: str, seed: int = 7) -> list[dict[str, Any]]:
    """The benchmark file; returns a small sample of the rows (for the report)."""
    from kith.core.management import demodata
    from kith.core.management.seeding import _names

    rng = random.Random(seed)
    names = _names()
    countries = sorted(demodata.CULTURES)
    phones = {c: [demodata.phone_number(rng, c, mobile=rng.random() < 0.5) for _ in range(50)] for c in countries}
    companies = [f"{rng.choice(['North', 'Blue', 'Cedar', 'Atlas', 'Nova', 'Iron', 'Maple', 'Delta'])} "
                 f"{rng.choice(['Labs', 'Systems', 'Foods', 'Health', 'Works', 'Media'])} {i}"
                 for i in range(max(1, rows // 20))]
    titles = [t for group in demodata.JOB_TITLES.values() for t in group]
    cities = ["Berlin", "Austin", "Lyon", "Kraków", "Osaka", "Lagos", "Recife", "Pune", "São Paulo", "Zürich"]
    run_tag = f"{int(time.time()) % 100000}"
    sample = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            first, last, a_first, a_last, country = rng.choice(names)
            # a real phone of the country with its last three digits varied: nearly every row a new number
            phone = rng.choice(phones[country])
            phone = phone[:-3] + f"{rng.randint(0, 999):03d}" if phone[-3:].isdigit() else phone
            row = [f"bench-{run_tag}-{i}", first, last, f"{a_first}.{a_last}.{i}@imp{run_tag}.example".lower(),
                   phone, rng.choice(titles), rng.choice(companies), rng.choice(STAGES),
                   rng.choice(cities), country, owner_email]
            w.writerow(row)
            if i < 3:
                sample.append(dict(zip(HEADER, row, strict=True)))
    return sample


def _raw_copy(path: Path, owner_id: int | None) -> dict[str, Any]:
    """COPY the file's rows into contacts_contact in chunks of 2,000 (the import's batch size on PostgreSQL), each chunk
    normalised and turned into COPY text beforehand (not timed); one transaction, rolled back. Memory stays flat.
    The same rows as the import writes, so each links its company: the file's companies are inserted first (not
    timed). The foreign keys (owner, company) are checked as the rows arrive, as committing them would."""
    from kith.contacts.models import Company, Contact
    from kith.core.bulk import copy_lines, copy_rows, copy_text
    from kith.imports.engine import clean_email, clean_lifecycle, clean_phone, db_rows, reserve_ids

    fields = list(Contact._meta.concrete_fields)
    columns = [fl.column for fl in fields]
    now = timezone.now()
    elapsed, n = 0.0, 0
    cpu = {"python": 0.0, "database": 0.0}
    company_ids: dict[str, int] = {}

    def flush(objs: list) -> float:
        for obj, pk in zip(objs, reserve_ids(Contact, len(objs)), strict=True):
            obj.pk = pk
        text = copy_lines(db_rows(fields, objs))
        before = cpu_seconds()
        started = time.monotonic()
        copy_text(Contact._meta.db_table, columns, text)
        took = time.monotonic() - started
        used = cpu_used(before, cpu_seconds())
        for k, v in used.items():
            cpu[k] = None if v is None or cpu[k] is None else cpu[k] + v
        return took

    with transaction.atomic(), open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        companies = sorted({row[6] for row in reader})
        company_fields = list(Company._meta.concrete_fields)
        objs = [Company(name=name, owner_id=owner_id, created_at=now, updated_at=now) for name in companies]
        for obj, pk in zip(objs, reserve_ids(Company, len(objs)), strict=True):
            obj.pk = company_ids[obj.name] = pk
        copy_rows(Company._meta.db_table, [fl.column for fl in company_fields], db_rows(company_fields, objs))
        with connection.cursor() as cur:  # check the foreign keys as rows arrive (a commit would check them)
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        f.seek(0)
        reader = csv.reader(f)
        next(reader)
        objs = []
        for rid, first, last, email, phone, title, company, stage, city, country, _owner in reader:
            objs.append(Contact(first_name=first, last_name=last, full_name=f"{first} {last}",
                                email=clean_email(email), phone=clean_phone(phone, country), job_title=title,
                                lifecycle_stage=clean_lifecycle(stage), city=city, country=country,
                                owner_id=owner_id, company_id=company_ids[company], external_id=rid,
                                custom_fields={}, additional_emails=[],
                                created_at=now, updated_at=now))
            if len(objs) == 2000:
                elapsed += flush(objs)
                n += len(objs)
                objs = []
        if objs:
            elapsed += flush(objs)
            n += len(objs)
        transaction.set_rollback(True)
    return {"rows": n, "seconds": elapsed, "rows_per_second": n / elapsed if elapsed else 0.0,
            "cpu": {k: round(v, 2) if v is not None else None for k, v in cpu.items()}}


def cpu_seconds() -> dict[str, float | None]:
    """CPU time used so far (user + system, seconds) by this process (all its threads) and its helper processes
    that have ended (the import's reading and building processes), and by the PostgreSQL server process
    serving this connection: read from /proc when the server runs on this machine, else None."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    helpers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the import's helper processes, once ended
    out: dict[str, float | None] = {"python": usage.ru_utime + usage.ru_stime + helpers.ru_utime + helpers.ru_stime,
                                    "database": None, "backend": None}
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            # fields 14 and 15 of the file (utime, stime), counted after the command name
            out["database"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            out["backend"] = pid
        except (OSError, ValueError, IndexError):  # a server on another machine
            pass
    return out


def cpu_text(used: dict[str, Any], unit: str = "") -> str:
    """A cpu_used() reading as "Python 6.0, PostgreSQL 5.0" (with unit " s": "Python 6.0 s, PostgreSQL 5.0 s");
    the database's part only when it was read."""
    db = f", PostgreSQL {used['database']:.1f}{unit}" if used.get("database") is not None else ""
    return f"Python {used['python']:.1f}{unit}{db}"


def cpu_used(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
    """The CPU seconds between two cpu_seconds() readings (the database's only if one server process served
    both)."""
    same = before["backend"] is not None and before["backend"] == after["backend"]
    return {"python": round(after["python"] - before["python"], 2),
            "database": round(after["database"] - before["database"], 2) if same else None}


def memory_mb() -> dict[str, float]:
    """This process's resident memory now: total, anonymous (its own heap) and file-backed (SQLite's
    memory-mapped database pages, shared libraries), from /proc (Linux); and "Pss", the proportional set
    size of this process and its helper processes together (the import forks one on PostgreSQL; a page
    they share counts once, split between them)."""
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0]) / 1024
    except OSError:
        out["VmRSS"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pss = [_pss_mb(pid) for pid in ["self", *_children()]]
    if pss and pss[0] is not None:
        out["Pss"] = sum(p for p in pss if p is not None)
    return out


def _children() -> list[str]:
    """This process's child processes (Linux: what each of its threads forked)."""
    pids: list[str] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids += f.read().split()
    except OSError:
        pass
    return pids


def _pss_mb(pid: str) -> float | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # (a child that just ended; or not Linux)
        return None
    return None


def run(*, rows: int, say: Callable[[str], None]) -> dict[str, Any]:
    from kith.core.models import Role, User
    from kith.imports import engine, services

    actor = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if actor is None:
        actor = User.objects.create_user("import-bench@example.com", None, role=Role.ADMIN)
    out: dict[str, Any] = {"rows": rows, "database": connection.vendor}
    with tempfile.TemporaryDirectory(prefix="kith-import-bench-") as tmp:
        path = Path(tmp) / "hubspot-contacts.csv"
        started = time.monotonic()
        out["sample"] = write_csv(path, rows, owner_email=actor.email)
        out["file_mb"] = round(path.stat().st_size / 1e6, 1)
        say(f"[{connection.vendor}] import benchmark: wrote {rows:,} rows ({out['file_mb']} MB) in "
            f"{time.monotonic() - started:.1f} s")
        if connection.vendor == "postgresql":
            out["raw_copy"] = _raw_copy(path, actor.pk)
            # Its rows are rolled back, but stay in the tables and their indexes as dead rows until a vacuum:
            # the import would meet each of its emails as a dead entry of the unique index, and check that
            # row's visibility, which no real import does. Vacuumed away, the import writes into the table as
            # the raw COPY found it. (Measured alternately, three runs each: the write phase's server CPU
            # 4.00 s on average against 4.16 s without; within the noise.) Not inside a transaction (tests).
            out["raw_copy"]["vacuumed"] = not connection.in_atomic_block
            if out["raw_copy"]["vacuumed"]:
                with connection.cursor() as cur:
                    cur.execute("VACUUM contacts_contact, contacts_company")
            say(f"[{connection.vendor}] raw COPY of the same rows: {out['raw_copy']['rows_per_second']:,.0f} rows/s "
                "(rolled back" + (", then vacuumed away)" if out["raw_copy"]["vacuumed"] else ")"))
        before = memory_mb()
        peak: dict[str, float] = dict(before)

        cpu: dict[str, Any] = {}
        stop = threading.Event()

        def sample_memory() -> None:
            """Peak memory, read every 0.2 s by a thread (reading it costs a few milliseconds, which the
            importing thread would otherwise spend after each batch)."""
            while True:
                for k, v in memory_mb().items():
                    peak[k] = max(peak.get(k, 0.0), v)
                if stop.wait(0.2):
                    return

        def progress(imp) -> None:
            if imp.written_at is None:  # the write phase's last report: after its last batch
                cpu["written"] = cpu_seconds()

        wall = time.monotonic()
        with open(path, "rb") as f:
            imp = services.create_import(actor=actor, object_type="contact", file_name=path.name, fileobj=f)
        services.start_import(actor=actor, imp=imp, enqueue=False)
        sampler = threading.Thread(target=sample_memory, name="kith-bench-memory", daemon=True)
        sampler.start()
        cpu["start"] = cpu_seconds()
        try:
            imp = engine.run(imp.pk, on_progress=progress)
        finally:
            stop.set()
            sampler.join()
        cpu["end"] = cpu_seconds()
        wall = time.monotonic() - wall
        run_seconds = (imp.finished_at - imp.started_at).total_seconds()
        write_seconds = (imp.written_at - imp.started_at).total_seconds()
        index_seconds = (imp.finished_at - imp.written_at).total_seconds()
        out["import"] = {
            "status": imp.status, "created": imp.created, "failed": imp.failed,
            "companies_created": imp.companies_created, "seconds": write_seconds, "wall_seconds": wall,
            "rows_per_second": imp.rows_done / write_seconds if write_seconds else 0.0,
            "index_seconds": index_seconds,
            "index_rows_per_second": imp.indexed_rows / index_seconds if index_seconds else 0.0,
            "total_seconds": run_seconds,
            "total_rows_per_second": imp.rows_done / run_seconds if run_seconds else 0.0,
            "rss_before_mb": round(before.get("VmRSS", 0.0), 1), "rss_peak_mb": round(peak.get("VmRSS", 0.0), 1),
            "rss_anon_before_mb": round(before.get("RssAnon", 0.0), 1),
            "rss_anon_peak_mb": round(peak.get("RssAnon", 0.0), 1),
            "pss_peak_mb": round(peak.get("Pss", 0.0), 1),
            "helper_rss_peak_mb": round(getattr(imp, "reader_process", {}).get("peak_rss_mb", 0.0), 1),
            "stages": {k: round(v, 2) for k, v in sorted(getattr(imp, "stage_seconds", {}).items(),
                                                           key=lambda kv: -kv[1])},
        }
        if "written" in cpu:
            out["import"]["cpu_write"] = cpu_used(cpu["start"], cpu["written"])
            out["import"]["cpu_index"] = cpu_used(cpu["written"], cpu["end"])
            # the first phase's reading process is counted by cpu_seconds once it has ended, which is after
            # the write phase's last reading: move its own count to the write phase
            reader_cpu = getattr(imp, "reader_process", {}).get("cpu_seconds", 0.0)
            if reader_cpu:
                out["import"]["cpu_write"]["python"] = round(out["import"]["cpu_write"]["python"] + reader_cpu, 2)
                out["import"]["cpu_index"]["python"] = round(out["import"]["cpu_index"]["python"] - reader_cpu, 2)
            used = out["import"]["cpu_write"]
            if used["database"] is not None:
                # however the work were spread, the write phase needs this long on this machine's cores
                cores = os.cpu_count() or 1
                out["import"]["cpu_floor_seconds"] = round(max(used["database"],
                                                               (used["python"] + used["database"]) / cores), 2)
        staged = sum(v for k, v in out["import"]["stages"].items() if not k.startswith("phase 2"))
        out["import"]["stages"]["read, map and the rest"] = round(max(0.0, write_seconds - staged), 2)
        say(f"[{connection.vendor}] Kith import, rows checked and written: "
            f"{out['import']['rows_per_second']:,.0f} rows/s ({imp.created:,} created, "
            f"{imp.companies_created:,} companies, {imp.failed} failed, {write_seconds:.1f} s)")
        say(f"[{connection.vendor}] then their history and search index: "
            f"{out['import']['index_rows_per_second']:,.0f} rows/s ({index_seconds:.1f} s); end to end "
            f"{out['import']['total_rows_per_second']:,.0f} rows/s ({run_seconds:.1f} s; upload and detection "
            f"{wall - run_seconds:.1f} s more)")
        say(f"[{connection.vendor}] memory: resident {out['import']['rss_before_mb']:.0f} MB before, peak "
            f"{out['import']['rss_peak_mb']:.0f} MB (own heap {out['import']['rss_anon_before_mb']:.0f} → "
            f"{out['import']['rss_anon_peak_mb']:.0f} MB; the rest is file-backed)"
            + (f"; the reading process's peak {out['import']['helper_rss_peak_mb']:.0f} MB resident; this process "
               f"and its helper processes together at most {out['import']['pss_peak_mb']:.0f} MB (proportional "
               "set size: a page they share counted once)" if out["import"]["helper_rss_peak_mb"] else ""))
        say(f"[{connection.vendor}] where the import's time went: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in out["import"]["stages"].items()))
        for phase, label in (("cpu_write", "write"), ("cpu_index", "history and search index")):
            used = out["import"].get(phase)
            if used:
                say(f"[{connection.vendor}] CPU of the {label} phase: {cpu_text(used, ' s')}")
        if out.get("raw_copy", {}).get("cpu", {}).get("database") is not None:
            say(f"[{connection.vendor}] CPU of the raw COPY: {cpu_text(out['raw_copy']['cpu'], ' s')}")
        if "raw_copy" in out and out["raw_copy"]["rows_per_second"]:
            out["ratio"] = out["import"]["rows_per_second"] / out["raw_copy"]["rows_per_second"]
            out["total_ratio"] = out["import"]["total_rows_per_second"] / out["raw_copy"]["rows_per_second"]
            say(f"[{connection.vendor}] import / raw COPY = {out['ratio']:.0%} (end to end {out['total_ratio']:.0%})")
            floor = out["import"].get("cpu_floor_seconds")
            if floor:
                out["ceiling_ratio"] = rows / floor / out["raw_copy"]["rows_per_second"]
                say(f"[{connection.vendor}] with every core busy throughout, the write phase's CPU work would "
                    f"still take {floor:.1f} s: at most {out['ceiling_ratio']:.0%} of COPY on this machine")
    return out
