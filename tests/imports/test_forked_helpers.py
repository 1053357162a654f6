"""PostgreSQL: a big contact import reads its file in a forked process and builds its history and search rows
in another (engine._Forked, engine.FORK_MIN_ROWS; 0 here, so small files take that path). What it writes is
what the threaded path writes; the processes never touch the database; failures and cancels reach the
import, and no process is left behind."""

from __future__ import annotations

import multiprocessing
import re

import pytest
from django.db import connection

from kith.contacts.models import Contact
from kith.core import search
from kith.core.models import AuditEntry
from kith.imports import engine, services
from kith.imports.models import Import

from .engine_helpers import isolated_uploads, problems, upload  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the import forks its helper processes on PostgreSQL only")
    monkeypatch.setattr(engine, "FORK_MIN_ROWS", 0)


def start(actor, text: str, **options) -> Import:
    imp = upload(actor, text)
    if options:
        services.set_mapping(actor=actor, imp=imp, mapping=options.pop("mapping", imp.mapping), **options)
    services.start_import(actor=actor, imp=imp, enqueue=False)
    return imp


FILE = (
    "First Name,Last Name,Email,Phone Number,Country/Region,Company Name,Lifecycle Stage,Contact owner,Tags,Job Title\n"
    "Anna,Krüger,anna@ex.example,030 1234567,Germany,Nordlicht GmbH,customer,maria@example.com,vip; berlin,CTO\n"
    "Đức Huy,Lê,huy@ex.example,+84 28 3822 9999,,Nordlicht GmbH,lead,,,\"Tab\there\"\n"
    "Bad,Email,not-an-email,,,,,,,\n"
    "Nobody,Owner,nobody@ex.example,,,,,ghost@example.com,,\n"
    "Second,Anna,anna@ex.example,,,,,,,\n"
)


def test_a_forked_import_writes_every_value_history_and_search_document(admin, manager):
    imp = start(admin, FILE)
    done = engine.run(imp.pk)
    assert done.reader_process["cpu_seconds"] > 0  # the rows were read in the forked process
    assert (done.status, done.created, done.skipped, done.failed, done.companies_created) == ("done", 2, 1, 2, 1)
    anna = Contact.objects.get(email="anna@ex.example")
    assert (anna.first_name, anna.last_name, anna.phone, anna.country, anna.lifecycle_stage, anna.job_title) == (
        "Anna", "Krüger", "+49301234567", "DE", "customer", "CTO")
    assert anna.owner_id == manager.pk  # resolved in the reading process, handed back as an id
    assert sorted(anna.tags.values_list("name", flat=True)) == ["berlin", "vip"]
    huy = Contact.objects.get(email="huy@ex.example")
    assert huy.company_id == anna.company_id and anna.company.name == "Nordlicht GmbH"
    assert (huy.job_title, huy.owner_id, huy.phone) == ("Tab\there", admin.pk, "+842838229999")
    assert problems(done) == [
        (4, "Email", "“not-an-email” is not a valid email address: An email address must have an @-sign."),
        (5, "Contact owner", "No active user with the email or name “ghost@example.com”."),
    ]
    # the second phase's building process: a "create" history row and a search document for each
    for c in (anna, huy):
        entry = AuditEntry.objects.get(object_id=c.pk, action="create", content_type__model="contact")
        assert entry.actor_id == admin.pk and entry.changes["email"]["new"] == c.email
    assert search.search("Krüger", kinds=["contact"])[0][:2] == ("contact", anna.pk)
    assert search.search("Huy", kinds=["contact"])[0][:2] == ("contact", huy.pk)
    assert multiprocessing.active_children() == []


def test_the_helper_processes_cannot_use_the_database_nor_break_the_importers_connection(admin, monkeypatch):
    real = engine.ContactWriter.clean_rows

    def clean_rows(self, rows):
        Contact.objects.count()  # a query in the reading process
        real(self, rows)

    monkeypatch.setattr(engine.ContactWriter, "clean_rows", clean_rows)
    imp = start(admin, "Email\na@ex.example\nb@ex.example\n")
    done = engine.run(imp.pk)
    assert done.status == "failed"
    assert "An import's helper process must not use the database." in done.error
    assert done.created == 0
    # this process's connection (its session, in the test's transaction) works as before
    assert Contact.objects.count() == 0 and Import.objects.filter(pk=imp.pk).exists()
    assert multiprocessing.active_children() == []


