"""In a real Chromium: the "may already exist" warning while typing, and merging from the review queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.contacts import services
from kith.contacts.models import Contact
from kith.duplicates import detection

pytestmark = pytest.mark.browser


def test_warning_while_typing_then_merge_and_undo(page, admin):
    acme = services.create_company(actor=admin, data={"name": "Acme Ltd", "domain": "acme.com"})
    jon = services.create_contact(actor=admin, data={"first_name": "Jon", "last_name": "Smith",
                                                      "email": "jon@acme.com", "company_id": acme.pk})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, admin)
    page.goto("/contacts/new/")
    page.get_by_label("First name").fill("John")
    page.get_by_label("Last name").fill("Smith")
    page.get_by_label("Email", exact=True).fill("john@acme.com")
    page.get_by_label("Email", exact=True).blur()
    warning = page.get_by_role("status").filter(has_text="may already exist")
    expect(warning).to_contain_text("Jon Smith at Acme Ltd may already exist")
    expect(warning.get_by_role("link", name="Jon Smith")).to_have_attribute("href", jon.get_absolute_url())
    # Not blocking: the contact can still be created.
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("John Smith")

    detection.scan("contact")
    page.goto("/duplicates/")
    expect(page.get_by_role("heading", name="Jon Smith and John Smith")).to_be_visible()
    page.get_by_role("link", name="Merge…").click()
    page.get_by_role("button", name="Merge records").click()
    expect(page.get_by_text("You can undo this from its entry in the timeline below.")).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline, newest first")
    merge_entry = timeline.get_by_role("listitem").filter(has_text="merged John Smith").first
    expect(merge_entry).to_contain_text("Alice Admin merged John Smith")
    merge_entry.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_text("Undid the merge: John Smith is back")).to_be_visible()
    expect(timeline.get_by_text("This merge was undone.")).to_be_visible()
    expect(timeline.get_by_role("button", name="Undo merge")).to_have_count(0)
    assert Contact.objects.count() == 2
    assert errors == []
