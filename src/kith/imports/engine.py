"""The import engine: rows in, records out, in batches, each batch one transaction.

Two writers share one loop (``run``):

- ``ContactWriter`` (the bulk path, built for a million rows): each row is normalised and validated in
  Python with the same rules as kith.contacts.services (emails, E.164 phones, countries, lifecycle stages,
  custom fields, tags); matches, email clashes and companies are looked up once per batch; new contacts are
  written with PostgreSQL ``COPY`` (executemany on SQLite), with their history rows, search documents and
  tag links in bulk, in the batch's transaction. No per-record domain events are emitted (like
  ``kith seed``); one ``import.finished`` event is emitted when the run ends.
- ``ServiceWriter`` (companies, leads, deals): every row goes through the record type's own service
  (create_company, create_lead, create_deal, update_…) in a savepoint, so all of its rules, history and
  events apply.

A batch is one transaction: its records, history rows, search documents, undo log (ImportChange), problems
and the import's counters commit together or not at all. If the database refuses a batch (a constraint
raced by another writer, a trigger, …) it is retried row by row, and only the refused rows fail. A dry run
does everything except writing records (the service path runs inside a transaction that is rolled back).
Between batches the run checks ``cancel_requested``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import functools
import gc
import json
import logging
import multiprocessing
import pickle
import queue
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.functions import Lower
from django.utils import timezone

from kith.core import audit, bulk, context, customfields, events, jobs, permissions, records, search
from kith.core.errors import ConflictError, PermissionDenied, ValidationError
from kith.core.models import AuditEntry, CustomField, Tag, User

from . import readers
from .models import Import, ImportChange, ImportProblem

log = logging.getLogger(__name__)
BATCH_SIZE = 2000  # rows per transaction (contacts, PostgreSQL)
# SQLite: each commit copies every index page the batch dirtied into the write-ahead log, and a batch of
# 8,000 rows shares far more of those pages than four of 2,000 do: at 300,000 rows the commits took half
# the time, and the write phase went from 11-12k to 12.5-16.5k rows/s (alternated runs). PostgreSQL gains
# little from it (37% → 39% of COPY) and would hold three such batches in memory.
SQLITE_BATCH_SIZE = 8000
SERVICE_BATCH_SIZE = 200
INDEX_BATCH_SIZE = 2000  # new contacts per undo-log row: what the second phase builds at a time
INDEX_GROUP_SQLITE = 4  # undo-log rows per transaction of the second phase on SQLite (one on PostgreSQL)


def batch_rows() -> int:
    return SQLITE_BATCH_SIZE if connection.vendor == "sqlite" else BATCH_SIZE


# --- shared value helpers ------------------------------------------------------------------------------

EMAIL_FAST = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
SPECIAL_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home.arpa", "lan")


def clean_email(value: str) -> str:
    """Lower-cased address; plain ASCII addresses are checked with a strict pattern, anything else (and
    IDNA-encoded "xn--" domains, which email_validator turns into Unicode) by email_validator (the same as
    kith.contacts.services.normalise_email)."""
    from kith.contacts.services import normalise_email

    text = value.strip().lower()
    if not text:
        return ""
    if (len(text) <= 254 and EMAIL_FAST.fullmatch(text) and len(text.partition("@")[0]) <= 64
            and text.rsplit(".", 1)[-1] not in SPECIAL_DOMAINS and "--" not in text.partition("@")[2]):
        return text
    return normalise_email(value)


@functools.lru_cache(maxsize=4096)
def clean_country(value: str) -> str:
    from kith.core.countries import normalise_country

    return normalise_country(value)


@functools.lru_cache(maxsize=2048)
def clean_phone(value: str, region: str | None) -> str:
    """normalise_phone(value, region)[0], remembered (numbers repeat in real files: switchboards, shared
    lines)."""
    from kith.contacts.services import normalise_phone

    return normalise_phone(value, region)[0]


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%y", "%d-%m-%Y", "%b %d, %Y",
                "%d %b %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p")


def clean_date_text(value: str) -> str:
    """ISO date from the usual export formats (ISO, US m/d/Y first, then d.m.Y and d/m/Y)."""
    text = value.strip()
    if not text:
        return ""
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date; use YYYY-MM-DD.")


TAG_SPLIT = re.compile(r"\s*(?:,|;|:::)\s*")
IGNORED_TAGS = {"* mycontacts", "mycontacts", "* starred", "* other contacts"}


def split_tags(value: str) -> list[str]:
    out = []
    for part in TAG_SPLIT.split(value or ""):
        part = part.strip()
        if not part or part.lower() in IGNORED_TAGS:
            continue
        out.append(part.lstrip("* ").strip() or part)
    return records.clean_tags(out)


def split_name(full: str) -> tuple[str, str]:
    full = " ".join(full.split())
    if not full:
        return "", ""
    if "," in full:  # "Smith, John"
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    if " " not in full:
        return full, ""
    first, _, last = full.rpartition(" ")
    return first, last


class Owners:
    """Resolve an owner cell (email or full name, case-insensitive) to an active user, cached."""

    def __init__(self):
        self._by_key: dict[str, User | None] = {}
        self._by_cell: dict[str, User] = {}
        self.by_pk: dict[int, User] = {}
        for u in User.objects.filter(is_active=True):
            self.by_pk[u.pk] = u
            self._by_key.setdefault(u.email.lower(), u)
            if u.full_name:
                self._by_key.setdefault(" ".join(u.full_name.lower().split()), u)

    def get(self, value: str) -> User:
        user = self._by_cell.get(value)  # (a file's owner cells repeat: a few owners for many rows)
        if user is not None:
            return user
        user = self._by_key.get(" ".join(value.lower().split()))
        if user is None:
            raise ValueError(f"No active user with the email or name “{value.strip()}”.")
        if len(self._by_cell) < 10_000:
            self._by_cell[value] = user
        return user


LIFECYCLE_ALIASES = {
    "marketingqualifiedlead": "marketing_qualified", "mql": "marketing_qualified",
    "salesqualifiedlead": "sales_qualified", "sql": "sales_qualified", "prospect": "lead",
    "client": "customer", "customers": "customer", "subscribers": "subscriber", "advocate": "evangelist",
}


@functools.lru_cache(maxsize=1024)
def clean_lifecycle(value: str) -> str:
    from kith.contacts.choices import LifecycleStage

    key = re.sub(r"[^a-z]", "", value.lower())
    if not key:
        return ""
    for v, label in LifecycleStage.choices:
        if key in (v.replace("_", ""), re.sub(r"[^a-z]", "", label.lower())):
            return v
    if key in LIFECYCLE_ALIASES:
        return LIFECYCLE_ALIASES[key]
    raise ValueError(f"“{value}” is not a lifecycle stage ({', '.join(LifecycleStage.labels)}).")


# --- rows ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    number: int
    cells: list[str]
    values: dict[str, str] = field(default_factory=dict)  # target → raw text
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (column, value, reason)
    clean: dict[str, Any] = field(default_factory=dict)
    cleaned: bool = False  # the writer's prepare() has normalised it
    key: str | None = None  # its duplicate-matching key (ContactWriter.match_key), set by prepare()
    copy: str | None = None  # PostgreSQL: a new contact's COPY text but for the batch's columns (ContactWriter)

    def fail(self, column: str, value: str, reason: str) -> None:
        self.problems.append((column, value[:1000], reason))


class Mapper:
    """Turns a row's cells into {target: text} (multi-column targets joined with ", ")."""

    def __init__(self, columns: list[str], mapping: dict[str, str | None]):
        self.columns = columns
        self.pairs = [(i, c, t) for i, c in enumerate(columns) if (t := mapping.get(c))]
        self.column_of: dict[str, str] = {}
        for _, c, t in self.pairs:
            self.column_of.setdefault(t, c)

    def row(self, number: int, cells: list[str]) -> Row:
        row = Row(number, cells)
        if len(cells) > len(self.columns) and any(c.strip() for c in cells[len(self.columns):]):
            row.fail("", "", f"This row has {len(cells)} values but the header has {len(self.columns)} columns "
                             "(a missing quote or an extra delimiter?).")
            return row
        values: dict[str, str] = {}
        for i, _c, t in self.pairs:
            v = cells[i].strip() if i < len(cells) else ""
            if not v:
                continue
            values[t] = f"{values[t]}, {v}" if t in values else v
        row.values = values
        return row


def _cf_defs(object_type: str) -> dict[str, CustomField]:
    return {f"cf_{f.key}": f for f in CustomField.objects.filter(object_type=object_type)}


# --- the run loop --------------------------------------------------------------------------------------