def test_an_error_in_the_reading_process_fails_the_import_with_its_message(admin, monkeypatch):
    real = engine.ContactWriter.clean_rows

    def clean_rows(self, rows):
        if any(row.number == 3 for row in rows):
            raise LookupError("the third row broke")
        real(self, rows)

    monkeypatch.setattr(engine.ContactWriter, "clean_rows", clean_rows)
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)  # the first row's batch commits before the reader fails
    imp = start(admin, "Email\na@ex.example\nb@ex.example\nc@ex.example\n")
    done = engine.run(imp.pk)
    assert (done.status, done.error) == ("failed", "The import stopped: LookupError: the third row broke")
    assert done.created == 1 and list(Contact.objects.values_list("email", flat=True)) == ["a@ex.example"]
    # what was written got its history in the second phase
    assert AuditEntry.objects.filter(action="create", content_type__model="contact").count() == 1
    assert multiprocessing.active_children() == []


def test_cancelling_a_forked_import_stops_its_reading_process(admin, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    monkeypatch.setattr(engine._Forked, "__init__", _slow_reader(engine._Forked.__init__))
    rows = "".join(f"p{i}@ex.example\n" for i in range(50))
    imp = start(admin, "Email\n" + rows)
    Import.objects.filter(pk=imp.pk).update(cancel_requested=True)  # checked before each batch
    done = engine.run(imp.pk)
    assert (done.status, done.created) == ("cancelled", 0)
    assert Contact.objects.count() == 0
    assert multiprocessing.active_children() == []  # killed while it still had rows to send


def _slow_reader(init):
    """_Forked whose reading process produces a batch only every 50 ms (it is mid-file when cancelled)."""
    import time

    def slowed(self, writer, produce, depth=2):
        def slow():
            for batch in produce():
                time.sleep(0.05)
                yield batch

        init(self, writer, slow, depth)

    return slowed


def test_when_the_reading_process_dies_a_thread_reads_on_after_the_rows_it_sent(admin, monkeypatch):
    import os

    parent, real = os.getpid(), engine.ContactWriter.clean_rows

    def clean_rows(self, rows):
        if any(row.number == 4 for row in rows) and os.getpid() != parent:
            os._exit(9)  # the forked reader, as if killed (out of memory, a crash in a native library)
        real(self, rows)

    monkeypatch.setattr(engine.ContactWriter, "clean_rows", clean_rows)
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)  # rows 2 and 3 arrive from the child, the rest from a thread
    imp = start(admin, "Email\n" + "".join(f"p{i}@ex.example\n" for i in range(5)) + "not-an-email\n")
    done = engine.run(imp.pk)
    assert (done.status, done.created, done.failed, done.rows_done, done.error) == ("done", 5, 1, 6, "")
    assert sorted(Contact.objects.values_list("email", flat=True)) == [f"p{i}@ex.example" for i in range(5)]
    assert problems(done) == [(7, "Email", "“not-an-email” is not a valid email address: "
                                           "An email address must have an @-sign.")]
    assert multiprocessing.active_children() == []


def test_when_the_building_process_dies_the_second_phase_goes_on_in_this_process(admin, monkeypatch):
    import os

    parent, real = os.getpid(), engine.ContactWriter._phase2_rows

    def phase2_rows(self, *args):
        if os.getpid() != parent:
            os._exit(9)  # the forked builder, as if killed
        return real(self, *args)

    monkeypatch.setattr(engine.ContactWriter, "_phase2_rows", phase2_rows)
    monkeypatch.setattr(engine, "INDEX_BATCH_SIZE", 2)  # three batches: one broken in flight, two after
    imp = start(admin, "First Name,Email\n" + "".join(f"Person{i},p{i}@ex.example\n" for i in range(6)))
    done = engine.run(imp.pk)
    assert (done.status, done.created, done.error) == ("done", 6, "")
    assert done.indexed_rows == 6
    assert AuditEntry.objects.filter(action="create", content_type__model="contact").count() == 6
    assert search.search("Person5", kinds=["contact"])[0][:2] == ("contact", Contact.objects.get(email="p5@ex.example").pk)
    assert multiprocessing.active_children() == []


def refuse_boom() -> None:
    """The database refuses a contact with the email boom@ex.example (a trigger), as it may refuse a row."""
    with connection.cursor() as cur:
        cur.execute("CREATE FUNCTION kith_test_boom() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.email = 'boom@ex.example' THEN RAISE EXCEPTION 'boom refused'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql")
        cur.execute("CREATE TRIGGER kith_test_boom BEFORE INSERT ON contacts_contact FOR EACH ROW "
                    "EXECUTE FUNCTION kith_test_boom()")


