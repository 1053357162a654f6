"""Quotes and the pipeline admin in a real browser.

From a deal with line items: create a quote, see it, mark it sent and accepted (the deal becomes won), and
download its PDF (bytes start with %PDF; its text, read in pure Python, has the quote number).
A manager reorders a pipeline's stages with the keyboard alone.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import login
from kith.contacts import services as contact_services
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, Quote
from sales_web.pdf_text import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_quote_from_a_deal_and_download_its_pdf(page, admin):
    company = contact_services.create_company(actor=admin, data={"name": "Müller & Søn Ltd", "city": "Łódź"})
    deal = services.create_deal(actor=admin, data={"name": "Warehouse rollout", "company_id": company.pk})
    services.set_line_items(actor=admin, deal=deal, items=[
        {"name": "Scanner", "quantity": "3", "unit_price": "99.99", "discount_pct": "10", "tax_rate": "20"},
    ])
    login(page, admin)
    page.goto(deal.get_absolute_url())
    page.get_by_role("link", name="New quote").first.click()

    expect(page.get_by_role("heading", name="New quote")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Line items"))).to_contain_text("269.97")
    valid = (timezone.localdate() + dt.timedelta(days=21)).isoformat()
    page.get_by_label("Valid until").fill(valid)
    page.get_by_label("Terms").fill("Net 21 — thank you!")
    page.get_by_role("button", name="Create quote").click()

    number = Quote.objects.get().number
    expect(page.get_by_role("heading", name=f"Quote {number}")).to_be_visible()
    paper = page.get_by_role("article", name=f"Quote {number}")
    expect(paper).to_contain_text("Müller & Søn Ltd")
    expect(paper).to_contain_text("Net 21 — thank you!")
    expect(paper).to_contain_text("USD 323.96")  # 269.97 + 53.99 tax

    page.get_by_role("button", name="Mark sent").click()
    expect(page.get_by_role("status")).to_contain_text(f"Quote {number} was marked as sent.")
    expect(page.get_by_label("Also mark the deal won")).to_be_checked()
    page.get_by_role("button", name="Accepted").click()
    expect(page.get_by_role("status")).to_contain_text("The deal was marked won.")
    assert Deal.objects.get(pk=deal.pk).stage.kind == StageKind.WON

    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename == f"{number}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert number in text and "Müller & Søn Ltd" in text and "Accepted" in text


def test_manager_reorders_stages_with_the_keyboard(page, manager):
    pipeline = services.ensure_default_pipeline()
    login(page, manager)
    page.goto(f"/sales/pipelines/{pipeline.pk}/")
    down = page.get_by_role("button", name="Move Qualified down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="moved down")).to_contain_text(
        "“Qualified” moved down to position 2 of 6.")
    # The same button keeps the focus, so pressing again moves it further.
    expect(page.get_by_role("button", name="Move Qualified down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="moved down")).to_contain_text("position 3 of 6")
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names[:3] == ["Discovery", "Proposal", "Qualified"]
