"""/api/v1/deals: money as exact strings, versions, moves with stage history, line items, filters, paging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kith.core.models import AuditEntry
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, DealStageChange, ExchangeRate, LineItem, SalesSettings

from .conftest import (
    assert_error_shape,
    company,
    contact,
    count_queries,
    days,
    deal,
    error_fields,
    ids_of,
    if_match,
    pipeline,
    put,
    stage,
    walk,
)

pytestmark = pytest.mark.django_db

DEAL_KEYS = {
    "id", "name", "amount", "currency", "amount_default", "expected_close_date", "pipeline_id", "stage_id",
    "stage_name", "stage_kind", "probability", "weighted_amount", "company_id", "contact_ids", "primary_contact_id",
    "lost_reason", "next_step", "is_commit", "owner_id", "tags", "custom_fields", "line_items", "closed_at",
    "stage_changed_at", "version", "created_at", "updated_at", "deleted_at",
}


@pytest.fixture(autouse=True)
def _usd():
    SalesSettings.objects.update_or_create(pk=1, defaults={"default_currency": "USD"})


def product(admin, **data):
    return services.create_product(actor=admin, data={"currency": "USD", **data})


class TestCreate:
    def test_create_returns_201_with_money_as_strings(self, api, admin):
        acme = company(admin, name="Acme")
        ann, bob = contact(admin, first_name="Ann"), contact(admin, first_name="Bob")
        proposal = stage(name="Proposal")
        r = api.post("deals", {
            "name": " Acme  renewal ", "amount": "1250.5", "expected_close_date": "2030-06-30",
            "stage_id": proposal.pk, "company_id": acme.pk, "contact_ids": [ann.pk, bob.pk],
            "primary_contact_id": bob.pk, "next_step": "Call", "is_commit": True, "tags": ["Q2"],
        })
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == DEAL_KEYS | {"warnings"}
        assert body["name"] == "Acme renewal"
        assert body["amount"] == "1250.50"
        assert body["amount_default"] == "1250.50"
        assert body["currency"] == "USD"
        assert body["stage_id"] == proposal.pk and body["stage_name"] == "Proposal"
        assert body["stage_kind"] == "open"
        assert body["probability"] == 50
        assert body["weighted_amount"] == "625.25"
        assert body["pipeline_id"] == pipeline().pk
        assert body["contact_ids"] == [ann.pk, bob.pk]
        assert body["primary_contact_id"] == bob.pk
        assert body["company_id"] == acme.pk
        assert body["owner_id"] == admin.pk
        assert body["is_commit"] is True
        assert body["expected_close_date"] == "2030-06-30"
        assert body["line_items"] == []
        assert body["closed_at"] is None
        assert r["Location"] == f"/api/v1/deals/{body['id']}"
        assert DealStageChange.objects.filter(deal_id=body["id"], to_stage=proposal).count() == 1

    def test_numbers_are_parsed_exactly(self, api):
        r = api.post("deals", {"name": "Float", "amount": 0.1})
        assert r.json()["amount"] == "0.10"
        r = api.post("deals", {"name": "Int", "amount": 1999})
        assert r.json()["amount"] == "1999.00"
        assert r.json()["weighted_amount"] == "199.90"  # first stage: 10 %

    def test_defaults_put_a_new_deal_in_the_first_open_stage(self, api):
        r = api.post("deals", {"name": "Plain"})
        assert r.status_code == 201
        first = stage()
        assert (r.json()["stage_id"], r.json()["amount"], r.json()["currency"]) == (first.pk, "0.00", "USD")

    def test_field_errors(self, api):
        r = api.post("deals", {"amount": "12.345", "currency": "XYZ", "stage_id": 999999, "company_id": 999999,
                               "contact_ids": [999999], "expected_close_date": "next week"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"name", "amount", "currency", "stage_id", "company_id", "contact_ids",
                                   "expected_close_date"}
        assert error_fields(api.post("deals", {"name": "X", "amount": "-5"})) == {"amount"}
        assert error_fields(api.post("deals", {"name": "X", "amount": True})) == {"amount"}
        assert error_fields(api.post("deals", {"name": "X", "is_commit": "perhaps"})) == {"is_commit"}
        assert error_fields(api.post("deals", {"name": "X", "rating": 5})) == {"rating"}
        assert not Deal.all_objects.exists()
        assert not AuditEntry.objects.exists()

    def test_a_lost_stage_needs_a_reason(self, api):
        lost = stage(StageKind.LOST)
        r = api.post("deals", {"name": "Gone", "stage_id": lost.pk})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"lost_reason"}
        r = api.post("deals", {"name": "Gone", "stage_id": lost.pk, "lost_reason": "Budget"})
        assert r.status_code == 201
        assert r.json()["stage_kind"] == "lost" and r.json()["closed_at"] is not None

    def test_other_currencies_convert_to_the_default(self, api):
        r = api.post("deals", {"name": "Euro", "amount": "100.00", "currency": "EUR"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"currency"}
        ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.08345678"))
        r = api.post("deals", {"name": "Euro", "amount": "100.00", "currency": "eur"})
        assert r.status_code == 201, r.content
        assert (r.json()["currency"], r.json()["amount"], r.json()["amount_default"]) == ("EUR", "100.00", "108.35")


class TestUpdate:
    def test_patch_and_versions(self, api, admin):
        d = deal(admin, name="Alpha", amount="10")
        r = api.patch(f"deals/{d.pk}", {"amount": "20.00", "next_step": "Demo"}, **if_match(1))
        assert r.status_code == 200, r.content
        assert (r.json()["amount"], r.json()["next_step"], r.json()["version"]) == ("20.00", "Demo", 2)
        assert r["ETag"] == '"2"'
        r = api.patch(f"deals/{d.pk}", {"amount": "30.00"}, **if_match(1))
        assert assert_error_shape(r, 409)["current_version"] == 2
        r = api.patch(f"deals/{d.pk}", {"amount": "30.00", "version": 1})
        assert_error_shape(r, 409)
        assert Deal.objects.get(pk=d.pk).amount == Decimal("20.00")

    def test_trash_restore_history(self, api, admin):
        d = deal(admin, name="Beta")
        assert api.delete(f"deals/{d.pk}").status_code == 204
        assert api.get(f"deals/{d.pk}").status_code == 404
        assert d.pk in ids_of(api.get("deals", trashed="true"))
        assert api.post(f"deals/{d.pk}/restore").status_code == 200
        actions = [h["action"] for h in api.get(f"deals/{d.pk}/history").json()["items"]]
        assert actions == ["restore", "delete", "create"]

    def test_viewers_read_but_never_write(self, api_for, admin, viewer):
        d = deal(admin, name="Gamma")
        api = api_for(viewer)
        assert api.get(f"deals/{d.pk}").status_code == 200
        assert api.get(f"deals/{d.pk}/stage-history").status_code == 200
        for r in (api.post("deals", {"name": "No"}), api.patch(f"deals/{d.pk}", {"name": "No"}),
                  api.delete(f"deals/{d.pk}"), api.post(f"deals/{d.pk}/move", {"stage_id": stage().pk}),
                  put(api, f"deals/{d.pk}/line-items", [{"name": "X", "unit_price": "1"}]),
                  api.post(f"deals/{d.pk}/restore")):
            assert_error_shape(r, 403)
        assert Deal.objects.get(pk=d.pk).version == 1


class TestMove:
    def test_moves_are_recorded_with_their_durations(self, api, admin):
        d = deal(admin, name="Delta", amount="1000")
        first, proposal, won = stage(), stage(name="Proposal"), stage(StageKind.WON)
        DealStageChange.objects.filter(deal=d).update(changed_at=timezone.now() - dt.timedelta(hours=5))
        r = api.post(f"deals/{d.pk}/move", {"stage_id": proposal.pk})
        assert r.status_code == 200, r.content
        assert (r.json()["stage_id"], r.json()["weighted_amount"], r.json()["version"]) == (proposal.pk, "500.00", 2)
        r = api.post(f"deals/{d.pk}/move", {"stage_id": won.pk, "version": 2})
        assert r.status_code == 200
        assert r.json()["stage_kind"] == "won" and r.json()["closed_at"] is not None
        history = api.get(f"deals/{d.pk}/stage-history").json()
        items = history["items"]
        assert [i["stage_id"] for i in items] == [first.pk, proposal.pk, won.pk]
        assert [i["from_stage_id"] for i in items] == [None, first.pk, proposal.pk]
        assert items[0]["left_at"] == items[1]["entered_at"]
        assert 5 * 3600 - 5 <= items[0]["duration_seconds"] <= 5 * 3600 + 60
        assert items[2]["left_at"] is None
        assert items[1]["actor_id"] == admin.pk
        assert [t["stage_id"] for t in history["totals"]] == [first.pk, proposal.pk, won.pk]
        assert history["totals"][0]["visits"] == 1

    def test_moving_to_lost_needs_a_reason(self, api, admin):
        d = deal(admin, name="Echo")
        lost = stage(StageKind.LOST)
        r = api.post(f"deals/{d.pk}/move", {"stage_id": lost.pk})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"lost_reason"}
        assert Deal.objects.get(pk=d.pk).stage_id == stage().pk
        assert DealStageChange.objects.filter(deal=d).count() == 1
        r = api.post(f"deals/{d.pk}/move", {"stage_id": lost.pk, "lost_reason": "Went with a competitor"})
        assert r.status_code == 200
        assert r.json()["lost_reason"] == "Went with a competitor"
        # Reopening clears the reason.
        r = api.post(f"deals/{d.pk}/move", {"stage_id": stage().pk})
        assert (r.json()["stage_kind"], r.json()["lost_reason"], r.json()["closed_at"]) == ("open", "", None)

    def test_move_errors_and_conflicts(self, api, admin):
        d = deal(admin, name="Foxtrot")
        assert error_fields(api.post(f"deals/{d.pk}/move", {})) == {"stage_id"}
        assert error_fields(api.post(f"deals/{d.pk}/move", {"stage_id": 999999})) == {"stage_id"}
        r = api.post(f"deals/{d.pk}/move", {"stage_id": stage(name="Proposal").pk}, **if_match(7))
        assert assert_error_shape(r, 409)["current_version"] == 1
        assert_error_shape(api.post("deals/999999/move", {"stage_id": stage().pk}), 404)

    def test_move_to_another_pipeline(self, api, admin):
        d = deal(admin, name="Golf")
        other = services.create_pipeline(actor=admin, data={"name": "Partners", "stages": [
            {"name": "Intro", "probability": 20}, {"name": "Signed", "probability": 100, "kind": "won"}]})
        intro = other.stages.get(name="Intro")
        r = api.post(f"deals/{d.pk}/move", {"stage_id": intro.pk})
        assert r.status_code == 200, r.content
        assert (r.json()["pipeline_id"], r.json()["stage_name"], r.json()["probability"]) == (other.pk, "Intro", 20)


class TestLineItems:
    def test_line_items_set_the_amount_exactly(self, api, admin):
        widget = product(admin, name="Widget", sku="W-1", unit_price="19.99", tax_rate="19")
        d = deal(admin, name="Hotel", amount="5")
        r = put(api, f"deals/{d.pk}/line-items", [
            {"product_id": widget.pk, "quantity": "3"},
            {"name": "Setup", "quantity": 1, "unit_price": "999.99", "discount_pct": "10"},
            {"name": "Hours", "quantity": "0.1", "unit_price": 0.2},
            {"name": "Tiny", "quantity": "3", "unit_price": "0.10", "discount_pct": "33.33"},
        ])
        assert r.status_code == 200, r.content
        body = r.json()
        # 59.97 + 899.991→899.99 + 0.02 + 0.20001→0.20
        assert [li["total"] for li in body["line_items"]] == ["59.97", "899.99", "0.02", "0.20"]
        assert body["amount"] == "960.18"
        assert body["amount_default"] == "960.18"
        assert body["version"] == 2
        assert r["ETag"] == '"2"'
        first = body["line_items"][0]
        assert (first["product_id"], first["name"], first["unit_price"], first["tax_rate"], first["quantity"]) == (
            widget.pk, "Widget", "19.99", "19.00", "3.00")
        assert Deal.objects.get(pk=d.pk).amount == Decimal("960.18")
        assert api.get(f"deals/{d.pk}").json()["line_items"] == body["line_items"]
        # The amount comes from the items now.
        r = api.patch(f"deals/{d.pk}", {"amount": "1.00"})
        assert error_fields(r) == {"amount"}
        # Replacing them replaces them.
        r = put(api, f"deals/{d.pk}/line-items", [{"name": "Only", "quantity": "2", "unit_price": "50"}])
        assert r.json()["amount"] == "100.00"
        assert LineItem.objects.filter(deal=d).count() == 1
        changes = api.get(f"deals/{d.pk}/history").json()["items"][0]["changes"]
        assert changes["amount"]["new"] in ("100.00", 100, "100")
        assert "line_items" in changes

    def test_errors_name_the_line_and_field(self, api, admin):
        d = deal(admin, name="India", amount="5")
        r = put(api, f"deals/{d.pk}/line-items", [{"name": "A", "quantity": "0", "unit_price": "1"}])
        assert_error_shape(r, 422)
        assert error_fields(r) == {"items.0.quantity"}
        r = put(api, f"deals/{d.pk}/line-items", [
            {"name": "Fine", "unit_price": "1"},
            {"quantity": "lots", "unit_price": "1.005", "discount_pct": "120", "product_id": 999999},
        ])
        assert error_fields(r) == {"items.1.quantity", "items.1.unit_price", "items.1.discount_pct",
                                   "items.1.product_id", "items.1.name"}
        r = put(api, f"deals/{d.pk}/line-items", [{"name": "A", "unit_price": "1", "colour": "red"}])
        assert error_fields(r) == {"items.0.colour"}
        r = put(api, f"deals/{d.pk}/line-items", [{"name": 5, "unit_price": "1"}])
        assert error_fields(r) == {"items.0.name"}
        r = put(api, f"deals/{d.pk}/line-items", {"name": "A"})
        assert "JSON array" in assert_error_shape(r, 422)["detail"]
        assert not LineItem.objects.exists()
        assert Deal.objects.get(pk=d.pk).version == 1

    def test_a_stale_version_is_409_and_an_empty_list_clears(self, api, admin):
        d = deal(admin, name="Juliet", amount="5")
        r = put(api, f"deals/{d.pk}/line-items", [{"name": "A", "unit_price": "7"}], HTTP_IF_MATCH='"3"')
        assert assert_error_shape(r, 409)["current_version"] == 1
        assert put(api, f"deals/{d.pk}/line-items", [{"name": "A", "unit_price": "7"}],
                   HTTP_IF_MATCH='"1"').json()["amount"] == "7.00"
        r = put(api, f"deals/{d.pk}/line-items", [])
        assert r.status_code == 200
        assert r.json()["line_items"] == [] and r.json()["amount"] == "7.00"


class TestList:
    @pytest.fixture
    def rows(self, admin, member):
        p = pipeline()
        other = services.create_pipeline(actor=admin, data={"name": "Partners", "stages": [
            {"name": "Intro", "probability": 20}, {"name": "Signed", "probability": 100, "kind": "won"}]})
        return {
            "a": deal(admin, name="A", amount="100", expected_close_date="2030-01-15", is_commit=True),
            "b": deal(admin, name="B", amount="2500.50", expected_close_date="2030-02-01",
                      stage_id=stage(name="Proposal", p=p).pk, owner_id=member.pk),
            "c": deal(admin, name="C", amount="2500.49", expected_close_date="2030-03-31",
                      stage_id=other.stages.get(name="Intro").pk),
            "d": deal(admin, name="D", amount="50", stage_id=stage(StageKind.WON).pk),
            "e": deal(admin, name="E", amount="75", stage_id=stage(StageKind.LOST).pk, lost_reason="Price"),
            "other": other,
        }

    def test_filters(self, api, rows, member):
        a, b, c, d, e = (rows[k].pk for k in "abcde")
        assert ids_of(api.get("deals", pipeline=rows["other"].pk)) == {c}
        assert ids_of(api.get("deals", pipeline=pipeline().pk)) == {a, b, d, e}
        assert ids_of(api.get("deals", stage=[rows["b"].stage_id, rows["c"].stage_id])) == {b, c}
        assert ids_of(api.get("deals", status="open")) == {a, b, c}
        assert ids_of(api.get("deals", status=["won", "lost"])) == {d, e}
        assert ids_of(api.get("deals", close_after="2030-02-01")) == {b, c}
        assert ids_of(api.get("deals", close_before="2030-02-01")) == {a, b}
        assert ids_of(api.get("deals", close_after="2030-01-16", close_before="2030-03-30")) == {b}
        assert ids_of(api.get("deals", amount_min="2500.50")) == {b}
        assert ids_of(api.get("deals", amount_min="75", amount_max="2500.49")) == {a, c, e}
        assert ids_of(api.get("deals", commit="true")) == {a}
        assert ids_of(api.get("deals", commit="false")) == {b, c, d, e}
        assert ids_of(api.get("deals", owner=member.pk)) == {b}
        assert ids_of(api.get("deals", q="B")) >= {b}
        for params, field in [({"close_after": "soon"}, "close_after"), ({"amount_min": "lots"}, "amount_min"),
                              ({"commit": "maybe"}, "commit"), ({"status": "pending"}, "status"),
                              ({"stage": "first"}, "stage")]:
            r = api.get("deals", **params)
            assert_error_shape(r, 422)
            assert error_fields(r) == {field}

    def test_contact_and_company_filters_list_a_deal_once(self, api, admin):
        a, b, c = (contact(admin, first_name=n) for n in "ABC")
        acme = company(admin, name="Acme")
        both = deal(admin, name="Both", contact_ids=[a.pk, b.pk], company_id=acme.pk)
        only_c = deal(admin, name="C only", contact_ids=[c.pk])
        nobody = deal(admin, name="Nobody")
        assert walk(api, "deals", contact=[a.pk, b.pk]) == [both.pk]
        assert ids_of(api.get("deals", contact=[b.pk, c.pk])) == {both.pk, only_c.pk}
        assert ids_of(api.get("deals", contact="none")) == {nobody.pk}
        assert ids_of(api.get("deals", company=acme.pk)) == {both.pk}
        assert ids_of(api.get("deals", company="none")) == {only_c.pk, nobody.pk}
        assert error_fields(api.get("deals", contact="ann")) == {"contact"}

    def test_cursor_walks(self, api, rows):
        deals = [rows[k] for k in "abcde"]
        by_amount = [x.pk for x in sorted(deals, key=lambda x: (x.amount_default, x.pk))]
        assert walk(api, "deals", ordering="amount", limit=2) == by_amount
        assert walk(api, "deals", ordering="-amount", limit=3) == by_amount[::-1]
        by_close = [x.pk for x in sorted(deals, key=lambda x: (x.expected_close_date or dt.date.max, x.pk))]
        assert walk(api, "deals", ordering="expected_close_date", limit=2) == by_close
        assert walk(api, "deals", ordering="name", limit=1) == [rows[k].pk for k in "abcde"]

    def test_a_page_costs_a_constant_number_of_queries(self, api, admin):
        widget = product(admin, name="Widget", unit_price="10")
        people = [contact(admin, first_name=f"P{i}") for i in range(3)]

        def make(i):
            d = deal(admin, name=f"D{i}", contact_ids=[p.pk for p in people[: i % 3 + 1]], tags=[f"t{i}"],
                     expected_close_date=days(i))
            services.set_line_items(actor=admin, deal=d, items=[{"product_id": widget.pk, "quantity": i + 1},
                                                                {"name": "Extra", "unit_price": "1"}])

        for i in range(3):
            make(i)
        api.get("deals")
        small = count_queries(api, "deals")
        for i in range(3, 25):
            make(i)
        assert count_queries(api, "deals") == small
        body = api.get("deals", ordering="name", limit=1).json()["items"][0]
        assert body["name"] == "D0" and body["amount"] == "11.00" and len(body["line_items"]) == 2
