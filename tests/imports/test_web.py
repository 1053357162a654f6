"""The import pages: history, upload, mapping with live preview, dry run, run, progress, result, undo."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import signed_in
from kith.contacts.models import Company, Contact
from kith.core.models import CustomField
from kith.imports.models import Import, SavedMapping

from .ui_helpers import PEOPLE_CSV, csv_upload, make_import, run_jobs

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.KITH_DATA_DIR = str(tmp_path)


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


def text(response) -> str:
    import html as html_lib

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_error(response, field_id: str) -> str:
    """The error text shown under one control (its id + "_error")."""
    m = re.search(rf'id="{field_id}_error">(.*?)</div>', response.content.decode(), flags=re.S)
    return text_of(m.group(1)) if m else ""


def text_of(html: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def selected(response, name: str) -> str:
    """The selected option's value of a <select name=...>."""
    html = response.content.decode()
    m = re.search(rf'<select name="{name}".*?</select>', html, flags=re.S)
    assert m, name
    sel = re.search(r'<option value="([^"]*)"[^>]*selected', m.group(0))
    return sel.group(1) if sel else ""


def mapping_post(imp, **changes) -> dict:
    """The mapping form as the page shows it for this import, with some values changed."""
    from kith.imports import services

    columns = services.preview(imp)["columns"]
    data = {f"col_{i}": c["target"] or "" for i, c in enumerate(columns)}
    data.update({"match_on": imp.match_on, "on_duplicate": imp.on_duplicate, "save_as": ""})
    data.update(changes)
    return data


def upload(client, content: bytes | str = PEOPLE_CSV, name: str = "people.csv", object_type: str = "contact"):
    if isinstance(content, str):
        content = content.encode()
    return client.post("/imports/new/", {"object_type": object_type,
                                         "file": SimpleUploadedFile(name, content, content_type="text/csv")})


# --- history and permissions ---------------------------------------------------------------------------


def test_history_lists_imports_with_counts(admin_client, admin, member):
    r = admin_client.get("/imports/")
    assert r.status_code == 200
    assert "No imports yet" in text(r)
    assert 'href="/imports/new/"' in r.content.decode()

    make_import(member, name="from-member.csv")
    imp = make_import(admin, name="hubspot-export.csv")
    Import.objects.filter(pk=imp.pk).update(status="done", created=12, updated=3, skipped=2, failed=1)
    page = text(admin_client.get("/imports/"))
    assert "hubspot-export.csv Contacts Done 12 3 2 1 Alice Admin" in page
    assert "from-member.csv Contacts Uploaded" in page  # admins see everyone's imports
    assert page.index("hubspot-export.csv") < page.index("from-member.csv")  # newest first


def test_members_see_only_their_own_imports(admin, member):
    theirs = make_import(admin, name="admins.csv")
    mine = make_import(member, name="mine.csv")
    c = signed_in(member)
    page = text(c.get("/imports/"))
    assert "mine.csv" in page and "admins.csv" not in page
    assert c.get(f"/imports/{theirs.pk}/").status_code == 404
    assert c.post(f"/imports/{theirs.pk}/undo/").status_code == 404
    assert c.get(f"/imports/{mine.pk}/").status_code == 200


def test_viewers_cannot_import(viewer):
    c = signed_in(viewer)
    r = c.get("/imports/")
    assert r.status_code == 200
    assert 'href="/imports/new/"' not in r.content.decode()
    assert c.get("/imports/new/").status_code == 403
    assert c.post("/imports/new/", {"object_type": "contact", "file": csv_upload()}).status_code == 403
    assert not Import.objects.exists()


def test_signed_out_is_sent_to_login(client):
    r = client.get("/imports/")
    assert r.status_code == 302 and "/login" in r["Location"]


# --- upload --------------------------------------------------------------------------------------------


