"""Importing contacts end to end: upload → mapping → job → records, history, search, problems, undo."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.errors import ConflictError, PermissionDenied, ValidationError
from kith.core.models import AuditEntry
from kith.imports import engine, services
from kith.imports.models import Import, ImportChange

from .engine_helpers import FILES, isolated_uploads, problems, run, upload, upload_file  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def history(contact) -> list[tuple[str, str]]:
    return [(e.action, e.request_id) for e in AuditEntry.objects.filter(object_id=contact.pk,
                                                                        content_type__model="contact")]


def test_hubspot_export_imports_with_companies_owner_history_and_search(admin):
    imp = run(admin, upload_file(admin, "hubspot_contacts.csv"))
    assert (imp.status, imp.created, imp.failed, imp.rows_done, imp.total_rows) == ("done", 2, 0, 2, 2)
    maya = Contact.objects.get(email="maya.okafor@lumen.example")
    assert (maya.first_name, maya.last_name, maya.phone, maya.mobile) == ("Maya", "Okafor", "+14155550142",
                                                                        "+14155550199")
    assert (maya.lifecycle_stage, maya.country, maya.region, maya.external_id) == ("sales_qualified", "US", "CA",
                                                                                 "5101")
    assert maya.owner == admin and maya.company.name == "Lumen Analytics"
    assert imp.companies_created == 2 and Company.objects.count() == 2
    # history: one "created" entry per record, tagged with the import, listing the values
    entry = AuditEntry.objects.get(object_id=maya.pk, content_type__model="contact")
    assert (entry.action, entry.request_id, entry.actor) == ("create", f"import-{imp.pk}", admin)
    assert entry.changes["email"]["new"] == "maya.okafor@lumen.example"
    assert entry.changes["company"]["new"]["label"] == "Lumen Analytics"
    # search finds them by name, company and phone digits
    assert ("contact", maya.pk) in [(k, i) for k, i, _ in search.search("okafor")]
    assert ("contact", maya.pk) in [(k, i) for k, i, _ in search.search("lumen")]
    assert ("company", maya.company_id) in [(k, i) for k, i, _ in search.search("lumen analytics")]


@pytest.mark.parametrize("name, email, company", [
    ("salesforce_contacts_report.csv", "priya@helix.example", "Helix Robotics"),
    ("salesforce_contact_export.csv", "tomas@ember.example", None),
    ("pipedrive_people.csv", "kofi@summit.example", "Summit Energy"),
    ("zoho_contacts.csv", "aiko@orchid.example", "Orchid Media"),
    ("google_contacts.csv", "olu@iron.example", "Iron Works"),
    ("google_contacts_legacy.csv", "ines@delta.example", "Delta Partners"),
    ("outlook_contacts.csv", "sofia@coral.example", "Coral Textiles"),
    ("contacts.vcf", "hiro@kestrel.example", "Kestrel Capital"),
])
def test_each_products_export_imports(admin, name, email, company):
    imp = run(admin, upload_file(admin, name))
    assert imp.status == "done", problems(imp)
    assert imp.failed == 0, problems(imp)
    c = Contact.objects.get(email=email)
    assert (c.company.name if c.company else None) == company
    assert c.first_name and c.last_name


def test_multi_column_values_and_tags(admin):
    run(admin, upload_file(admin, "outlook_contacts.csv"))
    sofia = Contact.objects.get(email="sofia@coral.example")
    assert sofia.additional_emails == ["s.rossi@mail.example"]
    assert (sofia.phone, sofia.mobile, sofia.city, sofia.country) == ("+390287654321", "+393331234567", "Milano",
                                                                      "IT")
    assert sofia.tag_names == ["Customers", "Italy"]
    run(admin, upload_file(admin, "google_contacts.csv"))
    assert Contact.objects.get(email="olu@iron.example").tag_names == ["Friends"]  # "* myContacts" dropped


def test_unicode_names_in_many_scripts(admin):
    imp = run(admin, upload_file(admin, "unicode_names.csv"))
    assert (imp.created, imp.failed) == (12, 0), problems(imp)
    names = set(Contact.objects.values_list("full_name", flat=True))
    for expected in ["Владимир Иванов", "محمد العلي", "יעל כהן", "王 小明", "김 민준", "Αλέξανδρος Παπαδόπουλος",
                     "अनिल शर्मा", "สมชาย ใจดี", "Nguyễn Thị Hương", "José Núñez", "Łukasz Żółć",
                     "😀 Emoji Person"]:
        assert expected in names
    assert Company.objects.filter(name="Рога и копыта").exists()
    ids = [i for k, i, _ in search.search("Иванов")]
    assert Contact.objects.get(email="vladimir@unicode.example").pk in ids
    assert Contact.objects.get(email="jose@unicode.example").pk in [i for _, i, _ in search.search("nunez")]


def test_problems_report_row_number_column_value_and_reason(admin):
    text = ("First Name,Email,Phone,Lifecycle Stage,Country\n"
            "Ok,ok@example.com,,lead,\n"
            "Bad,not-an-email,,lead,\n"
            ",,,,\n"
            "Stage,stage@example.com,,Wizard,\n"
            "Far,far@example.com,+1 415 555 0100 ext 12345678901234567890123456789,,Atlantis\n"
            ",,,lead,DE\n")
    imp = run(admin, upload(admin, text))
    assert (imp.created, imp.failed, imp.rows_done) == (1, 4, 5)
    got = problems(imp)
    assert got[0][:2] == (3, "Email") and "not a valid email" in got[0][2]
    assert got[1][:2] == (5, "Lifecycle Stage") and "not a lifecycle stage" in got[1][2]
    assert {(r, c) for r, c, _ in got[2:]} >= {(6, "Phone"), (6, "Country")}
    assert got[-1][0] == 7 and "first name, a last name or an email" in got[-1][2]
    assert imp.problems.get(row_number=3).value == "not-an-email"
    # the failed rows download: original columns + reason, formulas neutralised
    body = b"".join(services.failed_rows_csv(imp)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["row", "First Name", "Email", "Phone", "Lifecycle Stage", "Country", "reason"]
    assert [r[0] for r in rows[1:]] == ["3", "5", "6", "7"]
    assert rows[1][2] == "not-an-email" and "Email:" in rows[1][-1]


def test_failed_rows_csv_neutralises_formulas(admin):
    imp = run(admin, upload(admin, 'First Name,Email\n=HYPERLINK("http://evil.example"),bad\n'))
    rows = list(csv.reader(io.StringIO(b"".join(services.failed_rows_csv(imp)).decode("utf-8-sig"))))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil.example\")"


def test_ragged_rows_fail_with_a_clear_reason_others_import(admin):
    imp = run(admin, upload_file(admin, "ragged.csv"))
    assert (imp.created, imp.failed) == (3, 1)
    assert problems(imp)[0][0] == 3 and "5 values but the header has 3 columns" in problems(imp)[0][2]
    assert Contact.objects.filter(first_name="Cy").exists()  # short rows are padded


def test_encodings_import_the_same_names(admin):
    text = "First Name,Last Name,Email\nFrançoise,Müller,f@example.com\n"
    for i, (encoding, prefix) in enumerate([("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")]):
        body = prefix + text.replace("f@", f"f{i}@").encode(encoding)
        imp = run(admin, upload(admin, body, f"f{i}.csv"))
        assert imp.created == 1
        assert Contact.objects.get(email=f"f{i}@example.com").full_name == "Françoise Müller"


def test_xlsx_import(admin, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Given Name", "Family Name", "E-mail 1 - Value", "Organization 1 - Name"])
    wb.active.append(["Kwame", "Nkrumah", "kwame@example.com", "Accra Ltd"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    imp = run(admin, upload(admin, path.read_bytes(), "google.xlsx"))
    assert (imp.format, imp.created) == ("xlsx", 1)
    assert Contact.objects.get(email="kwame@example.com").company.name == "Accra Ltd"


# --- dry run ---------------------------------------------------------------------------------------------


def test_dry_run_validates_everything_and_writes_nothing(admin):
    text = ("First Name,Email,Company\nA,a@example.com,Acme\nB,b@example.com,Acme\nB2,b@example.com,Acme\n"
            "C,broken,Acme\n")
    before = (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count())
    imp = run(admin, upload(admin, text), dry_run=True)
    assert (imp.status, imp.dry_run) == ("done", True)
    assert (imp.created, imp.skipped, imp.failed, imp.companies_created) == (2, 1, 1, 1)
    assert problems(imp)[0][0] == 5
    assert (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count()) == before
    assert not ImportChange.objects.filter(imp=imp).exists()
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {search.TABLE}")
        assert cur.fetchone()[0] == 0
    # then the real run of the same upload
    imp = run(admin, imp)
    assert (imp.dry_run, imp.created, imp.skipped, imp.failed) == (False, 2, 1, 1)
    assert Contact.objects.count() == 2 and imp.problems.count() == 1


# --- duplicates ------------------------------------------------------------------------------------------


@pytest.fixture
def existing(admin):
    from kith.contacts.services import create_contact

    return create_contact(actor=admin, data={"first_name": "Ada", "last_name": "", "email": "ada@example.com",
                                             "job_title": "Countess", "tags": ["Old"]})


ROW = "First Name,Last Name,Email,Job Title,City,Tags\nAda,Lovelace,ADA@example.com,Mathematician,London,New\n"


def test_skip(admin, existing):
    imp = run(admin, upload(admin, ROW), match_on="email", on_duplicate="skip")
    assert (imp.created, imp.updated, imp.skipped) == (0, 0, 1)
    existing.refresh_from_db()
    assert (existing.last_name, existing.version) == ("", 1)


def test_fill_updates_empty_fields_only_and_records_history(admin, existing):
    imp = run(admin, upload(admin, ROW), match_on="email", on_duplicate="fill")
    assert (imp.created, imp.updated) == (0, 1)
    existing.refresh_from_db()
    assert (existing.last_name, existing.job_title, existing.city) == ("Lovelace", "Countess", "London")
    assert existing.version == 2 and existing.full_name == "Ada Lovelace"
    assert existing.tag_names == ["New", "Old"]
    entry = AuditEntry.objects.filter(object_id=existing.pk, content_type__model="contact").order_by("-id")[0]
    assert entry.action == "update" and entry.request_id == f"import-{imp.pk}"
    assert set(entry.changes) == {"last_name", "city", "tags"}
    assert ("contact", existing.pk) in [(k, i) for k, i, _ in search.search("lovelace")]


def test_overwrite(admin, existing):
    imp = run(admin, upload(admin, ROW), match_on="email", on_duplicate="overwrite")
    assert imp.updated == 1
    existing.refresh_from_db()
    assert (existing.last_name, existing.job_title) == ("Lovelace", "Mathematician")


def test_create_anyway_cannot_duplicate_an_email(admin, existing):
    imp = run(admin, upload(admin, ROW + "Ada,Other,,,,\n"), match_on="email", on_duplicate="create")
    assert (imp.created, imp.failed) == (1, 1)
    assert "Another contact already has this email" in problems(imp)[0][2]


def test_match_on_phone_and_external_id(admin):
    from kith.contacts.services import create_contact

    a = create_contact(actor=admin, data={"first_name": "A", "phone": "+14155550100"})
    b = create_contact(actor=admin, data={"first_name": "B", "external_id": "X-9"})
    imp = run(admin, upload(admin, "Name,Phone,Job Title\nA,(415) 555-0100,Pilot\n"), match_on="phone",
              on_duplicate="fill")
    assert imp.updated == 1
    a.refresh_from_db()
    assert a.job_title == "Pilot"
    imp = run(admin, upload(admin, "ID,Name,Job Title\nX-9,B,Chef\nX-10,C,Cook\n"), match_on="external_id",
              on_duplicate="overwrite")
    assert (imp.updated, imp.created) == (1, 1)
    b.refresh_from_db()
    assert b.job_title == "Chef"


def test_duplicates_within_one_file_follow_the_policy(admin):
    text = "Email,First Name,Job Title\nsame@example.com,One,\nsame@example.com,Two,Boss\n"
    imp = run(admin, upload(admin, text), match_on="email", on_duplicate="fill")
    assert (imp.created, imp.updated) == (1, 1)
    c = Contact.objects.get(email="same@example.com")
    assert (c.first_name, c.job_title) == ("One", "Boss")


def test_rerun_with_skip_creates_nothing_twice(admin):
    first = run(admin, upload_file(admin, "unicode_names.csv"))
    counts = (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count())
    again = run(admin, upload_file(admin, "unicode_names.csv"), match_on="email", on_duplicate="skip")
    assert (first.created, again.created, again.skipped, again.companies_created) == (12, 0, 12, 0)
    assert (Contact.objects.count(), Company.objects.count(), AuditEntry.objects.count()) == counts


def test_companies_matched_by_exact_name_and_domain(admin):
    from kith.contacts.services import create_company

    acme = create_company(actor=admin, data={"name": "ACME Inc", "domain": "acme.example"})
    text = ("First Name,Company,Company Domain\nA,acme inc,\nB,Something else,acme.example\nC,New Co,newco.example\n"
            "D,new co,\n")
    mapping = {"First Name": "first_name", "Company": "company", "Company Domain": "company_domain"}
    imp = run(admin, upload(admin, text), mapping=mapping, match_on="")
    assert (imp.created, imp.companies_created) == (4, 1)
    by_name = {c.first_name: c.company for c in Contact.objects.select_related("company")}
    assert by_name["A"] == acme and by_name["B"] == acme
    assert by_name["C"] == by_name["D"] and by_name["C"].domain == "newco.example"


def test_custom_fields_mapping_and_creating_a_field_from_a_column(admin):
    from kith.core.custom_field_services import create_custom_field

    create_custom_field(actor=admin, data={"object_type": "contact", "label": "Birthday", "field_type": "date"})
    text = "Name,Birthday,Plan\nAda,1815-12-10,Gold\nBob,yesterday,Silver\n"
    imp = upload(admin, text)
    assert imp.mapping["Birthday"] == "cf_birthday"
    field = services.create_custom_field_from_column(actor=admin, imp=imp, column="Plan", label="Plan",
                                                     field_type="select")
    assert field.choices == ["Gold", "Silver"]
    imp.refresh_from_db()
    assert imp.mapping["Plan"] == "cf_plan"
    imp = run(admin, imp)
    assert (imp.created, imp.failed) == (1, 1)
    assert problems(imp)[0][:2] == (3, "Birthday")
    assert Contact.objects.get(first_name="Ada").custom_fields == {"birthday": "1815-12-10", "plan": "Gold"}


def test_set_mapping_errors_name_the_column_and_saved_mappings(admin):
    imp = upload(admin, "Given Name,Contato,Extra\nAda,ada@example.com,x\n")
    with pytest.raises(ValidationError) as exc:
        services.set_mapping(actor=admin, imp=imp, mapping={"Contato": "shoe_size"})
    assert "mapping.Contato" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.set_mapping(actor=admin, imp=imp, mapping={"Given Name": "email", "Contato": "email"})
    assert "already imported from column “Given Name”" in exc.value.message_dict["mapping.Contato"][0]
    with pytest.raises(ValidationError) as exc:
        services.set_mapping(actor=admin, imp=imp, mapping={"Given Name": "first_name"}, match_on="email")
    assert "match_on" in exc.value.message_dict
    services.set_mapping(actor=admin, imp=imp, mapping={"Given Name": "first_name", "Contato": "email"},
                         match_on="email", on_duplicate="fill", save_as="Newsletter list")
    other = upload(admin, "Given Name,Contato\nBea,bea@example.com\n")
    assert other.mapping["Contato"] is None  # not recognised by header…
    saved = services.saved_mappings("contact").get(name="Newsletter list")
    other = services.apply_saved_mapping(actor=admin, imp=other, saved_mapping=saved)  # …but by the saved one
    assert (other.mapping["Contato"], other.on_duplicate, other.match_on) == ("email", "fill", "email")


def test_viewers_cannot_import_and_members_see_only_their_imports(admin, member, viewer):
    with pytest.raises(PermissionDenied):
        upload(viewer, ROW)
    imp = upload(admin, ROW)
    assert not services.visible_imports(member).filter(pk=imp.pk).exists()
    with pytest.raises(PermissionDenied):
        services.start_import(actor=member, imp=imp)
    mine = upload(member, ROW)
    assert run(member, mine).created == 1
    assert Contact.objects.get(email="ada@example.com").owner == member


# --- batches, failure, cancel ----------------------------------------------------------------------------


def _make_trigger():
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("CREATE FUNCTION kith_test_boom() RETURNS trigger AS $$ BEGIN "
                        "IF NEW.email = 'boom@example.com' THEN RAISE EXCEPTION 'boom refused'; END IF; "
                        "RETURN NEW; END $$ LANGUAGE plpgsql")
            cur.execute("CREATE TRIGGER kith_test_boom BEFORE INSERT ON contacts_contact FOR EACH ROW "
                        "EXECUTE FUNCTION kith_test_boom()")
        else:
            cur.execute("CREATE TRIGGER kith_test_boom BEFORE INSERT ON contacts_contact "
                        "WHEN NEW.email = 'boom@example.com' BEGIN SELECT RAISE(ABORT, 'boom refused'); END")


def test_a_batch_the_database_refuses_leaves_no_half_row(admin, monkeypatch):
    """Rows 2-3, 4-5, 6 are batches; the database refuses row 5 (a trigger): its batch rolls back and is
    retried row by row, so row 4 is imported and row 5 fails with the database's reason."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    monkeypatch.setattr(engine.ContactWriter, "batch_size", 2)
    _make_trigger()
    text = "First Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(3)) + \
        "Boom,boom@example.com\nLast,last@example.com\n"
    imp = run(admin, upload(admin, text))
    assert (imp.status, imp.created, imp.failed, imp.rows_done) == ("done", 4, 1, 5)
    assert problems(imp) == [(5, "", problems(imp)[0][2])] and "boom refused" in problems(imp)[0][2]
    emails = set(Contact.objects.values_list("email", flat=True))
    assert emails == {"p0@example.com", "p1@example.com", "p2@example.com", "last@example.com"}
    # every written contact has exactly its history row, search document and undo record; nothing else
    ids = set(Contact.objects.values_list("pk", flat=True))
    logged = {i for ch in ImportChange.objects.filter(imp=imp) for i in ch.record_ids}
    assert logged == ids
    assert set(AuditEntry.objects.filter(content_type__model="contact").values_list("object_id", flat=True)) == ids
    assert {i for k, i, _ in search.search("example", kinds=["contact"], limit=50)} == ids


