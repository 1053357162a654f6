"""GET /api/v1/search also finds leads and deals."""

from __future__ import annotations

import pytest

from kith.sales import services as sales

pytestmark = pytest.mark.django_db


def test_search_finds_leads_and_deals_and_filters_by_type(api, admin):
    lead = sales.create_lead(actor=admin, data={"first_name": "Ottoline", "company_name": "Garsington"})
    deal = sales.create_deal(actor=admin, data={"name": "Ottoline garden rollout", "amount": "75"})

    body = api.get("search", q="ottoline").json()
    assert {(r["type"], r["id"]) for r in body} == {("lead", lead.pk), ("deal", deal.pk)}
    deal_hit = next(r for r in body if r["type"] == "deal")
    assert deal_hit["url"] == f"/deals/{deal.pk}/" and "75.00 USD" in deal_hit["subtitle"]

    only_leads = api.get("search", q="ottoline", types="lead").json()
    assert [r["type"] for r in only_leads] == ["lead"]


def test_unknown_type_names_the_parameter(api):
    response = api.get("search", q="x", types="ticket")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "types"
