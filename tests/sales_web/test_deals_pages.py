"""The deal page (stage bar, time in stage, line items, quotes, history), the deal forms, trash, helpers."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from conftest import signed_in
from kith.contacts import services as contact_services
from kith.core.models import CustomField
from kith.sales import services
from kith.sales.bench import board_first_paint, seed_deals
from kith.sales.models import Deal, DealStageChange, LineItem, Product
from kith.sales.views.deals import deals_for

pytestmark = pytest.mark.django_db


def text(response) -> str:
    page = response.content.decode() if hasattr(response, "content") else response
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html_lib.unescape(page).split())


@pytest.fixture
def pipeline(db):
    return services.ensure_default_pipeline()


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


@pytest.fixture
def deal(admin, stages):
    return services.create_deal(actor=admin, data={"name": "Acme rollout", "amount": "1000"})


# --- the deal page ------------------------------------------------------------------------------------


def test_deal_page_shows_the_deal(admin, member, stages):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Rockets", "domain": "acme.test"})
    ada = contact_services.create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace",
                                                               "company_id": acme.pk})
    bob = contact_services.create_contact(actor=admin, data={"first_name": "Bob", "last_name": "Builder"})
    CustomField.objects.create(object_type="deal", key="region", label="Region", field_type="select",
                               choices=["EMEA", "APAC"])
    from kith.sales.models import ExchangeRate

    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10"))
    deal = services.create_deal(actor=admin, data={
        "name": "Acme rollout", "amount": "1234.50", "currency": "EUR", "stage_id": stages["Proposal"].pk,
        "expected_close_date": "2031-05-04", "company_id": acme.pk, "contact_ids": [bob.pk, ada.pk],
        "primary_contact_id": ada.pk, "owner_id": member.pk, "next_step": "Send the contract", "is_commit": True,
        "tags": ["vip"], "custom_fields": {"region": "EMEA"},
    })
    r = signed_in(admin).get(f"/deals/{deal.pk}/")
    assert r.status_code == 200
    page = text(r)
    for expected in ["Acme rollout", "EUR 1,234.50", "Amount in USD USD 1,357.95", "Probability 50%",
                     "Weighted amount EUR 617.25", "Expected close May 4, 2031", "Owner Bob Member",
                     "Company Acme Rockets", "Next step Send the contract", "Commit Committed", "vip",
                     "Region EMEA", "Ada Lovelace Primary", "Bob Builder", "Created", "Updated",
                     "Alice Admin created this deal"]:
        assert expected in page, expected
    html = r.content.decode()
    # The stage bar: the current stage marked, the others are buttons that move the deal.
    assert 'aria-current="step" title="50% probability">Proposal<' in html
    assert '<span class="visually-hidden">Move to </span>Negotiation</button>' in html
    assert html.count("data-needs-reason") == 1  # only the lost stage asks for a reason
    assert f'href="/deals/{deal.pk}/edit/"' in html


def test_deal_page_shows_time_in_each_stage(admin, deal, stages):
    services.move_deal(actor=admin, deal=deal, stage_id=stages["Discovery"].pk)
    deal.refresh_from_db()
    services.move_deal(actor=admin, deal=deal, stage_id=stages["Proposal"].pk)
    now = timezone.now()
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("id"))
    assert [c.to_stage.name for c in changes] == ["Qualified", "Discovery", "Proposal"]
    for change, ago in zip(changes, [dt.timedelta(days=10), dt.timedelta(days=7, hours=3), dt.timedelta(hours=5)],
                           strict=True):
        DealStageChange.objects.filter(pk=change.pk).update(changed_at=now - ago)
    r = signed_in(admin).get(f"/deals/{deal.pk}/")
    table = re.search(r'<table class="data-table stage-time-table">.*?</table>', r.content.decode(), re.S).group(0)
    rows = [text(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S)[1:]]
    assert rows[0].startswith("Proposal") and "Current stage" in rows[0] and rows[0].endswith("5 h so far")
    assert rows[1].startswith("Discovery") and rows[1].endswith("6 days 22 h")
    assert rows[2].startswith("Qualified") and rows[2].endswith("2 days 21 h")


def test_moving_from_the_stage_bar_redirects_back_to_the_deal(admin, deal, stages):
    c = signed_in(admin)
    r = c.post(f"/deals/{deal.pk}/move/", {"stage_id": stages["Won"].pk, "next": f"/deals/{deal.pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/deals/{deal.pk}/"
    r = c.get(r["Location"])
    assert "Acme rollout moved to Won." in text(r)
    html = r.content.decode()
    assert 'id="history-heading"' not in html  # the change history is in the timeline, once
    timeline = text(html.split('id="timeline-entries"', 1)[1].split(">", 1)[1].split("</ol>", 1)[0])
    assert "Alice Admin moved the stage just now Stage: Qualified → Won" in timeline
    assert text(r).count("Stage: Qualified → Won") == 1


def test_viewer_sees_the_deal_without_any_controls(viewer, deal):
    r = signed_in(viewer).get(f"/deals/{deal.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    for control in ["/edit/", "Move to trash", "data-stage-form", "Save line items", "Add a line"]:
        assert control not in html, control
    assert "No line items" in text(r)


def test_quotes_are_listed_with_links(admin, deal):
    from kith.sales.models import Quote

    Quote.objects.create(deal=deal, number="Q-2031-0001", currency="USD", valid_until=dt.date(2031, 1, 31),
                         total=Decimal("1234.00"), status="sent")
    r = signed_in(admin).get(f"/deals/{deal.pk}/")
    quote = Quote.objects.get()
    assert f'href="/quotes/{quote.pk}/">Q-2031-0001</a>' in r.content.decode()
    assert "Sent" in text(r) and "USD 1,234.00 · valid until Jan 31, 2031" in text(r)


# --- line items ---------------------------------------------------------------------------------------


def line_post(rows, version=None, **extra):
    data = {"line-count": str(len(rows))}
    if version is not None:
        data["version"] = str(version)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"line-{i}-{key}"] = value
    data.update(extra)
    return data


def test_line_items_set_the_amount_with_decimal_rounding(admin, deal):
    c = signed_in(admin)
    rows = [
        {"name": "Seats", "quantity": "3", "unit_price": "19.99", "discount_pct": "12.5"},  # 52.47375 → 52.47
        {"name": "Tiny", "quantity": "0.5", "unit_price": "0.05"},  # 0.025 → 0.03 (half up, not to even)
        {"name": "", "quantity": "1", "unit_price": ""},  # the blank row of the editor is ignored
    ]
    r = c.post(f"/deals/{deal.pk}/line-items/", line_post(rows, version=deal.version))
    assert r.status_code == 302 and r["Location"] == f"/deals/{deal.pk}/#line-items"
    deal.refresh_from_db()
    assert deal.amount == Decimal("52.50") and deal.amount_default == Decimal("52.50")
    assert [li.total for li in LineItem.objects.filter(deal=deal)] == [Decimal("52.47"), Decimal("0.03")]
    page = text(c.get(f"/deals/{deal.pk}/"))
    assert "Line items saved. The deal amount is now USD 52.50." in page
    assert "Amount USD 52.50 (from 2 line items)" in page
    assert "Line items: (empty) → 3 × Seats @ 19.99 −12.5%, 0.5 × Tiny @ 0.05" in page
    # With line items, the edit form does not let the amount be typed.
    form = c.get(f"/deals/{deal.pk}/edit/").content.decode()
    assert re.search(r'<input[^>]*name="amount"[^>]*disabled', form)


def test_a_product_line_takes_the_catalogue_price(admin, deal):
    seat = Product.objects.create(name="Seat", sku="SEAT", unit_price=Decimal("240.00"), currency="USD")
    Product.objects.create(name="Retired", unit_price=Decimal("1.00"), currency="USD", active=False)
    c = signed_in(admin)
    html = c.get(f"/deals/{deal.pk}/").content.decode()
    assert "Seat (SEAT) — USD 240.00" in html and "Retired" not in html
    r = c.post(f"/deals/{deal.pk}/line-items/", line_post([{"product_id": str(seat.pk), "quantity": "2"}]))
    assert r.status_code == 302
    line = LineItem.objects.get(deal=deal)
    assert (line.name, line.unit_price, line.product) == ("Seat", Decimal("240.00"), seat)
    deal.refresh_from_db()
    assert deal.amount == Decimal("480.00")


def test_line_item_errors_show_on_their_row_and_nothing_is_saved(admin, deal):
    c = signed_in(admin)
    rows = [{"name": "Good", "quantity": "1", "unit_price": "10"},
            {"name": "", "quantity": "", "unit_price": ""},
            {"name": "Bad", "quantity": "-2", "unit_price": "1.005"}]
    r = c.post(f"/deals/{deal.pk}/line-items/", line_post(rows))
    assert r.status_code == 400
    html = r.content.decode()
    row2 = re.findall(r'<li class="line-row[^"]*">.*?</li>\s*(?=<li class="line-row|</ol>)', html, re.S)[2]
    assert "Must be at least 0.01." in text(row2) and "Use at most 2 decimal places." in text(row2)
    assert 'value="Bad"' in row2  # what was typed is kept
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00") and not LineItem.objects.filter(deal=deal).exists()


def test_add_a_line_returns_the_editor_with_one_more_row(admin, deal):
    c = signed_in(admin)
    r = c.post(f"/deals/{deal.pk}/line-items/",
               line_post([{"name": "Typed", "quantity": "2", "unit_price": "5"}], add_row="1"),
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html and len(re.findall(r'class="line-row[ "]', html)) == 2
    assert 'value="Typed"' in html and "USD 10.00" in text(html)
    assert not LineItem.objects.filter(deal=deal).exists()


def test_removing_every_line_keeps_the_amount_and_allows_typing_it_again(admin, deal):
    c = signed_in(admin)
    c.post(f"/deals/{deal.pk}/line-items/", line_post([{"name": "A", "unit_price": "7"}]))
    r = c.post(f"/deals/{deal.pk}/line-items/", line_post([{"name": "A", "unit_price": "7", "remove": "1"}]))
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("7.00") and not deal.line_items.exists()


def test_a_viewer_cannot_change_line_items(viewer, deal):
    r = signed_in(viewer).post(f"/deals/{deal.pk}/line-items/", line_post([{"name": "A", "unit_price": "7"}]))
    assert r.status_code == 403


# --- forms --------------------------------------------------------------------------------------------


def form_data(**overrides):
    data = {"name": "", "amount": "", "currency": "USD", "expected_close_date": "", "pipeline_id": "",
            "stage_id": "", "lost_reason": "", "next_step": "", "company_id": "", "add_contact_id": "",
            "primary_contact_id": "", "owner_id": "", "tags": "", "version": ""}
    data.update(overrides)
    return data


def test_create_a_deal_from_the_form(admin, member, pipeline, stages):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Rockets"})
    ada = contact_services.create_contact(actor=admin, data={"first_name": "Ada", "company_id": acme.pk})
    grace = contact_services.create_contact(actor=admin, data={"first_name": "Grace"})
    c = signed_in(admin)
    r = c.post("/deals/new/", form_data(
        name="Acme rollout", amount="1,250.50", pipeline_id=str(pipeline.pk), stage_id=str(stages["Discovery"].pk),
        expected_close_date="2031-02-03", company_id=str(acme.pk), contact_ids=[str(ada.pk)],
        add_contact_id=str(grace.pk), primary_contact_id=str(ada.pk), owner_id=str(member.pk), is_commit="on",
        tags="vip, q3", next_step="Call"))
    deal = Deal.objects.get(name="Acme rollout")
    assert r.status_code == 302 and r["Location"] == f"/deals/{deal.pk}/"
    assert deal.amount == Decimal("1250.50") and deal.stage == stages["Discovery"] and deal.is_commit
    assert deal.owner == member and deal.company == acme and deal.expected_close_date == dt.date(2031, 2, 3)
    links = {link.contact_id: link.is_primary for link in deal.deal_contacts.all()}
    assert links == {ada.pk: True, grace.pk: False}
    assert sorted(deal.tag_names) == ["q3", "vip"]
    assert "Acme rollout was created." in text(c.get(r["Location"]))


def test_form_prefills_from_the_query(admin, pipeline, stages):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Rockets"})
    ada = contact_services.create_contact(actor=admin, data={"first_name": "Ada", "company_id": acme.pk})
    html = signed_in(admin).get("/deals/new/", {"stage": stages["Proposal"].pk, "contact": ada.pk}).content.decode()
    assert re.search(rf'<option value="{stages["Proposal"].pk}"[^>]*selected', html)
    assert re.search(rf'<option value="{acme.pk}" selected>Acme Rockets', html)
    assert re.search(rf'value="{ada.pk}"[^>]*checked', html)
    assert f'href="/contacts/{ada.pk}/">Cancel' in html or f'href="/contacts/{ada.pk}/"' in html


def test_form_errors_show_next_to_their_fields(admin, pipeline, stages):
    c = signed_in(admin)
    r = c.post("/deals/new/", form_data(name="", amount="12.345", pipeline_id=str(pipeline.pk),
                                        stage_id=str(stages["Lost"].pk)))
    assert r.status_code == 400
    html = r.content.decode()
    assert "There are 3 problems with this deal" in text(r)
    for field, message in [("name", "A deal needs a name."), ("amount", "Use at most 2 decimal places."),
                           ("lost_reason", "Say why the deal was lost.")]:
        assert re.search(rf'id="id_{field}_error"><p>.*?<span>{re.escape(message)}</span>', html), field
    assert not Deal.objects.exists()


def test_a_stage_of_another_pipeline_is_refused(admin, pipeline, stages):
    other = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    r = signed_in(admin).post("/deals/new/", form_data(name="X", pipeline_id=str(other.pk),
                                                         stage_id=str(stages["Qualified"].pk)))
    assert r.status_code == 400
    assert "Choose a stage of the selected pipeline." in text(r)


def test_stage_options_follow_the_pipeline(admin, pipeline):
    other = services.create_pipeline(actor=admin, data={"name": "Renewals", "stages": [
        {"name": "Up for renewal", "probability": 60}, {"name": "Renewed", "probability": 100, "kind": "won"},
        {"name": "Churned", "probability": 0, "kind": "lost"}]})
    c = signed_in(admin)
    form = c.get("/deals/new/").content.decode()
    assert 'hx-get="/deals/stage-options/"' in form and 'hx-target="#id_stage_id"' in form
    r = c.get("/deals/stage-options/", {"pipeline_id": other.pk}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert html.startswith("<select") and 'id="id_stage_id"' in html
    assert re.findall(r">([^<]+)</option>", html) == ["Up for renewal · 60%", "Renewed (won) · 100%",
                                                      "Churned (lost) · 0%"]
    assert 'data-kind="lost"' in html


def test_edit_with_a_stale_version_is_a_conflict(admin, deal, pipeline, stages):
    c = signed_in(admin)
    stale = deal.version
    services.update_deal(actor=admin, deal=deal, data={"next_step": "Someone else"})
    r = c.post(f"/deals/{deal.pk}/edit/", form_data(name="Renamed", amount="1000", pipeline_id=str(pipeline.pk),
                                                    stage_id=str(stages["Qualified"].pk), version=str(stale)))
    assert r.status_code == 409
    assert "Someone else changed this deal while you were editing" in text(r)
    assert "Name: Renamed" in text(r)
    deal.refresh_from_db()
    assert deal.name == "Acme rollout"


def test_edit_moves_to_lost_with_the_reason(admin, deal, pipeline, stages):
    c = signed_in(admin)
    r = c.post(f"/deals/{deal.pk}/edit/", form_data(
        name="Acme rollout", amount="1000", pipeline_id=str(pipeline.pk), stage_id=str(stages["Lost"].pk),
        lost_reason="Budget cut", version=str(deal.version)))
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == stages["Lost"] and deal.lost_reason == "Budget cut"
    assert DealStageChange.objects.filter(deal=deal, to_stage=stages["Lost"]).exists()


def test_custom_fields_are_on_the_form(admin, pipeline, stages):
    CustomField.objects.create(object_type="deal", key="seats", label="Seats", field_type="number", required=True)
    c = signed_in(admin)
    assert 'id="id_cf_seats"' in c.get("/deals/new/").content.decode()
    r = c.post("/deals/new/", form_data(name="X", pipeline_id=str(pipeline.pk), stage_id=str(stages["Qualified"].pk)))
    assert r.status_code == 400 and "Seats is required." in text(r)
    r = c.post("/deals/new/", form_data(name="X", pipeline_id=str(pipeline.pk),
                                        stage_id=str(stages["Qualified"].pk), cf_seats="12"))
    assert r.status_code == 302 and Deal.objects.get().custom_fields == {"seats": 12}


def test_viewer_cannot_open_the_forms(viewer, deal):
    c = signed_in(viewer)
    assert c.get("/deals/new/").status_code == 403
    assert c.post(f"/deals/{deal.pk}/edit/", form_data(name="X")).status_code == 403


def test_contact_lookup_finds_visible_contacts(admin):
    contact_services.create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace",
                                                        "email": "ada@example.com"})
    r = signed_in(admin).get("/deals/contact-lookup/", {"q": "lovelace"})
    assert r.json()["results"][0]["label"] == "Ada Lovelace"
    assert r.json()["results"][0]["hint"] == "ada@example.com"


# --- trash --------------------------------------------------------------------------------------------


def test_trash_and_restore(admin, deal, pipeline):
    c = signed_in(admin)
    assert "Move Acme rollout to the trash?" in text(c.get(f"/deals/{deal.pk}/delete/"))
    r = c.post(f"/deals/{deal.pk}/delete/", {"version": deal.version})
    assert r.status_code == 302 and r["Location"] == f"/deals/board/{pipeline.pk}/"
    board = c.get(r["Location"])
    assert "Acme rollout was moved to the trash." in text(board)
    assert 'class="deal-card-name"' not in board.content.decode()
    page = c.get(f"/deals/{deal.pk}/")
    assert page.status_code == 200 and "This deal is in the trash" in text(page)
    assert "Restore" in text(page) and "Move to trash" not in text(page)
    r = c.post(f"/deals/{deal.pk}/restore/")
    assert r.status_code == 302
    assert "Acme rollout was restored." in text(c.get(r["Location"]))
    assert Deal.objects.filter(pk=deal.pk).exists()


# --- helpers for other pages and the benchmark --------------------------------------------------------


def test_related_deals_include_lists_a_companys_deals(admin, stages):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Rockets"})
    ada = contact_services.create_contact(actor=admin, data={"first_name": "Ada"})
    services.create_deal(actor=admin, data={"name": "Won one", "amount": "5", "company_id": acme.pk,
                                            "stage_id": stages["Won"].pk})
    services.create_deal(actor=admin, data={"name": "Open one", "amount": "1250", "company_id": acme.pk,
                                            "contact_ids": [ada.pk]})
    services.create_deal(actor=admin, data={"name": "Elsewhere", "amount": "1"})
    deals = deals_for(admin, company=acme)
    assert [d.name for d in deals] == ["Open one", "Won one"]
    assert [d.name for d in deals_for(admin, contact=ada)] == ["Open one"]
    request = RequestFactory().get("/")
    request.user = admin
    html = render_to_string("sales/deals/_related_deals.html",
                            {"deals": deals, "obj": acme, "user": admin, "new_deal_query": f"company={acme.pk}"},
                            request=request)
    assert "Deals 2" in text(html) and "Open one USD 1,250.00 · Qualified" in text(html)
    assert f'href="/deals/new/?company={acme.pk}"' in html


def test_bench_helpers_seed_open_deals_and_time_the_board(admin, pipeline):
    assert seed_deals(120, pipeline) == 120
    open_stages = list(pipeline.stages.filter(kind="open"))
    counts = [Deal.objects.filter(stage=s).count() for s in open_stages]
    assert counts == [30, 30, 30, 30]
    assert Deal.objects.filter(stage__kind__in=["won", "lost"]).count() == 0
    seconds = board_first_paint(signed_in(admin), pipeline)
    assert 0 < seconds < 30
    r = signed_in(admin).get(f"/deals/board/{pipeline.pk}/")
    assert text(r).count("30 deals") == 4 and text(r).count("Load more") == 4
