"""/api/v1/forecast on a small hand-made data set: open, weighted, committed, won, lost, quota, attainment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, SalesSettings

from .conftest import assert_error_shape, deal, error_fields, pipeline, stage

pytestmark = pytest.mark.django_db


def closed(actor, kind: str, when: dt.datetime, **data):
    d = deal(actor, stage_id=stage(kind).pk, lost_reason="Budget" if kind == StageKind.LOST else "", **data)
    Deal.all_objects.filter(pk=d.pk).update(closed_at=when)
    return d


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def dataset(admin, member):
    """Q2 2030. Alice (admin) and Bob (member)."""
    SalesSettings.objects.update_or_create(pk=1, defaults={"default_currency": "USD"})
    a, b = {"owner_id": admin.pk}, {"owner_id": member.pk}
    deal(admin, name="A1", amount="1000.00", stage_id=stage(name="Proposal").pk, expected_close_date="2030-04-15",
         is_commit=True, **a)
    deal(admin, name="A2", amount="333.33", stage_id=stage(name="Qualified").pk, expected_close_date="2030-06-30", **a)
    closed(admin, StageKind.WON, at("2030-05-10"), name="A3", amount="2000", **a)
    closed(admin, StageKind.LOST, at("2030-04-02"), name="A4", amount="700", **a)
    deal(admin, name="A5 next quarter", amount="5000", stage_id=stage(name="Proposal").pk,
         expected_close_date="2030-07-01", **a)
    deal(admin, name="B1", amount="0.05", stage_id=stage(name="Qualified").pk, expected_close_date="2030-05-01", **b)
    closed(admin, StageKind.WON, at("2030-06-30", 23), name="B2", amount="1500", **b)
    closed(admin, StageKind.WON, at("2030-07-01", 0), name="B3 next quarter", amount="900", **b)
    services.set_quota(actor=admin, user=admin, period_kind="quarter", period_start="2030-04-01", amount="4000")
    for month in ("2030-04-01", "2030-05-01", "2030-06-01"):
        services.set_quota(actor=admin, user=member, period_kind="month", period_start=month, amount="1000")


ALICE = {"label": "Alice Admin", "open_amount": "1333.33", "open_count": 2, "weighted_amount": "533.33",
         "committed_amount": "1000.00", "committed_count": 1, "won_amount": "2000.00", "won_count": 1, "lost_count": 1,
         "quota": "4000.00", "attainment": "50.0"}
BOB = {"label": "Bob Member", "open_amount": "0.05", "open_count": 1, "weighted_amount": "0.01",
       "committed_amount": "0.00", "committed_count": 0, "won_amount": "1500.00", "won_count": 1, "lost_count": 0,
       "quota": "3000.00", "attainment": "50.0"}
TOTAL = {"key": None, "label": "Total", "open_amount": "1333.38", "open_count": 3, "weighted_amount": "533.34",
         "committed_amount": "1000.00", "committed_count": 1, "won_amount": "3500.00", "won_count": 2,
         "lost_count": 1, "quota": "7000.00", "attainment": "50.0"}


def test_by_owner(api, dataset, admin, member):
    r = api.get("forecast", period="2030-Q2", group_by="owner")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["period"], body["period_label"], body["period_kind"], body["start"], body["end"], body["currency"]) == (
        "2030-Q2", "Q2 2030", "quarter", "2030-04-01", "2030-07-01", "USD")
    assert body["rows"] == [{"key": admin.pk, **ALICE}, {"key": member.pk, **BOB}]
    assert body["total"] == TOTAL


def test_by_pipeline_none_and_filters(api, dataset, admin, member):
    body = api.get("forecast", period="2030-Q2", group_by="pipeline").json()
    [row] = body["rows"]
    assert (row["key"], row["label"], row["open_amount"], row["won_amount"]) == (
        pipeline().pk, "New business", "1333.38", "3500.00")
    body = api.get("forecast", period="2030-Q2", group_by="none").json()
    assert body["rows"] == [] and body["total"] == TOTAL
    body = api.get("forecast", period="2030-Q2", owner=member.pk).json()
    assert body["rows"] == [{"key": member.pk, **BOB}]
    assert body["total"]["quota"] == "3000.00"
    body = api.get("forecast", period="2030-Q2", owner="me", group_by="none").json()
    assert body["total"]["won_amount"] == "2000.00" and body["total"]["quota"] == "4000.00"
    body = api.get("forecast", period="2030-Q2", pipeline=pipeline().pk).json()
    assert body["total"]["quota"] is None and body["total"]["attainment"] is None
    assert body["total"]["open_amount"] == "1333.38"


def test_a_month(api, dataset, member):
    body = api.get("forecast", period="2030-05", owner=member.pk).json()
    assert (body["period"], body["period_label"], body["start"], body["end"]) == (
        "2030-05", "May 2030", "2030-05-01", "2030-06-01")
    assert body["total"]["open_amount"] == "0.05"
    assert body["total"]["won_amount"] == "0.00"
    assert body["total"]["quota"] == "1000.00" and body["total"]["attainment"] == "0.0"


def test_the_current_quarter_is_the_default(api, db):
    today = timezone.localdate()
    assert api.get("forecast").json()["period"] == f"{today.year}-Q{(today.month - 1) // 3 + 1}"


@pytest.mark.parametrize("params, field", [
    ({"period": "2030-Q5"}, "period"), ({"period": "next year"}, "period"), ({"period": "2030-13"}, "period"),
    ({"group_by": "colour"}, "group_by"), ({"pipeline": "first"}, "pipeline"), ({"owner": "boss"}, "owner"),
])
def test_bad_parameters_are_422(api, db, params, field):
    r = api.get("forecast", **params)
    assert_error_shape(r, 422)
    assert error_fields(r) == {field}


def test_viewers_may_read_it(api_for, dataset, viewer):
    assert api_for(viewer).get("forecast", period="2030-Q2").json()["total"] == TOTAL