def test_cancel_between_batches_keeps_what_was_written(admin, monkeypatch):
    monkeypatch.setattr(engine.ContactWriter, "batch_size", 2)
    imp = upload(admin, "First Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(7)))
    services.start_import(actor=admin, imp=imp, enqueue=False)
    seen = []

    def cancel_after_first_batch(current):
        seen.append(current.rows_done)
        if len(seen) == 1:
            services.cancel_import(actor=admin, imp=current)

    imp = engine.run(imp.pk, on_progress=cancel_after_first_batch)
    assert (imp.status, imp.rows_done, imp.created) == ("cancelled", 2, 2)
    assert Contact.objects.count() == 2
    with pytest.raises(ConflictError):
        services.cancel_import(actor=admin, imp=imp)


def test_cancel_a_queued_import(admin):
    from kith.core import jobs

    imp = services.start_import(actor=admin, imp=upload(admin, ROW))
    services.cancel_import(actor=admin, imp=imp)
    jobs.run_one("test-worker")
    imp.refresh_from_db()
    assert (imp.status, imp.created) == ("cancelled", 0)
    assert Contact.objects.count() == 0


def test_progress(admin):
    imp = upload(admin, ROW)
    assert services.progress(imp)["status"] == "uploaded"
    imp = run(admin, imp)
    p = services.progress(imp)
    assert (p["status"], p["rows_done"], p["total_rows"], p["percent"], p["created"]) == ("done", 1, 1, 100.0, 1)
    assert p["rows_per_second"] > 0 and p["eta_seconds"] is None and p["finished"]


# --- undo ------------------------------------------------------------------------------------------------


def test_undo_removes_created_restores_updated_and_reports_touched(admin, existing):
    from kith.contacts.services import update_contact

    text = ("First Name,Last Name,Email,Company\nAda,Lovelace,ada@example.com,Engines Ltd\n"
            "Bea,B,bea@example.com,Engines Ltd\nCy,C,cy@example.com,Solo Co\n")
    imp = run(admin, upload(admin, text), match_on="email", on_duplicate="fill")
    assert (imp.created, imp.updated, imp.companies_created) == (2, 1, 2)
    cy = Contact.objects.get(email="cy@example.com")
    update_contact(actor=admin, contact=cy, data={"job_title": "Touched later"})  # someone edits Cy
    result = services.undo_import(actor=admin, imp=imp)
    assert (result["deleted"], result["restored"]) == (2, 1)  # Bea, Engines Ltd; Ada restored
    assert [(n["type"], n["label"]) for n in result["not_undone"]] == [("contact", "Cy C"),
                                                                       ("company", "Solo Co")]
    assert "changed since the import" in result["not_undone"][0]["reason"]
    assert result["not_undone"][1]["reason"] == "1 contact(s) not from this import link to it now"
    existing.refresh_from_db()
    assert (existing.last_name, existing.company, existing.full_name) == ("", None, "Ada")
    assert not Contact.objects.filter(email="bea@example.com").exists()
    assert set(Company.objects.values_list("name", flat=True)) == {"Solo Co"}
    assert "bea" not in {w for k, i, _ in search.search("bea") for w in [k]}  # no stale search document
    assert search.search("bea", kinds=["contact"]) == []
    imp.refresh_from_db()
    assert imp.status == "undone" and imp.undone_by == admin
    assert [a for a, _ in history(existing)][:1] == ["update"]
    with pytest.raises(ConflictError):
        services.undo_import(actor=admin, imp=imp)


def test_undo_of_a_dry_run_is_refused(admin):
    imp = run(admin, upload(admin, ROW), dry_run=True)
    with pytest.raises(ConflictError):
        services.undo_import(actor=admin, imp=imp)
    assert imp.can_undo is False


def test_vcard_only_for_contacts(admin):
    with pytest.raises(ValidationError) as exc:
        upload(admin, (FILES / "contacts.vcf").read_bytes(), "contacts.vcf", object_type="company")
    assert "only be imported as contacts" in exc.value.message_dict["file"][0]
    assert Import.objects.count() == 0


def test_an_import_left_running_by_a_dead_worker_resumes_after_its_last_batch(admin, monkeypatch):
    """A worker died after the first batch (2 rows committed): the re-queued job carries on from row 4."""
    from kith.core import context, jobs

    monkeypatch.setattr(engine.ContactWriter, "batch_size", 2)
    imp = upload(admin, "First Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(5)))
    services.start_import(actor=admin, imp=imp)

    class WorkerDied(BaseException):
        pass

    def die_after_first_batch(current):
        raise WorkerDied

    with pytest.raises(WorkerDied):
        engine.run(imp.pk, on_progress=die_after_first_batch)
    # what the run set for itself is put back (this process may go on to other work)
    assert context.request_id.get() == ""
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.created) == ("running", 2, 2)
    jobs.run_one("test-worker")  # the job (queued by start_import) finds it running and resumes
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.created, imp.failed) == ("done", 5, 5, 0)
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["P0", "P1", "P2", "P3", "P4"]