class Cancelled(Exception):
    pass


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    companies: int = 0

    def add(self, other: Counts) -> None:
        for name in ("rows", "created", "updated", "skipped", "failed", "companies"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Timer:
    """Seconds spent per stage of a run (reported by the benchmark)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


class BaseWriter:
    batch_size: int | None = None  # rows per transaction; None: by database (batch_rows)

    def __init__(self, imp: Import, actor, columns: list[str]):
        self.imp = imp
        self.actor = actor
        self.dry_run = imp.dry_run
        self.mapper = Mapper(columns, imp.mapping)
        self.targets = set(imp.mapping.values()) - {None}
        self.cf = _cf_defs(imp.object_type)
        self.owners = Owners() if "owner" in self.targets else None
        self.problem_budget = 100_000
        self.timer = Timer()

    def col(self, target: str) -> str:
        return self.mapper.column_of.get(target, target)

    def prepare(self, row: Row) -> None:
        """Work on a row that needs no database (normalising, checking), done ahead of write_batch in the
        reading thread (see _Ahead); must not touch the database or shared mutable state."""

    def prepare_many(self, rows: list[Row]) -> None:
        """prepare() each row (a writer may do it a step at a time over all of them: see ContactWriter)."""
        for row in rows:
            self.prepare(row)

    def write_batch(self, rows: list[Row]) -> Counts:
        raise NotImplementedError

    def portable(self, row: Row) -> tuple:
        """A prepared row as plain data, for another process (see _Forked): no model instances, and not its
        cells (nothing after prepare() reads them; a batch the database refuses is restored again)."""
        clean = row.clean
        owner = clean.get("owner")
        if owner is not None:
            clean = {**clean, "owner": owner.pk}
        return row.number, row.problems, clean, row.cleaned, row.key, row.copy

    def restored(self, data: tuple) -> Row:
        """The Row that portable() made ``data`` of (without its cells)."""
        number, problems, clean, cleaned, key, copy = data
        if clean.get("owner") is not None:
            assert self.owners is not None
            clean["owner"] = self.owners.by_pk[clean["owner"]]
        return Row(number, [], {}, problems, clean, cleaned, key, copy)

    def committed(self) -> None:
        """The batch's transaction committed."""

    def rolled_back(self) -> None:
        """The batch's transaction rolled back."""

    def save_problems(self, rows: Iterable[Row]) -> None:
        objs = []
        for r in rows:
            for column, value, reason in r.problems:
                if self.problem_budget <= 0:
                    break
                self.problem_budget -= 1
                objs.append(ImportProblem(imp_id=self.imp.pk, row_number=r.number, column=column, value=value,
                                          reason=reason))
        if objs:
            ImportProblem.objects.bulk_create(objs, batch_size=1000)


def _save_counts(imp: Import, total: Counts) -> None:
    Import.objects.filter(pk=imp.pk).update(
        rows_done=total.rows, created=total.created, updated=total.updated, skipped=total.skipped,
        failed=total.failed, companies_created=total.companies,
    )


def run(import_id: int, *, on_progress: Callable[[Import], None] | None = None, resume: bool = False) -> Import:
    """Run a queued import to the end (the job "imports.run" and ``kith import`` call this).

    Two phases (contacts; the service path of other record types does everything in the first):
    1. every row is read, checked and written in batches (rows_done counts them; cancellable);
       ``written_at`` is set when the last one is;
    2. the new contacts' history rows and search documents (indexed_rows of to_index), then ``done``.

    resume=True (the job does this): an import left "running" by a worker that died is continued after
    its last committed batch (rows_done rows are skipped; their counts are kept), or in its second phase.
    """
    with transaction.atomic():
        imp = Import.objects.select_for_update().get(pk=import_id)
        resuming = resume and imp.status == Import.Status.RUNNING
        if imp.status != Import.Status.QUEUED and not resuming:
            return imp
        imp.status = Import.Status.RUNNING
        imp.started_at = imp.started_at if resuming else timezone.now()
        imp.save(update_fields=["status", "started_at"])
    token = context.request_id.set(f"import-{imp.pk}")
    mmap = _sqlite_pragma("mmap_size", 0)  # a million new rows must not map the growing file into memory
    # Each batch dirties thousands of random index pages; checkpointing the write-ahead log at every
    # commit (past 1,000 pages, the default) copied them into the database file batch after batch. Up to
    # 20,000 pages (80 MB) of log, a page changed by several batches is copied once: about half the time
    # the write phase spent committing, at 200k rows.
    checkpoint = _sqlite_pragma("wal_autocheckpoint", 20_000)
    # put back whatever ends the run, an error or the worker being stopped (a BaseException: this
    # process may go on to other work)
    try:
        total = Counts()
        skip = 0
        stages: dict[str, float] = {}
        reader: dict[str, float] = {}  # the forked reading process's CPU seconds and peak memory, if one ran
        writer: BaseWriter | None = None
        if resuming:
            total = Counts(rows=imp.rows_done, created=imp.created, updated=imp.updated, skipped=imp.skipped,
                           failed=imp.failed, companies=imp.companies_created)
            skip = imp.rows_done
            log.warning("import %s: resuming %s", imp.pk,
                        "its second phase" if imp.written_at else f"after row {skip}")

        def report() -> None:  # after every batch, in both phases
            jobs.heartbeat()
            if on_progress:
                on_progress(Import.objects.get(pk=imp.pk))

        with _fewer_collections():
            status, error = Import.Status.DONE, ""
            try:
                source = readers.open_source(imp.file_path, imp.format, imp.encoding, imp.delimiter)
                actor = imp.created_by
                writer_cls = ContactWriter if imp.object_type == "contact" else ServiceWriter
                writer = writer_cls(imp, actor, source.columns)
                stages = writer.timer.seconds
                if imp.written_at is None:
                    counting = time.perf_counter()
                    threaded = connection.vendor == "postgresql"
                    produce = functools.partial(_prepared_batches, writer, source, skip)
                    ahead: _Ahead | _Forked | None = None
                    try:
                        if (threaded and isinstance(writer, ContactWriter) and _can_fork()
                                and source.count(limit=skip + FORK_MIN_ROWS) - skip >= FORK_MIN_ROWS):
                            ahead = _Forked(writer, produce)  # (it reads ahead while this process counts)
                        # every row is counted before the first is written (a file unreadable further on
                        # fails here, with nothing written)
                        imp.total_rows = source.count()
                        stages["count rows"] = time.perf_counter() - counting
                        Import.objects.filter(pk=imp.pk).update(total_rows=imp.total_rows)
                        if ahead is None:
                            ahead = _Ahead(produce, threaded=threaded)
                        with _short_switches(threaded):
                            while True:
                                try:
                                    for batch in ahead:
                                        if Import.objects.filter(pk=imp.pk, cancel_requested=True).exists():
                                            raise Cancelled
                                        total.add(_write_with_fallback(writer, imp, batch, total))
                                        report()
                                    break
                                except _ReaderDied:
                                    # every batch it sent is written: a thread reads on after them (total.rows
                                    # counts the file's rows done, a resumed run's earlier ones included)
                                    log.warning("import %s: the reading process stopped after row %s; reading "
                                                "on in this process", imp.pk, total.rows)
                                    ahead.close()
                                    ahead = _Ahead(functools.partial(_prepared_batches, writer, source, total.rows))
                    finally:
                        if ahead is not None:
                            ahead.close()
                            stages["read, normalise and check (alongside the writes)"] = ahead.seconds
                        if isinstance(ahead, _Forked):
                            reader = {"cpu_seconds": ahead.cpu_seconds, "peak_rss_mb": ahead.peak_rss_mb}
            except Cancelled:
                status, error = Import.Status.CANCELLED, ""
            except (readers.FileProblem, FileNotFoundError) as exc:
                status, error = Import.Status.FAILED, str(exc) or "The uploaded file is gone."
            except Exception as exc:
                log.exception("import %s failed", import_id)
                status, error = Import.Status.FAILED, f"The import stopped: {type(exc).__name__}: {exc}"
            try:
                Import.objects.filter(pk=imp.pk, written_at__isnull=True).update(written_at=timezone.now())
                # the second phase, also after a cancel or a failure: what the first phase committed gets its
                # history and search documents
                if isinstance(writer, ContactWriter) and not imp.dry_run:
                    writer.index_created(on_progress=report)
            except Exception as exc:
                log.exception("import %s: the second phase failed", import_id)
                status = Import.Status.FAILED
                error = (f"{error} " if error else "") + (
                    "The rows were written, but writing their history and search index stopped: "
                    f"{type(exc).__name__}: {exc}")
    finally:
        context.request_id.reset(token)
        _sqlite_pragma("mmap_size", mmap)
        _sqlite_pragma("wal_autocheckpoint", checkpoint)
    Import.objects.filter(pk=imp.pk).update(status=status, error=error, finished_at=timezone.now())
    imp.refresh_from_db()
    imp.stage_seconds = dict(stages)  # not stored: where the time went (kith bench prints it)
    imp.reader_process = reader  # not stored: the reading process's CPU and memory (kith bench adds them)
    if on_progress:
        on_progress(imp)
    if not imp.dry_run:
        events.emit("import.finished", {
            "type": "import", "id": imp.pk, "object_type": imp.object_type, "status": imp.status,
            "created": imp.created, "updated": imp.updated, "skipped": imp.skipped, "failed": imp.failed,
            "companies_created": imp.companies_created, "actor_id": imp.created_by_id,
        })
    return imp


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """While importing: the objects that exist already (Django's, the app's) are left out of the cyclic
    garbage collector's passes, and it runs less often. A batch makes hundreds of thousands of short-lived
    objects, which each time set off a full pass over everything else (about 15% of the second phase);
    they hold no cycles, and reference counting frees them."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@contextlib.contextmanager
def _short_switches(active: bool) -> Iterator[None]:
    """While a second thread does Python work beside the importing thread: the importing thread waits on
    the database many times per batch, and each time it wants the GIL back the other thread keeps it for
    up to the switch interval (5 ms by default); a short interval keeps those waits short."""
    switch = sys.getswitchinterval()
    if active:
        sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(switch)


class _Grouped:
    """A transaction spanning ``size`` consecutive pieces of work: begin() before each piece (opens one when
    none is open), done_one() after it (True when the group is full: then commit()); commit() what is left at
    the end, abort(exc) on an error (rolls back the open group)."""

    def __init__(self, size: int):
        self.size = size
        self.count = 0
        self.atomic: transaction.Atomic | None = None

    def begin(self) -> None:
        if self.atomic is None:
            self.atomic = transaction.atomic()
            self.atomic.__enter__()

    def done_one(self) -> bool:
        self.count += 1
        return self.count >= self.size

    def commit(self) -> bool:
        """Commit the open group; False when none was open."""
        if self.atomic is None:
            return False
        atomic, self.atomic, self.count = self.atomic, None, 0
        atomic.__exit__(None, None, None)
        return True

    def abort(self, exc: BaseException) -> None:
        if self.atomic is not None:
            atomic, self.atomic, self.count = self.atomic, None, 0
            atomic.__exit__(type(exc), exc, exc.__traceback__)


class _Inline:
    """ThreadPoolExecutor's submit/shutdown, running the call at once."""

    def submit(self, fn, *args) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, **_kwargs) -> None:
        pass


def _any_of(column: str, values: list, cast: str = "") -> tuple[str, list[Any]]:
    """SQL "<column> is one of values" and its parameters: on PostgreSQL one text parameter split by the
    server (psycopg dumps a list of 2,000 strings as an array far more slowly); else an IN list."""
    if connection.vendor == "postgresql":
        text = [str(v) for v in values]
        if not any("\x01" in v for v in text):
            array = "string_to_array(%s, chr(1))" + (f"::{cast}[]" if cast else "")
            return f"{column} = ANY({array})", ["\x01".join(text)]
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _prepared_batches(writer: BaseWriter, source, skip: int) -> Iterator[list[Row]]:
    """The file's rows after the first ``skip``, mapped and prepared (writer.prepare_many), in batches."""
    batch: list[Row] = []
    row_of, prepare, size = writer.mapper.row, writer.prepare_many, writer.batch_size or batch_rows()
    for number, cells in source.rows():
        if skip:
            skip -= 1
            continue
        batch.append(row_of(number, cells))
        if len(batch) >= size:
            prepare(batch)
            yield batch
            batch = []
    if batch:
        prepare(batch)
        yield batch


def _put_unless_stopped(q: queue.Queue, stop: threading.Event, item: Any) -> bool:
    """Put item on the bounded queue, waiting while it is full; False (not put) once stop is set."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


# A contact import of at least this many rows reads its file in a forked process on PostgreSQL (see _Forked)
FORK_MIN_ROWS = 10_000


def _can_fork() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


PICKLE_PIECE = 250  # rows per pickled piece of a batch the forked reader sends


class _Forked:
    """_Ahead's producer in a forked process, for a contact import on PostgreSQL.

    In a thread, reading, mapping and checking rows (4 s of Python per 100,000 rows) holds the GIL that
    the importing thread needs between its statements, so each of those pauses of the database got
    longer. In a child process it has its own interpreter and the machine's other core. The child gets a
    copy of everything the parent has set up (the writer with its mapping, custom fields and owners); it
    must not use the database, and cannot: its copy of the parent's connection is set aside (not closed,
    which would end the parent's session) and opening another raises. Each batch comes back pickled
    through a pipe, its rows as tuples (``writer.portable`` / ``writer.restored``: no model instances); a
    thread of the parent receives them up to ``depth`` batches ahead. An exception in the child is raised
    in the parent; close() kills the child (cancel, failure)."""

    def __init__(self, writer: BaseWriter, produce: Callable[[], Iterable[list[Row]]], depth: int = 2):
        self.writer = writer
        self.seconds = 0.0  # the child's own time producing batches
        self.cpu_seconds = 0.0  # the child's CPU time (user + system), when it ended
        self.peak_rss_mb = 0.0  # the child's peak resident memory, when it ended
        self.finished = False  # the child said it ended (its last batch sent, or its error)
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        ctx = multiprocessing.get_context("fork")
        self.receiver, sender = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=self._child, args=(produce, sender), name="kith-import-rows", daemon=True)
        self.proc.start()
        sender.close()  # (the child's end: EOF here once the child is gone)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._receive, name="kith-import-receive", daemon=True)
        self.thread.start()

    def _child(self, produce, sender) -> None:
        _set_aside_connections()
        self.receiver.close()
        started = time.perf_counter()
        portable, slim = self.writer.portable, self.writer.slim  # type: ignore[attr-defined]
        try:
            for batch in produce():
                # in pieces: unpickling one is a single call that holds the parent's GIL throughout
                pieces, slim_pieces = [], []
                for i in range(0, len(batch), PICKLE_PIECE):
                    part = batch[i:i + PICKLE_PIECE]
                    pieces.append(pickle.dumps([portable(r) for r in part], protocol=5))
                    slim_pieces.append(pickle.dumps([slim(r) for r in part], protocol=5))
                sender.send_bytes(b"i" + pickle.dumps((slim_pieces, pieces, _distinct(batch)), protocol=5))
            usage = resource.getrusage(resource.RUSAGE_SELF)
            sender.send_bytes(b"e" + pickle.dumps((time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
                                                   usage.ru_maxrss / 1024)))
        except BaseException as exc:  # raised in the parent (which has not got its traceback: logged here)
            log.exception("import rows process: reading the file stopped")
            try:
                payload = pickle.dumps(exc)
                pickle.loads(payload)  # noqa: S301 (its own bytes: can the parent rebuild it?)
            except Exception:
                payload = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
            try:
                sender.send_bytes(b"x" + payload)
            except OSError:  # the parent closed its end (it is stopping the import)
                pass
        finally:
            sender.close()

    def _receive(self) -> None:
        """Receive the child's messages and turn each batch back into Rows here, while the importing thread
        waits for the database."""
        while True:
            try:
                data = self.receiver.recv_bytes()
            except (EOFError, OSError):  # gone without a word: killed (memory), a crash in a native library
                data = b"d"
            kind: bytes = data[:1]
            value: Any = None
            try:
                if kind in (b"i", b"e", b"x"):
                    # (S301: the bytes come from this import's own child, through a pipe only the two hold)
                    value = pickle.loads(data[1:])  # noqa: S301
                if kind == b"i":
                    value = _Batch(self.writer, *value)
            except BaseException as exc:  # e.g. an owner the child knew and this process does not
                kind, value = b"X", exc  # (the child may still be sending: close() stops it)
            if not _put_unless_stopped(self.queue, self.stop, (kind, value)) or kind != b"i":
                return

    def __iter__(self) -> Iterator[list[Row]]:
        while True:
            kind, value = self.queue.get()
            if kind == b"d":
                self.finished = True
                raise _ReaderDied("The process reading the file stopped unexpectedly.")
            if kind == b"e":
                self.finished = True
                self.seconds, self.cpu_seconds, self.peak_rss_mb = value
                return
            if kind in (b"x", b"X"):
                self.finished = kind == b"x"
                raise value
            yield value

    def close(self) -> None:
        self.stop.set()
        if not self.finished:  # stopped early (cancelled, a failed batch): the child may wait to send more
            self.proc.kill()
        self.proc.join()
        self.thread.join()
        self.receiver.close()


def _first_part(good: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows none of whose match key or email an earlier one of them has (a part), and the others."""
    part: list[Row] = []
    rest: list[Row] = []
    keys: set[str] = set()
    for r in good:
        key, email = r.key, r.clean.get("email")
        if (key and key in keys) or (email and email in keys):
            rest.append(r)
        else:
            if key:
                keys.add(key)
            if email:
                keys.add(email)
            part.append(r)
    return part, rest


def _distinct(rows: list[Row]) -> bool:
    """No two of the rows without problems share a match key or an email: ContactWriter.write_batch writes
    them in one part (_first_part would leave none over)."""
    return not _first_part([r for r in rows if not r.problems])[1]


class _Batch(list):
    """A batch of rows from the forked reader (a contact import), in two forms. The list holds them slim
    (ContactWriter.slim: what writing a new contact needs; a tenth of the time to unpickle), and the pickled
    pieces of the whole rows are kept: in_full() gives rows that may update a contact (once emails are looked
    up), again() rows as they were prepared (the rows themselves have no cells, and a write the database
    refuses changes them). Its rows are prepared; ``distinct``: see _distinct (the reader checked)."""

    def __init__(self, writer: BaseWriter, slim_pieces: list[bytes], pieces: list[bytes], distinct: bool = False):
        super().__init__()
        self.pieces = pieces
        self.distinct = distinct
        self._full: dict[int, Row] | None = None
        restored = writer.restored_slim  # type: ignore[attr-defined]
        # (S301: the bytes come from this import's own child, through a pipe only the two hold)
        self.extend(restored(t) for piece in slim_pieces for t in pickle.loads(piece))  # noqa: S301

    def again(self, writer: BaseWriter) -> list[Row]:
        restored = writer.restored
        return [restored(t) for piece in self.pieces for t in pickle.loads(piece)]  # noqa: S301

    def in_full(self, writer: BaseWriter, rows: list[Row]) -> list[Row]:
        """The whole rows of these slim ones (each restored once per batch)."""
        if self._full is None:
            self._full = {r.number: r for r in self.again(writer)}
        return [self._full[r.number] for r in rows]


