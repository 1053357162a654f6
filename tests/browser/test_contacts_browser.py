"""Contacts and companies in a real Chromium: what a person does, found by role and label."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.contacts import services
from kith.contacts.models import Contact

pytestmark = pytest.mark.browser




def test_create_company_and_contact_find_edit_and_see_history(page, admin, console_errors):
    login(page, admin)

    # A company, from the left navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Companies").click()
    page.get_by_role("link", name="New company").click()
    page.get_by_label("Name").fill("Acme Rockets")
    page.get_by_label("Domain").fill("acmerockets.com")
    page.get_by_label("Industry").fill("Aerospace")
    page.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Rockets")
    expect(page.get_by_role("status").first).to_contain_text("Acme Rockets was created.")

    # A person at that company, via "Add person" on the company page.
    page.get_by_role("link", name="Add person").click()
    expect(page.get_by_role("combobox", name="Company")).to_have_value("Acme Rockets")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email", exact=True).fill("ada@acmerockets.com")
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    contact = Contact.objects.get(email="ada@acmerockets.com")
    assert contact.company.name == "Acme Rockets"
    assert contact.phone == "+442079460958"

    # Find it with the global search: press "/" anywhere, type, pick the result with the keyboard.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome back")
    page.wait_for_load_state()
    page.keyboard.press("/")
    search = page.get_by_role("combobox", name="Search")
    expect(search).to_be_focused()
    page.keyboard.type("lovel")
    option = page.get_by_role("option", name=re.compile("Ada Lovelace"))
    expect(option).to_be_visible()
    expect(option).to_contain_text("ada@acmerockets.com · Acme Rockets")
    page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/contacts/{contact.pk}/")

    # Edit it and see the change in its timeline (the one place for its history).
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Job title").fill("Chief Engineer")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("Ada Lovelace was saved.")
    timeline = page.get_by_role("list", name="Timeline, newest first")
    change = timeline.get_by_role("listitem").filter(has_text="Alice Admin updated").first
    expect(change).to_be_visible()
    expect(change).to_contain_text("Job title: (empty) → Chief Engineer")
    expect(page.get_by_role("region", name="History")).to_have_count(0)
    assert console_errors == []


def test_bad_email_shows_an_error_next_to_the_field(page, admin, console_errors):
    login(page, admin)
    page.goto("/contacts/new/")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Email", exact=True).fill("grace-at-navy")
    page.get_by_role("button", name="Create contact").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem with this contact")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("is not a valid email address"))
    # The summary links to the field.
    summary.get_by_role("link").click()
    expect(email).to_be_focused()
    expect(email).to_have_value("grace-at-navy")
    assert not Contact.objects.filter(first_name="Grace").exists()
    assert console_errors == []


def test_list_search_sort_and_load_more(page, admin, settings, console_errors):
    settings.KITH_UI_PAGE_SIZE = 3
    for first, last in [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Linus", "Torvalds"),
                        ("Ken", "Thompson")]:
        services.create_contact(actor=admin, data={"first_name": first, "last_name": last})
    login(page, admin)
    page.goto("/contacts/")
    rows = page.locator("#rows tr:not(#load-more)")
    expect(rows).to_have_count(3)

    # Sort by name: the header is a link; aria-sort tells which way.
    page.get_by_role("link", name="Name").click()
    name_header = page.get_by_role("columnheader", name="Name")
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    expect(rows.first).to_contain_text("Ada Lovelace")
    assert "ordering=name" in page.url

    # Load more appends the next rows in place.
    page.get_by_role("link", name="Load more").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Linus Torvalds")
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)

    # Search as you type narrows the table and puts the query in the URL.
    page.get_by_label("Search contacts").fill("tur")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Alan Turing")
    page.wait_for_url(re.compile(r"q=tur"))
    assert "ordering=name" in page.url  # the chosen sort order survives the search
    assert console_errors == []


def test_filter_panel_by_lifecycle_stage(page, admin, console_errors):
    services.create_contact(actor=admin, data={"first_name": "Cora", "lifecycle_stage": "customer"})
    services.create_contact(actor=admin, data={"first_name": "Liam", "lifecycle_stage": "lead"})
    login(page, admin)
    page.goto("/contacts/")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Lifecycle stage").select_option("customer")
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cora")
    expect(page.get_by_label("Active filters")).to_contain_text("Lifecycle stage: Customer")
    assert "lifecycle_stage=customer" in page.url
    assert console_errors == []


def test_move_to_trash_with_confirmation_and_restore(page, admin, console_errors):
    c = services.create_contact(actor=admin, data={"first_name": "Tess", "last_name": "Trash"})
    login(page, admin)
    page.goto(f"/contacts/{c.pk}/")
    page.get_by_role("button", name="Move to trash").click()
    dialog = page.get_by_role("dialog", name="Move Tess Trash to the trash?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_role("status").first).to_contain_text("Tess Trash was moved to the trash.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
    page.get_by_role("button", name="Restore Tess Trash").click()
    expect(page.get_by_role("status").first).to_contain_text("Tess Trash was restored.")
    assert Contact.objects.filter(pk=c.pk).exists()
    assert console_errors == []


def test_ctrl_k_focuses_search(page, admin):
    login(page, admin)
    page.goto("/contacts/")
    page.wait_for_load_state()
    page.keyboard.press("Control+k")
    expect(page.get_by_role("combobox", name="Search")).to_be_focused()


def test_screenshots_and_phone_width(page, admin, browser):
    """Screenshots of the contact list and a contact page at 1280 and 390 wide (/tmp/kith-ui-*.png)."""
    acme = services.create_company(actor=admin, data={"name": "Acme Rockets", "domain": "acmerockets.com",
                                                       "industry": "Aerospace", "city": "Berlin", "size": 240})
    people = [("Ada", "Lovelace", "CTO", "customer"), ("Grace", "Hopper", "VP Engineering", "opportunity"),
              ("Alan", "Turing", "Researcher", "lead"), ("Katherine", "Johnson", "Head of Flight", "customer"),
              ("Linus", "Torvalds", "Maintainer", "subscriber")]
    first = None
    for i, (fn, ln, title, stage) in enumerate(people):
        c = services.create_contact(actor=admin, data={
            "first_name": fn, "last_name": ln, "email": f"{fn.lower()}@acmerockets.com", "job_title": title,
            "company_id": acme.pk, "lifecycle_stage": stage, "phone": f"+49 30 901820{i}" if i != 2 else "ext 12",
            "tags": "vip" if i % 2 == 0 else ""})
        first = first or c
    services.update_contact(actor=admin, contact=Contact.objects.get(pk=first.pk),
                            data={"job_title": "Chief Technology Officer", "lead_source": "Conference"})
    login(page, admin)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/contacts/")
        expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
        # Nothing spills sideways out of the page; wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/kith-ui-contacts-{width}.png", full_page=True)
        page.goto(f"/contacts/{first.pk}/")
        expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"/tmp/kith-ui-contact-{width}.png", full_page=True)
