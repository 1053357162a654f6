"""/api/v1/quotes: create from a deal's line items, totals with tax, status flow, conflicts, the PDF."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, Quote, SalesSettings

from .conftest import assert_error_shape, days, deal, error_fields, ids_of, if_match, stage, walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _usd():
    SalesSettings.objects.update_or_create(pk=1, defaults={"default_currency": "USD", "quote_validity_days": 30,
                                                           "quote_terms": "Net 30."})


@pytest.fixture
def quoted_deal(admin):
    widget = services.create_product(actor=admin, data={"name": "Widget", "sku": "W-1", "unit_price": "19.99",
                                                        "tax_rate": "19", "currency": "USD"})
    d = deal(admin, name="Acme rollout")
    return services.set_line_items(actor=admin, deal=d, items=[
        {"product_id": widget.pk, "quantity": "3"},
        {"name": "Setup", "unit_price": "999.99", "discount_pct": "10"},
    ])


def test_create_a_quote(api, quoted_deal):
    r = api.post("quotes", {"deal_id": quoted_deal.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    year = timezone.localdate().year
    assert body["number"] == f"Q-{year}-0001"
    assert (body["status"], body["currency"], body["terms"]) == ("draft", "USD", "Net 30.")
    assert body["valid_until"] == days(30)
    # 59.97 + 899.99; tax 19 % of 59.97 = 11.3943 → 11.39
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("959.96", "11.39", "971.35")
    assert [(line["name"], line["sku"], line["quantity"], line["total"], line["tax_rate"]) for line in body["lines"]] == [
        ("Widget", "W-1", "3.00", "59.97", "19.00"), ("Setup", "", "1.00", "899.99", "0.00")]
    assert body["pdf_url"] == f"/api/v1/quotes/{body['id']}/pdf"
    assert r["Location"] == f"/api/v1/quotes/{body['id']}"
    second = api.post("quotes", {"deal_id": quoted_deal.pk, "valid_until": days(5), "terms": "Custom"}).json()
    assert second["number"] == f"Q-{year}-0002"
    assert (second["valid_until"], second["terms"]) == (days(5), "Custom")
    assert api.get(f"quotes/{body['id']}").json() == body


def test_create_errors(api, admin, quoted_deal):
    r = api.post("quotes", {"deal_id": 999999})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"deal_id"}
    assert error_fields(api.post("quotes", {})) == {"deal_id"}
    assert error_fields(api.post("quotes", {"deal_id": quoted_deal.pk, "valid_until": days(-1)})) == {"valid_until"}
    assert error_fields(api.post("quotes", {"deal_id": quoted_deal.pk, "valid_until": "soon"})) == {"valid_until"}
    empty = deal(admin, name="Nothing to quote")
    assert error_fields(api.post("quotes", {"deal_id": empty.pk})) == {"items"}
    assert not Quote.objects.exists()


def test_status_flow_conflicts_and_winning_the_deal(api, quoted_deal):
    q = api.post("quotes", {"deal_id": quoted_deal.pk}).json()
    r = api.post(f"quotes/{q['id']}/status", {"status": "accepted"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"status"}
    r = api.post(f"quotes/{q['id']}/status", {"status": "sent"}, **if_match(1))
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["version"]) == ("sent", 2)
    assert r.json()["sent_at"] is not None
    r = api.post(f"quotes/{q['id']}/status", {"status": "accepted", "version": 1})
    assert assert_error_shape(r, 409)["current_version"] == 2
    r = api.post(f"quotes/{q['id']}/status", {"status": "accepted", "move_deal_to_won": True}, **if_match(2))
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted" and r.json()["decided_at"] is not None
    won = Deal.objects.get(pk=quoted_deal.pk)
    assert won.stage_id == stage(StageKind.WON).pk
    assert api.get(f"deals/{won.pk}/stage-history").json()["items"][-1]["stage_id"] == won.stage_id
    r = api.post(f"quotes/{q['id']}/status", {"status": "declined"})
    assert error_fields(r) == {"status"}
    assert error_fields(api.post(f"quotes/{q['id']}/status", {"status": "lost"})) == {"status"}


def test_list_per_deal(api, admin, quoted_deal):
    other = services.set_line_items(actor=admin, deal=deal(admin, name="Other"),
                                    items=[{"name": "Thing", "unit_price": "5"}])
    ids = [api.post("quotes", {"deal_id": quoted_deal.pk}).json()["id"] for _ in range(3)]
    mine = api.post("quotes", {"deal_id": other.pk}).json()["id"]
    assert ids_of(api.get("quotes", deal=quoted_deal.pk)) == set(ids)
    assert ids_of(api.get("quotes", deal=other.pk)) == {mine}
    assert walk(api, "quotes", limit=2) == [mine, *ids[::-1]]
    api.post(f"quotes/{mine}/status", {"status": "sent"})
    assert ids_of(api.get("quotes", status="sent")) == {mine}
    assert error_fields(api.get("quotes", status="lost")) == {"status"}


def test_the_pdf(api, quoted_deal):
    q = api.post("quotes", {"deal_id": quoted_deal.pk}).json()
    r = api.get(f"quotes/{q['id']}/pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert f'filename="{q["number"]}.pdf"' in r["Content-Disposition"]
    assert_error_shape(api.get("quotes/999999/pdf"), 404)


def test_roles_and_visibility(api, api_for, admin, member, viewer, settings, quoted_deal):
    q = api.post("quotes", {"deal_id": quoted_deal.pk}).json()
    client = api_for(viewer)
    assert client.get(f"quotes/{q['id']}").status_code == 200
    assert client.get(f"quotes/{q['id']}/pdf").content.startswith(b"%PDF")
    assert_error_shape(client.post("quotes", {"deal_id": quoted_deal.pk}), 403)
    assert_error_shape(client.post(f"quotes/{q['id']}/status", {"status": "sent"}), 403)
    # With private records a member sees only quotes of deals they may see.
    settings.KITH_RECORD_VISIBILITY = "own"
    client = api_for(member)
    assert_error_shape(client.get(f"quotes/{q['id']}"), 404)
    assert_error_shape(client.get(f"quotes/{q['id']}/pdf"), 404)
    assert client.get("quotes").json()["items"] == []
    assert error_fields(client.post("quotes", {"deal_id": quoted_deal.pk})) == {"deal_id"}
    # Quotes of a deal in the trash are hidden with it.
    services.delete_deal(actor=admin, deal=quoted_deal)
    assert_error_shape(api.get(f"quotes/{q['id']}"), 404)
    assert Quote.objects.get(pk=q["id"]).status == "draft"