class _Clash(Exception):
    """A batch written as new contacts met a live contact's email (ContactWriter._write_hopefully)."""


class _ReaderDied(RuntimeError):
    """The forked reading process ended without its last batch or an error (see run: a thread takes over)."""


_INHERITED: list[Any] = []  # a forked child's copies of the parent's database connections


def _set_aside_connections() -> None:
    """In a forked child: its copies of the parent's database connections are kept but never used or
    closed (closing one would end the parent's session), and opening another raises."""
    for conn in connections.all(initialized_only=True):
        _INHERITED.append(conn.connection)
        conn.connection = None
        conn.connect = _no_database  # type: ignore[method-assign]


def _no_database(*_args, **_kwargs):
    raise RuntimeError("An import's helper process must not use the database.")


_FORKED_WRITER: ContactWriter | None = None  # the writer a forked process of the second phase works for


def _phase2_in_child(*args):
    assert _FORKED_WRITER is not None
    return _FORKED_WRITER._phase2_rows(*args)


class _Ahead:
    """Iterate over what ``produce()`` yields, produced by a thread that runs up to ``depth`` items ahead.

    Reading, mapping and checking rows is pure Python that needs no database; in its own thread it runs
    while the importing thread waits for the database (COPY, queries, commits release the GIL), so the two
    overlap. The database is used by the importing thread only (its connection and transaction). An
    exception in the producer is raised in the consumer; close() stops the producer (cancel, failure)."""

    def __init__(self, produce: Callable[[], Iterable[Any]], depth: int = 2, threaded: bool = True):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.seconds = 0.0  # the producer's own time
        self.thread: threading.Thread | None = None
        self.produce = produce
        if threaded:
            self.thread = threading.Thread(target=self._run, args=(produce,), name="kith-import-rows", daemon=True)
            self.thread.start()

    def _run(self, produce) -> None:
        started = time.perf_counter()
        try:
            for item in self._timed(produce()):
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(("error", exc))
        finally:
            connections.close_all()  # (this thread's own: the producer is not meant to open any)
            log.debug("import rows thread: %.1f s", time.perf_counter() - started)

    def _timed(self, items: Iterable[Any]) -> Iterator[Any]:
        """items, adding the time spent producing each to self.seconds."""
        it = iter(items)
        while True:
            t = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - t
            yield item

    def _put(self, message) -> bool:
        return _put_unless_stopped(self.queue, self.stop, message)

    def __iter__(self) -> Iterator[Any]:
        if self.thread is None:  # SQLite: its statements are short and in-process; a second thread
            # would only make the two contend for the GIL at every step
            yield from self._timed(self.produce())
            return
        while True:
            kind, value = self.queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()


def _sqlite_pragma(name: str, value: int | None) -> int | None:
    """On SQLite, set this connection's pragma ``name`` (a number: mmap_size, wal_autocheckpoint) and return
    its previous value. None: leave it as it is, or not SQLite (or not settable, e.g. in memory)."""
    if value is None or connection.vendor != "sqlite":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA {name}")
            row = cur.fetchone()
            if row is None:  # e.g. mmap_size of an in-memory database: nothing is mapped
                return None
            cur.execute(f"PRAGMA {name}={int(value)}")
    except DatabaseError:
        return None
    return row[0]


def _write_with_fallback(writer: BaseWriter, imp: Import, batch: list[Row], total: Counts) -> Counts:
    """One transaction for the batch; if the database refuses it, retry row by row."""
    def fresh() -> list[Row]:
        # the batch's rows as they were before a failed attempt changed them (rows from the forked reader
        # have no cells to map again: they are restored as it sent it)
        return (batch.again(writer) if isinstance(batch, _Batch)
                else [writer.mapper.row(row.number, row.cells) for row in batch])

    rows = batch
    try:
        while True:
            try:
                with transaction.atomic():
                    counts = writer.write_batch(rows)
                    after = Counts()
                    after.add(total)
                    after.add(counts)
                    _save_counts(imp, after)
                writer.committed()
                return counts
            except _Clash:  # written as new, a row met a contact: once more, with look-ups (writer.hopeful)
                writer.rolled_back()
                rows = fresh()
    except DatabaseError as exc:
        writer.rolled_back()
        log.warning("import %s: batch refused (%s); retrying row by row", imp.pk, exc)
    counts = Counts()
    hopeful = getattr(writer, "hopeful", False)
    if hopeful:
        writer.hopeful = False  # type: ignore[attr-defined]  # (a row clashing with a contact fails as itself)
    try:
        _row_by_row(writer, imp, fresh(), total, counts)
    finally:
        if hopeful:
            writer.hopeful = True  # type: ignore[attr-defined]
    return counts


def _row_by_row(writer: BaseWriter, imp: Import, rows: list[Row], total: Counts, counts: Counts) -> None:
    """A transaction for each row of a batch the database refused (see _write_with_fallback); a row it refuses
    fails with the database's reason."""
    for row in rows:
        try:
            with transaction.atomic():
                one = writer.write_batch([row])
                after = Counts()
                after.add(total)
                after.add(counts)
                after.add(one)
                _save_counts(imp, after)
            writer.committed()
            counts.add(one)
        except DatabaseError as exc:
            writer.rolled_back()
            with transaction.atomic():
                row.problems = [("", "", f"The database refused this row: {str(exc).strip().splitlines()[0]}")]
                writer.save_problems([row])
                one = Counts(rows=1, failed=1)
                after = Counts()
                after.add(total)
                after.add(counts)
                after.add(one)
                _save_counts(imp, after)
            counts.add(one)


# --- bulk SQL ------------------------------------------------------------------------------------------


_json = bulk.to_json  # a JSON column's text
_json_str = json.encoder.encode_basestring  # what _json gives for a str, without the encoder's dispatch


def reserve_ids(model, n: int) -> list[int]:
    from kith.core.management.seeding import reserve_ids as _reserve

    return _reserve(model, n) if n else []


def ensure_tags(names: Iterable[str]) -> dict[str, int]:
    """{lower name: tag id}, creating missing tags (case-insensitive reuse)."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    lowered = {n.lower() for n in names}
    found = {t.lower(): pk for pk, t in Tag.objects.annotate(l=Lower("name")).filter(l__in=lowered)
             .values_list("pk", "name")}
    missing = [n for n in names if n.lower() not in found]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in {m.lower(): m for m in missing}.values()],
                                ignore_conflicts=True)
        found.update({t.lower(): pk for pk, t in Tag.objects.annotate(l=Lower("name")).filter(l__in=lowered)
                      .values_list("pk", "name")})
    return found


def index_new(kind: str, objs: list, words: Words | None = None) -> None:
    """Search documents of records created in this transaction (so none exists yet): COPY on PostgreSQL,
    one executemany on SQLite, plus their words in the vocabulary (those not already written by this run,
    when given its Words). Same text as search.index_many."""
    if not objs:
        return
    with search.cached_phone_tokens(2048):
        rows, vocab = search.documents(kind, objs)
    write_search_rows(kind, rows, vocab, words)


SEARCH_COLUMNS = ["id", "kind", "object_id", "title", "body"]  # PostgreSQL's search table


def search_rows(kind: str, rows: list[tuple[int, str, str, int]]) -> list[tuple]:
    """PostgreSQL: search.documents' rows as the search table's (SEARCH_COLUMNS)."""
    return [(doc, search.KINDS[kind], oid, title, body) for doc, title, body, oid in rows]


def write_search_rows(kind: str, rows: list[tuple[int, str, str, int]] | str, vocab: set[str],
                      words: Words | None = None) -> None:
    """Write search documents: search.documents' rows, or on PostgreSQL their COPY text (search_rows)."""
    if not rows:
        return
    if isinstance(rows, str):
        bulk.copy_text(search.TABLE, SEARCH_COLUMNS, rows)
    elif connection.vendor == "postgresql":
        bulk.copy_rows(search.TABLE, SEARCH_COLUMNS, search_rows(kind, rows))
    else:
        bulk.copy_rows(search.TABLE, ["rowid", "title", "body"], [(doc, title, body) for doc, title, body, _ in rows])
    if words is not None:
        vocab = words.new(vocab)
    search._remember_terms(vocab)


class Words:
    """The vocabulary words a run has written in committed batches (so later batches do not send them to
    the database again); bounded, a word dropped from it is merely sent again."""

    LIMIT = 100_000

    def __init__(self):
        self.written: set[str] = set()
        self.pending: set[str] = set()

    def new(self, vocab: set[str]) -> set[str]:
        """The words not yet sent: neither committed nor sent in the open transaction."""
        fresh = vocab - self.written - self.pending
        self.pending |= fresh
        return fresh

    def committed(self) -> None:
        if len(self.written) + len(self.pending) > self.LIMIT:
            self.written.clear()
        self.written |= self.pending
        self.pending = set()

    def rolled_back(self) -> None:
        self.pending = set()


# --- contacts: the bulk path ---------------------------------------------------------------------------


def _index_scans(then: str = "", params: list[Any] | None = None) -> None:
    """PostgreSQL, in a batch's transaction, before it looks up contacts or companies (and ``then``, a
    statement run in the same round trip).

    Every look-up of a batch is by an indexed key, thousands of keys at a time. With its default costs
    (made for disks that seek) PostgreSQL prefers to read the whole contacts table for 2,000 emails until
    the table is far bigger than 100,000 rows: 30-55 ms a batch, with two parallel workers taking the
    cores, where the email index answers in 3-4 ms. For the rest of the transaction, tables are read
    through their indexes where they have one."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off" + (f"; {then}" if then else ""), params)


CONTACT_TEXT = {"first_name": 100, "last_name": 100, "job_title": 200, "lead_source": 100, "street": 200,
                "city": 100, "region": 100, "postal_code": 20, "external_id": 200}


COMPANY_LOCK = 0x6B697468_0001  # PostgreSQL advisory lock: an import batch that may create companies


UNIQUE_EMAIL = "contact_unique_live_email"  # the unique index on live contacts' emails (Contact.Meta)


class CompanyCache:
    """Companies by lower-cased exact name and by domain: looked up once, created when missing."""

    def __init__(self, writer: ContactWriter):
        self.w = writer
        # (a company id, or the Company this run creates in the open batch; its name)
        self.by_name: dict[str, tuple[Any, str]] = {}
        self.by_domain: dict[str, tuple[Any, str]] = {}
        self.fake_id = -1
        self.new_count = 0
        self.pending: list[tuple[Any, list[str], list[str]]] = []  # (created Company, name keys, domain keys)

    def resolve(self, rows: list[Row]) -> list:
        """Link each row's company; returns the Company objects created (not saved yet)."""
        from kith.contacts.models import Company

        if not self.pending and len(self.by_name) + len(self.by_domain) > 200_000:
            self.by_name.clear()  # bounded memory; what was dropped is looked up again when needed
            self.by_domain.clear()
        names = {r.clean["_company"].lower() for r in rows if r.clean.get("_company")}
        domains = {r.clean["_company_domain"] for r in rows if r.clean.get("_company_domain")}
        need_names = [n for n in names if n not in self.by_name]
        need_domains = [d for d in domains if d not in self.by_domain]
        if (need_names or need_domains) and not self.w.dry_run and connection.vendor == "postgresql":
            # Two imports running at once (two workers) must not both create a company neither of them
            # found: the batches that look companies up take turns, each holding the lock until it commits.
            # (SQLite's writers take turns anyway.)
            _index_scans("SELECT pg_advisory_xact_lock(%s)", [COMPANY_LOCK])
        elif need_names or need_domains:
            _index_scans()
        if need_domains:
            for pk, name, domain in Company.objects.keyed("domain", need_domains).values_list("pk", "name",
                                                                                              "domain"):
                self.by_domain[domain] = (pk, name)
        if need_names:
            for pk, name, lname in (Company.objects.annotate(lname=Lower("name")).filter(lname__in=need_names)
                                    .order_by("-pk").values_list("pk", "name", "lname")):
                self.by_name[lname] = (pk, name)  # ordered by -pk: the oldest wins
        created = []
        new_company = self.w.new_company
        now = timezone.now()
        for r in rows:
            name, domain = r.clean.pop("_company", ""), r.clean.pop("_company_domain", "")
            if not name and not domain:
                continue
            hit: tuple[Any, str] | None = self.by_domain.get(domain) if domain else None
            if hit is None and name:
                hit = self.by_name.get(name.lower())
            if hit is None:
                label = name or domain
                self.new_count += 1
                if self.w.dry_run:
                    hit = (self.fake_id, label)
                    self.fake_id -= 1
                else:
                    obj = new_company(label[:200], domain, now)
                    created.append(obj)
                    hit = (obj, label)
                if name:
                    self.by_name[name.lower()] = hit
                if domain:
                    self.by_domain[domain] = hit
                if not self.w.dry_run:
                    self.pending.append((hit[0], [name.lower()] if name else [], [domain] if domain else []))
            r.clean["company"] = hit
        return created

    def saved(self) -> None:
        """The batch committed: keep plain ids in the cache, not the objects."""
        for obj, names, domains in self.pending:
            for k in names:
                self.by_name[k] = (obj.pk, obj.name)
            for k in domains:
                self.by_domain[k] = (obj.pk, obj.name)
        self.pending = []

    def forget(self) -> None:
        """The batch rolled back: the companies it created are not in the database."""
        for _obj, names, domains in self.pending:
            for k in names:
                self.by_name.pop(k, None)
            for k in domains:
                self.by_domain.pop(k, None)
        self.pending = []


