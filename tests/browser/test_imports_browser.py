"""An import in a real Chromium: upload a CSV, change one column's mapping, dry-run, import while the
progress bar updates itself, then undo. The test runs the queued jobs itself, as `kith worker` would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.contacts.models import Contact
from kith.imports.models import Import

pytestmark = pytest.mark.browser

CSV = (
    "Given Name,Family Name,E-mail 1 - Value,Organization 1 - Name,Favourite colour\n"
    "Ada,Lovelace,ada@example.com,Analytical Engines,blue\n"
    "Grace,Hopper,not-an-email,US Navy,green\n"
    "Alan,Turing,alan@example.com,,red\n"
)


def run_jobs(limit: int = 20) -> int:
    """Run the queued jobs here (up to `limit`), as `kith worker` would. (On SQLite the live server shares
    this thread's in-memory database connection; a second connection from a worker thread would meet table
    locks.)"""
    from kith.core import jobs

    ran = 0
    while ran < limit and jobs.run_one("browser-worker") is not None:
        ran += 1
    return ran


@pytest.fixture
def uploads(settings, tmp_path):
    settings.KITH_DATA_DIR = str(tmp_path)




def test_upload_map_dry_run_import_and_undo(page, admin, uploads, console_errors):
    login(page, admin)
    page.goto("/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    page.get_by_role("link", name="New import").first.click()

    # Upload: the object type and the file.
    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    expect(page.get_by_label("Contacts")).to_be_checked()
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.get_by_role("button", name="Upload and map columns").click()

    # Mapping: recognised columns preselected; the unknown one ignored until the user maps it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Map the columns")
    expect(page.get_by_label("Import column “E-mail 1 - Value” into")).to_have_value("email")
    colour = page.get_by_label("Import column “Favourite colour” into")
    expect(colour).to_have_value("")
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("ada@example.com")
    expect(preview).not_to_contain_text("blue")
    colour.select_option(label="Tags")
    expect(preview).to_contain_text("blue")  # the preview updated in place
    expect(page.get_by_label("Import column “Favourite colour” into")).to_have_value("tags")
    assert Import.objects.get().mapping["Favourite colour"] == "tags"

    # Dry run: the whole file checked, nothing written.
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for a worker"))).to_be_visible()
    assert run_jobs() == 1
    expect(page.get_by_role("heading", name=re.compile("Dry run result"))).to_be_visible(timeout=15_000)
    expect(page.get_by_text("nothing was written")).to_be_visible()
    problems = page.get_by_role("table", name="Problems by row of the file")
    expect(problems.get_by_role("row", name=re.compile(r"3 E-mail 1 - Value not-an-email"))).to_be_visible()
    assert not Contact.objects.exists()

    # Import: the page shows the queued import, then follows the run by itself until the result.
    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for a worker"))).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    expect(page.get_by_text("Errors so far")).to_be_visible()
    assert run_jobs(limit=1) == 1  # the import
    expect(page.get_by_role("heading", name=re.compile("^Result"))).to_be_visible(timeout=15_000)
    tiles = page.get_by_role("list", name="Rows by outcome")
    expect(tiles).to_contain_text("2 created")
    expect(tiles).to_contain_text("1 failed")
    # then the duplicate check of the new contacts (and of the company it created), followed on the page
    duplicates = page.get_by_role("region", name="Duplicates")
    expect(duplicates).to_contain_text("Checking the imported contacts against the others for duplicates")
    assert run_jobs() == 2
    expect(duplicates).to_contain_text("The duplicate check of the contacts found no possible duplicates.",
                                       timeout=15_000)
    expect(duplicates).to_contain_text("The duplicate check of the companies found no possible duplicates.")
    assert set(Contact.objects.values_list("email", flat=True)) == {"ada@example.com", "alan@example.com"}
    assert sorted(Contact.objects.get(email="ada@example.com").tag_names) == ["blue"]

    # Undo, after a confirmation.
    page.get_by_role("button", name="Undo import").click()
    dialog = page.get_by_role("dialog", name="Undo this import?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Undo import").click()
    report = page.get_by_role("region", name="Undo report")
    expect(report).to_contain_text("Everything the import wrote was undone.")
    expect(page.get_by_text("This import was undone")).to_be_visible()
    assert not Contact.objects.exists()

    page.goto("/imports/")
    expect(page.get_by_role("row", name=re.compile("people.csv Contacts Undone"))).to_be_visible()
    assert console_errors == []
