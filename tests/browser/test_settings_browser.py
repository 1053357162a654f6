"""Settings in a real browser: an admin adds a custom field and sees it on the contact form; API tokens."""

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.core.models import ApiToken, CustomField
from kith.core.tokens import authenticate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settings_menu(page):
    return page.get_by_role("navigation", name="Settings")


def test_admin_adds_a_single_select_field_and_finds_it_on_the_contact_form(page, admin):
    login(page, admin)
    page.get_by_role("link", name="Settings", exact=True).click()
    settings_menu(page).get_by_role("link", name="Custom fields").click()
    page.get_by_role("link", name="Add contact field").click()

    expect(page.get_by_label("Applies to")).to_have_value("contact")
    page.get_by_label("Label", exact=True).fill("Customer tier")
    page.get_by_label("Type", exact=True).select_option(label="Single select")
    # only the settings that matter for the chosen type are shown
    expect(page.get_by_label("Currency code")).to_be_hidden()
    page.get_by_label("Choices").fill("Gold\nSilver\nBronze")
    page.get_by_label("Required").check()
    page.get_by_role("button", name="Create field").click()

    expect(page.get_by_role("status")).to_contain_text("Custom field “Customer tier” was added to contacts.")
    contacts = page.get_by_role("region", name="Contacts")
    expect(contacts.get_by_role("row", name=re.compile("Customer tier"))).to_contain_text("Single select")
    field = CustomField.objects.get()
    assert (field.key, field.choices, field.required) == ("customer_tier", ["Gold", "Silver", "Bronze"], True)

    # The contact form (built from the definitions by the record pages) now offers the field.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name=re.compile(r"^(New|Add) contact")).first.click()
    tier = page.get_by_label("Customer tier")
    expect(tier).to_be_visible()
    tier.select_option("Silver")
    expect(tier).to_have_value("Silver")


def test_a_new_api_token_is_shown_once_and_can_be_revoked(page, viewer):
    login(page, viewer)
    page.get_by_role("link", name="Settings", exact=True).click()
    settings_menu(page).get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("Nightly export")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", name="Token created")).to_be_visible()
    expect(page.get_by_text("It won’t be shown again.")).to_be_visible()
    secret = page.get_by_label("API token", exact=True).input_value()
    assert secret.startswith("kith_")
    assert authenticate(secret) == viewer
    assert ApiToken.objects.get().key_hash == ApiToken.hash(secret)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator('[data-copy-status="token-secret"]')).not_to_be_empty()

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row", name=re.compile("Nightly export"))
    expect(row).to_contain_text("Active")
    assert secret not in page.content()
    page.reload()
    assert secret not in page.content()

    row.get_by_role("link", name=re.compile("Revoke")).click()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(page.get_by_role("row", name=re.compile("Nightly export"))).to_contain_text("Revoked")
    assert authenticate(secret) is None