class ContactWriter(BaseWriter):
    def __init__(self, imp, actor, columns):
        super().__init__(imp, actor, columns)
        from kith.contacts.models import Company, Contact

        self.Contact, self.Company = Contact, Company
        self.companies = CompanyCache(self)
        self.match_on = imp.match_on
        self.policy = imp.on_duplicate
        # see _write_hopefully; False once a row's email turned out to be a live contact's
        self.hopeful = connection.vendor == "postgresql" and not self.dry_run and self.match_on in ("email", "")
        self.required_cf = [k for k, f in self.cf.items() if f.required]
        self.visible_all = actor is None or actor.can_manage_settings or permissions.visibility_rule() == "all"
        # dry run: hashes of the keys "created" earlier in the run (ints: a million keys stay small)
        self.seen: set[int] = set()
        self.labels = {**Contact.audit_fields, "tags": "Tags"}
        self.cf_labels = {f.key: f.label for f in self.cf.values()}
        self.company_labels = {**Company.audit_fields, "tags": "Tags"}
        self._stubs: dict[int, Any] = {}
        self._company_template: tuple[dict[str, Any], list[str], Any] | None = None
        self._company_affixes: dict[str, tuple[str, str]] | None = None  # history: a company key's JSON around its value
        self._row_template: tuple[list[Any], dict[str, int]] | None = None
        self._columns: list[str] = []
        self._json_at: set[str] = set()
        self.default_owner = actor.pk if getattr(actor, "pk", None) else None
        # PostgreSQL: the reading thread turns each row into its COPY text (but for the columns a batch
        # sets: id, company, timestamps), so the importing thread, which waits on the database, has
        # little Python left to do; the two threads share the GIL, and its time is the import's
        self._tail: list[int] | None = None
        if connection.vendor == "postgresql" and not self.dry_run:
            _template, at = self._template()
            batch_columns = [at[a] for a in self.BATCH_COLUMNS]
            self._tail = [i for i in range(len(_template)) if i not in batch_columns]
            self._copy_columns = [self._columns[i] for i in batch_columns + self._tail]
            # _copy_text: the template's values already as COPY text, and where each attribute's text goes
            self._tail_text = [bulk.copy_field(_template[i]) for i in self._tail]
            names = {i: a for a, i in at.items()}
            self._tail_at = {names[i]: n for n, i in enumerate(self._tail)}
        self.words = Words()
        self._affixes: dict[str, tuple[str, str]] = {}  # history: a key's JSON around its value
        self._owner_json: dict[int, str] = {}  # history: an owner's id and label, as JSON
        # the pure-Python phonenumbers (the fallback) compiles its metadata's patterns through re's cache
        # (512 entries), which numbers from many countries overflow; keep them compiled
        from kith.core.phones import phonenumbers

        if hasattr(phonenumbers, "enable_pattern_cache"):
            phonenumbers.enable_pattern_cache()

    # 1. normalise one row (pure Python) ------------------------------------------------------------
    # clean_row looks only at the targets the mapping can give a row
    @functools.cached_property
    def _text_targets(self) -> list[tuple[str, int]]:
        return [(name, limit) for name, limit in CONTACT_TEXT.items() if name in self.targets]

    @functools.cached_property
    def _cf_mapped(self) -> list[tuple[str, CustomField]]:
        return [(key, fdef) for key, fdef in self.cf.items() if key in self.targets]

    def clean_row(self, row: Row) -> None:
        self.clean_rows([row])

    def clean_rows(self, rows: list[Row]) -> None:
        """Normalise and check the rows' values into row.clean (problems: row.fail), one target at a time over
        all of them (in the order a row's problems are listed; the phone's region is the cleaned country)."""
        targets = self.targets
        for row in rows:
            v, c = row.values, row.clean
            for name, limit in self._text_targets:
                if name in v:
                    if len(v[name]) > limit:
                        row.fail(self.col(name), v[name],
                                 f"Must be at most {limit} characters (it has {len(v[name])}).")
                    else:
                        c[name] = v[name]
            if "full_name" in v and not (c.get("first_name") or c.get("last_name")):
                first, last = split_name(v["full_name"])
                c["first_name"], c["last_name"] = first[:100], last[:100]
        self._clean_each(rows, "email", clean_email)
        if "additional_emails" in targets:
            for row in rows:
                v, c = row.values, row.clean
                if "additional_emails" in v:
                    extra: list[str] = []
                    for item in re.split(r"[,;\s]+", v["additional_emails"]):
                        if not item:
                            continue
                        try:
                            e = clean_email(item)
                        except ValueError as exc:
                            row.fail(self.col("additional_emails"), item, str(exc))
                            break
                        if e and e != c.get("email") and e not in extra:
                            extra.append(e)
                    c["additional_emails"] = extra
        self._clean_each(rows, "country", clean_country)
        for name in ("phone", "mobile"):
            if name in targets:
                for row in rows:
                    v, c = row.values, row.clean
                    if name in v:
                        try:
                            c[name] = clean_phone(v[name], c.get("country") or None)
                        except ValueError as exc:
                            row.fail(self.col(name), v[name], str(exc))
        self._clean_each(rows, "lifecycle_stage", clean_lifecycle)
        if "owner" in targets:
            assert self.owners is not None  # (an owner value comes only from a mapped owner column)
            self._clean_each(rows, "owner", self.owners.get)
        self._clean_each(rows, "tags", split_tags, error=ValidationError,
                         reason=lambda exc: "; ".join(exc.messages))
        if self._cf_mapped:
            for row in rows:
                v = row.values
                cf = {}
                for key, fdef in self._cf_mapped:
                    if key in v:
                        try:
                            value = customfields.clean_value(fdef, v[key])
                        except ValueError as exc:
                            row.fail(self.col(key), v[key], str(exc))
                            continue
                        if value is not None:
                            cf[fdef.key] = value
                if cf:
                    row.clean["custom_fields"] = cf
        if "company" in targets:
            for row in rows:
                v = row.values
                if "company" in v:
                    row.clean["_company"] = v["company"][:200]
        if "company_domain" in targets:
            from kith.contacts.services import normalise_domain

            self._clean_each(rows, "company_domain", normalise_domain, key="_company_domain")

    def _clean_each(self, rows: list[Row], target: str, clean: Callable[[str], Any], *, key: str = "",
                    error: type[Exception] = ValueError, reason: Callable[[Any], str] = str) -> None:
        """row.clean[key or target] = clean(its value) for each row that has one; if clean raises ``error``,
        the row's problem (the column, the value, ``reason(exc)``) instead."""
        if target not in self.targets:
            return
        key = key or target
        for row in rows:
            value = row.values.get(target)
            if value is not None:
                try:
                    row.clean[key] = clean(value)
                except error as exc:
                    row.fail(self.col(target), value, reason(exc))

    def committed(self) -> None:
        self.companies.saved()
        self.words.committed()

    def rolled_back(self) -> None:
        self.companies.forget()
        self.words.rolled_back()

    def match_key(self, row: Row) -> str | None:
        c = row.clean
        if self.match_on == "email":
            return c.get("email") or None
        if self.match_on == "phone":
            return c.get("phone") or c.get("mobile") or None
        if self.match_on == "external_id":
            return c.get("external_id") or None
        return None

    def prepare(self, row: Row) -> None:
        self.prepare_many([row])

    def prepare_many(self, rows: list[Row]) -> None:
        """Each step over every row, then the next (a fifth less time than each row through every step:
        the steps' code and data stay in the processor's caches)."""
        todo = [r for r in rows if not r.problems and not r.cleaned]
        self.clean_rows(todo)
        for row in todo:
            row.key = self.match_key(row)
            row.values = {}  # read by clean_rows only; a batch holds thousands of these
            c = row.clean
            if not row.problems and not (c.get("first_name") or c.get("last_name") or c.get("email")):
                row.fail(self.col("first_name") if "first_name" in self.targets else "", "",
                         "Enter a first name, a last name or an email.")
        if self._tail is not None:
            copy_text = self._copy_text
            for row in todo:
                if not row.problems:
                    row.copy = copy_text(row.clean)
        for row in rows:
            row.cleaned = True

    def slim(self, row: Row) -> tuple:
        """What writing a prepared row as a new contact needs of it, as plain data (see _Batch)."""
        c = row.clean
        return (row.number, row.problems, row.key, row.copy, c.get("email"), c.get("_company"),
                c.get("_company_domain"), c.get("tags"), c.get("custom_fields"))

    def restored_slim(self, data: tuple) -> Row:
        """The slim Row that slim() made ``data`` of."""
        number, problems, key, copy, *values = data
        clean = {k: v for k, v in zip(self.SLIM_KEYS, values, strict=True) if v is not None}
        return Row(number, [], {}, problems, clean, True, key, copy)

    SLIM_KEYS = ("email", "_company", "_company_domain", "tags", "custom_fields")

    # 2. a batch ------------------------------------------------------------------------------------
    def write_batch(self, rows: list[Row]) -> Counts:
        """Write the batch in the caller's transaction. Raises _Clash when a row written as new turns out to
        have a live contact's email (see _write_hopefully): the caller rolls the batch back and writes it
        again (self.hopeful is False by then)."""
        counts = Counts()
        batch = rows if isinstance(rows, _Batch) else None  # (its rows are slim, and prepared)
        if batch is None:
            self.prepare_many(rows)  # (those not prepared yet)
        good = [r for r in rows if not r.problems]
        failed_rows = [r for r in rows if r.problems]
        counts.rows, counts.failed = len(rows), len(failed_rows)
        # Rows whose keys repeat within the batch go to a later sub-batch, so they meet the earlier row
        # in the database (and the duplicates policy applies to them uniformly).
        while good:
            # (a batch from the reading process says whether its keys repeat: mostly not, one part)
            part, rest = (good, []) if batch is not None and batch.distinct else _first_part(good)
            if self.hopeful:
                sub = self._write_hopefully(part)
            else:  # emails are looked up: a row may update a contact (a slim row has too little)
                if batch is not None:
                    part = batch.in_full(self, part)
                with self.timer("match and check duplicates"):
                    plan = self._plan(part)
                sub = self._apply(*plan)
            counts.created += sub.created
            counts.updated += sub.updated
            counts.skipped += sub.skipped
            counts.failed += sub.failed
            counts.companies += sub.companies
            failed_rows += [r for r in part if r.problems]
            good = rest
        self.save_problems(failed_rows)
        return counts

    def _write_hopefully(self, rows: list[Row]) -> Counts:
        """PostgreSQL, matching on email or not at all: write the rows as if none of their emails were a live
        contact's, without looking them up first (most rows of an import are new). The unique index on live
        emails checks the same as the look-up would; if it finds one, this run looks emails up from then
        on and _Clash is raised: the batch's transaction is rolled back and the batch written again."""
        try:
            with self.timer("match and check duplicates"):
                plan = self._plan(rows, look_up=False)
            return self._apply(*plan)
        except IntegrityError as exc:
            if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != UNIQUE_EMAIL:
                raise
            log.info("import %s: a row's email is a contact's already; looking emails up from now on", self.imp.pk)
            self.hopeful = False
            raise _Clash from exc

    def _plan(self, rows: list[Row], look_up: bool = True):
        Contact = self.Contact
        counts = Counts()
        if not look_up and not self.required_cf and not self.dry_run:  # (_write_hopefully) every row is new
            self.companies.new_count = 0
            return counts, rows, [], self.companies.resolve(rows)
        if look_up:
            _index_scans()
        # Existing contacts this part touches: by the match key, and by email (unique among live contacts).
        matches: dict[str, Any] = {}
        # (without look_up, _write_hopefully's first try: none)
        keys = [r.key for r in rows if r.key] if look_up else []
        emails = [r.clean["email"] for r in rows if r.clean.get("email")] if look_up else []
        existing_by_email: dict[str, tuple[int, str]] = {}
        if emails and self.match_on != "email":  # (matching on email finds these below)
            hits = self._existing("email", emails)
            if hits:
                for pk, email, name in Contact.objects.keyed("email", hits).values_list("pk", "email", "full_name"):
                    existing_by_email[email] = (pk, name or email)
        if keys and self.match_on:
            qs = Contact.objects.select_related("company", "owner")
            if not self.dry_run:
                qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs
            if self.match_on in ("email", "external_id"):
                keys = self._existing(self.match_on, keys)  # most rows of an import match nothing
            if not keys:
                pass
            elif self.match_on == "email":
                found = qs.keyed("email", keys)
                matches = {o.email: o for o in found}
                existing_by_email = {e: (o.pk, o.full_name or e) for e, o in matches.items()}
            elif self.match_on == "external_id":
                found = qs.filter(external_id__in=keys).order_by("pk")
                for o in found:
                    matches.setdefault(o.external_id, o)
            else:
                # one query per column, each on its partial index (keyed); the oldest contact with the number wins
                wanted = set(keys)
                by_pk: dict[int, Any] = {}
                for column in ("phone", "mobile"):
                    for o in qs.keyed(column, list(wanted)):
                        by_pk[o.pk] = o
                for pk in sorted(by_pk):
                    o = by_pk[pk]
                    for p in (o.phone, o.mobile):
                        if p in wanted:
                            matches.setdefault(p, o)
            if matches and not self.visible_all:
                ok = set(permissions.visible(Contact, self.actor).filter(pk__in=[o.pk for o in matches.values()])
                         .values_list("pk", flat=True))
                matches = {k: o for k, o in matches.items() if o.pk in ok or self._hidden(o)}
        creates: list[Row] = []
        updates: list[tuple[Row, Any]] = []
        for r in rows:
            key = r.key
            match = matches.get(key) if key else None
            if self.dry_run and match is None and key and hash(key) in self.seen:
                match = "dry-run"
            if match is not None and self.policy != "create":
                if getattr(match, "_hidden", False):
                    r.fail(self.col(self.match_on or ""), key or "", "Matches a record you do not have access to.")
                    counts.failed += 1
                elif self.policy == "skip" or match == "dry-run":
                    counts.skipped += 1
                else:
                    updates.append((r, match))
                continue
            email = r.clean.get("email")
            if email and (email in existing_by_email or (self.dry_run and hash("e:" + email) in self.seen)):
                other = existing_by_email.get(email, (0, email))[1]
                r.fail(self.col("email"), email, f"Another contact already has this email ({other}).")
                counts.failed += 1
                continue
            missing = [k for k in self.required_cf if self.cf[k].key not in r.clean.get("custom_fields", {})]
            if missing:
                for k in missing:
                    r.fail(self.col(k), "", f"{self.cf[k].label} is required.")
                counts.failed += 1
                continue
            creates.append(r)
        # update: email clashes with another contact
        real_updates = []
        for r, obj in updates:
            email = r.clean.get("email") or ""
            clash = bool(email) and email in existing_by_email and existing_by_email[email][0] != obj.pk
            if clash and (self.policy == "overwrite" or not obj.email):  # the update would set that email
                r.fail(self.col("email"), email,
                       f"Another contact already has this email ({existing_by_email[email][1]}).")
                counts.failed += 1
                continue
            real_updates.append((r, obj))
        self.companies.new_count = 0
        new_companies = self.companies.resolve(creates + [r for r, _ in real_updates])
        return counts, creates, real_updates, new_companies

    def _existing(self, column: str, values: list[str]) -> list[str]:
        """Which of these values the column (email or external_id) of a live contact has: one plain query on
        the column's index, without building the ORM's IN list of thousands of parameters."""
        qn = connection.ops.quote_name
        values = list(dict.fromkeys(values))
        table, col = qn(self.Contact._meta.db_table), qn(column)
        where, params = _any_of(col, values)
        # the partial unique index's own condition, as it is written (SQLite uses the index only then)
        extra = f" AND NOT ({col} = '')" if column == "email" else ""
        with connection.cursor() as cur:
            cur.execute(f"SELECT DISTINCT {col} FROM {table} WHERE {where} AND deleted_at IS NULL{extra}",  # noqa: S608
                        params)
            return [r[0] for r in cur.fetchall()]

    def _apply(self, counts: Counts, creates: list[Row], real_updates: list, new_companies: list) -> Counts:
        with self.timer("companies"):
            self._insert_companies(new_companies)
        counts.companies += self.companies.new_count
        counts.created += self._create(creates)
        with self.timer("updates"):
            updated, skipped = self._update(real_updates)
        counts.updated += updated
        counts.skipped += skipped
        return counts

    @staticmethod
    def _hidden(obj) -> bool:
        obj._hidden = True
        return True

    def new_company(self, name: str, domain: str, now) -> Any:
        """An unsaved Company the import creates to link contacts to (owner: the importer), made from a template
        instance's attributes: the model's __init__ with its owner costs 30 µs, a third of what writing the
        company costs (a file with a new company every other row has tens of thousands)."""
        if self._company_template is None:
            actor = self.actor if getattr(self.actor, "pk", None) else None
            template = self.Company(name="", domain="", website="", owner=actor)
            values = {k: v for k, v in template.__dict__.items() if k != "_state"}
            mutable = [k for k, v in values.items() if isinstance(v, dict | list)]  # (custom_fields: {})
            self._company_template = (values, mutable, actor)
        values, mutable, owner = self._company_template
        obj = self.Company.__new__(self.Company)
        obj.__dict__.update(values)
        for k in mutable:  # (a field's default dict or list is the object's own)
            obj.__dict__[k] = type(values[k])(values[k])
        obj._state = ModelState()
        if owner is not None:
            obj._state.fields_cache["owner"] = owner
        obj.name, obj.domain, obj.website = name, domain, f"https://{domain}" if domain else ""
        obj.created_at = obj.updated_at = now
        return obj

    def _insert_companies(self, objs: list) -> int:
        if not objs or self.dry_run:
            return 0
        Company = self.Company
        for obj, pk in zip(objs, reserve_ids(Company, len(objs)), strict=True):
            obj.pk = pk
        fields = list(Company._meta.concrete_fields)
        bulk.copy_rows(Company._meta.db_table, [f.column for f in fields], db_rows(fields, objs))
        # (their history rows and search documents: the second phase, as for the contacts; _index_companies)
        ImportChange.objects.create(imp_id=self.imp.pk, model="company", kind="created",
                                    record_ids=[o.pk for o in objs], indexed=False)
        return len(objs)

    def _index_companies(self) -> None:
        """The second phase for the companies the first one created (a few per batch of contacts): their
        "create" history rows, dated when they were created, and search documents (a company deleted since
        gets none); a transaction for each undo-log row, which is then marked (ImportChange.indexed)."""
        Company = self.Company
        todo = ImportChange.objects.filter(imp_id=self.imp.pk, kind="created", model="company",
                                           indexed=False).order_by("pk")
        for change_pk, ids in todo.values_list("pk", "record_ids"):
            objs = list(Company.all_objects.filter(pk__in=ids).select_related("owner").order_by("pk"))
            try:
                with transaction.atomic():
                    if objs:
                        audit.record_many(Company, [(o.pk, str(o), "create", self._company_json(o)) for o in objs],
                                          actor=self.actor, at=objs[0].created_at)
                        index_new("company", [o for o in objs if o.deleted_at is None], self.words)
                    ImportChange.objects.filter(pk=change_pk).update(indexed=True)
            except BaseException:
                self.words.rolled_back()
                raise
            self.words.committed()

    def _company_json(self, o) -> str:
        """_json(self._changes({}, self._company_state(o), self.company_labels)) in one pass, as _created_json
        builds a contact's (keys in order: domain, name, owner, website; empty ones left out)."""
        if self._company_affixes is None:
            self._company_affixes = {k: (_json(k) + ': {"old": null, "new": ',
                                         ', "label": ' + _json(self.company_labels.get(k, k)) + "}")
                                     for k in ("domain", "name", "owner", "website")}
        affixes = self._company_affixes
        parts = []
        for key, val in (("domain", o.domain), ("name", o.name), ("owner", o.owner_id), ("website", o.website)):
            if not val:
                continue
            if key == "owner":
                text = self._owner_json.get(val)
                if text is None:
                    text = self._owner_json[val] = _json({"id": val, "label": str(o.owner)})
            else:
                text = _json_str(val)
            parts.append(affixes[key][0] + text + affixes[key][1])
        return "{" + ", ".join(parts) + "}"

    def _company_state(self, o) -> dict:
        return {k: v for k, v in (("name", o.name), ("domain", o.domain), ("website", o.website),
                                  ("owner", {"id": o.owner_id, "label": str(o.owner)} if o.owner_id else None))
                if v}

    def _link(self, hit) -> tuple[int | None, Any]:
        """(company id, a Company carrying its name for the search document)."""
        if hit is None:
            return None, None
        ref, name = hit
        pk = ref.pk if hasattr(ref, "pk") else ref
        return pk, self._stub(pk, name)

    def _state(self, obj, tags: list[str]) -> dict:
        s: dict[str, Any] = {}
        for name in self.STATE_FIELDS:
            val = getattr(obj, name)
            if val not in ("", [], None):
                s[name] = val
        if obj.company_id:
            s["company"] = {"id": obj.company_id, "label": obj.company.name if obj.company else ""}
        if obj.owner_id:
            s["owner"] = {"id": obj.owner_id, "label": str(obj.owner)}
        if tags:
            s["tags"] = sorted(tags)
        for k, val in (obj.custom_fields or {}).items():
            s[f"custom_fields.{k}"] = val
        return s

    def _created_changes(self, obj, tags: list[str]) -> dict:
        """What audit.diff({}, snapshot) gives for a new contact, built in one pass."""
        out = {}
        labels = self.labels
        for key, val in sorted(self._state(obj, tags).items()):
            if key.startswith("custom_fields."):
                label = self.cf_labels.get(key[14:], key)
            else:
                label = labels.get(key, key)
            out[key] = {"old": None, "new": val, "label": label}
        return out

    STATE_FIELDS = ("first_name", "last_name", "email", "additional_emails", "phone", "mobile", "job_title",
                    "lifecycle_stage", "lead_source", "street", "city", "region", "postal_code", "country")

    def _created_json(self, obj, tags: list[str]) -> str:
        """_json(self._created_changes(obj, tags)) in one pass: each value encoded on its own (a company or
        an owner by hand or once per owner; the labels once per run), then joined in key order."""
        encoded: dict[str, str] = {}
        for name in self.STATE_FIELDS:  # text, or a list (additional_emails): empty ones are left out
            val = getattr(obj, name)
            if val:
                encoded[name] = _json_str(val) if type(val) is str else _json(val)
        if obj.company_id:
            encoded["company"] = (f'{{"id": {int(obj.company_id)}, "label": '
                                  f"{_json_str(obj.company.name if obj.company else '')}}}")
        if obj.owner_id:
            owner = self._owner_json.get(obj.owner_id)
            if owner is None:
                owner = self._owner_json[obj.owner_id] = _json({"id": obj.owner_id, "label": str(obj.owner)})
            encoded["owner"] = owner
        if tags:
            encoded["tags"] = _json(sorted(tags))
        for k, val in (obj.custom_fields or {}).items():
            encoded[f"custom_fields.{k}"] = _json(val)
        parts = []
        for key in sorted(encoded):
            affix = self._affixes.get(key)
            if affix is None:
                label = (self.cf_labels.get(key[14:], key) if key.startswith("custom_fields.")
                         else self.labels.get(key, key))
                affix = self._affixes[key] = (_json(key) + ': {"old": null, "new": ',
                                              ', "label": ' + _json(label) + "}")
            parts.append(affix[0] + encoded[key] + affix[1])
        return "{" + ", ".join(parts) + "}"

    def _changes(self, before: dict, after: dict, labels: dict) -> dict:
        out = {}
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if old in ("", [], None) and new in ("", [], None):
                continue
            if old != new:
                label = (self.cf_labels.get(key.split(".", 1)[1], key) if key.startswith("custom_fields.")
                         else labels.get(key, key))
                out[key] = {"old": old, "new": new, "label": label}
        return out

    def _create(self, rows: list[Row]) -> int:
        """Write the new contacts (and their tags) and the undo log. Their history rows and search documents
        are written by the second phase (index_created), once every row is in."""
        if not rows:
            return 0
        if self.dry_run:
            for r in rows:
                if r.clean.get("email"):
                    self.seen.add(hash("e:" + r.clean["email"]))
                if r.key:
                    self.seen.add(hash(r.key))
            return len(rows)
        Contact = self.Contact
        with self.timer("build rows"):
            if self._tail is not None:
                ids, text, tag_pairs = self._build_text(rows)
            else:
                ids, tuples, tag_pairs = self._build(rows)
        with self.timer("COPY contacts"):
            if self._tail is not None:
                bulk.copy_text(Contact._meta.db_table, self._copy_columns, text)
            else:
                bulk.copy_rows(Contact._meta.db_table, self._columns, tuples)
            self._tag_links(tag_pairs)
        # the second phase builds one undo-log row's contacts at a time: its memory stays that of
        # INDEX_BATCH_SIZE contacts whatever the batch size
        ImportChange.objects.bulk_create([
            ImportChange(imp_id=self.imp.pk, model="contact", kind="created", record_ids=ids[i:i + INDEX_BATCH_SIZE],
                         indexed=False) for i in range(0, len(ids), INDEX_BATCH_SIZE)])
        return len(ids)

    def _template(self) -> tuple[list[Any], dict[str, int]]:
        """A new contact's column values before the row's own (each field's default, ready for COPY), and
        each attribute's position."""
        if self._row_template is None:
            fields = _contact_fields()
            values = []
            for f in fields:
                default = f.get_default() if f.has_default() or not f.null else None
                if f.attname == "lifecycle_stage":
                    default = "lead"
                elif f.attname == "version":
                    default = 1
                elif f.null and not f.has_default():
                    default = None
                adapt = _adapter(f)
                values.append(default if default is None or adapt is _identity else adapt(default))
            self._row_template = (values, {f.attname: i for i, f in enumerate(fields)})
            self._columns = [f.column for f in fields]
            self._json_at = {f.attname for f in fields if _adapter(f) is _json}
        return self._row_template

    BATCH_COLUMNS = ("id", "company_id", "created_at", "updated_at")  # set by _build / _build_text

    def _fill(self, c: dict[str, Any]) -> list[Any]:
        """A new contact's column values from its cleaned row, but for BATCH_COLUMNS."""
        template, at = self._template()
        t = template.copy()
        json_at = self._json_at
        for name, value in c.items():
            i = at.get(name)
            if i is not None:
                t[i] = _json(value) if name in json_at else value
        for name, value in self._derived(c):
            t[at[name]] = value
        return t

    def _derived(self, c: dict[str, Any]) -> list[tuple[str, Any]]:
        """The columns a new contact's cleaned row does not give as they are: its owner (the row's, else the
        importer), lifecycle stage (lead when it has none) and full name (Contact.full_name_of)."""
        owner = c.get("owner")
        out = [("owner_id", owner.pk if owner is not None else self.default_owner),
               ("full_name", self.Contact.full_name_of(c.get("first_name", ""), c.get("last_name", ""),
                                                       c.get("email", "")))]
        if not c.get("lifecycle_stage"):
            out.append(("lifecycle_stage", "lead"))
        return out

    def _copy_text(self, c: dict[str, Any]) -> str:
        """PostgreSQL: _fill(c)'s values but for BATCH_COLUMNS (the columns _tail lists) as one COPY line's
        text without its newline, from the template's text: only the row's own values are escaped."""
        t = self._tail_text.copy()
        at, json_at, field = self._tail_at, self._json_at, bulk.copy_field
        for name, value in c.items():
            i = at.get(name)
            if i is not None:
                t[i] = field(_json(value) if name in json_at else value)
        for name, value in self._derived(c):
            t[at[name]] = field(value)
        return "\t".join(t)

    @staticmethod
    def _linked_company(c: dict[str, Any]) -> int | None:
        hit = c.get("company")
        if hit is None:
            return None
        ref = hit[0]
        return ref.pk if hasattr(ref, "pk") else ref

    def _build(self, rows: list[Row]) -> tuple[list[int], list[tuple], list[tuple[int, list[str]]]]:
        """The new contacts' ids (reserved), column tuples (for COPY or executemany) and tags."""
        _template, at = self._template()
        now = timezone.now()
        stamp = now if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(now)
        i_id, i_company, i_created, i_updated = (at[a] for a in self.BATCH_COLUMNS)
        ids = reserve_ids(self.Contact, len(rows))
        tuples, tag_pairs = [], []
        for r, pk in zip(rows, ids, strict=True):
            t = self._fill(r.clean)
            t[i_id], t[i_company], t[i_created], t[i_updated] = pk, self._linked_company(r.clean), stamp, stamp
            tuples.append(tuple(t))
            if r.clean.get("tags"):
                tag_pairs.append((pk, r.clean["tags"]))
        return ids, tuples, tag_pairs

    def _build_text(self, rows: list[Row]) -> tuple[list[int], str, list[tuple[int, list[str]]]]:
        """PostgreSQL: _build's rows as COPY text (columns: _copy_columns), from each row's prepared text."""
        stamp = bulk.copy_field(timezone.now())
        ids = reserve_ids(self.Contact, len(rows))
        lines, tag_pairs = [], []
        null, company_id = bulk.COPY_NULL, self._linked_company
        for r, pk in zip(rows, ids, strict=True):
            company = company_id(r.clean)
            lines.append(f"{pk}\t{null if company is None else company}\t{stamp}\t{stamp}\t{r.copy}\n")
            if r.clean.get("tags"):
                tag_pairs.append((pk, r.clean["tags"]))
        return ids, "".join(lines), tag_pairs

    def _tag_links(self, pairs: list[tuple[int, list[str]]], existing: bool = False) -> None:
        """Link each contact (id) to its tags (names; missing tags are created)."""
        wanted = [t for _, tags in pairs for t in tags]
        if not wanted:
            return
        ids = ensure_tags(wanted)
        through = self.Contact.tags.through
        rows = list({(pk, ids[t.lower()]) for pk, tags in pairs for t in tags})
        if existing:
            have = set(through.objects.filter(contact_id__in=[pk for pk, _ in pairs])
                       .values_list("contact_id", "tag_id"))
            rows = [r for r in rows if r not in have]
        if rows:
            bulk.copy_rows(through._meta.db_table, ["contact_id", "tag_id"], rows)

    # 3. the second phase: history rows and search documents of the new contacts ---------------------
    def index_created(self, on_progress: Callable[[], None] | None = None) -> None:
        """For each batch of contacts the first phase created (oldest first; a transaction for each, or for
        every INDEX_GROUP_SQLITE of them on SQLite): their "create" history rows (the same as creating them
        one by one writes) and their search documents, after those of the companies it created. A batch done
        is marked (ImportChange.indexed), so a run resumed after a crash continues where it stopped."""
        global _FORKED_WRITER
        Contact = self.Contact
        with self.timer("phase 2: companies"):
            self._index_companies()
        # streamed, twice (a million-row import has 500 of these rows of INDEX_BATCH_SIZE ids each)
        todo = ImportChange.objects.filter(imp_id=self.imp.pk, kind="created", model="contact",
                                           indexed=False).order_by("pk")
        count = sum(len(ids) for ids in todo.values_list("record_ids", flat=True).iterator(chunk_size=20))
        if not count:
            return
        Import.objects.filter(pk=self.imp.pk).update(to_index=F("indexed_rows") + count)
        pending = todo.values_list("pk", "record_ids").iterator(chunk_size=20)
        users: dict[int, Any] = {}
        # SQLite: this phase appends (history, search segments) and needs little page cache; half the
        # usual 64 MB keeps a million-row import's memory under 300 MB after the first phase's big batches
        # (the same speed, measured at 300,000 rows)
        cache = _sqlite_pragma("cache_size", -32768)
        # PostgreSQL: build a batch's rows in a thread while the previous batch is written (see _Ahead);
        # SQLite: one after the other
        # (a process of its own, forked, from FORK_MIN_ROWS contacts: the thread held the GIL that the
        # writing thread needs between its statements, as in the first phase; see _Forked)
        threaded = connection.vendor == "postgresql"
        pool: concurrent.futures.Executor | _Inline
        build: Callable[..., Any] = self._phase2_rows
        if threaded and _can_fork() and count >= FORK_MIN_ROWS:
            _FORKED_WRITER, build = self, _phase2_in_child  # (the process forks at the first submit)
            pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_set_aside_connections)
        elif threaded:
            pool = self._index_thread()
        else:
            pool = _Inline()
        previous = None
        self._history_type = ContentType.objects.get_for_model(Contact).pk  # (for the thread: no database there)
        self._request_id = context.request_id.get()
        # SQLite: one transaction per INDEX_GROUP_SQLITE batches (its commit copies what the batches changed
        # into the write-ahead log; and the search index gets one segment per commit)
        group = _Grouped(1 if threaded else INDEX_GROUP_SQLITE)
        try:
            with _short_switches(threaded), search.cached_phone_tokens(2048):
                for change_pk, ids in pending:
                    # read this batch (the database, here) and build its rows in the other thread while
                    # the previous batch is written
                    with self.timer("phase 2: read"):
                        rows, tags = self._load_new(ids)
                        owner_ids = {r["owner_id"] for r in rows if r["owner_id"]} - users.keys()
                        if owner_ids:
                            users.update(User.objects.in_bulk(owner_ids))
                        at = (Contact.all_objects.filter(pk=rows[0]["id"]).values_list("created_at", flat=True)[0]
                              if rows else None)
                    args = (rows, tags, dict(users), at, threaded)
                    try:
                        built = pool.submit(build, *args)
                    except concurrent.futures.BrokenExecutor:  # the forked builder died (see _phase2_write)
                        pool.shutdown(wait=True)
                        pool, build = self._index_thread(), self._phase2_rows
                        built = pool.submit(build, *args)
                    if previous is not None:
                        self._phase2_write(*previous, on_progress, group)
                    # (its rows are kept until written: rebuilt here if the builder process dies)
                    previous = (change_pk, ids, at, built, args if build is _phase2_in_child else None)
                if previous is not None:
                    self._phase2_write(*previous, on_progress, group)
                self._phase2_commit(group, on_progress)  # the last, partial group
        except BaseException as exc:
            group.abort(exc)
            self.words.rolled_back()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _FORKED_WRITER = None
            _sqlite_pragma("cache_size", cache)

    @staticmethod
    def _index_thread() -> concurrent.futures.ThreadPoolExecutor:
        return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kith-import-index")

    def _phase2_rows(self, rows: list[dict[str, Any]], tags: dict[int, list[str]], users: dict[int, Any], at,
                     as_text: bool):
        """History entries and search documents of loaded contacts (pure Python: runs in a thread). as_text
        (PostgreSQL): both as COPY text, so the thread that writes them has no Python of its own to do (it
        shares the GIL with this one)."""
        started = time.perf_counter()
        row_cls = _new_record_class(self.Contact)
        objs = []
        for r in rows:
            cid = r["company_id"]
            company = _CompanyName(cid, r.pop("company_name") or "") if cid else None
            objs.append(row_cls(r, company, users.get(r["owner_id"]), tags.get(r["id"], [])))
        history = [(o.pk, str(o), "create", self._created_json(o, o._tags)) for o in objs]
        docs, vocab = search.documents("contact", objs)
        if as_text:
            return (bulk.copy_lines(audit.history_rows(self._history_type, history, actor=self.actor,
                                                       at=at or timezone.now(), request_id=self._request_id)),
                    bulk.copy_lines(search_rows("contact", docs)), vocab, time.perf_counter() - started)
        return history, docs, vocab, time.perf_counter() - started

    def _phase2_write(self, change_pk: int, ids: list[int], at, built, args, on_progress, group: _Grouped) -> None:
        try:
            history, docs, vocab, seconds = built.result()
        except concurrent.futures.BrokenExecutor:
            if args is None:
                raise
            # The forked builder died (killed for memory, a crash in a native library): build this batch
            # here; the next submit finds the pool broken and goes on in a thread.
            log.warning("import %s: the process building history and search rows stopped; building them "
                        "in this process", self.imp.pk)
            history, docs, vocab, seconds = self._phase2_rows(*args)
        self.timer.seconds["phase 2: build rows (alongside)"] = (
            self.timer.seconds.get("phase 2: build rows (alongside)", 0.0) + seconds)
        group.begin()
        with self.timer("phase 2: history rows"):
            if isinstance(history, str):
                bulk.copy_text(AuditEntry._meta.db_table, audit.HISTORY_COLUMNS, history)
            else:
                audit.record_many(self.Contact, history, actor=self.actor, at=at)
        with self.timer("phase 2: search index"):
            write_search_rows("contact", docs, vocab, self.words)
        ImportChange.objects.filter(pk=change_pk).update(indexed=True)
        Import.objects.filter(pk=self.imp.pk).update(indexed_rows=F("indexed_rows") + len(ids))
        if group.done_one():
            self._phase2_commit(group, on_progress)

    def _phase2_commit(self, group: _Grouped, on_progress) -> None:
        """Commit the open group (if any), then count its words as written and report progress."""
        with self.timer("phase 2: commit"):
            committed = group.commit()
        if committed:
            self.words.committed()
            if on_progress:
                on_progress()

    NEW_COLUMNS = ("id", "first_name", "last_name", "full_name", "email", "additional_emails", "phone", "mobile",
                   "job_title", "lifecycle_stage", "lead_source", "street", "city", "region", "postal_code",
                   "country", "company_id", "owner_id", "custom_fields")

    def _load_new(self, ids: list[int]) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
        """The columns history and search need of these contacts (with their company's name), and their
        tag names: two plain queries, no model instances."""
        qn = connection.ops.quote_name
        Contact, Company = self.Contact, self.Company
        through = Contact.tags.through
        if ids and ids == list(range(ids[0], ids[-1] + 1)):
            # reserved from the sequence in one go, the usual case: one range scan of the index instead of
            # a look-up per id (on PostgreSQL 5.3 instead of 8.9 ms of server time for 2,000 contacts)
            where, params = "BETWEEN %s AND %s", [ids[0], ids[-1]]
        else:
            where, params = _any_of("", ids, cast="bigint")
        cols = ", ".join(f"c.{qn(c)}" for c in self.NEW_COLUMNS)
        names = (*self.NEW_COLUMNS, "company_name")
        with connection.cursor() as cur:
            cur.execute(f"SELECT {cols}, co.name FROM {qn(Contact._meta.db_table)} c "  # noqa: S608
                        f"LEFT JOIN {qn(Company._meta.db_table)} co ON co.id = c.company_id "
                        f"WHERE c.id {where} ORDER BY c.id", params)
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            cur.execute(f"SELECT l.contact_id, t.name FROM {qn(through._meta.db_table)} l "  # noqa: S608
                        f"JOIN {qn(Tag._meta.db_table)} t ON t.id = l.tag_id WHERE l.contact_id {where}", params)
            tags: dict[int, list[str]] = {}
            for pk, name in cur.fetchall():
                tags.setdefault(pk, []).append(name)
        for r in rows:  # JSON arrives as text (Django's own JSONField decodes it in from_db_value)
            for name, empty in (("additional_emails", "[]"), ("custom_fields", "{}")):
                text = r[name]
                if isinstance(text, str):  # most are empty: decoding "[]" cost as much as the query
                    r[name] = json.loads(text) if text and text != empty else ([] if empty == "[]" else {})
        return rows, tags

    def _stub(self, pk: int, name: str):
        """A Company carrying its id and name (what a contact's search document and history need)."""
        stub = self._stubs.get(pk)
        if stub is None or stub.name != name:
            if len(self._stubs) > 5000:
                self._stubs.clear()
            stub = self._stubs[pk] = self.Company(pk=pk, name=name)
        return stub

    def _update(self, pairs: list[tuple[Row, Any]]) -> tuple[int, int]:
        """fill: only empty fields; overwrite: every field the row has a value for. Tags are added."""
        if not pairs:
            return 0, 0
        updated, skipped = 0, 0
        Contact = self.Contact
        tags_now: dict[int, list[str]] = {}
        through = Contact.tags.through
        for pk, name in through.objects.filter(contact_id__in=[o.pk for _, o in pairs]).values_list(
                "contact_id", "tag__name"):
            tags_now.setdefault(pk, []).append(name)
        changed_objs, audit_rows, change_rows, fields_touched = [], [], [], set()
        overwrite = self.policy == "overwrite"
        for r, obj in pairs:
            c = r.clean
            old_tags = sorted(tags_now.get(obj.pk, []))
            before_state = self._state(obj, old_tags)
            before: dict[str, Any] = {}
            company_hit = c.pop("company", None)
            for name, value in c.items():
                if name in ("tags", "custom_fields", "owner"):
                    continue
                current = getattr(obj, name)
                if value in ("", [], None) or value == current:
                    continue
                if current not in ("", [], None) and not overwrite:
                    continue
                if name == "lifecycle_stage" and not overwrite and current != "lead":
                    continue
                before[name] = current
                setattr(obj, name, value)
            if "owner" in c and (overwrite or obj.owner_id is None) and c["owner"].pk != obj.owner_id:
                before["owner_id"] = obj.owner_id
                obj.owner = c["owner"]
            if company_hit is not None and (overwrite or obj.company_id is None):
                company_id, company = self._link(company_hit)
                if company_id != obj.company_id:
                    before["company_id"] = obj.company_id
                    obj.company_id = company_id
                    obj._state.fields_cache["company"] = company
            if c.get("custom_fields"):
                merged = dict(obj.custom_fields or {})
                for k, val in c["custom_fields"].items():
                    if k not in merged or overwrite:
                        merged[k] = val
                if merged != (obj.custom_fields or {}):
                    before["custom_fields"] = obj.custom_fields
                    obj.custom_fields = merged
            new_tags = [t for t in c.get("tags", []) if t.lower() not in {x.lower() for x in old_tags}]
            if new_tags:
                before["tags"] = old_tags
            if not before:
                skipped += 1
                continue
            if self.dry_run:
                updated += 1
                continue
            obj.full_name = obj.compute_full_name()
            records.bump(obj)
            obj._tags = new_tags
            fields_touched |= {k for k in before if k != "tags"}
            changed_objs.append(obj)
            after_state = self._state(obj, sorted(old_tags + new_tags))
            audit_rows.append((obj.pk, str(obj), "update", self._changes(before_state, after_state, self.labels)))
            change_rows.append(ImportChange(imp_id=self.imp.pk, model="contact", kind="updated", record_id=obj.pk,
                                            before=_plain(before), version_after=obj.version))
            updated += 1
        if changed_objs:
            fields = sorted(fields_touched | {"full_name", "version", "updated_at"})
            Contact.objects.bulk_update(changed_objs, fields, batch_size=500)
            self._tag_links([(o.pk, o._tags) for o in changed_objs], existing=True)
            audit.record_many(Contact, audit_rows, actor=self.actor)
            search.index_many("contact", changed_objs)
            ImportChange.objects.bulk_create(change_rows, batch_size=500)
        return updated, skipped


