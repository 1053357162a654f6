"""Quotas: normalised periods, Decimal amounts, who may set them, and attainment in the forecast."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kith.core.errors import PermissionDenied, ValidationError
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, Quota
from kith.sales.services.forecast import forecast
from kith.sales.services.quotas import add_periods, period_start_of, quota_amounts

from .salesadmin_helpers import at, deal, stage

pytestmark = pytest.mark.django_db


def test_period_start_is_normalised(manager, member):
    q = services.set_quota(actor=manager, user=member, period_kind="quarter", period_start="2026-11-17", amount="5000")
    assert q.period_start == dt.date(2026, 10, 1)
    m = services.set_quota(actor=manager, user=member.pk, period_kind="month", period_start=dt.date(2026, 11, 17),
                           amount="1200.50")
    assert m.period_start == dt.date(2026, 11, 1) and m.amount == Decimal("1200.50")
    # Setting again for the same period changes the one row.
    again = services.set_quota(actor=manager, user=member, period_kind="quarter", period_start="2026-12-31", amount="6000")
    assert again.pk == q.pk and Quota.objects.get(pk=q.pk).amount == Decimal("6000.00")
    assert Quota.objects.count() == 2


def test_validation(admin, member):
    with pytest.raises(ValidationError) as exc:
        services.set_quota(actor=admin, user=member, period_kind="week", period_start="soon", amount="-5")
    assert set(exc.value.message_dict) == {"period_kind", "period_start", "amount"}
    with pytest.raises(ValidationError) as exc:
        services.set_quota(actor=admin, user=99999, period_kind="month", period_start="2026-01-01", amount="1.001")
    assert set(exc.value.message_dict) == {"user", "amount"}
    assert not Quota.objects.exists()


def test_only_admins_and_managers(member, viewer, admin):
    for actor in (member, viewer):
        with pytest.raises(PermissionDenied):
            services.set_quota(actor=actor, user=member, period_kind="month", period_start="2026-01-01", amount="1")
    q = services.set_quota(actor=admin, user=member, period_kind="month", period_start="2026-01-01", amount="1")
    with pytest.raises(PermissionDenied):
        services.delete_quota(actor=member, quota=q)
    services.delete_quota(actor=admin, quota=q)
    assert not Quota.objects.exists()


def test_period_arithmetic():
    assert period_start_of(dt.date(2026, 3, 31), "quarter") == dt.date(2026, 1, 1)
    assert period_start_of(dt.date(2026, 12, 5), "month") == dt.date(2026, 12, 1)
    assert add_periods(dt.date(2026, 10, 1), "quarter", 1) == dt.date(2027, 1, 1)
    assert add_periods(dt.date(2026, 1, 1), "month", -1) == dt.date(2025, 12, 1)


def test_quarter_quota_wins_over_its_months(admin, member):
    services.set_quota(actor=admin, user=member, period_kind="month", period_start="2026-10-01", amount="100")
    services.set_quota(actor=admin, user=member, period_kind="month", period_start="2026-11-01", amount="200")
    assert quota_amounts(kind="quarter", start=dt.date(2026, 10, 1)) == {member.pk: Decimal("300.00")}
    services.set_quota(actor=admin, user=member, period_kind="quarter", period_start="2026-10-01", amount="1000")
    assert quota_amounts(kind="quarter", start=dt.date(2026, 10, 1)) == {member.pk: Decimal("1000.00")}
    assert quota_amounts(kind="month", start=dt.date(2026, 11, 1)) == {member.pk: Decimal("200.00")}


def test_attainment(admin, member):
    services.set_quota(actor=admin, user=member, period_kind="quarter", period_start="2031-01-01", amount="3000")
    won = stage(StageKind.WON)
    for amount, day in (("1000.00", 5), ("250.25", 20)):
        d = deal(admin, name="Won", amount=amount, stage_id=won.pk, owner_id=member.pk)
        Deal.objects.filter(pk=d.pk).update(closed_at=at(dt.date(2031, 2, day)))
    row = forecast(user=admin, period="2031-Q1", group_by="owner").rows[0]
    assert row.won_amount == Decimal("1250.25")
    assert row.attainment == Decimal("41.7")  # 1250.25 / 3000 = 41.675 %
    services.set_quota(actor=admin, user=member, period_kind="quarter", period_start="2031-01-01", amount="1000")
    assert forecast(user=admin, period="2031-Q1", group_by="owner").rows[0].attainment == Decimal("125.0")
    services.set_quota(actor=admin, user=member, period_kind="quarter", period_start="2031-01-01", amount="0")
    assert forecast(user=admin, period="2031-Q1", group_by="owner").rows[0].attainment is None