def test_upload_errors_are_shown_next_to_the_file(admin_client):
    r = upload(admin_client, b"%PDF-1.4 ...", name="report.pdf")
    assert r.status_code == 400
    assert "Kith imports CSV, Excel (.xlsx) and vCard (.vcf) files" in field_error(r, "id_file")
    assert 'aria-invalid="true"' in r.content.decode()

    r = upload(admin_client, b"", name="empty.csv")
    assert r.status_code == 400
    assert "The file is empty." in field_error(r, "id_file")

    r = upload(admin_client, "First Name,Email\n", name="header-only.csv")
    assert r.status_code == 400
    assert "no data rows" in field_error(r, "id_file")

    r = upload(admin_client, "BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nEND:VCARD\n", name="cards.vcf",
               object_type="company")
    assert r.status_code == 400
    assert "contacts" in field_error(r, "id_file")

    r = admin_client.post("/imports/new/", {"object_type": "contact"})
    assert r.status_code == 400
    assert "Choose a file to import." in field_error(r, "id_file")
    assert not Import.objects.exists()


def test_upload_leads_to_mapping_with_headers_samples_and_proposals(admin_client):
    r = upload(admin_client)
    imp = Import.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/imports/{imp.pk}/mapping/"
    assert (imp.file_name, imp.object_type, imp.format, imp.status) == ("people.csv", "contact", "csv", "uploaded")

    r = admin_client.get(r["Location"])
    assert r.status_code == 200
    page = text(r)
    for header in ["Given Name", "Family Name", "E-mail 1 - Value", "Organization 1 - Name", "Favourite colour"]:
        assert header in page
    assert "ada@example.com" in page and "not-an-email" in page  # sample values
    assert selected(r, "col_0") == "first_name"
    assert selected(r, "col_2") == "email"
    assert selected(r, "col_3") == "company"
    assert selected(r, "col_4") == ""  # not recognised: ignored
    assert "Ignore this column" in r.content.decode()
    assert "Recognised as Email" in page
    # The preview: the first rows as they will be imported, numbered as in the file.
    preview = r.content.decode().split('id="preview"', 1)[1]
    assert "Lovelace" in text_of(preview) and "alan@example.com" in text_of(preview)


# --- mapping -------------------------------------------------------------------------------------------


def test_changing_a_column_stores_it_and_updates_the_preview(admin_client, admin):
    imp = make_import(admin)
    r = admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, col_4="tags", action="preview"), **HTMX)
    assert r.status_code == 200
    imp.refresh_from_db()
    assert imp.mapping["Favourite colour"] == "tags"
    preview = text_of(r.content.decode().split('id="preview"', 1)[1])
    assert "Tags" in preview and "blue" in preview
    assert selected(r, "col_4") == "tags"


def test_unknown_target_and_double_target_errors_show_next_to_the_column(admin_client, admin):
    imp = make_import(admin)
    r = admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, col_4="shoe_size", action="preview"))
    assert r.status_code == 400
    assert "Select a valid choice" in field_error(r, "id_col_4")

    r = admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, col_1="first_name", action="preview"))
    assert r.status_code == 400
    assert "already imported from column “Given Name”" in field_error(r, "id_col_1")
    imp.refresh_from_db()
    assert imp.mapping["Family Name"] == "last_name"  # nothing stored


def test_match_key_needs_a_mapped_column(admin_client, admin):
    imp = make_import(admin)
    r = admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, col_2="", match_on="email"))
    assert r.status_code == 400
    assert "map a column to it" in field_error(r, "id_match_on")


