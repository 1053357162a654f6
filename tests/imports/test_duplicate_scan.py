"""A contact or company import that writes records queues a duplicate scan of them when it finishes; the
import's page, the API and `kith import` show it queued, running and done, with what it found."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from conftest import token_for
from kith.contacts import services as contact_services
from kith.core.models import Job
from kith.duplicates.jobs import IMPORT_SCAN
from kith.duplicates.models import DuplicatePair

from .engine_helpers import isolated_uploads, upload  # noqa: F401 - fixture
from .engine_helpers import run as run_import
from .ui_helpers import run_jobs

pytestmark = pytest.mark.django_db

FILE = "First Name,Last Name,Email,Company\nKen,Adams,k.en@acme.com,Acme Rockets\nMia,Wong,mia@wong.example,\n"


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Events are delivered after the write commits; a test runs inside one transaction, so deliver them
    (the import's "import.finished") when the block ends, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def run(delivered):
    def go(*args, **kwargs):
        with delivered():
            return run_import(*args, **kwargs)

    return go


@pytest.fixture
def ken(admin):
    return contact_services.create_contact(actor=admin, data={"first_name": "Ken", "last_name": "Adams",
                                                              "email": "ken@acme.com"})


def scan_jobs(status: str = "queued") -> list[tuple[str, str]]:
    return sorted((j.args["object_type"], j.unique_key) for j in Job.objects.filter(name=IMPORT_SCAN, status=status))


def pairs_with(contact_id: int) -> int:
    return DuplicatePair.objects.filter(object_type="contact", a_id=contact_id).count() + \
        DuplicatePair.objects.filter(object_type="contact", b_id=contact_id).count()


def test_an_import_queues_a_scan_that_finds_its_duplicates(admin, ken, client, run):
    imp = run(admin, upload(admin, FILE), match_on="email", on_duplicate="skip")
    assert imp.created == 2 and imp.companies_created == 1
    # the imported Ken is not in the review queue yet: the scan is queued, for contacts and the new company
    assert pairs_with(ken.pk) == 0
    assert scan_jobs() == [("company", f"{IMPORT_SCAN}:company"), ("contact", f"{IMPORT_SCAN}:contact")]
    client.force_login(admin)
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert "Checking the imported contacts against the others for duplicates: waiting for a worker" in page
    assert f'hx-get="/imports/{imp.pk}/progress/?part=scan"' in page and 'hx-select="#duplicate-scans"' in page

    assert run_jobs() == 2
    assert pairs_with(ken.pk) == 1
    # the scan block, polled on its own, now says what it found, links to the review queue and stops polling
    fragment = client.get(f"/imports/{imp.pk}/progress/?part=scan", HTTP_HX_REQUEST="true").content.decode()
    assert "The duplicate check of the contacts found 1 new possible duplicate." in fragment
    assert '<a href="/duplicates/?type=contact">Review them</a>' in fragment
    assert "part=scan" not in fragment and "hx-swap-oob" not in fragment
    assert "The duplicate check of the companies found no possible duplicates." in fragment
    review = client.get("/duplicates/?type=contact").content.decode()
    assert "Ken Adams" in review and "same email ignoring dots and +tags" in review

    body = client.get(f"/api/v1/imports/{imp.pk}", HTTP_AUTHORIZATION=f"Bearer {token_for(admin)}").json()
    scans = {s["object_type"]: s for s in body["duplicate_scans"]}
    assert scans["contact"]["status"] == "done" and scans["contact"]["pairs_found"] == 1
    assert scans["contact"]["pairs_new"] == 1 and scans["contact"]["pairs_known"] == 0
    assert scans["contact"]["review_url"] == "/duplicates/?type=contact"
    assert scans["company"]["status"] == "done" and scans["company"]["pairs_found"] == 0


def test_imports_finishing_while_a_scan_waits_share_it(admin, ken, delivered):
    from kith.imports import services

    first = upload(admin, "Name,Email\nKen Adams,k.en@acme.com\n")
    second = upload(admin, "Name,Email\nKen Adams,ken+crm@acme.com\n", name="more.csv")
    with delivered():
        for imp in (first, second):
            services.set_mapping(actor=admin, imp=imp, mapping=imp.mapping, match_on="email")
            services.start_import(actor=admin, imp=imp)
        assert run_jobs() == 2  # both imports
    assert scan_jobs() == [("contact", f"{IMPORT_SCAN}:contact")]
    assert run_jobs() == 1
    assert pairs_with(ken.pk) == 2  # both imported Kens, against the one created by hand
    for imp in (first, second):
        [scan] = services.duplicate_scans(imp.__class__.objects.get(pk=imp.pk))
        assert scan["status"] == "done" and scan["pairs_found"] == 3  # the two imported Kens are alike too


def test_a_later_import_that_meets_only_known_pairs_says_so(admin, ken, client, run):
    run(admin, upload(admin, "Name,Email\nKen Adams,k.en@acme.com\n"), match_on="email")
    assert run_jobs() == 1
    second = run(admin, upload(admin, "Email,Job Title\nk.en@acme.com,Pilot\n", name="titles.csv"),
                 match_on="email", on_duplicate="fill")
    assert second.updated == 1
    assert run_jobs() == 1
    client.force_login(admin)
    page = client.get(f"/imports/{second.pk}/").content.decode()
    assert "The duplicate check of the contacts found no new possible duplicates (1 already known)." in page
    assert '<a href="/duplicates/?type=contact">Review the queue</a>' in page


def test_no_scan_for_a_dry_run_an_import_that_wrote_nothing_or_leads(admin, ken, run):
    imp = run(admin, upload(admin, FILE), dry_run=True)
    assert imp.dry_run and imp.created == 2  # would be created
    skipped = run(admin, upload(admin, "Name,Email\nKen Adams,ken@acme.com\n"), match_on="email",
                  on_duplicate="skip")
    assert skipped.skipped == 1 and skipped.created == 0
    leads = run(admin, upload(admin, "Name,Email,Company\nLee Ray,lee@ray.example,Ray Co\n", object_type="lead"))
    assert leads.created == 1
    assert scan_jobs() == []
    from kith.imports import services

    assert services.duplicate_scans(imp) == services.duplicate_scans(skipped) == services.duplicate_scans(leads) == []


def test_undoing_the_import_hides_its_scan(admin, ken, client, run):
    imp = run(admin, upload(admin, "Name,Email\nKen Adams,k.en@acme.com\n"), match_on="email")
    run_jobs()
    assert pairs_with(ken.pk) == 1
    from kith.imports import services

    services.undo_import(actor=admin, imp=imp)
    run_jobs()
    client.force_login(admin)
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert "This import was undone" in page and "duplicate check" not in page
    assert pairs_with(ken.pk) == 0  # the imported Ken is gone, and its pair with him


@pytest.mark.django_db(transaction=True)
def test_cli_import_says_the_scan_is_queued(admin, ken, tmp_path, isolated_uploads):  # noqa: F811
    path = tmp_path / "people.csv"
    path.write_text("Name,Email\nKen Adams,k.en@acme.com\n")
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--user", admin.email, stdout=out)
    text = out.getvalue()
    assert ("duplicates: a scan of the contacts against the others is queued; a worker (kith worker) runs it, "
            "or run kith dedupe --scan now; then review them at /duplicates/?type=contact") in text
    dedupe = io.StringIO()
    call_command("dedupe", "--scan", "--type", "contacts", stdout=dedupe)
    assert "1 likely duplicates (1 new" in dedupe.getvalue()


def test_a_failed_scan_is_reported(admin, ken, client, monkeypatch, run):
    imp = run(admin, upload(admin, "Name,Email\nKen Adams,k.en@acme.com\n"), match_on="email")

    def broken(object_type, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("kith.duplicates.detection.scan", broken)
    Job.objects.filter(name=IMPORT_SCAN).update(max_attempts=1)
    run_jobs()
    assert Job.objects.get(name=IMPORT_SCAN).status == "failed"
    client.force_login(admin)
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert "The duplicate check of the contacts stopped with an error" in page


def test_the_list_of_imports_reads_every_scan_state_in_a_few_queries(admin, ken, run):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kith.imports import services

    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(admin)}"}
    api = Client()
    api.get("/api/v1/imports", **auth)  # (the token's first use of the minute records it: one more query)

    def listed() -> tuple[dict[int, list], int]:
        with CaptureQueriesContext(connection) as queries:
            body = api.get("/api/v1/imports", {"limit": 50}, **auth).json()
        return {i["id"]: i["duplicate_scans"] for i in body["items"]}, len(queries)

    first = run(admin, upload(admin, FILE), match_on="email")  # contacts and a new company
    run_jobs()  # their scans: done
    few, queries_for_one = listed()
    for n in range(4):  # more imports: a dry run among them, then one of leads
        run(admin, upload(admin, f"Name,Email\nAnn Lee,ann{n}@lee.example\n", name=f"more{n}.csv"),
            match_on="email", dry_run=n == 1)
        run_jobs()
    run(admin, upload(admin, "Name,Email\nLee Ray,lee@ray.example\n", name="leads.csv", object_type="lead"))
    second = run(admin, upload(admin, "Name,Email\nKen Adams,ken+2@acme.com\n", name="two.csv"), match_on="email")
    many, queries_for_seven = listed()
    assert len(few) == 1 and len(many) == 7 and queries_for_seven == queries_for_one
    # each item says what the import's own page says
    for imp in services.visible_imports(admin):
        expected = services.duplicate_scans(imp)
        assert [(s["object_type"], s["status"], s["pairs_found"]) for s in many[imp.pk]] == \
            [(s["object_type"], s["status"], s["pairs_found"]) for s in expected]
    assert [(s["object_type"], s["status"]) for s in many[first.pk]] == [("contact", "done"), ("company", "done")]
    assert [(s["object_type"], s["status"]) for s in many[second.pk]] == [("contact", "queued")]
    assert few[first.pk] == many[first.pk]