def test_a_batch_the_database_refuses_is_retried_row_by_row_from_the_rows_the_reader_sent(admin, manager):
    """The reading process sends no cells (nothing after it reads them); the refused batch's rows come back
    as it prepared them, so the rows retried one by one keep their company, owner, tags and phone."""
    refuse_boom()
    imp = start(admin, "First Name,Email,Phone Number,Country/Region,Company Name,Contact owner,Tags\n"
                       "Anna,anna@ex.example,030 1234567,Germany,Nordlicht GmbH,maria@example.com,vip\n"
                       "Boom,boom@ex.example,,,Nordlicht GmbH,,\n"
                       "Cara,cara@ex.example,,,Südwind AG,,\n")
    done = engine.run(imp.pk)
    assert (done.status, done.created, done.failed, done.companies_created) == ("done", 2, 1, 2)
    assert problems(done)[0][0] == 3 and "boom refused" in problems(done)[0][2]
    anna, cara = Contact.objects.get(email="anna@ex.example"), Contact.objects.get(email="cara@ex.example")
    assert (anna.company.name, anna.owner_id, anna.phone, list(anna.tags.values_list("name", flat=True))) == (
        "Nordlicht GmbH", manager.pk, "+49301234567", ["vip"])
    assert (cara.company.name, cara.owner_id) == ("Südwind AG", admin.pk)
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["anna@ex.example", "cara@ex.example"]
    assert multiprocessing.active_children() == []


def test_a_refused_batch_retried_row_by_row_looks_emails_up_and_the_next_batch_is_written_as_new(admin, monkeypatch):
    """A batch the database refuses is retried a row at a time, each row's email looked up: a row with a live
    contact's email is skipped (the policy), not refused. The next batch is written without look-ups again."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    monkeypatch.setattr(engine.ContactWriter, "batch_size", 3)
    Contact.objects.create(first_name="Old", email="old@ex.example")
    refuse_boom()
    imp = start(admin, "First Name,Email\nAnna,anna@ex.example\nBoom,boom@ex.example\nOldie,old@ex.example\n"
                       "Cara,cara@ex.example\nDora,dora@ex.example\nEmil,emil@ex.example\n",
                match_on="email", on_duplicate="skip")
    with CaptureQueriesContext(connection) as queries:
        done = engine.run(imp.pk)
    assert (done.status, done.created, done.skipped, done.failed) == ("done", 4, 1, 1)
    assert [p[0] for p in problems(done)] == [3]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Anna", "Cara", "Dora", "Emil", "Old"]
    looked_up = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT DISTINCT "email"')]
    assert len(looked_up) == 3  # the first batch's three rows, one at a time; not the second batch's


def test_the_reading_process_says_whether_a_batchs_keys_repeat():
    """A batch without repeats is written in one part; _distinct looks at the rows without problems only."""
    row = engine.Row

    def r(key, email, problems=()):
        return row(1, [], {}, list(problems), {"email": email} if email else {}, True, key, "")

    assert engine._distinct([r("a@x.example", "a@x.example"), r("b@x.example", "b@x.example")])
    assert not engine._distinct([r("a@x.example", "a@x.example"), r("a@x.example", "a@x.example")])
    assert not engine._distinct([r(None, "a@x.example"), r("x-1", "a@x.example")])  # an email repeats
    assert not engine._distinct([r("x-1", "a@x.example"), r("x-1", "b@x.example")])  # a key repeats
    assert engine._distinct([r("a@x.example", "a@x.example"), r("a@x.example", "a@x.example", [("", "", "bad")])])
    assert engine._distinct([r(None, None), r(None, None)])


def test_a_file_unreadable_further_on_fails_before_a_row_is_written(admin, monkeypatch):
    """The reading process starts before the rows are counted; every row is still counted before the first is
    written, so bytes that are not UTF-8 at row 3,000 fail the import with nothing written."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 100)
    data = ("Email\n" + "".join(f"p{i}@ex.example\n" for i in range(2998))).encode() + b"bad\xff\xfe@ex.example\n"
    imp = upload(admin, data)
    assert imp.encoding == "cp1252"  # (as detected from the whole file; read as UTF-8, as if the user chose it)
    Import.objects.filter(pk=imp.pk).update(encoding="utf-8")
    services.start_import(actor=admin, imp=imp, enqueue=False)
    done = engine.run(imp.pk)
    assert done.status == "failed" and re.fullmatch(r"Near line \d+: the file is not valid utf-8 text\.", done.error)
    assert done.created == 0 and Contact.objects.count() == 0
    assert multiprocessing.active_children() == []
