"""Durable background jobs: rows in core_job, claimed by workers, one mechanism on SQLite and PostgreSQL.

    @job("contacts.reindex", max_attempts=3)
    def reindex(contact_id: int) -> None: ...

    enqueue("contacts.reindex", contact_id=7, delay=timedelta(minutes=5))

- Claiming: a conditional UPDATE (status queued → running) so only one worker gets a row; on PostgreSQL
  the candidate is picked with SELECT … FOR UPDATE SKIP LOCKED so many workers do not queue on one row.
- Retries: a failing job is re-queued with exponential backoff (30 s × 2^attempt, capped at 1 h) until
  max_attempts, then marked failed with the error; an admin can retry it.
- A worker that died mid-job: rows running for longer than STALE_AFTER are re-queued (at once, when `kith
  serve` stopped or lost that worker process: requeue_of_process). A job that runs
  longer (a million-row import) calls heartbeat() now and then, so it is not taken for dead and run twice.
- Periodic jobs: @periodic("name", every=timedelta(...)) keeps exactly one pending row per name
  (unique_key), re-scheduled after each run.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import Job

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=15)
HEARTBEAT_EVERY = 60.0  # seconds between two heartbeats' writes (a small fraction of STALE_AFTER)
_running: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("kith_job_running", default=None)


@dataclass
class JobSpec:
    name: str
    func: Callable[..., Any]
    max_attempts: int
    every: timedelta | None = None


registry: dict[str, JobSpec] = {}


def job(name: str, *, max_attempts: int = 5):
    def register(func):
        registry[name] = JobSpec(name, func, max_attempts)
        return func

    return register


def periodic(name: str, *, every: timedelta, max_attempts: int = 3):
    def register(func):
        registry[name] = JobSpec(name, func, max_attempts, every=every)
        return func

    return register


def enqueue(
    name: str,
    *,
    delay: timedelta | None = None,
    run_at: datetime | None = None,
    unique_key: str | None = None,
    max_attempts: int | None = None,
    **kwargs: Any,
) -> Job | None:
    """Queue a job (inside the caller's transaction, so it exists only if the write commits).

    With unique_key, returns None when a pending job with that key already exists.
    """
    if name not in registry:
        raise KeyError(f"unknown job {name!r}")
    when = run_at or (timezone.now() + delay if delay else timezone.now())
    spec = registry[name]
    row = Job(
        name=name,
        args=kwargs,
        run_at=when,
        unique_key=unique_key,
        max_attempts=max_attempts or spec.max_attempts,
    )
    if unique_key is None:
        row.save()
        return row
    try:
        with transaction.atomic():
            row.save()
        return row
    except IntegrityError:
        return None


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempt - 1, 0), 3600))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def _claim(worker: str) -> Job | None:
    now = timezone.now()
    with transaction.atomic():
        qs = Job.objects.filter(status=Job.Status.QUEUED, run_at__lte=now).order_by("run_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        candidate = qs.values_list("id", flat=True).first()
        if candidate is None:
            return None
        claimed = Job.objects.filter(id=candidate, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, locked_by=worker, locked_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            return None
    return Job.objects.get(id=candidate)


def heartbeat() -> None:
    """From inside a long job: it is alive (its row's locked_at moves on, at most once a minute), so
    requeue_stale does not hand it to another worker while it runs. Outside a job (``kith import`` in a
    terminal, tests calling the engine directly) it does nothing."""
    running = _running.get()
    if running is None:
        return
    job_id, last = running
    now = time.monotonic()
    if now - last < HEARTBEAT_EVERY:
        return
    running[1] = now
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(locked_at=timezone.now())


def requeue_stale() -> int:
    cutoff = timezone.now() - STALE_AFTER
    return Job.objects.filter(status=Job.Status.RUNNING, locked_at__lt=cutoff).update(
        status=Job.Status.QUEUED, locked_by="", last_error="worker stopped while running; re-queued"
    )


def requeue_of_process(pid: int) -> int:
    """Re-queue the jobs a worker process of this machine (``pid``) was running when it ended: stopped by
    `kith serve` at the end of its grace period, or dead. They need not wait STALE_AFTER; an import run
    again resumes after its last committed batch."""
    return Job.objects.filter(status=Job.Status.RUNNING, locked_by__startswith=f"{socket.gethostname()}:{pid}:").update(
        status=Job.Status.QUEUED, locked_by="", last_error="its worker process ended while it ran; re-queued"
    )


def schedule_periodic() -> None:
    for spec in registry.values():
        if spec.every is not None:
            enqueue(spec.name, unique_key=f"periodic:{spec.name}")


def run_one(worker: str | None = None) -> Job | None:
    """Claim and run one due job. Returns the job row (after it ran) or None when nothing was due."""
    worker = worker or worker_id()
    row = _claim(worker)
    if row is None:
        return None
    spec = registry.get(row.name)
    started = time.monotonic()
    token = _running.set([row.pk, started])
    try:
        if spec is None:
            raise LookupError(f"no job registered as {row.name!r}")
        result = spec.func(**row.args)
    except Exception as exc:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.warning("job %s #%s failed (attempt %s/%s): %s", row.name, row.pk, row.attempts, row.max_attempts, error)
        if row.attempts < row.max_attempts:
            Job.objects.filter(pk=row.pk).update(
                status=Job.Status.QUEUED, run_at=timezone.now() + backoff(row.attempts), last_error=error,
                locked_by="",
            )
        else:
            Job.objects.filter(pk=row.pk).update(
                status=Job.Status.FAILED, last_error=error, finished_at=timezone.now(), locked_by=""
            )
    else:
        Job.objects.filter(pk=row.pk).update(
            status=Job.Status.DONE, finished_at=timezone.now(), last_error="",
            result=result if isinstance(result, dict | list | str | int | float | bool) else None,
        )
        log.info("job %s #%s done in %.0f ms", row.name, row.pk, (time.monotonic() - started) * 1000)
    finally:
        _running.reset(token)
    if spec is not None and spec.every is not None:
        enqueue(spec.name, delay=spec.every, unique_key=f"periodic:{spec.name}")
    row.refresh_from_db()
    return row


def retry(job_row: Job) -> None:
    Job.objects.filter(pk=job_row.pk, status=Job.Status.FAILED).update(
        status=Job.Status.QUEUED, run_at=timezone.now(), attempts=0, finished_at=None
    )


def run_worker(*, stop: threading.Event | None = None, poll: float = 1.0, burst: bool = False) -> int:
    """Run jobs until stopped (or, with burst, until none is due). Returns how many ran."""
    stop = stop or threading.Event()
    worker = worker_id()
    ran = 0
    last_housekeeping = 0.0
    while not stop.is_set():
        if not connection.in_atomic_block:  # (tests run the worker inside their transaction)
            close_old_connections()
        if time.monotonic() - last_housekeeping > 30:
            requeue_stale()
            schedule_periodic()
            last_housekeeping = time.monotonic()
        try:
            row = run_one(worker)
        except Exception:
            log.exception("worker loop error")
            row = None
            stop.wait(poll)
        if row is not None:
            ran += 1
            continue
        if burst:
            break
        stop.wait(poll)
    if not connection.in_atomic_block:
        close_old_connections()
    return ran
