"""`kith dedupe`, the scheduled scan, and a scale check (time printed, not asserted)."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kith.core import jobs
from kith.core.models import Job
from kith.duplicates.models import DuplicatePair, ScanRun

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("dedupe", *args, stdout=out)
    return out.getvalue()


def test_cli_scan_and_list(contact, company):
    contact(first_name="Ken", last_name="Adams", email="ken@acme.com")
    contact(first_name="Ken", last_name="Adams", email="ken@acme.com".replace("ken", "k.en"))
    company(name="Globex Inc", domain="globex.com")
    company(name="Globex", domain="globex.net")
    assert "No open duplicate pairs" in run()
    out = run("--scan")
    assert "contacts: full scan of 2 records, 1 pairs compared, 1 likely duplicates (1 new" in out
    assert "companies: full scan of 2 records" in out
    assert "2 pairs waiting for review" in out
    listing = run("--type", "contacts")
    assert "Ken Adams  ~" in listing and "same email ignoring dots and +tags" in listing
    out = run("--scan", "--type", "companies", "--min-confidence", "95")
    assert "companies: incremental scan" in out and "0 likely duplicates (0 new, 1 no longer matching)" in out
    with pytest.raises(CommandError, match="--min-confidence must be between 0 and 100"):
        run("--scan", "--min-confidence", "120")


def test_scheduled_scan_runs_in_the_worker(contact):
    contact(first_name="Ken", last_name="Adams", email="ken@acme.com", phone="+14155550100")
    contact(first_name="Kenneth", last_name="Adams", phone="+1 415 555 0100")
    jobs.schedule_periodic()
    row = Job.objects.get(name="duplicates.scan")
    while jobs.run_one() is not None:
        pass
    row.refresh_from_db()
    assert row.status == "done"
    assert row.result["contact"]["mode"] == "full" and row.result["contact"]["found"] == 1
    assert DuplicatePair.objects.filter(status="open").count() == 1
    # re-scheduled for the next night
    assert Job.objects.filter(name="duplicates.scan", status="queued").exists()
    assert ScanRun.objects.filter(object_type="company").exists()


def test_scale_scan_of_seeded_contacts(admin):
    """20k bulk-seeded contacts (no signals: keys are built by the scan) plus planted duplicates."""
    from kith.contacts import services
    from kith.core.management import seeding

    seeding.seed(contacts=20000, companies=400, batch=5000)
    planted = []
    for i in range(20):
        a = services.create_contact(actor=admin, data={"first_name": f"Plant{i}", "last_name": "Doublé",
                                                       "email": f"plant{i}@double.example"})
        b = services.create_contact(actor=admin, data={"first_name": f"Plant{i}", "last_name": "Double",
                                                       "email": f"plant.{i}+x@double.example"})
        planted.append((a.pk, b.pk))
    started = time.monotonic()
    out = io.StringIO()
    call_command("dedupe", "--scan", "--full", "--type", "contacts", stdout=out)
    seconds = time.monotonic() - started
    print(f"\nscale check: full scan of 20,040 contacts in {seconds:.1f} s\n{out.getvalue()}")
    found = set(DuplicatePair.objects.values_list("a_id", "b_id"))
    assert all(p in found for p in planted)


def test_a_scan_of_a_type_another_process_is_scanning_waits_for_it(contact):
    """PostgreSQL runs two workers: a second scan of the same type must not rebuild its keys and prune its
    pairs while the first runs. Another connection holds the scan's lock, as a scan in another worker would."""
    import psycopg
    from django.db import connection

    from kith.duplicates import detection
    from kith.duplicates.jobs import IMPORT_SCAN

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one worker")
    contact(first_name="Ken", last_name="Adams", email="ken@acme.com", phone="+14155550100")
    contact(first_name="Kenneth", last_name="Adams", phone="+1 415 555 0100")
    params = connection.get_connection_params()
    params.pop("context", None), params.pop("cursor_factory", None), params.pop("prepare_threshold", None)
    other = psycopg.connect(**params, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [detection.SCAN_LOCKS["contact"]])
        with pytest.raises(detection.ScanBusy, match="Another duplicate scan of the contacts is running"):
            detection.scan("contact")
        with pytest.raises(CommandError, match="Another duplicate scan of the contacts is running"):
            run("--scan", "--type", "contacts")
        detection.scan("company")  # the other type is free
        # the job: queued again for a minute later, nothing scanned now
        jobs.enqueue(IMPORT_SCAN, object_type="contact")
        ran = jobs.run_one()
        assert ran.name == IMPORT_SCAN and ran.result["contact"]["deferred"].startswith("Another duplicate scan")
        later = Job.objects.get(name=IMPORT_SCAN, status="queued")
        assert later.args == {"object_type": "contact"} and later.run_at > ran.finished_at
        assert not ScanRun.objects.filter(object_type="contact").exists()
    finally:
        other.close()  # (its lock goes with it)
    assert detection.scan("contact").found == 1


def test_a_scan_job_tells_the_queue_it_is_alive(contact, monkeypatch):
    """With two workers, the idle one re-queues a job whose row has not moved for 15 minutes: a scan of a
    million records takes longer, so it must move its row while it runs."""
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.0)
    contact(first_name="Ken", last_name="Adams", email="ken@acme.com", phone="+14155550100")
    contact(first_name="Kenneth", last_name="Adams", phone="+1 415 555 0100")
    beats = []
    real = Job.objects.filter

    def filter_(*args, **kwargs):
        qs = real(*args, **kwargs)
        if kwargs.get("status") == Job.Status.RUNNING and "pk" in kwargs:
            beats.append(kwargs["pk"])
        return qs

    monkeypatch.setattr(Job.objects, "filter", filter_)
    job = jobs.enqueue("duplicates.full_scan", object_type="contact")
    ran = jobs.run_one()
    assert ran.pk == job.pk and ran.status == "done", ran.last_error
    assert beats and set(beats) == {job.pk}
