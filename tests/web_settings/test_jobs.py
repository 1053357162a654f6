import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kith.core.models import Job

pytestmark = pytest.mark.django_db

LIST = reverse("web:settings_jobs")


def make_job(status, n=0, **kw):
    defaults = {"name": "contacts.reindex", "args": {"contact_id": n}, "status": status,
                "run_at": timezone.now() - dt.timedelta(minutes=100 - n)}
    defaults.update(kw)
    return Job.objects.create(**defaults)


def retry_url(job):
    return reverse("web:settings_job_retry", args=[job.pk])


@pytest.mark.parametrize("persona", ["manager", "member", "viewer"])
def test_only_admins(request, as_user, persona):
    client = as_user(request.getfixturevalue(persona))
    job = make_job("failed", last_error="boom", attempts=5)
    response = client.get(LIST)
    assert response.status_code == 403
    assert "Only admins can see and retry background jobs." in response.content.decode()
    assert client.post(retry_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == "failed"
    assert LIST not in client.get(reverse("web:settings")).content.decode()


def test_counts_and_tables(as_user, admin):
    make_job("queued", 1, name="mail.send", args={"to": "x@example.com"})
    make_job("queued", 2)
    make_job("running", 3, name="imports.run", locked_by="host:1:2", attempts=1)
    make_job("failed", 4, name="webhooks.deliver", attempts=5, last_error="ConnectionError: refused\nmore detail")
    make_job("done", 5, name="done.job")
    html = as_user(admin).get(LIST).content.decode()
    tiles = html.split('class="stat-tiles"')[1].split("</ul>")[0]
    assert '<span class="stat-value">2</span> <span class="stat-label">Queued</span>' in tiles
    assert '<span class="stat-value">1</span> <span class="stat-label">Done</span>' in tiles
    queued = html.split('id="queued-jobs"')[1].split("</section>")[0]
    running = html.split('id="running-jobs"')[1].split("</section>")[0]
    failed = html.split('id="failed-jobs"')[1].split("</section>")[0]
    assert "mail.send" in queued and "x@example.com" in queued
    assert queued.index("mail.send") > queued.index("contacts.reindex")  # newest first
    assert "imports.run" in running and "host:1:2" in running
    assert "webhooks.deliver" in failed and "ConnectionError: refused" in failed and "5 / 5" in failed
    assert "more detail" in failed  # full error in a <details>
    assert "Retry" in failed and "Retry" not in queued
    assert "done.job" not in html


def test_retry_failed_job(as_user, admin):
    client = as_user(admin)
    job = make_job("failed", attempts=5, last_error="boom", finished_at=timezone.now())
    response = client.post(retry_url(job))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.attempts, job.finished_at) == ("queued", 0, None)
    assert "was queued again" in client.get(response["Location"]).content.decode()
    # retrying a job that is no longer failed changes nothing
    response = client.post(retry_url(job))
    assert "not failed" in client.get(response["Location"]).content.decode()
    assert client.get(retry_url(job)).status_code == 405


def test_tables_are_keyset_paged_and_bounded(as_user, admin):
    for n in range(30):
        make_job("failed", n, name=f"job.n{n:02d}", attempts=5, last_error="x")
    for n in range(3):
        make_job("done", n)
    client = as_user(admin)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(LIST).content.decode()
    job_queries = [q["sql"] for q in ctx.captured_queries if "core_job" in q["sql"]]
    # every query is filtered by status and limited (no full scan of the table)
    assert job_queries and all("LIMIT" in q and '"status"' in q for q in job_queries)
    failed = html.split('id="failed-jobs"')[1]
    assert "job.n29" in failed and "job.n05" in failed and "job.n04" not in failed
    assert "Show older failed jobs" in failed
    more = failed.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    # without htmx: a page with just the older rows of that table
    older = client.get(more).content.decode()
    assert "job.n04" in older and "job.n00" in older and "job.n05" not in older and 'id="queued-jobs"' not in older
    # with htmx: only the rows, to append in place
    partial = client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith("<tr>") and "job.n04" in partial and "<html" not in partial
    assert client.get(LIST + "?status=failed&cursor=nonsense").status_code == 302
    assert client.get(LIST + "?status=bogus").status_code == 302
