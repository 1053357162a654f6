"""A contact import's two phases: rows written first (the records exist and are listed), then their history
and search index; the progress of each in the services, the API, the page and the CLI; resuming in the
second phase after a crash; a failure of the second phase."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import token_for
from kith.contacts.models import Contact
from kith.core import search
from kith.core.models import AuditEntry
from kith.imports import engine, services
from kith.imports.models import Import, ImportChange

from .engine_helpers import isolated_uploads, run, upload  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db

CSV = "First Name,Last Name,Email,Phone,Country\n" + "".join(
    f"Quilla{i},Marrow,quilla{i}@two.example,030 123456{i},DE\n" for i in range(5))


def history(contact) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(content_type__model="contact", object_id=contact.pk))


def found(q: str) -> set[int]:
    return {pk for _, pk, _ in search.search(q, kinds=["contact"])}


def test_an_import_writes_rows_then_their_history_and_search_index(admin, monkeypatch):
    monkeypatch.setattr(engine.BaseWriter, "batch_size", 2)  # three batches, three undo-log rows
    imp = run(admin, upload(admin, CSV))
    assert (imp.status, imp.created, imp.to_index, imp.indexed_rows) == ("done", 5, 5, 5)
    assert imp.started_at <= imp.written_at <= imp.finished_at
    assert not ImportChange.objects.filter(imp=imp, indexed=False).exists()
    people = list(Contact.objects.filter(last_name="Marrow"))
    assert len(people) == 5
    for c in people:
        (entry,) = history(c)
        assert entry.action == "create" and entry.changes["email"]["new"] == c.email
        assert entry.created_at == c.created_at  # the history says when the record was created
        assert c.pk in found(c.first_name)
    assert {c.pk for c in people} <= found("marrow")
    p = services.progress(imp)
    assert (p["phase"], p["indexed"], p["to_index"], p["index_percent"]) == (None, 5, 5, 100.0)
    assert p["index_rows_per_second"] > 0


def test_a_batch_bigger_than_the_second_phases_writes_several_undo_log_rows(admin, monkeypatch):
    """SQLite writes 8,000 rows per transaction, the second phase 2,000 contacts per transaction: each batch's
    undo log is split so, and every piece is indexed, and undone."""
    monkeypatch.setattr(engine, "SQLITE_BATCH_SIZE", 5)
    monkeypatch.setattr(engine, "BATCH_SIZE", 5)  # one batch of five rows, on either database
    monkeypatch.setattr(engine, "INDEX_BATCH_SIZE", 2)
    assert engine.ContactWriter.batch_size is None  # (by database)
    imp = run(admin, upload(admin, CSV))
    assert (imp.status, imp.created, imp.indexed_rows) == ("done", 5, 5)
    changes = list(ImportChange.objects.filter(imp=imp, kind="created").order_by("pk"))
    assert [len(c.record_ids) for c in changes] == [2, 2, 1] and all(c.indexed for c in changes)
    people = list(Contact.objects.filter(last_name="Marrow").order_by("pk"))
    assert sorted(i for c in changes for i in c.record_ids) == [c.pk for c in people]
    for c in people:
        assert len(history(c)) == 1 and c.pk in found(c.first_name)
    services.undo_import(actor=admin, imp=imp)
    assert not Contact.all_objects.filter(last_name="Marrow").exists()


def test_a_run_that_died_in_its_second_phase_resumes_there(admin, monkeypatch):
    imp = upload(admin, CSV)
    services.start_import(actor=admin, imp=imp, enqueue=False)
    with monkeypatch.context() as m:  # the worker dies once every row is written
        m.setattr(engine.ContactWriter, "index_created", lambda self, **kw: None)
        engine.run(imp.pk)
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.RUNNING, finished_at=None)
    people = list(Contact.objects.filter(last_name="Marrow"))
    assert len(people) == 5 and not any(history(c) for c in people) and not found("marrow")
    imp = engine.run(imp.pk, resume=True)
    assert (imp.status, imp.rows_done, imp.created, imp.indexed_rows) == ("done", 5, 5, 5)
    assert Contact.objects.filter(last_name="Marrow").count() == 5  # nothing written twice
    assert all(len(history(c)) == 1 for c in people)
    assert {c.pk for c in people} <= found("marrow")


def test_the_companies_an_import_creates_get_their_history_and_search_document_in_the_second_phase(admin,
                                                                                                   monkeypatch):
    """Their rows are written with the contacts; their "create" history (dated when they were created) and
    search documents after every row, once, also when the run resumes there. One deleted in between gets
    its history but is not found."""
    from kith.contacts import services as contact_services
    from kith.contacts.models import Company

    monkeypatch.setattr(engine.BaseWriter, "batch_size", 2)
    text = "First Name,Email,Company Name\n" + "".join(
        f"Ria{i},ria{i}@two.example,Lanternfish {i}\n" for i in range(4))
    imp = upload(admin, text)
    services.start_import(actor=admin, imp=imp, enqueue=False)
    with monkeypatch.context() as m:  # the worker dies once every row is written
        m.setattr(engine.ContactWriter, "index_created", lambda self, **kw: None)
        engine.run(imp.pk)
    companies = list(Company.objects.filter(name__startswith="Lanternfish").order_by("name"))
    assert len(companies) == 4 and Contact.objects.get(email="ria0@two.example").company == companies[0]
    assert not AuditEntry.objects.filter(content_type__model="company", object_id__in=[c.pk for c in companies])
    assert not search.search("lanternfish", kinds=["company"])
    assert ImportChange.objects.filter(imp=imp, model="company", indexed=False).count() == 2  # (a batch each)
    contact_services.delete_company(company=companies[3], actor=admin)
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.RUNNING, finished_at=None)
    imp = engine.run(imp.pk, resume=True)
    assert (imp.status, imp.companies_created) == ("done", 4)
    for c in companies:
        (entry,) = AuditEntry.objects.filter(content_type__model="company", object_id=c.pk, action="create")
        assert (entry.actor, entry.created_at, entry.changes["name"]["new"]) == (admin, c.created_at, c.name)
    assert {pk for _, pk, _ in search.search("lanternfish", kinds=["company"])} == {c.pk for c in companies[:3]}
    assert not ImportChange.objects.filter(imp=imp, indexed=False).exists()
    imp = engine.run(imp.pk, resume=True)  # (a finished import: nothing is written again)
    assert AuditEntry.objects.filter(content_type__model="company", action="create",
                                     object_id__in=[c.pk for c in companies]).count() == 4


def test_a_failure_in_the_second_phase_keeps_the_rows_and_says_so(admin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine, "write_search_rows", broken)
    imp = run(admin, upload(admin, CSV))
    assert imp.status == "failed" and imp.created == 5
    assert "The rows were written, but writing their history and search index stopped" in imp.error
    assert "disk full" in imp.error
    assert Contact.objects.filter(last_name="Marrow").count() == 5
    assert imp.can_undo


def test_a_failure_midway_undoes_only_its_group_of_batches_and_a_resume_finishes(admin, monkeypatch):
    """On SQLite the second phase commits every INDEX_GROUP_SQLITE batches (on PostgreSQL every batch): a
    failure rolls back the open group alone; resumed, the run indexes the rest, each record once."""
    monkeypatch.setattr(engine, "INDEX_BATCH_SIZE", 1)  # five undo-log rows of one contact
    monkeypatch.setattr(engine, "INDEX_GROUP_SQLITE", 2)
    calls = []
    original = engine.write_search_rows

    def fails_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "write_search_rows", fails_on_the_fourth)
    imp = run(admin, upload(admin, CSV))
    assert imp.status == "failed" and "disk full" in imp.error
    done = 2 if connection.vendor == "sqlite" else 3  # SQLite: the group of the 3rd and 4th rolled back
    assert imp.indexed_rows == done
    assert ImportChange.objects.filter(imp=imp, indexed=True).count() == done
    people = list(Contact.objects.filter(last_name="Marrow").order_by("pk"))
    assert [len(history(c)) for c in people] == [1] * done + [0] * (5 - done)
    assert found("marrow") == {c.pk for c in people[:done]}
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.RUNNING, finished_at=None)
    imp = engine.run(imp.pk, resume=True)
    assert (imp.status, imp.indexed_rows) == ("done", 5)
    assert [len(history(c)) for c in people] == [1] * 5
    assert found("marrow") == {c.pk for c in people}


@pytest.fixture
def indexing(admin):
    """An import in its second phase: every row written, 4 of 10 new records indexed."""
    imp = upload(admin, CSV)
    started = timezone.now() - dt.timedelta(seconds=10)
    Import.objects.filter(pk=imp.pk).update(
        status=Import.Status.RUNNING, started_at=started, written_at=started + dt.timedelta(seconds=4),
        total_rows=10, rows_done=10, created=10, to_index=10, indexed_rows=4)
    return Import.objects.get(pk=imp.pk)


def test_progress_of_the_second_phase(indexing):
    p = services.progress(indexing)
    assert (p["phase"], p["percent"], p["indexed"], p["to_index"], p["index_percent"]) == (
        "indexing", 100.0, 4, 10, 40.0)
    assert p["rows_per_second"] == pytest.approx(10 / 4, rel=0.01)  # the writing phase's speed
    assert p["index_rows_per_second"] == pytest.approx(4 / 6, rel=0.1)
    assert p["eta_seconds"] == pytest.approx(6 / (4 / 6), rel=0.1)


def test_the_page_and_the_api_show_the_second_phase_and_it_cannot_be_cancelled(admin, indexing):
    c = Client()
    c.force_login(admin)
    page = c.get(f"/imports/{indexing.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
    assert "Making the new records searchable" in page
    assert "4 of 10" in page and "Cancel import" not in page
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(admin)}"}
    body = c.get(f"/api/v1/imports/{indexing.pk}", **auth).json()
    assert body["status"] == "running"
    assert {k: body["progress"][k] for k in ("phase", "records_indexed", "records_to_index", "index_percent")} == {
        "phase": "indexing", "records_indexed": 4, "records_to_index": 10, "index_percent": 40.0}
    r = c.post(f"/api/v1/imports/{indexing.pk}/cancel", content_type="application/json", **auth)
    assert r.status_code == 409
    assert "cannot be stopped" in r.json()["detail"]
    assert not Import.objects.get(pk=indexing.pk).cancel_requested


def test_the_second_phase_reads_exactly_the_contacts_of_its_undo_log_row(admin):
    imp = run(admin, upload(admin, CSV))
    ids = sorted(Contact.objects.filter(last_name="Marrow").values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + 5))  # reserved in one go: read as a range
    writer = engine.ContactWriter(imp, admin, ["First Name"])
    rows, _ = writer._load_new(ids)
    assert [r["id"] for r in rows] == ids and rows[0]["email"] == "quilla0@two.example"
    # ids with gaps (another writer took numbers in between): those ids only, not the range they span
    rows, _ = writer._load_new([ids[0], ids[2], ids[4]])
    assert [r["id"] for r in rows] == [ids[0], ids[2], ids[4]]
