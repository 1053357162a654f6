"""Leads end to end in a real Chromium: a visitor fills in the public web form, the lead is assigned by a
rule, the owner sees it in the bell, and converts it into a contact, a company and a deal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.sales.models import Lead
from kith.sales.services import teams, webforms

pytestmark = pytest.mark.browser


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    expected = re.compile(r"Failed to load resource: the server responded with a status of (400|404|409)")

    def on_console(m):
        if m.type == "error" and not expected.search(m.text):
            errors.append(m.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_web_form_to_assigned_lead_to_conversion(page, admin, console_errors):
    webforms.create_form(actor=admin, data={
        "name": "Talk to sales", "slug": "talk-to-sales", "source": "Website",
        "fields": [{"field": "first_name", "label": "First name", "required": True},
                   {"field": "last_name", "label": "Last name"},
                   {"field": "email", "label": "Work email", "required": True},
                   {"field": "company_name", "label": "Company"}],
        "consent_text": "I agree to be contacted.", "thank_you_text": "Thanks! Someone will call you today.",
    })
    teams.create_rule(actor=admin, data={"name": "Sales form leads", "user_id": admin.pk, "conditions": [
        {"field": "form", "op": "equals", "value": "talk-to-sales"}]})

    # A visitor (not signed in) with a campaign link.
    page.goto("/f/talk-to-sales?utm_source=newsletter&utm_campaign=autumn")
    expect(page.get_by_role("heading", level=1)).to_have_text("Talk to sales")
    page.get_by_label("Work email").fill("lena@initech.io")
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("I agree to be contacted.").check()
    page.get_by_role("button", name="Send").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("First name is required.")
    expect(page.get_by_label("Work email")).to_have_value("lena@initech.io")
    assert not Lead.objects.exists()
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Berg")
    expect(page.get_by_label("I agree to be contacted.")).to_be_checked()  # kept from the first try
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Thanks! Someone will call you today.")
    lead = Lead.objects.get(email="lena@initech.io")
    assert (lead.utm_source, lead.utm_campaign, lead.owner) == ("newsletter", "autumn", admin)

    # The admin, whom the rule chose, sees it in the bell and in the list.
    login(page, admin)
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    page.goto("/leads/")
    row = page.get_by_role("row", name=re.compile("Lena Berg"))
    expect(row).to_contain_text("Alice Admin")
    expect(row).to_contain_text("Website")
    expect(row).to_contain_text("New")
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    page.get_by_role("link", name=re.compile("New lead assigned to you: Lena Berg")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lena Berg")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()  # read now
    timeline = page.get_by_role("list", name="Timeline, newest first")
    expect(timeline.get_by_text("assigned by rule “Sales form leads”").first).to_be_visible()
    expect(page.get_by_role("region", name="History")).to_have_count(0)
    expect(page.get_by_role("region", name="Where the lead came from")).to_contain_text("autumn")

    # Convert it, with a deal.
    page.get_by_role("link", name="Convert").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Convert Lena Berg")
    page.get_by_label("Create a new contact").check()
    page.get_by_label("Create a new company “Initech”").check()
    page.get_by_label("Also create a deal").check()
    page.get_by_label("Deal name").fill("Initech rollout")
    page.get_by_label("Amount").fill("24000")
    page.get_by_role("button", name="Convert lead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lena Berg")
    converted = page.get_by_role("region", name=re.compile("Converted"))
    expect(converted.get_by_role("link", name="Lena Berg")).to_be_visible()
    expect(converted.get_by_role("link", name="Initech", exact=True)).to_be_visible()
    expect(converted.get_by_role("link", name="Initech rollout")).to_be_visible()
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.converted_deal.name == "Initech rollout" and str(lead.converted_deal.amount) == "24000.00"
    converted.get_by_role("link", name="Lena Berg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lena Berg")
    assert page.url.endswith(f"/contacts/{lead.converted_contact_id}/")
    assert console_errors == []
