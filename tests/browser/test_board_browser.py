"""The deal board in a real Chromium: drag a card to another column, move with the keyboard, lost reasons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.sales import services
from kith.sales.models import Deal, DealStageChange

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_errors(page):
    """Console errors (a CSP violation or a missing asset shows up here); the refused moves answer 4xx on purpose."""
    errors: list[str] = []
    expected = re.compile(r"Failed to load resource: the server responded with a status of (400|404)")

    def on_console(m):
        if m.type == "error" and not expected.search(m.text):
            errors.append(m.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.fixture
def board(admin):
    pipeline = services.ensure_default_pipeline()
    stages = {s.name: s for s in pipeline.stages.all()}
    deals = {}
    for name, amount, stage in [("Acme rollout", "1000", "Qualified"), ("Beta pilot", "500", "Qualified"),
                                ("Gamma expansion", "2000", "Proposal")]:
        deals[name] = services.create_deal(actor=admin, data={"name": name, "amount": amount,
                                                               "stage_id": stages[stage].pk})
    return pipeline, stages, deals


def column(page, name):
    return page.get_by_role("region", name=name, exact=True)


def cards(page, stage_name):
    return page.get_by_role("list", name=f"Deals in {stage_name}")


def test_drag_a_card_to_another_column_updates_both_columns(page, admin, board, console_errors):
    pipeline, stages, deals = board
    login(page, admin)
    page.goto("/deals/")
    page.wait_for_url(f"**/deals/board/{pipeline.pk}/")
    expect(column(page, "Qualified")).to_contain_text("2 deals USD 1,500.00 Weighted USD 150.00")
    expect(column(page, "Proposal")).to_contain_text("1 deal USD 2,000.00 Weighted USD 1,000.00")

    card = cards(page, "Qualified").get_by_role("listitem").filter(has_text="Acme rollout")
    card.drag_to(cards(page, "Proposal"))

    expect(column(page, "Proposal")).to_contain_text("2 deals USD 3,000.00 Weighted USD 1,500.00")
    expect(column(page, "Qualified")).to_contain_text("1 deal USD 500.00 Weighted USD 50.00")
    expect(cards(page, "Proposal")).to_contain_text("Acme rollout")
    expect(cards(page, "Qualified")).not_to_contain_text("Acme rollout")
    expect(page.get_by_role("alert").filter(has_text="moved")).to_have_text("Acme rollout moved to Proposal.")
    deal = Deal.objects.get(pk=deals["Acme rollout"].pk)
    assert deal.stage_id == stages["Proposal"].pk
    assert DealStageChange.objects.filter(deal=deal, to_stage=stages["Proposal"]).count() == 1

    # It stays there after a reload.
    page.reload()
    expect(cards(page, "Proposal")).to_contain_text("Acme rollout")
    expect(column(page, "Proposal")).to_contain_text("2 deals USD 3,000.00")
    assert console_errors == []


def test_a_refused_move_puts_the_card_back_and_says_why(page, admin, board, console_errors):
    pipeline, _stages, deals = board
    login(page, admin)
    page.goto(f"/deals/board/{pipeline.pk}/")
    expect(column(page, "Qualified")).to_contain_text("2 deals")
    # Someone else trashes the deal meanwhile.
    services.delete_deal(actor=admin, deal=deals["Beta pilot"])
    card = cards(page, "Qualified").get_by_role("listitem").filter(has_text="Beta pilot")
    card.drag_to(cards(page, "Discovery"))
    expect(page.get_by_role("alert").filter(has_text="not moved")).to_contain_text(
        "Beta pilot was not moved: This deal no longer exists or is in the trash.")
    expect(cards(page, "Qualified")).to_contain_text("Beta pilot")
    expect(cards(page, "Discovery")).not_to_contain_text("Beta pilot")
    expect(column(page, "Discovery")).to_contain_text("0 deals USD 0.00")
    assert console_errors == []


def test_move_a_deal_with_the_keyboard_and_give_a_lost_reason(page, admin, board, console_errors):
    pipeline, stages, deals = board
    login(page, admin)
    page.goto(f"/deals/board/{pipeline.pk}/")

    # "Move to…" on the card: open it with the keyboard, pick the stage, press the button.
    opener = page.get_by_text("Move Acme rollout to…")
    opener.focus()
    page.keyboard.press("Enter")
    stage = page.get_by_label("Stage for Acme rollout")
    expect(stage).to_be_visible()
    page.keyboard.press("Tab")
    expect(stage).to_be_focused()
    stage.select_option(label="Negotiation")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move Acme rollout")).to_be_focused()
    page.keyboard.press("Enter")

    expect(column(page, "Negotiation")).to_contain_text("1 deal USD 1,000.00 Weighted USD 750.00")
    expect(column(page, "Qualified")).to_contain_text("1 deal USD 500.00")
    expect(cards(page, "Negotiation")).to_contain_text("Acme rollout")
    expect(opener).to_be_focused()  # focus stays with the card in its new column
    assert Deal.objects.get(pk=deals["Acme rollout"].pk).stage_id == stages["Negotiation"].pk

    # To a lost stage: the board asks why first. Escape cancels and nothing moves.
    page.keyboard.press("Enter")
    stage.select_option(label="Lost")
    page.get_by_role("button", name="Move Acme rollout").press("Enter")
    dialog = page.get_by_role("dialog", name="Why was Acme rollout lost?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Lost reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cards(page, "Negotiation")).to_contain_text("Acme rollout")
    assert Deal.objects.get(pk=deals["Acme rollout"].pk).stage_id == stages["Negotiation"].pk

    # Again, with a reason this time (an empty one is refused in the dialog). The stage control kept focus.
    expect(stage).to_be_focused()
    expect(stage).to_have_value(str(stages["Negotiation"].pk))
    stage.select_option(label="Lost")
    page.get_by_role("button", name="Move Acme rollout").press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")
    expect(dialog).to_contain_text("Say why the deal was lost.")
    page.keyboard.type("Chose a competitor")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(column(page, "Lost")).to_contain_text("1 deal USD 1,000.00")
    expect(column(page, "Negotiation")).to_contain_text("0 deals USD 0.00")
    deal = Deal.objects.get(pk=deals["Acme rollout"].pk)
    assert (deal.stage_id, deal.lost_reason) == (stages["Lost"].pk, "Chose a competitor")
    assert console_errors == []


def test_the_deal_page_stage_bar_and_form(page, admin, board, console_errors):
    _pipeline, _stages, deals = board
    renewals = services.create_pipeline(actor=admin, data={"name": "Renewals", "stages": [
        {"name": "Up for renewal", "probability": 60}, {"name": "Renewed", "probability": 100, "kind": "won"},
        {"name": "Churned", "probability": 0, "kind": "lost"}]})
    deal = deals["Gamma expansion"]
    login(page, admin)
    page.goto(f"/deals/{deal.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gamma expansion")

    # The stage bar: a click on Lost asks for the reason, then the page shows the deal as lost.
    page.get_by_role("button", name="Move to Lost").click()
    dialog = page.get_by_role("dialog", name="Why was Gamma expansion lost?")
    dialog.get_by_label("Lost reason").fill("No budget this year")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.get_by_role("status").first).to_contain_text("Gamma expansion moved to Lost.")
    expect(page.get_by_role("region", name="Time in stage")).to_contain_text("Lost")
    expect(page.get_by_role("region", name="Details")).to_contain_text(re.compile(r"Lost reason\s*No budget this year"))

    # The form: the stage list follows the pipeline; the lost reason only shows for a lost stage.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Lost reason")).to_have_value("No budget this year")
    page.get_by_label("Pipeline").select_option(label="Renewals")
    expect(page.get_by_label("Stage", exact=True).locator("option")).to_have_text(
        ["Up for renewal · 60%", "Renewed (won) · 100%", "Churned (lost) · 0%"])
    page.get_by_label("Stage", exact=True).select_option(label="Renewed (won) · 100%")
    page.get_by_label("Lost reason").fill("")
    page.get_by_label("Stage", exact=True).select_option(label="Up for renewal · 60%")
    expect(page.get_by_label("Lost reason")).to_be_hidden()
    page.get_by_label("Stage", exact=True).select_option(label="Churned (lost) · 0%")
    expect(page.get_by_label("Lost reason")).to_be_visible()
    page.get_by_label("Stage", exact=True).select_option(label="Renewed (won) · 100%")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").first).to_contain_text("Gamma expansion was saved.")
    deal.refresh_from_db()
    assert (deal.pipeline_id, deal.stage.name) == (renewals.pk, "Renewed")

    # Line items: a free line; the deal total is their sum.
    page.get_by_label("Description (line 1)").fill("Consulting days")
    page.get_by_label("Quantity (line 1)").fill("3")
    page.get_by_label("Unit price (USD) (line 1)").fill("19.99")
    page.get_by_label("Discount % (line 1)").fill("12.5")
    page.get_by_role("button", name="Add a line").click()
    expect(page.get_by_label("Description (line 2)")).to_be_visible()
    expect(page.get_by_label("Description (line 1)")).to_have_value("Consulting days")
    page.get_by_label("Description (line 2)").fill("Travel")
    page.get_by_label("Unit price (USD) (line 2)").fill("0.05")
    page.get_by_label("Quantity (line 2)").fill("0.5")
    page.get_by_role("button", name="Save line items").click()
    expect(page.get_by_role("status").first).to_contain_text("The deal amount is now USD 52.50.")
    assert console_errors == []
