"""Durable background jobs (kith.core.jobs): delays, retries with backoff, unique keys, periodic jobs, stale
workers, and many workers racing over one queue without running a job twice."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, connections, transaction
from django.utils import timezone

from kith.core import jobs
from kith.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    """Registers test jobs; yields the list of (job name, kwargs) they were called with."""
    got: list[tuple[str, dict]] = []
    lock = threading.Lock()
    state = {"fail_times": 0}

    def record(name):
        def run(**kwargs):
            with lock:
                got.append((name, kwargs))
            return {"echo": kwargs}

        return run

    def flaky(**kwargs):
        with lock:
            got.append(("test.flaky", kwargs))
            if state["fail_times"] > 0:
                state["fail_times"] -= 1
                raise RuntimeError("the mail server said no")
        return "ok"

    def always_fails(**kwargs):
        got.append(("test.broken", kwargs))
        raise ValueError(f"cannot send to {kwargs.get('to')}")

    jobs.job("test.echo")(record("test.echo"))
    jobs.job("test.flaky", max_attempts=3)(flaky)
    jobs.job("test.broken", max_attempts=3)(always_fails)
    jobs.periodic("test.tick", every=timedelta(hours=1))(record("test.tick"))
    got_state = got, state
    yield got_state
    for name in ("test.echo", "test.flaky", "test.broken", "test.tick"):
        jobs.registry.pop(name, None)


def make_due(row: Job) -> None:
    Job.objects.filter(pk=row.pk).update(run_at=timezone.now())


def test_job_runs_once_with_its_arguments_and_stores_its_result(calls):
    got, _ = calls
    row = jobs.enqueue("test.echo", contact_id=7, note="hi")
    ran = jobs.run_one("w1")
    assert ran.pk == row.pk
    assert got == [("test.echo", {"contact_id": 7, "note": "hi"})]
    assert (ran.status, ran.attempts, ran.result) == ("done", 1, {"echo": {"contact_id": 7, "note": "hi"}})
    assert ran.finished_at is not None
    assert jobs.run_one("w1") is None
    assert len(got) == 1


def test_nothing_due_returns_none(db):
    assert jobs.run_one("w1") is None


def test_unknown_job_name_is_refused_at_enqueue(db):
    with pytest.raises(KeyError):
        jobs.enqueue("no.such.job")
    assert not Job.objects.exists()


def test_delayed_job_runs_only_when_due(calls):
    got, _ = calls
    row = jobs.enqueue("test.echo", delay=timedelta(milliseconds=400), n=1)
    assert row.run_at > timezone.now()
    assert jobs.run_one("w1") is None
    assert got == []
    time.sleep(max(0.0, (row.run_at - timezone.now()).total_seconds()) + 0.05)
    assert jobs.run_one("w1").status == "done"
    assert got == [("test.echo", {"n": 1})]


def test_jobs_run_in_due_order(calls):
    got, _ = calls
    later = jobs.enqueue("test.echo", run_at=timezone.now() - timedelta(seconds=1), n="later")
    earlier = jobs.enqueue("test.echo", run_at=timezone.now() - timedelta(seconds=10), n="earlier")
    jobs.enqueue("test.echo", delay=timedelta(hours=1), n="future")
    assert jobs.run_one("w1").pk == earlier.pk
    assert jobs.run_one("w1").pk == later.pk
    assert jobs.run_one("w1") is None
    assert [kw["n"] for _, kw in got] == ["earlier", "later"]


def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(calls):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("test.echo")
        raise RuntimeError
    assert not Job.objects.exists()


def test_failing_job_is_retried_with_exponential_backoff_then_failed_with_the_error(calls):
    got, _ = calls
    row = jobs.enqueue("test.broken", to="ada@example.com")
    delays = []
    for _attempt in range(2):
        before = timezone.now()
        ran = jobs.run_one("w1")
        assert ran.status == "queued"
        assert "ValueError: cannot send to ada@example.com" in ran.last_error
        delays.append(ran.run_at - before)
        assert jobs.run_one("w1") is None  # not due yet
        make_due(ran)
    assert timedelta(seconds=29) < delays[0] <= timedelta(seconds=31)
    assert timedelta(seconds=59) < delays[1] <= timedelta(seconds=61)

    ran = jobs.run_one("w1")
    assert ran.pk == row.pk
    assert (ran.status, ran.attempts) == ("failed", 3)
    assert ran.last_error == "ValueError: cannot send to ada@example.com"
    assert ran.finished_at is not None
    assert len(got) == 3
    assert jobs.run_one("w1") is None


def test_backoff_doubles_and_is_capped_at_an_hour():
    assert [jobs.backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert jobs.backoff(30) == timedelta(hours=1)


def test_a_job_that_succeeds_on_retry_is_done_without_error(calls):
    _, state = calls
    state["fail_times"] = 1
    jobs.enqueue("test.flaky")
    first = jobs.run_one("w1")
    assert first.status == "queued"
    make_due(first)
    second = jobs.run_one("w1")
    assert (second.status, second.attempts, second.last_error, second.result) == ("done", 2, "", "ok")


def test_retry_requeues_a_failed_job(calls):
    _, state = calls
    state["fail_times"] = 5
    row = jobs.enqueue("test.flaky", max_attempts=1)
    assert jobs.run_one("w1").status == "failed"
    state["fail_times"] = 0
    jobs.retry(Job.objects.get(pk=row.pk))
    row.refresh_from_db()
    assert (row.status, row.attempts, row.finished_at) == ("queued", 0, None)
    ran = jobs.run_one("w1")
    assert (ran.pk, ran.status) == (row.pk, "done")


def test_retry_leaves_jobs_that_did_not_fail_alone(calls):
    done = jobs.enqueue("test.echo")
    jobs.run_one("w1")
    jobs.retry(Job.objects.get(pk=done.pk))
    assert Job.objects.get(pk=done.pk).status == "done"


def test_unique_key_deduplicates_pending_jobs(calls):
    got, _ = calls
    first = jobs.enqueue("test.echo", unique_key="reindex:7", n=1)
    assert first is not None
    assert jobs.enqueue("test.echo", unique_key="reindex:7", n=2) is None
    assert Job.objects.count() == 1
    # Other keys are independent.
    assert jobs.enqueue("test.echo", unique_key="reindex:8", n=3) is not None
    jobs.run_one("w1")
    jobs.run_one("w1")
    # Once the job has run, the key can be used again.
    assert jobs.enqueue("test.echo", unique_key="reindex:7", n=4) is not None
    assert [kw["n"] for _, kw in got] == [1, 3]


def test_duplicate_unique_key_inside_a_transaction_does_not_break_it(calls):
    with transaction.atomic():
        jobs.enqueue("test.echo", unique_key="k")
        assert jobs.enqueue("test.echo", unique_key="k") is None
        Job.objects.count()  # the transaction is still usable
    assert Job.objects.filter(unique_key="k").count() == 1


def test_periodic_job_keeps_one_pending_row_and_reschedules_itself(calls, monkeypatch):
    got, _ = calls
    # Only the test's jobs: the apps' own periodic jobs are tested with their apps.
    monkeypatch.setattr(jobs, "registry", {k: v for k, v in jobs.registry.items() if k.startswith("test.")})
    jobs.schedule_periodic()
    jobs.schedule_periodic()
    pending = Job.objects.filter(name="test.tick", status="queued")
    assert pending.count() == 1
    assert pending.get().unique_key == "periodic:test.tick"

    ran = jobs.run_one("w1")
    assert ran.name == "test.tick" and ran.status == "done"
    assert got == [("test.tick", {})]
    next_run = Job.objects.get(name="test.tick", status="queued")
    assert timedelta(minutes=59) < next_run.run_at - timezone.now() <= timedelta(hours=1)
    jobs.schedule_periodic()
    assert Job.objects.filter(name="test.tick", status="queued").count() == 1
    assert jobs.run_one("w1") is None


def test_periodic_job_is_rescheduled_after_a_failure_too(calls):
    def boom():
        raise RuntimeError("x")

    jobs.periodic("test.periodic_boom", every=timedelta(minutes=10), max_attempts=1)(boom)
    try:
        jobs.enqueue("test.periodic_boom", unique_key="periodic:test.periodic_boom")
        assert jobs.run_one("w1").status == "failed"
        assert Job.objects.filter(name="test.periodic_boom", status="queued").count() == 1
    finally:
        jobs.registry.pop("test.periodic_boom", None)


def test_stale_running_job_of_a_dead_worker_is_requeued_and_runs_once(calls):
    got, _ = calls
    row = jobs.enqueue("test.echo", n="orphan")
    fresh = jobs.enqueue("test.echo", n="busy")
    # Two workers claim a job each; the first dies mid-job 20 minutes ago, the other is still working.
    assert jobs._claim("dead-worker").pk == row.pk
    assert jobs._claim("live-worker").pk == fresh.pk
    Job.objects.filter(pk=row.pk).update(locked_at=timezone.now() - timedelta(minutes=20))

    assert jobs.run_one("w2") is None  # running jobs are not picked up
    assert jobs.requeue_stale() == 1
    requeued = Job.objects.get(pk=row.pk)
    assert (requeued.status, requeued.locked_by) == ("queued", "")
    assert "re-queued" in requeued.last_error
    assert Job.objects.get(pk=fresh.pk).status == "running"

    ran = jobs.run_one("w2")
    assert (ran.pk, ran.status, ran.locked_by) == (row.pk, "done", "w2")
    assert jobs.run_one("w2") is None
    assert got == [("test.echo", {"n": "orphan"})]
    assert jobs.requeue_stale() == 0


def test_a_long_job_that_beats_is_not_taken_for_dead(calls, monkeypatch):
    """A job running longer than STALE_AFTER (a million-row import) calls heartbeat() as it goes: its row
    stays claimed by its worker, so no other worker starts it a second time while it runs."""
    seen = {}

    def long_job(**kwargs):
        me = Job.objects.get(status="running")
        # 20 minutes in: the last heartbeat was long ago …
        Job.objects.filter(pk=me.pk).update(locked_at=timezone.now() - timedelta(minutes=20))
        jobs.heartbeat()  # … and it beats now
        seen["requeued while it beats"] = jobs.requeue_stale()
        monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 3600.0)
        Job.objects.filter(pk=me.pk).update(locked_at=timezone.now() - timedelta(minutes=20))
        jobs.heartbeat()  # a second beat within HEARTBEAT_EVERY writes nothing
        seen["requeued after a throttled beat"] = jobs.requeue_stale()
        return "ok"

    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.0)  # the first beat writes at once
    jobs.job("test.long")(long_job)
    try:
        jobs.enqueue("test.long")
        ran = jobs.run_one("w1")
    finally:
        jobs.registry.pop("test.long", None)
    assert ran.status == "done"
    assert seen == {"requeued while it beats": 0, "requeued after a throttled beat": 1}
    jobs.heartbeat()  # outside a job: nothing to do, no error


def test_job_of_an_unregistered_name_fails_clearly(calls):
    row = Job.objects.create(name="gone.away", max_attempts=1)
    ran = jobs.run_one("w1")
    assert ran.pk == row.pk
    assert ran.status == "failed"
    assert "gone.away" in ran.last_error


@pytest.mark.django_db(transaction=True)  # a worker manages its own connection, outside any transaction
def test_burst_worker_runs_everything_due_and_stops(calls):
    got, _ = calls
    for n in range(5):
        jobs.enqueue("test.echo", n=n)
    jobs.enqueue("test.echo", delay=timedelta(hours=1), n="later")
    assert jobs.run_worker(burst=True) >= 5
    assert sorted(kw["n"] for name, kw in got if name == "test.echo") == [0, 1, 2, 3, 4]
    assert Job.objects.get(args={"n": "later"}).status == "queued"


# --- many workers --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def production_like_sqlite(path):
    """Point the default connection of every thread at a fresh SQLite file configured like production (WAL,
    BEGIN IMMEDIATE, busy timeout). The test run's shared-cache in-memory database uses table locks that fail
    at once instead of waiting, which is not how Kith runs."""
    original_settings = connections.settings["default"]
    original_wrapper = connections["default"]
    connections.settings["default"] = {**original_settings, "NAME": str(path)}
    connections["default"] = connections.create_connection("default")
    try:
        with connections["default"].schema_editor() as editor:
            editor.create_model(Job)
        yield
    finally:
        connections["default"].close()
        connections["default"] = original_wrapper
        connections.settings["default"] = original_settings


def race(workers: int, count: int) -> dict[str, int]:
    """`workers` threads run jobs until none is queued or running; returns per-thread run counts."""
    for n in range(count):
        jobs.enqueue("test.echo", n=n)
    start = threading.Barrier(workers)
    ran: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        ran[name] = 0
        try:
            start.wait()
            while True:
                row = jobs.run_one(name)
                if row is not None:
                    ran[name] += 1
                elif not Job.objects.filter(status__in=["queued", "running"]).exists():
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    return ran


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_over_200_jobs_run_each_exactly_once(calls, tmp_path):
    got, _ = calls
    on_sqlite = connection.vendor == "sqlite"
    with production_like_sqlite(tmp_path / "jobs.sqlite3") if on_sqlite else contextlib.nullcontext():
        if on_sqlite:
            assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        ran = race(2, 200)
        numbers = [kw["n"] for name, kw in got if name == "test.echo"]
        assert sorted(numbers) == list(range(200)), "a job ran twice or not at all"
        assert sum(ran.values()) == 200
        assert all(count > 0 for count in ran.values()), f"one worker did everything: {ran}"
        assert set(Job.objects.values_list("status", flat=True)) == {"done"}
        assert set(Job.objects.values_list("attempts", flat=True)) == {1}
        assert set(Job.objects.values_list("locked_by", flat=True)) == set(ran)
