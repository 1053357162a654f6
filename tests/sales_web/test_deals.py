"""The deal board and list: columns with counts and totals, filters, paging per column, moving deals."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import signed_in
from kith.contacts import services as contact_services
from kith.sales import services
from kith.sales.models import Deal, DealStageChange, ExchangeRate

pytestmark = pytest.mark.django_db


def text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html_lib.unescape(page).split())


def column(response, stage) -> str:
    """The visible text of one board column."""
    page = response.content.decode()
    m = re.search(rf'<section class="board-column[^"]*"[^>]*data-stage-id="{stage.pk}".*?</section>', page, re.S)
    assert m, f"no column for {stage}"
    return text(type("R", (), {"content": m.group(0).encode()})())


def card_names(fragment: str) -> list[str]:
    return [html_lib.unescape(n) for n in re.findall(r'class="deal-card-name"[^>]*>([^<]+)</a>', fragment)]


@pytest.fixture
def pipeline(db):
    return services.ensure_default_pipeline()


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


@pytest.fixture
def make_deal(admin, pipeline, stages):
    def make(name, amount="0", stage="Qualified", actor=None, **data):
        deal = services.create_deal(actor=actor or admin, data={"name": name, "amount": amount,
                                                                 "stage_id": stages[stage].pk, **data})
        return deal

    return make


# --- the board ----------------------------------------------------------------------------------------


def test_deals_redirects_to_the_first_pipelines_board(admin, pipeline):
    other = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    c = signed_in(admin)
    r = c.get("/deals/")
    assert r.status_code == 302 and r["Location"] == f"/deals/board/{pipeline.pk}/"
    r = c.get("/deals/", {"pipeline": other.pk, "owner": "me"})
    assert r["Location"] == f"/deals/board/{other.pk}/?owner=me"


def test_board_shows_a_column_per_stage_with_count_total_and_weighted_total(admin, member, pipeline, stages,
                                                                             make_deal):
    acme = contact_services.create_company(actor=admin, data={"name": "Acme Rockets"})
    make_deal("Acme rollout", "1000.00", company_id=acme.pk, expected_close_date="2020-01-31", owner_id=member.pk)
    make_deal("Beta pilot", "2500.50")
    make_deal("Gamma", "0")
    make_deal("Delta expansion", "10000", stage="Proposal")
    trashed = make_deal("Trashed one", "999", stage="Proposal")
    services.delete_deal(actor=admin, deal=trashed)
    other = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    services.create_deal(actor=admin, data={"name": "Other pipeline deal", "amount": "5", "pipeline_id": other.pk})

    r = signed_in(admin).get(f"/deals/board/{pipeline.pk}/")
    assert r.status_code == 200
    page = r.content.decode()
    titles = re.findall(r'class="board-column-title">([^<]+)<', page)
    assert titles == ["Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost"]
    qualified = column(r, stages["Qualified"])
    assert "3 deals USD 3,500.50 Weighted USD 350.05" in qualified  # 10 %: 350.050 → 350.05
    assert "Acme rollout" in qualified and "Acme Rockets" in qualified and "USD 1,000.00" in qualified
    assert "BM" in qualified  # the owner's initials (Bob Member)
    assert "Jan 31, 2020" in qualified and "overdue" in qualified
    proposal = column(r, stages["Proposal"])
    assert "1 deal USD 10,000.00 Weighted USD 5,000.00" in proposal
    assert "Trashed one" not in page and "Other pipeline deal" not in page
    assert "0 deals USD 0.00" in column(r, stages["Won"])
    # The summary: open deals only.
    assert "4 open deals Total USD 13,500.50 Weighted USD 5,350.05" in text(r)
    assert 'class="deal-card is-overdue"' in page  # the overdue card is highlighted


def test_totals_are_in_the_default_currency_and_use_decimal(admin, pipeline, stages, make_deal):
    ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10000000"))
    make_deal("Euro deal", "0.05", currency="EUR", stage="Negotiation")  # 0.055 → 0.06 (half up)
    make_deal("Dollar deal", "0.10", stage="Negotiation")
    r = signed_in(admin).get(f"/deals/board/{pipeline.pk}/")
    negotiation = column(r, stages["Negotiation"])
    assert "EUR 0.05" in negotiation  # the card shows the deal's own currency
    assert "2 deals USD 0.16 Weighted USD 0.12" in negotiation  # 0.16 × 75 % = 0.12


def test_board_queries_do_not_grow_with_the_number_of_cards(admin, pipeline, make_deal):
    make_deal("Only one", "10")
    c = signed_in(admin)
    url = f"/deals/board/{pipeline.pk}/"
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    for i in range(20):
        make_deal(f"Deal {i}", str(i), stage=["Qualified", "Discovery", "Proposal", "Won"][i % 4])
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).status_code == 200
    assert len(many) == len(few)
    aggregates = [q["sql"] for q in many.captured_queries if "GROUP BY" in q["sql"] and "sales_deal" in q["sql"]]
    assert len(aggregates) == 1


def test_filters_narrow_cards_and_totals(admin, member, pipeline, stages, make_deal):
    make_deal("Mine big", "5000", tags=["vip"], expected_close_date="2030-06-01")
    make_deal("Mine small", "100", expected_close_date="2030-01-15")
    make_deal("Bobs deal", "700", actor=member, owner_id=member.pk, expected_close_date="2030-06-20")
    c = signed_in(admin)
    url = f"/deals/board/{pipeline.pk}/"
    col = column(c.get(url), stages["Qualified"])
    assert "3 deals USD 5,800.00" in col

    r = c.get(url, {"owner": "me"})
    col = column(r, stages["Qualified"])
    assert "2 deals USD 5,100.00 Weighted USD 510.00" in col and "Bobs deal" not in col
    r = c.get(url, {"amount_min": "500", "amount_max": "1000"})
    col = column(r, stages["Qualified"])
    assert "1 deal USD 700.00" in col and "Bobs deal" in col and "Mine" not in col
    r = c.get(url, {"tag": "vip"})
    assert "1 deal USD 5,000.00" in column(r, stages["Qualified"])
    r = c.get(url, {"close_after": "2030-06-01", "close_before": "2030-06-30"})
    col = column(r, stages["Qualified"])
    assert "2 deals USD 5,700.00" in col and "Mine small" not in col
    r = c.get(url, {"q": "small"})
    assert "1 deal USD 100.00" in column(r, stages["Qualified"])
    # The htmx request for the filter form answers with the board alone, chips and headers included.
    r = c.get(url, {"owner": "me"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()
    assert "Owner: Me" in text(r) and "2 deals USD 5,100.00" in text(r)


def test_a_bad_filter_is_explained(admin, pipeline, make_deal):
    make_deal("Any", "10")
    r = signed_in(admin).get(f"/deals/board/{pipeline.pk}/", {"amount_min": "lots"})
    assert r.status_code == 400
    assert "This filter can’t be used" in text(r)
    assert "Enter an amount such as 1250.00." in text(r)


def test_columns_load_25_cards_then_more_per_column(admin, pipeline, stages, make_deal):
    base = timezone.now() - dt.timedelta(days=10)
    for i in range(30):
        d = make_deal(f"Deal {i:02d}", "1")
        Deal.objects.filter(pk=d.pk).update(updated_at=base + dt.timedelta(minutes=i))
    make_deal("In discovery", "1", stage="Discovery")
    c = signed_in(admin)
    url = f"/deals/board/{pipeline.pk}/"
    r = c.get(url)
    qualified = re.search(rf'data-stage-id="{stages["Qualified"].pk}".*?</section>', r.content.decode(), re.S).group(0)
    first = card_names(qualified)
    assert first == [f"Deal {i:02d}" for i in range(29, 4, -1)]  # newest activity first, 25 of them
    assert "30 deals" in text(type("R", (), {"content": qualified.encode()})())
    more = re.search(r'hx-get="([^"]+)"[^>]*>Load more', qualified)
    assert more
    discovery = re.search(rf'data-stage-id="{stages["Discovery"].pk}".*?</section>', r.content.decode(), re.S).group(0)
    assert "Load more" not in discovery

    r = c.get(html_lib.unescape(more.group(1)), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    fragment = r.content.decode()
    assert card_names(fragment) == [f"Deal {i:02d}" for i in range(4, -1, -1)]
    assert "Load more" not in fragment and "<html" not in fragment


def test_load_more_keeps_the_filters(admin, member, pipeline, stages, make_deal):
    for i in range(27):
        make_deal(f"Mine {i}", "1")
    for i in range(3):
        make_deal(f"Bob {i}", "1", actor=member, owner_id=member.pk)
    c = signed_in(admin)
    r = c.get(f"/deals/board/{pipeline.pk}/", {"owner": "me"})
    more = re.search(r'hx-get="([^"]+)"[^>]*>Load more', r.content.decode())
    url = html_lib.unescape(more.group(1))
    assert "owner=me" in url
    names = card_names(c.get(url, HTTP_HX_REQUEST="true").content.decode())
    assert len(names) == 2 and all(n.startswith("Mine") for n in names)


# --- moving -------------------------------------------------------------------------------------------


def move(client, deal, stage, query="", **extra):
    return client.post(f"/deals/{deal.pk}/move/{query}", {"stage_id": stage.pk, **extra},
                       HTTP_ACCEPT="application/json")


def test_moving_a_deal_answers_with_the_new_column_totals_and_records_the_change(admin, pipeline, stages,
                                                                                make_deal):
    deal = make_deal("Acme", "1000")
    make_deal("Beta", "500")
    make_deal("Gamma", "2000", stage="Proposal")
    r = move(signed_in(admin), deal, stages["Proposal"])
    assert r.status_code == 200
    data = r.json()
    assert data["ok"] is True and data["message"] == "Acme moved to Proposal."
    q, p = data["columns"][str(stages["Qualified"].pk)], data["columns"][str(stages["Proposal"].pk)]
    assert (q["count_label"], q["total"], q["weighted"]) == ("1 deal", "USD 500.00", "USD 50.00")
    assert (p["count_label"], p["total"], p["weighted"]) == ("2 deals", "USD 3,000.00", "USD 1,500.00")
    assert data["summary"]["total"] == "USD 3,500.00"
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    change = DealStageChange.objects.filter(deal=deal).order_by("-id").first()
    assert (change.from_stage, change.to_stage, change.actor) == (stages["Qualified"], stages["Proposal"], admin)
    # The board shows it in its new column.
    board = signed_in(admin).get(f"/deals/board/{pipeline.pk}/")
    assert "Acme" in column(board, stages["Proposal"]) and "Acme" not in column(board, stages["Qualified"])


def test_move_totals_follow_the_boards_filters(admin, member, stages, make_deal):
    deal = make_deal("Mine", "1000")
    make_deal("Bobs", "400", actor=member, owner_id=member.pk, stage="Proposal")
    r = move(signed_in(admin), deal, stages["Proposal"], query="?owner=me")
    assert r.json()["columns"][str(stages["Proposal"].pk)]["total"] == "USD 1,000.00"


def test_moving_to_a_lost_stage_needs_a_reason(admin, stages, make_deal):
    deal = make_deal("Acme", "1000")
    c = signed_in(admin)
    r = move(c, deal, stages["Lost"])
    assert r.status_code == 400
    assert r.json()["ok"] is False
    assert r.json()["message"] == "Say why the deal was lost."
    assert r.json()["errors"] == {"lost_reason": ["Say why the deal was lost."]}
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]
    assert not DealStageChange.objects.filter(deal=deal, to_stage=stages["Lost"]).exists()

    r = move(c, deal, stages["Lost"], lost_reason="Went with a competitor")
    assert r.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Lost"] and deal.lost_reason == "Went with a competitor"
    assert deal.closed_at is not None


def test_without_javascript_a_lost_move_asks_for_the_reason_on_a_page(admin, pipeline, stages, make_deal):
    deal = make_deal("Acme", "1000")
    c = signed_in(admin)
    r = c.post(f"/deals/{deal.pk}/move/", {"stage_id": stages["Lost"].pk, "next": f"/deals/board/{pipeline.pk}/"})
    assert r.status_code == 400
    page = text(r)
    assert "The deal was not moved" in page and "Lost reason: Say why the deal was lost." in page
    assert 'id="move-lost-reason"' in r.content.decode()
    r = c.post(f"/deals/{deal.pk}/move/", {"stage_id": stages["Lost"].pk, "lost_reason": "No budget",
                                           "next": f"/deals/board/{pipeline.pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/deals/board/{pipeline.pk}/"
    assert "Acme moved to Lost." in text(c.get(r["Location"]))


def test_the_keyboard_move_form_works_without_javascript(admin, pipeline, stages, make_deal):
    deal = make_deal("Acme", "1000")
    c = signed_in(admin)
    board = c.get(f"/deals/board/{pipeline.pk}/").content.decode()
    assert f'<label class="label" for="move-{deal.pk}">Stage<span class="visually-hidden"> for Acme</span>' in board
    r = c.post(f"/deals/{deal.pk}/move/", {"stage_id": stages["Won"].pk, "next": f"/deals/board/{pipeline.pk}/"})
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == stages["Won"]


def test_a_viewer_sees_the_board_but_cannot_move(viewer, admin, pipeline, stages, make_deal):
    deal = make_deal("Acme", "1000")
    c = signed_in(viewer)
    r = c.get(f"/deals/board/{pipeline.pk}/")
    assert r.status_code == 200 and "Acme" in text(r)
    page = r.content.decode()
    assert 'draggable="true"' not in page and "data-move-form" not in page and "New deal" not in page
    r = move(c, deal, stages["Proposal"])
    assert r.status_code == 403
    assert r.json()["message"] == "Your role can view deals but not move them."
    assert c.post(f"/deals/{deal.pk}/move/", {"stage_id": stages["Proposal"].pk}).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_moving_a_deal_someone_cannot_see_is_not_found(admin, member, stages, make_deal, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    deal = make_deal("Admins only", "1", owner_id=admin.pk)
    assert move(signed_in(member), deal, stages["Proposal"]).status_code == 404


def test_the_pipeline_switcher_lists_every_pipeline(admin, pipeline):
    other = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    r = signed_in(admin).get(f"/deals/board/{other.pk}/")
    page = r.content.decode()
    assert f'href="/deals/board/{pipeline.pk}/"' in page and "New business" in text(r)
    assert f'href="/deals/board/{other.pk}/" aria-current="page">Renewals' in page
    assert signed_in(admin).get("/deals/board/999999/").status_code == 404


# --- the list -----------------------------------------------------------------------------------------


def list_names(response) -> list[str]:
    return [html_lib.unescape(n) for n in
            re.findall(r'class="record-link"[^>]*><span>([^<]+)</span>', response.content.decode())]


def test_list_sorts_by_the_filtersets_orderings_and_pages_by_keyset(admin, stages, make_deal, settings):
    settings.KITH_UI_PAGE_SIZE = 2
    make_deal("Bravo", "300", stage="Proposal", expected_close_date="2030-03-01")
    make_deal("alpha", "100", stage="Won", expected_close_date="2030-01-01")
    make_deal("Charlie", "200", expected_close_date="2030-02-01")
    c = signed_in(admin)
    r = c.get("/deals/list/", {"ordering": "name"})
    assert r.status_code == 200 and list_names(r) == ["alpha", "Bravo"]
    more = re.search(r'href="([^"]+)"[^>]*rel="next"', r.content.decode())
    r2 = c.get(html_lib.unescape(more.group(1)), HTTP_HX_REQUEST="true")
    assert list_names(r2) == ["Charlie"] and "rel=\"next\"" not in r2.content.decode()
    assert list_names(c.get("/deals/list/", {"ordering": "-amount"})) == ["Bravo", "Charlie"]
    assert list_names(c.get("/deals/list/", {"ordering": "expected_close_date"})) == ["alpha", "Charlie"]
    assert list_names(c.get("/deals/list/", {"ordering": "stage"})) == ["Charlie", "Bravo"]
    r = c.get("/deals/list/", {"ordering": "amount", "status": "open"})
    assert list_names(r) == ["Charlie", "Bravo"]
    assert "USD 200.00" in text(r) and "Proposal" in text(r)
    r = c.get("/deals/list/", {"ordering": "sideways"})
    assert r.status_code == 400 and "Unknown ordering" in text(r)


def test_list_has_the_boards_filters_and_the_view_toggle(admin, pipeline, make_deal):
    make_deal("Visible", "5", tags=["vip"])
    make_deal("Hidden", "5")
    r = signed_in(admin).get("/deals/list/", {"tag": "vip"})
    assert list_names(r) == ["Visible"]
    page = r.content.decode()
    assert 'href="/deals/?tag=vip"' in page  # Board keeps the filters
    board = signed_in(admin).get(f"/deals/board/{pipeline.pk}/", {"tag": "vip"}).content.decode()
    assert f'href="/deals/list/?tag=vip&amp;pipeline={pipeline.pk}"' in board


def test_empty_board_and_list_say_so(admin, pipeline):
    c = signed_in(admin)
    r = c.get(f"/deals/board/{pipeline.pk}/")
    assert "0 open deals" in text(r) and text(r).count("No deals") == 6
    assert "No deals yet" in text(c.get("/deals/list/"))


def test_move_json_for_a_trashed_deal(admin, stages, make_deal):
    deal = make_deal("Gone", "1")
    services.delete_deal(actor=admin, deal=deal)
    r = move(signed_in(admin), deal, stages["Won"])
    assert r.status_code == 404 and "trash" in json.loads(r.content)["message"]
