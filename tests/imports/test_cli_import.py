"""`kith import contacts|companies|leads|deals FILE`: progress line, summary, failed rows, exit codes."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from kith.contacts.models import Company, Contact

from .engine_helpers import FILES, isolated_uploads  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def kith_import(*args) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("import", *[str(a) for a in args], stdout=out)
    except CommandError as exc:
        return out.getvalue() + f"\n{exc}", exc.returncode
    return out.getvalue(), 0


def test_import_prints_progress_and_summary(admin):
    out, code = kith_import("contacts", FILES / "hubspot_contacts.csv")
    assert code == 0, out
    assert "Import #" in out and "hubspot_contacts.csv (CSV, utf-8, delimiter ',') as contacts" in out
    assert "Email → email" in out and "duplicates: match on email, then skip" in out
    assert "2/2 rows" in out and "rows/s" in out and "0 errors" in out
    assert "Done: 2 rows" in out
    assert "created 2, updated 0, skipped 0, failed 0; companies created to link contacts: 2" in out
    assert Contact.objects.count() == 2 and Contact.objects.first().owner == admin


def test_failed_rows_are_listed_with_row_numbers_and_exit_1(admin, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("First Name,Email\nAda,ada@example.com\nBob,bob-at-example\n", encoding="utf-8")
    out, code = kith_import("contacts", path)
    assert code == 1
    assert "created 1, updated 0, skipped 0, failed 1" in out
    assert "row 3 Email “bob-at-example”: “bob-at-example” is not a valid email address" in out
    assert "1 row(s) failed." in out


def test_dry_run_and_on_duplicate(admin):
    out, code = kith_import("contacts", FILES / "unicode_names.csv", "--dry-run")
    assert code == 0 and "— dry run" in out and "would be created 12" in out
    assert Contact.objects.count() == 0 and Company.objects.count() == 0
    kith_import("contacts", FILES / "unicode_names.csv")
    out, code = kith_import("contacts", FILES / "unicode_names.csv", "--on-duplicate", "skip", "--match-on",
                            "email")
    assert code == 0 and "created 0, updated 0, skipped 12" in out
    assert Contact.objects.count() == 12


def test_saved_mapping_and_usage_errors(admin, tmp_path):
    from kith.imports import services

    path = tmp_path / "odd.csv"
    path.write_text("Nome,Correio\nAda,ada@example.com\n", encoding="utf-8")
    out, code = kith_import("contacts", path, "--mapping", "Portuguese")
    assert code == 2 and "No saved contact mapping named “Portuguese”" in out
    imp = services.create_import(actor=admin, object_type="contact", file_name="odd.csv",
                                 fileobj=io.BytesIO(path.read_bytes()))
    services.set_mapping(actor=admin, imp=imp, mapping={"Nome": "first_name", "Correio": "email"},
                         match_on="email", save_as="Portuguese")
    out, code = kith_import("contacts", path, "--mapping", "Portuguese")
    assert code == 0, out
    assert Contact.objects.get(email="ada@example.com").first_name == "Ada"
    out, code = kith_import("contacts", tmp_path / "missing.csv")
    assert code == 2 and "No such file" in out
    out, code = kith_import("companies", FILES / "contacts.vcf")
    assert code == 2 and "only be imported as contacts" in out
    out, code = kith_import("contacts", FILES / "empty.csv")
    assert code == 2 and "The file is empty" in out


def test_companies_leads_and_deals(admin):
    assert kith_import("companies", FILES / "hubspot_companies.csv")[1] == 0
    assert kith_import("leads", FILES / "salesforce_leads.csv")[1] == 0
    out, code = kith_import("deals", FILES / "pipedrive_deals.csv", "--match-on", "external_id")
    assert code == 0, out
    assert "created 1" in out


def test_real_kith_process(tmp_path):
    """The installed `kith` command in its own process and database: exit status and output."""
    from tests.cli.helpers import served_database

    with served_database(tmp_path / "data") as env:
        def kith(*args):
            return subprocess.run([sys.executable, "-m", "kith", *args], env=env, capture_output=True,
                                  text=True, timeout=300)

        assert kith("migrate", "-v0").returncode == 0
        assert kith("user", "create", "root@example.com", "--role", "admin").returncode == 0
        done = kith("import", "contacts", str(FILES / "contacts.vcf"))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "vCard (.vcf)" in done.stdout and "created 3" in done.stdout
        bad = kith("import", "contacts", str(FILES / "ragged.csv"))
        assert bad.returncode == 1
        assert "row 3: This row has 5 values but the header has 3 columns" in bad.stdout


def test_undo_from_the_command_line_whatever_the_size(admin, settings, tmp_path):
    """`kith import undo ID` undoes in its own process, also an import the page would hand to a worker (no
    worker needed); a record changed since is listed and the exit code is 1; a second undo is refused."""
    from kith.contacts import services as contacts
    from kith.imports.models import Import

    settings.KITH_IMPORT_UNDO_INLINE_MAX = 2
    path = tmp_path / "people.csv"
    path.write_text("First Name,Email\n" + "".join(f"U{i},u{i}@undo.example\n" for i in range(5)))
    out, code = kith_import("contacts", path)
    assert code == 0 and Contact.objects.count() == 5, out
    imp = Import.objects.get()
    edited = Contact.objects.get(email="u3@undo.example")
    contacts.update_contact(actor=admin, contact=edited, data={"job_title": "Kept"})

    out, code = kith_import("undo", imp.pk)
    assert code == 1, out
    assert f"Undoing import #{imp.pk} (people.csv): 5 records" in out
    assert "removed 4 records the import created" in out
    assert f"contact #{edited.pk} U3: changed since the import" in out
    assert list(Contact.objects.values_list("email", flat=True)) == ["u3@undo.example"]
    imp.refresh_from_db()
    assert imp.status == "undone" and imp.undo_report["deleted"] == 4

    out, code = kith_import("undo", imp.pk)
    assert code == 2 and "already undone" in out
    out, code = kith_import("undo", "999999")
    assert code != 0 and "No import #999999" in out