def test_save_and_load_a_mapping(admin_client, admin):
    first = make_import(admin)
    r = admin_client.post(f"/imports/{first.pk}/mapping/",
                          mapping_post(first, col_4="tags", save_as="Google people", action="preview"))
    assert r.status_code == 302
    saved = SavedMapping.objects.get(name="Google people")
    assert saved.mapping["Favourite colour"] == "tags"

    second = make_import(admin)
    page = admin_client.get(f"/imports/{second.pk}/mapping/")
    assert "Google people" in text(page)
    assert selected(page, "col_4") == ""
    r = admin_client.post(f"/imports/{second.pk}/mapping/load/", {"saved_mapping": saved.pk})
    assert r.status_code == 302
    page = admin_client.get(f"/imports/{second.pk}/mapping/")
    assert selected(page, "col_4") == "tags"
    assert "The saved mapping “Google people” was applied" in text(page)

    r = admin_client.post(f"/imports/{second.pk}/mapping/load/", {"saved_mapping": ""})
    assert r.status_code == 400
    assert "Choose a saved mapping to load." in field_error(r, "id_saved_mapping")


def test_create_a_custom_field_from_a_column(admin_client, admin):
    imp = make_import(admin)
    data = mapping_post(imp, new_field="4", new_label_4="Colour", new_type_4="text")
    r = admin_client.post(f"/imports/{imp.pk}/mapping/new-field/", data)
    assert r.status_code == 302
    field = CustomField.objects.get(object_type="contact", label="Colour")
    imp.refresh_from_db()
    assert imp.mapping["Favourite colour"] == f"cf_{field.key}"
    page = admin_client.get(f"/imports/{imp.pk}/mapping/")
    assert selected(page, "col_4") == f"cf_{field.key}"
    assert "The custom field “Colour” was created" in text(page)

    r = admin_client.post(f"/imports/{imp.pk}/mapping/new-field/",
                          mapping_post(imp, new_field="0", new_label_0="  ", new_type_0="text"))
    assert r.status_code == 400
    assert "Enter a label for the new field." in text_of(
        re.search(r'id="new-field-0-error">(.*?)</div>', r.content.decode(), re.S).group(1))


def test_members_cannot_create_custom_fields(member):
    imp = make_import(member)
    c = signed_in(member)
    page = c.get(f"/imports/{imp.pk}/mapping/")
    assert page.status_code == 200
    assert "Create a custom field from this column" not in text(page)
    r = c.post(f"/imports/{imp.pk}/mapping/new-field/", mapping_post(imp, new_field="4", new_label_4="Colour"))
    assert r.status_code == 403
    assert not CustomField.objects.exists()


# --- dry run, run, progress, undo ------------------------------------------------------------------------


def test_dry_run_reports_every_problem_without_writing(admin_client, admin):
    imp = make_import(admin)
    r = admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="dry_run"))
    assert r.status_code == 302 and r["Location"] == f"/imports/{imp.pk}/"
    imp.refresh_from_db()
    assert (imp.status, imp.dry_run) == ("queued", True)
    assert run_jobs() == 1

    r = admin_client.get(f"/imports/{imp.pk}/")
    page = text(r)
    assert "Dry run result" in page and "nothing was written" in page
    assert "2 would be created" in page and "1 failed" in page
    problems = text_of(r.content.decode().split('id="problems-title"', 1)[1])
    assert re.search(r"\b3 E-mail 1 - Value not-an-email \S", problems), problems
    assert not Contact.objects.exists() and not Company.objects.exists()
    assert "Import now" in page and "Undo import" not in page