class _CompanyName:
    """A new contact's company as its search document and history read it (id and name): building a
    Company instance per row cost more than the rest of the row's second phase."""

    __slots__ = ("id", "name", "pk")

    def __init__(self, pk: int, name: str):
        self.pk = self.id = pk
        self.name = name

    def __str__(self) -> str:
        return self.name


@functools.cache
def _new_record_class(model):
    """A light stand-in for a model instance being created in bulk: its column values as attributes, its
    related company and owner, and the model's own search_document and __str__ (so the search text and the
    history label are exactly the model's), at a fraction of the cost of building model instances."""

    def __init__(self, values: dict, company, owner, tags: list[str]):
        self.__dict__.update(values)
        self.pk = values["id"]
        self.company = company
        self.owner = owner
        self._tags = tags

    return type(f"New{model.__name__}", (), {
        "__init__": __init__, "__str__": model.__str__, "search_document": model.search_document,
        "object_type": model.object_type,
    })


def _plain(before: dict) -> dict:
    return json.loads(_json(before))


@functools.cache
def _contact_fields():
    from kith.contacts.models import Contact

    return list(Contact._meta.concrete_fields)


def _identity(value):
    return value


@functools.lru_cache(maxsize=256)
def _adapter(f) -> Callable[[Any], Any]:
    """How a field's Python value is handed to COPY / executemany (computed once per field)."""
    from django.db import models

    if isinstance(f, models.JSONField):
        return _json
    if connection.vendor == "postgresql":
        return _identity
    if isinstance(f, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(f, models.DecimalField):
        return lambda v: None if v is None else connection.ops.adapt_decimalfield_value(v, f.max_digits,
                                                                                          f.decimal_places)
    return _identity


def db_rows(fields: list, objs: list) -> list[tuple]:
    """The objects' column values, ready for bulk.copy_rows."""
    pairs = [(f.attname, _adapter(f)) for f in fields]
    return [tuple(adapt(getattr(o, name)) for name, adapt in pairs) for o in objs]


# --- companies, leads, deals: through their services ---------------------------------------------------


class _RowFailed(Exception):
    """The row already carries its problems."""


class ServiceWriter(BaseWriter):
    """Each row through the record type's own create/update service, in a savepoint."""

    batch_size = SERVICE_BATCH_SIZE

    def __init__(self, imp, actor, columns):
        super().__init__(imp, actor, columns)
        self.object_type = imp.object_type
        self.policy = imp.on_duplicate
        self.match_on = imp.match_on
        self.seen: set[int] = set()  # dry run: hashes of the match keys "created" earlier in the run
        if self.object_type == "company":
            from kith.contacts import services as s
            from kith.contacts.models import Company

            self.model, self.create, self.update = Company, s.create_company, s.update_company
            self.arg = "company"
        elif self.object_type == "lead":
            from kith.sales.models import Lead
            from kith.sales.services import leads as s

            self.model, self.create, self.update = Lead, s.create_lead, s.update_lead
            self.arg = "lead"
        else:
            from kith.sales.models import Deal
            from kith.sales.services import deals as s

            self.model, self.create, self.update = Deal, s.create_deal, s.update_deal
            self.arg = "deal"
        self.company_cache: dict[str, int] = {}

    # row → service data ------------------------------------------------------------------------------
    def data_for(self, row: Row) -> dict[str, Any]:
        v = row.values
        data: dict[str, Any] = {}
        plain = {"company": ["name", "domain", "website", "industry", "size", "annual_revenue", "phone", "street",
                             "city", "region", "postal_code", "country", "description", "external_id"],
                 "lead": ["first_name", "last_name", "email", "phone", "company_name", "title", "source", "status",
                          "score", "notes", "country", "utm_source", "utm_medium", "utm_campaign", "external_id"],
                 "deal": ["name", "amount", "currency", "next_step", "lost_reason", "external_id"]}[self.object_type]
        for name in plain:
            if name in v:
                data[name] = v[name]
        if self.object_type == "lead":
            if "full_name" in v and not (v.get("first_name") or v.get("last_name")):
                data["first_name"], data["last_name"] = split_name(v["full_name"])
            if "status" in data:
                data["status"] = re.sub(r"[^a-z_]", "", data["status"].lower().replace(" ", "_"))
        if self.object_type in ("company", "deal") and "amount" in data:
            data["amount"] = re.sub(r"[^\d.\-]", "", data["amount"]) or data["amount"]
        if self.object_type == "company":
            for name in ("size", "annual_revenue"):
                if name in data:
                    data[name] = re.sub(r"[^\d.\-]", "", data[name]) or data[name]
        if "owner" in v:
            assert self.owners is not None  # (an owner value comes only from a mapped owner column)
            try:
                data["owner_id"] = self.owners.get(v["owner"]).pk
            except ValueError as exc:
                row.fail(self.col("owner"), v["owner"], str(exc))
        if "tags" in v:
            try:
                data["tags"] = split_tags(v["tags"])
            except ValidationError as exc:
                row.fail(self.col("tags"), v["tags"], "; ".join(exc.messages))
        cf = {self.cf[k].key: v[k] for k in self.cf if k in v}
        if cf:
            data["custom_fields"] = cf
        if self.object_type == "deal":
            self._deal_refs(row, data)
        return data

    def _deal_refs(self, row: Row, data: dict[str, Any]) -> None:
        from kith.contacts.models import Contact
        from kith.sales.models import Pipeline, Stage

        v = row.values
        if "expected_close_date" in v:
            try:
                data["expected_close_date"] = clean_date_text(v["expected_close_date"])
            except ValueError as exc:
                row.fail(self.col("expected_close_date"), v["expected_close_date"], str(exc))
        pipeline = None
        if "pipeline" in v:
            pipeline = Pipeline.objects.filter(name__iexact=v["pipeline"]).first()
            if pipeline is None:
                row.fail(self.col("pipeline"), v["pipeline"], f"No pipeline named “{v['pipeline']}”.")
            else:
                data["pipeline_id"] = pipeline.pk
        if "stage" in v:
            stages = Stage.objects.filter(name__iexact=v["stage"])
            if pipeline is not None:
                stages = stages.filter(pipeline=pipeline)
            stage = stages.order_by("pipeline__position", "position").first()
            if stage is None:
                row.fail(self.col("stage"), v["stage"], f"No stage named “{v['stage']}”"
                                                        + (f" in pipeline “{pipeline}”." if pipeline else "."))
            else:
                data["stage_id"] = stage.pk
        if "company" in v:
            data["company_id"] = self._company_id(v["company"])
        if "contact" in v:
            text = v["contact"]
            contacts = permissions.visible(Contact, self.actor)
            if "@" in text:
                try:
                    contact = contacts.keyed("email", clean_email(text)).first()
                except ValueError:
                    contact = None
            else:
                contact = (contacts.annotate(lname=Lower("full_name")).filter(lname=" ".join(text.split()).lower())
                           .order_by("pk").first())
            if contact is None:
                row.fail(self.col("contact"), text, f"No contact with the email or name “{text}”.")
            else:
                data["contact_ids"] = [contact.pk]

    def _company_id(self, name: str) -> int | None:
        from kith.contacts.models import Company
        from kith.contacts.services import create_company

        key = name.lower()
        if key in self.company_cache and Company.objects.filter(pk=self.company_cache[key]).exists():
            return self.company_cache[key]
        found = Company.objects.annotate(lname=Lower("name")).filter(lname=key).order_by("pk").first()
        if found is None:
            found = create_company(actor=self.actor, data={"name": name[:200]})
            self._created.setdefault("company", []).append(found.pk)
            self._counts.companies += 1
        self.company_cache[key] = found.pk
        return found.pk

    def find(self, data: dict[str, Any]):
        if not self.match_on:
            return None
        qs = permissions.visible(self.model, self.actor)
        if self.match_on == "external_id":
            key = str(data.get("external_id") or "").strip()
            return qs.filter(external_id=key).order_by("pk").first() if key else None
        if self.match_on == "email":
            try:
                key = clean_email(str(data.get("email") or ""))
            except ValueError:
                return None
            return qs.keyed("email", key).order_by("pk").first() if key else None
        if self.match_on == "phone":
            raw = str(data.get("phone") or "")
            key = clean_phone(raw, None) if raw else ""
            return qs.keyed("phone", key).order_by("pk").first() if key else None
        if self.match_on == "domain":
            from kith.contacts.services import normalise_domain

            try:
                key = normalise_domain(data.get("domain") or data.get("website") or "")
            except ValueError:
                return None
            return qs.keyed("domain", key).first() if key else None
        if self.match_on == "name":
            key = " ".join(str(data.get("name") or "").split()).lower()
            return (qs.annotate(lname=Lower("name")).filter(lname=key).order_by("pk").first() if key else None)
        return None

    def _merge(self, obj, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(data to send to update, before values) under the fill / overwrite policy."""
        overwrite = self.policy == "overwrite"
        out: dict[str, Any] = {}
        before: dict[str, Any] = {}
        for name, value in data.items():
            if name == "tags":
                tags = sorted(t.name for t in obj.tags.all())
                merged = tags + [t for t in value if t.lower() not in {c.lower() for c in tags}]
                if merged != tags:
                    out["tags"], before["tags"] = merged, tags
                continue
            if name == "custom_fields":
                existing = obj.custom_fields or {}
                cf = {k: val for k, val in value.items() if overwrite or k not in existing}
                if cf:
                    out["custom_fields"], before["custom_fields"] = cf, dict(existing)
                continue
            if name == "contact_ids":
                if overwrite or not obj.deal_contacts.exists():
                    out[name] = value
                continue
            attname = name
            current = getattr(obj, attname, None)
            if current not in (None, "", []) and not overwrite:
                continue
            out[name] = value
            before[attname] = current
        return out, before

    def write_batch(self, rows: list[Row]) -> Counts:
        self._counts = Counts(rows=len(rows))
        self._created: dict[str, list[int]] = {}
        changes: list[ImportChange] = []
        with transaction.atomic():
            for r in rows:
                if r.problems:
                    self._counts.failed += 1
                    continue
                try:
                    with transaction.atomic():
                        self._one(r, changes)
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        r.fail(self._column_for(name), r.values.get(self._target_for(name), ""), " ".join(messages))
                    self._counts.failed += 1
                except _RowFailed:
                    self._counts.failed += 1
                except (PermissionDenied, ConflictError) as exc:
                    r.fail("", "", str(exc))
                    self._counts.failed += 1
            if self.dry_run:
                transaction.set_rollback(True)
            else:
                for model, ids in self._created.items():
                    changes.append(ImportChange(imp_id=self.imp.pk, model=model, kind="created", record_ids=ids))
                ImportChange.objects.bulk_create(changes)
        self.save_problems([r for r in rows if r.problems])
        return self._counts

    def _one(self, r: Row, changes: list[ImportChange]) -> None:
        data = self.data_for(r)
        if r.problems:
            raise _RowFailed
        key = None
        obj = self.find(data)
        if self.dry_run and obj is None and self.match_on:
            key = str(data.get(self.match_on) or "").strip().lower()
            if key and hash(key) in self.seen:
                self._counts.skipped += 1
                return
        if obj is not None and self.policy != "create":
            if self.policy == "skip":
                self._counts.skipped += 1
                return
            payload, before = self._merge(obj, data)
            if not payload:
                self._counts.skipped += 1
                return
            before = {k: (obj.owner_id if k == "owner_id" else v) for k, v in before.items()}
            updated = self.update(actor=self.actor, **{self.arg: obj}, data=payload)
            if updated.version == obj.version:
                self._counts.skipped += 1
                return
            changes.append(ImportChange(imp_id=self.imp.pk, model=self.object_type, kind="updated",
                                        record_id=obj.pk, before=_plain(before), version_after=updated.version))
            self._counts.updated += 1
            return
        created = self.create(actor=self.actor, data=data)
        self._created.setdefault(self.object_type, []).append(created.pk)
        if key:
            self.seen.add(hash(key))
        self._counts.created += 1

    def _target_for(self, field_name: str) -> str:
        if field_name.startswith("custom_fields."):
            return "cf_" + field_name.split(".", 1)[1]
        return {"owner_id": "owner", "company_id": "company", "pipeline_id": "pipeline", "stage_id": "stage",
                "contact_ids": "contact", "primary_contact_id": "contact"}.get(field_name, field_name)

    def _column_for(self, field_name: str) -> str:
        target = self._target_for(field_name)
        if target in self.mapper.column_of:
            return self.mapper.column_of[target]
        if target in ("first_name", "last_name") and "full_name" in self.mapper.column_of:
            return self.mapper.column_of["full_name"]
        return target if field_name != "__all__" else ""


# --- preview -------------------------------------------------------------------------------------------


def preview_rows(imp: Import, columns: list[str], raw: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
    """The first rows as they will be imported, with the problems a run would report (nothing written)."""
    out = []
    mapper = Mapper(columns, imp.mapping)
    if imp.object_type == "contact":
        writer = ContactWriter.__new__(ContactWriter)
        BaseWriter.__init__(writer, imp, imp.created_by, columns)
        writer.cf = _cf_defs("contact")
        for number, cells in raw:
            row = mapper.row(number, cells)
            writer.mapper = mapper
            if not row.problems:
                writer.clean_row(row)
            values = {k: (v if not hasattr(v, "pk") else str(v)) for k, v in row.clean.items()
                      if not k.startswith("_")}
            if row.clean.get("_company"):
                values["company"] = row.clean["_company"]
            if row.clean.get("_company_domain"):
                values["company_domain"] = row.clean["_company_domain"]
            out.append({"row_number": number, "values": values,
                        "errors": {p[0] or "row": p[2] for p in row.problems}})
        return out
    return _service_preview(imp, columns, raw)


def _service_preview(imp: Import, columns: list[str], raw: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
    """Companies, leads and deals: each row goes through the same steps as a run (owner, tags, pipeline,
    stage, company and contact look-ups, then the record type's create service, which normalises and
    validates), inside a transaction that is rolled back; the values shown are the created record's. A row
    that matches an existing record (and would update or be skipped) shows its values as read."""
    writer = ServiceWriter(imp, imp.created_by, columns)
    writer._counts, writer._created = Counts(), {}  # (what a batch starts with; rolled back here)
    out = []
    with transaction.atomic():
        for number, cells in raw:
            row = writer.mapper.row(number, cells)
            values: dict[str, Any] = dict(row.values)
            if not row.problems:
                try:
                    with transaction.atomic():
                        data = writer.data_for(row)
                        if not row.problems and (imp.on_duplicate == "create" or writer.find(data) is None):
                            values.update(_as_imported(writer.create(actor=writer.actor, data=data), row.values))
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        row.fail(writer._column_for(name), row.values.get(writer._target_for(name), ""),
                                 " ".join(messages))
                except (PermissionDenied, ConflictError) as exc:
                    row.fail("", "", str(exc))
            out.append({"row_number": number, "values": values,
                        "errors": {p[0] or "row": p[2] for p in row.problems}})
        transaction.set_rollback(True)
    return out


def _as_imported(obj, read: dict[str, str]) -> dict[str, Any]:
    """The record's stored value of each target the row had (a date or an amount as text, related records
    by name, custom fields by key)."""
    out: dict[str, Any] = {}
    for target in read:
        if target.startswith("cf_"):
            key = target[3:]
            if key in (obj.custom_fields or {}):
                out[target] = obj.custom_fields[key]
            continue
        if target == "tags":
            out[target] = sorted(t.name for t in obj.tags.all())
            continue
        if target == "contact":
            out[target] = ", ".join(str(c) for c in obj.contacts.all()) if hasattr(obj, "contacts") else read[target]
            continue
        if target == "pipeline" and getattr(obj, "stage_id", None):
            out[target] = str(obj.stage.pipeline)
            continue
        try:
            f = obj._meta.get_field(target)
        except FieldDoesNotExist:
            continue  # e.g. a lead's full name, split into first and last name
        value = getattr(obj, target)
        if f.is_relation:
            out[target] = str(value) if value is not None else ""
        elif value is None:
            out[target] = ""
        elif isinstance(value, dt.date | Decimal):
            out[target] = str(value)
        else:
            out[target] = value
    return out


# --- undo ----------------------------------------------------------------------------------------------


def _model(name: str):
    from kith.contacts.models import Company, Contact
    from kith.sales.models import Deal, Lead

    return {"contact": Contact, "company": Company, "lead": Lead, "deal": Deal}[name]


UNDO_CHUNK = 2000  # created records deleted per transaction (and per progress update)
NOT_UNDONE_KEPT = 1000  # items of the not-undone list kept in the report; not_undone_count has them all


def undo_size(imp: Import) -> int:
    """How many records an undo of this import goes through: what it created and updated, and the companies
    it created to link contacts. Decides whether the undo runs in the request or as a job."""
    return imp.created + imp.updated + imp.companies_created


def undo_start_report(imp: Import) -> dict[str, Any]:
    """The report an undo starts from. After an undo that stopped midway, the records it deleted stay
    deleted (so its count carries on) and the status and error to put back if this one stops too are those
    from before the first attempt (not "undoing", nor the "Undo stopped" message)."""
    prior = imp.undo_report or {}
    return {"deleted": int(prior.get("deleted", 0)), "restored": int(prior.get("restored", 0)), "not_undone": [],
            "not_undone_count": 0,
            "status_before": prior.get("status_before", imp.status) if imp.status == Import.Status.UNDOING
            else imp.status,
            "error_before": prior.get("error_before", imp.error)}


def _undo_report(result: dict[str, Any]) -> dict[str, Any]:
    return {"deleted": result["deleted"], "restored": result["restored"],
            "not_undone": result["not_undone"][:NOT_UNDONE_KEPT], "not_undone_count": result["not_undone_count"]}


def _not_undone(result: dict[str, Any], item: dict[str, Any]) -> None:
    """Count a record left as it is; only the first NOT_UNDONE_KEPT are listed (an undo of millions of
    records changed since must not hold them all in memory or in the report)."""
    result["not_undone_count"] += 1
    if len(result["not_undone"]) < NOT_UNDONE_KEPT:
        result["not_undone"].append(item)


def undo(*, imp: Import, actor) -> dict[str, Any]:
    """See services.undo_import. Restores the updates (newest first, one transaction each), then deletes
    the created records in chunks of UNDO_CHUNK (one transaction each: records first, the companies made
    for them last). After every chunk ``undo_done`` and the report so far are saved, so the import's page
    and GET /imports/{id} show the progress; at the end the report is kept in ``undo_report``.

    If it stops on an error, the status and error go back to what they were (the error says the undo
    stopped) and the exception propagates: what it undid stays undone, and undoing again continues, skipping
    the records already deleted and the updates already restored (``ImportChange.undone_version``)."""
    start = undo_start_report(imp)
    state = {"status_before": start.pop("status_before"), "error_before": start.pop("error_before")}
    result: dict[str, Any] = {**start, "restored": 0}
    done = 0
    token = context.request_id.set(f"import-{imp.pk}-undo")
    try:
        updates = imp.changes.filter(kind="updated")
        order = {"contact": 0, "lead": 0, "deal": 0, "company": 1}
        created = sorted(imp.changes.filter(kind="created"), key=lambda c: (order.get(c.model, 0), -c.pk))
        # the exact count, from the undo log (undo_size, from the import's counters, only decided whether
        # this runs in the request or as a job, and showed a total until now)
        total = sum(len(c.record_ids) for c in created) + updates.count()
        Import.objects.filter(pk=imp.pk).update(undo_total=total, undo_done=0)
        # A record this import created and then updated (the same key twice in the file) is simply removed;
        # its version when the import ended is that of its last update.
        last_version: dict[tuple[str, int | None], int] = {}
        created_ids: dict[str, set[int]] = {}
        if updates.exists():
            for model in set(updates.values_list("model", flat=True)):
                of_model: set[int] = set()
                for c in created:
                    if c.model == model:
                        of_model.update(c.record_ids)
                created_ids[model] = of_model
        # the versions the restores of an earlier attempt left (the oldest change restored last)
        restored: dict[tuple[str, int | None], int] = {}
        for model, record_id, version in updates.filter(undone_version__isnull=False).order_by("-id") \
                .values_list("model", "record_id", "undone_version"):
            assert version is not None  # (filtered above)
            restored[(model, record_id)] = version
            done += 1
        for ch in updates.filter(undone_version__isnull=True).order_by("-id").iterator(chunk_size=500):
            key = (ch.model, ch.record_id)
            if ch.record_id in created_ids.get(ch.model, ()):
                last_version[key] = max(last_version.get(key, 0), ch.version_after or 0)
            else:
                _undo_update(ch, actor, result, restored)
            done += 1
            if done % 500 == 0:
                _undo_progress(imp, done, result, state)
        result["restored"] = len(restored)
        created_ids.clear()
        for ch in created:
            ids = list(ch.record_ids)
            for i in range(0, len(ids), UNDO_CHUNK):
                chunk = ids[i: i + UNDO_CHUNK]
                _undo_created(ch.model, chunk, actor, result, imp, last_version)
                done += len(chunk)
                _undo_progress(imp, done, result, state)
        Import.objects.filter(pk=imp.pk).update(
            status=Import.Status.UNDONE, undone_at=timezone.now(),
            undone_by=actor if getattr(actor, "pk", None) else None, error=state["error_before"],
            undo_done=total, undo_report=_undo_report(result))
    except Exception as exc:
        reason = str(exc).strip() or type(exc).__name__
        log.warning("undo of import %s stopped after %s records: %s", imp.pk, done, reason)
        Import.objects.filter(pk=imp.pk).update(
            status=state["status_before"], undo_done=done, undo_report={**_undo_report(result), **state},
            error=f"Undo stopped: {reason}; what was undone stays undone; undo again to continue.")
        raise
    finally:
        context.request_id.reset(token)
    return result


def _undo_progress(imp: Import, done: int, result: dict[str, Any], state: dict[str, Any]) -> None:
    jobs.heartbeat()
    Import.objects.filter(pk=imp.pk).update(undo_done=done, undo_report={**_undo_report(result), **state})


_LABEL_FIELDS = {"contact": ("full_name", "email"), "lead": ("full_name", "email"), "company": ("name",),
                 "deal": ("name",)}


def _undo_created(model_name: str, ids: list[int], actor, result: dict, imp: Import,
                  last_version: dict[tuple[str, int | None], int]) -> None:
    """Delete one chunk of the records the import created, those still as it left them, in one transaction.
    Loads only what deciding and labelling needs (version, trash, the fields str() shows); the history rows,
    search documents and records go in a few statements for the whole chunk. Ids no longer there (deleted
    since, or by an earlier undo attempt) are skipped."""
    model = _model(model_name)
    with transaction.atomic():
        qs = model.all_objects.filter(pk__in=ids).only("pk", "version", "deleted_at", *_LABEL_FIELDS[model_name])
        if connection.vendor == "postgresql":
            qs = qs.select_for_update()
        deletable = []
        for o in qs:
            if o.version != last_version.get((model_name, o.pk), 1):
                reason = ("moved to the trash since the import" if o.deleted_at else
                          f"changed since the import (now at version {o.version})")
                _not_undone(result, {"type": model_name, "id": o.pk, "label": str(o), "reason": reason})
                continue
            deletable.append(o)
        if model_name == "company" and deletable:
            deletable = _unlinked_companies(deletable, result)
        if not deletable:
            return
        audit.record_many(model, [(o.pk, str(o), "delete", {"import": {"old": None, "new": f"undo of import "
                                                                       f"#{imp.pk}", "label": "Import"}})
                                 for o in deletable], actor=actor)
        pks = [o.pk for o in deletable]
        where, params = _any_of("id" if connection.vendor == "postgresql" else "rowid",
                                [search._doc_id(model_name, pk) for pk in pks], "bigint")
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {search.TABLE} WHERE {where}", params)  # noqa: S608
        records.delete_many(model, pks)
        result["deleted"] += len(pks)


def _unlinked_companies(companies: list, result: dict) -> list:
    """The companies no contact or deal links to now (the records this undo removed are gone already; any
    other link keeps the company, listed as not undone). Counted per chunk, as the related managers
    (``company.contacts``, ``company.deals``: the default managers) would one by one."""
    from django.db.models import Count

    from kith.contacts.models import Contact
    from kith.sales.models import Deal

    pks = [o.pk for o in companies]
    links = {}
    for rel_model in (Contact, Deal):
        links[rel_model] = dict(rel_model._default_manager.filter(company_id__in=pks).order_by()
                                .values_list("company_id").annotate(n=Count("pk")))
    keep = []
    for o in companies:
        contacts, deals = links[Contact].get(o.pk, 0), links[Deal].get(o.pk, 0)
        if contacts or deals:
            text = " and ".join(t for t in (f"{contacts} contact(s)" if contacts else "",
                                            f"{deals} deal(s)" if deals else "") if t)
            _not_undone(result, {"type": "company", "id": o.pk, "label": str(o),
                                 "reason": f"{text} not from this import link to it now"})
            continue
        keep.append(o)
    return keep


def _undo_update(ch: ImportChange, actor, result: dict, restored: dict[tuple[str, int | None], int]) -> None:
    """Restore one update; ``restored`` holds the versions this undo already left (a record the import
    updated twice is restored twice, newest change first). The change is marked restored
    (``undone_version``) in the same transaction, so an undo that stops later does not try it again."""
    model = _model(ch.model)
    with transaction.atomic():
        obj = model.all_objects.select_for_update().filter(pk=ch.record_id).first()
        if obj is None:
            _not_undone(result, {"type": ch.model, "id": ch.record_id, "label": f"#{ch.record_id}",
                                 "reason": "deleted since the import"})
            return
        if obj.version not in (ch.version_after, restored.get((ch.model, obj.pk))) or obj.deleted_at is not None:
            _not_undone(result, {"type": ch.model, "id": obj.pk, "label": str(obj),
                                 "reason": f"changed since the import (now at version {obj.version})"})
            return
        before = audit.snapshot(obj)
        for name, value in ch.before.items():
            if name == "tags":
                records.set_tags(obj, value)
            elif name == "custom_fields":
                obj.custom_fields = value or {}
            else:
                try:
                    f = obj._meta.get_field(name)
                except FieldDoesNotExist:
                    f = None
                if f is None:
                    setattr(obj, name, value)  # an attname such as owner_id
                elif f.is_relation:
                    setattr(obj, f.attname, value)
                else:
                    setattr(obj, f.attname, f.to_python(value))
        if hasattr(obj, "compute_full_name"):
            obj.full_name = obj.compute_full_name()
        records.bump(obj)
        obj.save()
        records.finish_write(obj, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
        restored[(ch.model, obj.pk)] = obj.version
        ImportChange.objects.filter(pk=ch.pk).update(undone_version=obj.version)