def test_old_upload_files_are_cleaned_up_but_the_record_stays(admin):
    import datetime as dt
    from pathlib import Path

    from kith.imports.jobs import cleanup_files

    old = run(admin, upload(admin, ROW.replace("ada@", "old@")))
    fresh = upload(admin, ROW)
    Import.objects.filter(pk=old.pk).update(created_at=old.created_at - dt.timedelta(days=31))
    path = Path(old.file_path)
    assert cleanup_files() == 1
    old.refresh_from_db()
    assert not path.exists() and old.file_path == "" and old.created == 1
    assert Path(fresh.file_path).exists()
    with pytest.raises(ValidationError) as exc:
        list(services.failed_rows_csv(old))
    assert "deleted (files are kept for 30 days)" in exc.value.message_dict["file"][0]


def test_undo_when_the_file_repeats_a_record(admin, existing):
    """Ada is updated twice by one import, Bea created then updated by it: undo restores Ada as she was and
    removes Bea, reporting nothing as changed since."""
    text = ("Email,First Name,Last Name,Job Title,City\n"
            "ada@example.com,,Lovelace,,\nada@example.com,,,,London\n"
            "bea@example.com,Bea,,,\nbea@example.com,,Bee,Boss,\n")
    imp = run(admin, upload(admin, text), match_on="email", on_duplicate="fill")
    assert (imp.created, imp.updated) == (1, 3)
    existing.refresh_from_db()
    assert (existing.last_name, existing.city, existing.version) == ("Lovelace", "London", 3)
    result = services.undo_import(actor=admin, imp=imp)
    assert (result["deleted"], result["restored"], result["not_undone"]) == (1, 1, [])
    existing.refresh_from_db()
    assert (existing.last_name, existing.city, existing.job_title) == ("", "", "Countess")
    assert not Contact.objects.filter(email="bea@example.com").exists()