def test_import_progress_result_failed_rows_and_undo(admin_client, admin):
    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="dry_run"))
    run_jobs()
    r = admin_client.post(f"/imports/{imp.pk}/start/")
    assert r.status_code == 302

    # While queued the record page polls its status block.
    r = admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX)
    assert r.status_code == 200
    assert 'hx-trigger="every 1s"' in r.content.decode()
    assert "Waiting for a worker" in text(r)
    assert "<progress" in r.content.decode()
    assert admin_client.get(f"/imports/{imp.pk}/progress/").status_code == 302  # not htmx: the page

    assert run_jobs() == 1
    r = admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX)
    assert "hx-trigger" not in r.content.decode()  # finished: polling stops
    page = text(r)
    assert "The import finished" in page
    assert "2 created" in page and "0 updated" in page and "1 failed" in page
    assert set(Contact.objects.values_list("email", flat=True)) == {"ada@example.com", "alan@example.com"}
    assert Contact.objects.get(email="ada@example.com").company.name == "Analytical Engines"

    r = admin_client.get(f"/imports/{imp.pk}/failed-rows.csv")
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="people-failed-rows.csv"'
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].endswith(",reason") and len(lines) == 2
    assert "Grace,Hopper,not-an-email" in lines[1]

    # Undo: a confirmation first (without JavaScript), then the report.
    r = admin_client.get(f"/imports/{imp.pk}/undo/")
    assert "Undo this import?" in text(r)
    r = admin_client.post(f"/imports/{imp.pk}/undo/")
    assert r.status_code == 302
    page = text(admin_client.get(f"/imports/{imp.pk}/"))
    assert "Undo report" in page and "Everything the import wrote was undone." in page
    assert not Contact.objects.exists()
    imp.refresh_from_db()
    assert imp.status == "undone"
    assert "Undo report" in text(admin_client.get(f"/imports/{imp.pk}/"))  # kept with the import: after a reload too
    r = admin_client.post(f"/imports/{imp.pk}/undo/", follow=True)
    assert "already undone" in text(r)


def test_undo_reports_records_changed_since(admin_client, admin):
    from kith.contacts.services import update_contact

    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="import"))
    run_jobs()
    ada = Contact.objects.get(email="ada@example.com")
    update_contact(actor=admin, contact=ada, data={"job_title": "Countess"})
    admin_client.post(f"/imports/{imp.pk}/undo/")
    page = text(admin_client.get(f"/imports/{imp.pk}/"))
    assert "could not be undone" in page and "Ada Lovelace" in page
    assert list(Contact.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_cancel_a_queued_import(admin_client, admin):
    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="import"))
    r = admin_client.get(f"/imports/{imp.pk}/")
    assert "Cancel import" in text(r)
    r = admin_client.post(f"/imports/{imp.pk}/cancel/", follow=True)
    assert "cancelled before it started" in text(r)
    imp.refresh_from_db()
    assert imp.status == "cancelled"
    run_jobs()
    assert not Contact.objects.exists()


def test_mapping_is_closed_once_the_import_ran(admin_client, admin):
    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="import"))
    run_jobs()
    r = admin_client.get(f"/imports/{imp.pk}/mapping/", follow=True)
    assert "its mapping can no longer change" in text(r)


def test_contact_and_company_lists_link_to_an_import_of_their_kind(admin_client, viewer):
    r = admin_client.get("/contacts/")
    assert 'href="/imports/new/?type=contact"' in r.content.decode()
    r = admin_client.get("/companies/")
    assert 'href="/imports/new/?type=company"' in r.content.decode()
    r = admin_client.get("/imports/new/?type=company")
    assert re.search(r'<input type="radio" name="object_type" value="company"[^>]*checked', r.content.decode())
    assert "/imports/new/" not in signed_in(viewer).get("/contacts/").content.decode()


def test_progress_of_a_running_import_and_cancel(admin_client, admin):
    import datetime as dt

    from django.utils import timezone

    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="import"))
    Import.objects.filter(pk=imp.pk).update(status="running", total_rows=1000, rows_done=250, failed=3,
                                            started_at=timezone.now() - dt.timedelta(seconds=5))
    r = admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX)
    html = r.content.decode()
    assert '<progress max="100" value="25"' in html
    page = text(r)
    assert "Importing…" in page
    assert "Rows 250 of 1,000 (25%)" in page
    assert re.search(r"Speed (4\d|50) rows/s", page), page
    assert "Errors so far 3" in page
    assert re.search(r"Time left about 1\d s left", page), page

    r = admin_client.post(f"/imports/{imp.pk}/cancel/", follow=True)
    assert "stops after the rows it is writing now" in text(r)
    assert "Stopping after the current rows" in text(r)
    imp.refresh_from_db()
    assert (imp.status, imp.cancel_requested) == ("running", True)


