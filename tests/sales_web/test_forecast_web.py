"""The forecast page: table, totals, chart, period switcher, group-by toggle, filters, errors, htmx fragment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from conftest import signed_in
from kith.sales import services
from kith.sales.models import Deal

from .salesadmin_web import htmx, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(admin, member):
    p = services.ensure_default_pipeline()
    proposal, won = p.stages.get(name="Proposal"), p.stages.get(name="Won")
    services.create_deal(actor=admin, data={"name": "Open", "amount": "1000", "stage_id": proposal.pk,
                                            "expected_close_date": "2030-11-10", "owner_id": member.pk})
    d = services.create_deal(actor=admin, data={"name": "Won", "amount": "2500", "stage_id": won.pk,
                                                "owner_id": member.pk})
    Deal.objects.filter(pk=d.pk).update(closed_at=dt.datetime(2030, 11, 20, 12, tzinfo=dt.UTC))
    services.set_quota(actor=admin, user=member, period_kind="quarter", period_start="2030-10-01", amount="10000")


def test_page_shows_table_tiles_and_chart(viewer, deals):
    r = signed_in(viewer).get(reverse("web:forecast"), {"period": "2030-Q4"})
    page = text(r)
    body = r.content.decode()
    assert r.status_code == 200
    assert "Q4 2030" in page
    assert "Bob Member 1,000.00 1 deal 500.00 0.00 2,500.00 1 deal 0 10,000.00 25.0%" in page
    assert "Total 1,000.00 1 deal 500.00 0.00 2,500.00 1 deal 0 10,000.00 25.0%" in page
    assert "Won 2,500.00" in page and "25.0% attained" in page
    assert '<svg class="forecast-chart"' in body and "Bob Member: won 2,500.00 of 10,000.00 quota (25.0%)" in page
    assert 'width="25.00%"' in body  # won bar: 2,500 of the 10,000 scale
    assert "<script" not in body.split('id="forecast-body"')[1]  # no chart library
    assert "period=2030-Q3" in body and "period=2031-Q1" in body


def test_month_and_group_by(admin, deals):
    c = signed_in(admin)
    page = text(c.get(reverse("web:forecast"), {"period": "2030-11", "group_by": "pipeline"}))
    assert "November 2030" in page and "By pipeline" in page
    assert "New business 1,000.00" in page
    none = c.get(reverse("web:forecast"), {"period": "2030-11", "group_by": "none"})
    assert "Bob Member 1,000.00" not in text(none) and "Total 1,000.00" in text(none)
    october = text(c.get(reverse("web:forecast"), {"period": "2030-10"}))
    assert "Total 0.00 0 deals" in october


def test_filters(admin, member, deals):
    p = services.create_pipeline(actor=admin, data={"name": "Partners"})
    c = signed_in(admin)
    page = text(c.get(reverse("web:forecast"), {"period": "2030-Q4", "pipeline": p.pk}))
    assert "Total 0.00 0 deals" in page and "Quotas are per person" in page
    page = text(c.get(reverse("web:forecast"), {"period": "2030-Q4", "owner": admin.pk}))
    assert "Bob Member" not in page.split("By owner")[1]


def test_errors_name_the_problem(admin, deals):
    c = signed_in(admin)
    r = c.get(reverse("web:forecast"), {"period": "2030-Q9"})
    assert r.status_code == 400
    assert "“2030-Q9” is not a period; use a quarter such as 2026-Q4 or a month such as 2026-11." in text(r)
    r = c.get(reverse("web:forecast"), {"period": "2030-Q4", "group_by": "team", "pipeline": "999"})
    assert r.status_code == 400
    assert "Choose one of: owner, pipeline, none." in text(r) and "Pipeline: Choose a pipeline from the list." in text(r)


def test_htmx_returns_the_fragment(admin, deals):
    r = signed_in(admin).get(reverse("web:forecast"), {"period": "2030-Q4"}, **htmx(target="forecast-body"))
    body = r.content.decode()
    assert r.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="forecast-body"')
    assert "HX-Request" in r["Vary"]
