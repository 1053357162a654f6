"""Exporting a list in a real Chromium: search with htmx (no reload), then Export downloads just those rows;
a large export goes to the Exports page and is downloaded from there when the job has run."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.contacts import services

pytestmark = pytest.mark.browser


def read_csv(path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))


@pytest.fixture
def contacts(admin):
    for first, last, email in (("Ada", "Lovelace", "ada@acme.com"), ("Grace", "Hopper", "grace@navy.mil"),
                               ("Zoë", "Ångström", "zoe@example.com")):
        services.create_contact(actor=admin, data={"first_name": first, "last_name": last, "email": email})


def test_export_the_filtered_list_then_a_large_one_from_the_exports_page(page, admin, contacts, settings, tmp_path):
    settings.KITH_EXPORT_DIR = str(tmp_path / "exports")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, admin)
    page.goto("/contacts/")
    page.get_by_label("Search contacts").fill("hopper")
    expect(page.locator("#rows tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=hopper"))

    page.get_by_text("Export", exact=True).click()
    page.get_by_label("All columns").check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export contacts").click()
    download = info.value
    assert re.fullmatch(r"contacts-.*\.csv", download.suggested_filename)
    rows = read_csv(download.path())
    assert [r["email"] for r in rows] == ["grace@navy.mil"]

    # More rows than stream at once: a background job, listed on the Exports page.
    settings.KITH_EXPORT_STREAM_LIMIT = 1
    page.get_by_label("Search contacts").fill("")
    expect(page.locator("#rows tr")).to_have_count(3)
    page.get_by_text("Export", exact=True).click()
    page.get_by_label("Excel (.xlsx)").check()
    page.get_by_role("button", name="Export contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    expect(page.get_by_text("being prepared in the background")).to_be_visible()

    from kith.core import jobs

    assert jobs.run_one().status == "done"
    link = page.get_by_role("link", name=re.compile("Download"))
    expect(link).to_be_visible(timeout=10_000)  # the table polls while the job runs
    with page.expect_download() as info:
        link.click()
    from openpyxl import load_workbook

    assert re.fullmatch(r"contacts-.*\.xlsx", info.value.suggested_filename)
    ws = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "id" and len(values) == 4  # the menu kept "All columns" chosen
    assert errors == []
