"""kith worker --burst runs the jobs that are due and exits."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kith.core import jobs
from kith.core.models import Job

CALLS: list[int] = []


@jobs.job("tests.cli.record_call", max_attempts=1)
def record_call(n: int) -> dict:
    CALLS.append(n)
    return {"seen": n}


@pytest.mark.django_db(transaction=True)
def test_burst_runs_queued_jobs_then_exits():
    CALLS.clear()
    first = jobs.enqueue("tests.cli.record_call", n=1)
    second = jobs.enqueue("tests.cli.record_call", n=2)
    out = StringIO()
    call_command("worker", "--burst", stdout=out)
    assert sorted(CALLS) == [1, 2]
    for row in (first, second):
        row.refresh_from_db()
        assert row.status == Job.Status.DONE
    assert Job.objects.get(pk=first.pk).result == {"seen": 1}
    assert "stopped" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_burst_leaves_future_jobs_queued():
    from datetime import timedelta

    CALLS.clear()
    later = jobs.enqueue("tests.cli.record_call", n=3, delay=timedelta(hours=1))
    call_command("worker", "--burst", stdout=StringIO())
    later.refresh_from_db()
    assert later.status == Job.Status.QUEUED and CALLS == []
