"""The forecast on a hand-made data set: open, weighted (rounded per deal), committed, won, lost, quota,
attainment, the total row, grouping, filters, visibility, period parsing, and its query plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kith.core.errors import ValidationError
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal
from kith.sales.services.forecast import forecast, parse_period

from .salesadmin_helpers import at, deal, stage

pytestmark = pytest.mark.django_db
D = Decimal


def _closed(actor, kind, closed_on, **data):
    s = stage(kind)
    if kind == StageKind.LOST:
        data["lost_reason"] = "Budget"
    d = deal(actor, stage_id=s.pk, **data)
    Deal.all_objects.filter(pk=d.pk).update(closed_at=closed_on)
    return d


@pytest.fixture
def dataset(admin, member, manager):
    """Q2 2030 (April-June). admin = Alice, member = Bob, manager = Maria."""
    proposal, qualified, negotiation, discovery = (stage(name=n) for n in ("Proposal", "Qualified", "Negotiation",
                                                                            "Discovery"))
    services.set_exchange_rate(actor=admin, currency="EUR", rate="1.1")
    a = {"owner_id": admin.pk}
    b = {"owner_id": member.pk}
    deal(admin, name="A1", amount="1000.00", stage_id=proposal.pk, expected_close_date="2030-04-15", is_commit=True, **a)
    deal(admin, name="A2", amount="333.33", stage_id=qualified.pk, expected_close_date="2030-06-30", **a)
    deal(admin, name="A3", amount="0.05", stage_id=negotiation.pk, expected_close_date="2030-05-02", **a)
    deal(admin, name="A4 next quarter", amount="5000", stage_id=proposal.pk, expected_close_date="2030-07-01", **a)
    deal(admin, name="A4 last quarter", amount="5000", stage_id=proposal.pk, expected_close_date="2030-03-31", **a)
    _closed(admin, StageKind.WON, at(dt.date(2030, 5, 10)), name="A5 won", amount="2000", expected_close_date="2030-03-01", **a)
    _closed(admin, StageKind.LOST, at(dt.date(2030, 4, 2)), name="A6 lost", amount="700", **a)
    trashed = deal(admin, name="A7 trashed", amount="9999", stage_id=proposal.pk, expected_close_date="2030-04-20", **a)
    services.delete_deal(actor=admin, deal=trashed)
    for i in range(3):  # 0.05 × 10% = 0.005 → 0.01 per deal (0.03), not round(0.015) = 0.02
        deal(admin, name=f"B1-{i}", amount="0.05", stage_id=qualified.pk, expected_close_date="2030-05-01", **b)
    _closed(admin, StageKind.WON, at(dt.date(2030, 6, 30), 23), name="B2 won", amount="1500", **b)
    _closed(admin, StageKind.WON, at(dt.date(2030, 7, 1), 0), name="B3 won next quarter", amount="900", **b)
    _closed(admin, StageKind.WON, at(dt.date(2030, 3, 31), 23), name="B4 won last quarter", amount="800", **b)
    deal(admin, name="U1", amount="250", stage_id=discovery.pk, expected_close_date="2030-04-20", owner_id=None)
    deal(admin, name="M1 euro", amount="100", currency="EUR", stage_id=negotiation.pk,
         expected_close_date="2030-05-05", owner_id=manager.pk)
    services.set_quota(actor=admin, user=admin, period_kind="quarter", period_start="2030-05-17", amount="4000")
    for month in ("2030-04-01", "2030-05-01", "2030-06-01"):
        services.set_quota(actor=admin, user=member, period_kind="month", period_start=month, amount="1000")
    services.set_quota(actor=admin, user=manager, period_kind="quarter", period_start="2030-04-01", amount="1000")
    return {"admin": admin, "member": member, "manager": manager}


def _by_label(result):
    return {r.label: r for r in result.rows}


def test_quarter_by_owner(dataset, admin, member, manager):
    result = forecast(user=admin, period="2030-Q2", group_by="owner")
    rows = _by_label(result)
    assert list(rows) == ["Alice Admin", "Bob Member", "Maria Manager", "No owner"]
    alice, bob, maria, nobody = rows.values()
    assert (alice.open_amount, alice.open_count) == (D("1333.38"), 3)
    assert alice.weighted_amount == D("533.37")  # 500 + 33.33 + 0.04 (0.0375 rounds up)
    assert (alice.committed_amount, alice.committed_count) == (D("1000.00"), 1)
    assert (alice.won_amount, alice.won_count, alice.lost_count) == (D("2000.00"), 1, 1)
    assert alice.quota == D("4000.00") and alice.attainment == D("50.0")
    assert (bob.open_amount, bob.weighted_amount) == (D("0.15"), D("0.03"))
    assert (bob.won_amount, bob.won_count) == (D("1500.00"), 1)
    assert bob.quota == D("3000.00") and bob.attainment == D("50.0")  # the quarter adds up monthly quotas
    assert (maria.open_amount, maria.weighted_amount) == (D("110.00"), D("82.50"))  # 100 EUR at 1.1
    assert maria.won_amount == D("0.00") and maria.attainment == D("0.0")
    assert nobody.quota is None and nobody.attainment is None
    assert (nobody.open_amount, nobody.weighted_amount) == (D("250.00"), D("62.50"))
    total = result.total
    assert (total.open_amount, total.open_count) == (D("1693.53"), 8)
    assert total.weighted_amount == D("678.40")
    assert total.committed_amount == D("1000.00")
    assert (total.won_amount, total.won_count, total.lost_count) == (D("3500.00"), 2, 1)
    assert total.quota == D("8000.00") and total.attainment == D("43.8")
    for row in [*result.rows, total]:
        for value in (row.open_amount, row.weighted_amount, row.committed_amount, row.won_amount):
            assert isinstance(value, Decimal) and value == value.quantize(D("0.01"))
    assert result.currency == "USD"


def test_month_and_quota_rules(dataset, admin):
    result = forecast(user=admin, period="2030-05", group_by="owner")
    rows = _by_label(result)
    assert rows["Alice Admin"].won_amount == D("2000.00")
    assert rows["Alice Admin"].quota is None  # a month never borrows from the quarter's quota
    assert rows["Alice Admin"].open_amount == D("0.05")
    assert rows["Bob Member"].quota == D("1000.00") and rows["Bob Member"].won_amount == D("0.00")
    assert result.total.quota == D("1000.00")


def test_group_by_none_and_pipeline(dataset, admin):
    none = forecast(user=admin, period="2030-Q2", group_by="none")
    assert none.rows == []
    assert none.total.weighted_amount == D("678.40") and none.total.quota == D("8000.00")
    other = services.create_pipeline(actor=admin, data={"name": "Partners", "stages": [
        {"name": "Talking", "probability": 40, "kind": "open"}, {"name": "Signed", "probability": 100, "kind": "won"}]})
    deal(admin, name="P1", amount="1000", stage_id=other.stages.get(name="Talking").pk, expected_close_date="2030-06-01")
    by_pipeline = forecast(user=admin, period="2030-Q2", group_by="pipeline")
    rows = _by_label(by_pipeline)
    assert rows["Partners"].weighted_amount == D("400.00")
    assert rows["New business"].weighted_amount == D("678.40")
    assert all(r.quota is None for r in by_pipeline.rows)
    only = forecast(user=admin, period="2030-Q2", group_by="owner", pipeline_id=other.pk)
    assert only.total.open_amount == D("1000.00") and only.total.quota is None


def test_owner_filter_and_visibility(dataset, admin, member, settings):
    mine = forecast(user=admin, period="2030-Q2", group_by="owner", owner_id=member.pk)
    assert [r.label for r in mine.rows] == ["Bob Member"]
    assert mine.total.quota == D("3000.00")
    settings.KITH_RECORD_VISIBILITY = "own"
    seen = forecast(user=member, period="2030-Q2", group_by="owner")
    assert [r.label for r in seen.rows] == ["Bob Member", "No owner"]
    assert seen.total.open_amount == D("250.15")
    assert seen.total.quota == D("3000.00")
    settings.KITH_RECORD_VISIBILITY = "all"
    assert forecast(user=member, period="2030-Q2", group_by="none").total.open_amount == D("1693.53")


def test_period_parsing():
    q = parse_period("2026-q4")
    assert (q.kind, q.start, q.end, q.key, q.label) == ("quarter", dt.date(2026, 10, 1), dt.date(2027, 1, 1), "2026-Q4", "Q4 2026")
    assert q.next.key == "2027-Q1" and q.previous.key == "2026-Q3"
    m = parse_period("2026-11")
    assert (m.start, m.end, m.label, m.previous.key, m.next.next.key) == (
        dt.date(2026, 11, 1), dt.date(2026, 12, 1), "November 2026", "2026-10", "2027-01")
    for bad in ("2026-13", "2026-Q5", "Q4", "", "2026", "26-11"):
        with pytest.raises(ValidationError) as exc:
            parse_period(bad)
        assert list(exc.value.message_dict) == ["period"]


def test_bad_arguments(admin):
    with pytest.raises(ValidationError) as exc:
        forecast(user=admin, period="2026-Q1", group_by="team")
    assert "group_by" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        forecast(user=admin, period="soon", group_by="owner")
    assert "period" in exc.value.message_dict


def test_query_count_does_not_grow_with_deals(dataset, admin, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        forecast(user=admin, period="2030-Q2", group_by="owner")