def test_history_pages_with_load_more(admin_client, admin):
    Import.objects.bulk_create([
        Import(object_type="contact", file_name=f"file-{i:02}.csv", format="csv", created_by=admin)
        for i in range(30)
    ])
    r = admin_client.get("/imports/")
    page = text(r)
    assert "file-29.csv" in page and "file-05.csv" in page and "file-04.csv" not in page
    more = re.search(r'hx-get="([^"]+)"', r.content.decode().split('id="load-more"', 1)[1]).group(1)
    r = admin_client.get(more.replace("&amp;", "&"), **HTMX)
    rows = text(r)
    assert "file-04.csv" in rows and "file-00.csv" in rows and "file-05.csv" not in rows
    assert "<html" not in r.content.decode()
    assert admin_client.get("/imports/?cursor=nonsense").status_code == 302


def test_problems_table_shows_more_in_file_order(admin_client, admin):
    from kith.imports.models import ImportProblem

    imp = make_import(admin)
    Import.objects.filter(pk=imp.pk).update(status="done", dry_run=True, failed=150, rows_done=150, total_rows=150)
    ImportProblem.objects.bulk_create([
        ImportProblem(imp=imp, row_number=n, column="Email", value=f"bad{n}", reason="Not an email address.")
        for n in range(151, 1, -1)
    ])
    r = admin_client.get(f"/imports/{imp.pk}/")
    page = text(r)
    assert "Problems 150" in page
    assert "2 Email bad2 Not an email address." in page and "bad101" in page and "bad102" not in page
    more = re.search(r'id="problems-more".*?hx-get="([^"]+)"', r.content.decode(), re.S).group(1)
    r = admin_client.get(more, **HTMX)
    rows = text(r)
    assert "102 Email bad102" in rows and "bad151" in rows and "bad101" not in rows
    assert "Show more problems" not in rows


def test_a_queued_import_says_what_the_workers_are_busy_with_or_that_none_took_it(admin_client, admin, manager):
    import datetime as dt

    from django.utils import timezone

    from kith.core.models import Job

    imp = make_import(admin)
    admin_client.post(f"/imports/{imp.pk}/mapping/", mapping_post(imp, action="dry_run"))
    run_jobs()
    admin_client.post(f"/imports/{imp.pk}/start/")
    job = Job.objects.get(unique_key=f"import:{imp.pk}", status="queued")
    # just queued, nothing running: nothing to explain yet
    r = admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX)
    assert 'id="queue-wait"' not in r.content.decode()
    # a long scan holds the only worker
    now = timezone.now()
    Job.objects.create(name="duplicates.scan", status="running", locked_by="w1", locked_at=now - dt.timedelta(seconds=95))
    Job.objects.filter(pk=job.pk).update(created_at=now - dt.timedelta(seconds=40))
    page = text(admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX))
    assert ("In the queue for 40 s: the background workers are busy with a duplicate scan (running for 1 min 35 s). "
            "The import starts as soon as one is free.") in page
    # nothing running for 40 s: is there a worker at all?
    Job.objects.filter(status="running").delete()
    r = admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX)
    page = text(r)
    assert ("No background worker has taken it in 40 s: kith serve starts one; if Kith runs without it, start "
            "one with kith worker") in page, page
    assert 'href="/settings/jobs/"' in r.content.decode()
    # who is not an admin gets the explanation without the link to the jobs page
    Import.objects.filter(pk=imp.pk).update(created_by=manager)
    r = signed_in(manager).get(f"/imports/{imp.pk}/progress/", **HTMX)
    assert "No background worker has taken it" in text(r) and 'href="/settings/jobs/"' not in r.content.decode()
    # once a worker runs it, the note is gone
    assert run_jobs() == 1
    assert 'id="queue-wait"' not in admin_client.get(f"/imports/{imp.pk}/progress/", **HTMX).content.decode()
