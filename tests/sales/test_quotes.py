"""Quotes: numbering (also under concurrency on PostgreSQL), line snapshots with per-line tax, totals with
Decimal rounding, status transitions and accepting into a won deal."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from tests.threads import run_in_threads

from kith.core.errors import ConflictError, PermissionDenied, ValidationError
from kith.core.models import AuditEntry
from kith.sales import services
from kith.sales.choices import QuoteStatus, StageKind
from kith.sales.models import Deal, DealStageChange, Quote, SalesSettings

from .salesadmin_helpers import deal, deal_with_items, stage

ITEMS = [
    {"name": "Seat", "quantity": "3", "unit_price": "99.99", "discount_pct": "10", "tax_rate": "20"},
    {"name": "Setup", "quantity": "1", "unit_price": "0.05", "tax_rate": "10"},
    {"name": "Support", "quantity": "2", "unit_price": "150", "tax_rate": "0"},
]


@pytest.mark.django_db
def test_totals_and_per_line_tax_with_decimal_rounding(admin):
    d = deal_with_items(admin, ITEMS, name="Acme rollout")
    q = services.create_quote(actor=admin, deal=d)
    lines = list(q.lines.all())
    # 3 × 99.99 with 10% discount = 269.973 → 269.97; tax 20% of it = 53.994 → 53.99.
    assert [line.total for line in lines] == [Decimal("269.97"), Decimal("0.05"), Decimal("300.00")]
    # 10% of 0.05 = 0.005 → 0.01 (half up, per line).
    assert q.subtotal == Decimal("570.02")
    assert q.tax_total == Decimal("53.99") + Decimal("0.01")
    assert q.total == Decimal("624.02")
    stored = Quote.objects.get(pk=q.pk)
    assert (stored.subtotal, stored.tax_total, stored.total) == (Decimal("570.02"), Decimal("54.00"), Decimal("624.02"))
    assert all(isinstance(v, Decimal) for v in (stored.subtotal, stored.tax_total, stored.total))
    assert [line.name for line in lines] == ["Seat", "Setup", "Support"]
    assert lines[0].discount_pct == Decimal("10.00") and lines[0].tax_rate == Decimal("20.00")


@pytest.mark.django_db
def test_numbering_per_year_and_defaults_from_settings(admin):
    settings_row = SalesSettings.get()
    settings_row.quote_terms = "Net 14."
    settings_row.quote_validity_days = 10
    settings_row.save()
    d = deal_with_items(admin, ITEMS[:1])
    year = timezone.localdate().year
    q1 = services.create_quote(actor=admin, deal=d)
    q2 = services.create_quote(actor=admin, deal=d, valid_until=timezone.localdate() + dt.timedelta(days=3),
                               terms="  Custom terms ")
    assert q1.number == f"Q-{year}-0001" and q2.number == f"Q-{year}-0002"
    assert q1.terms == "Net 14." and q1.valid_until == timezone.localdate() + dt.timedelta(days=10)
    assert q2.terms == "Custom terms"
    assert q1.status == QuoteStatus.DRAFT and q1.created_by == admin
    # Numbers continue after the highest of the year, also past 9999.
    Quote.objects.filter(pk=q2.pk).update(number=f"Q-{year}-9999")
    assert services.create_quote(actor=admin, deal=d).number == f"Q-{year}-10000"
    assert services.create_quote(actor=admin, deal=d).number == f"Q-{year}-10001"


@pytest.mark.django_db
def test_quote_is_a_snapshot(admin):
    d = deal_with_items(admin, ITEMS[:1])
    q = services.create_quote(actor=admin, deal=d)
    services.set_line_items(actor=admin, deal=d, items=[{"name": "Other", "quantity": "1", "unit_price": "5"}])
    q.refresh_from_db()
    assert [line.name for line in q.lines.all()] == ["Seat"]
    assert q.subtotal == Decimal("269.97")


@pytest.mark.django_db
def test_a_quote_needs_line_items_and_a_valid_date(admin):
    d = deal(admin, amount="100")
    with pytest.raises(ValidationError) as exc:
        services.create_quote(actor=admin, deal=d)
    assert "items" in exc.value.message_dict
    assert "at least one line item" in exc.value.message_dict["items"][0]
    d = deal_with_items(admin, ITEMS[:1])
    with pytest.raises(ValidationError) as exc:
        services.create_quote(actor=admin, deal=d, valid_until="2001-01-01")
    assert "valid_until" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_quote(actor=admin, deal=d, valid_until="next week")
    assert "valid_until" in exc.value.message_dict
    assert not Quote.objects.exists()


@pytest.mark.django_db
def test_product_sku_is_copied(admin):
    p = services.create_product(actor=admin, data={"name": "Seat", "unit_price": "10", "sku": "SEAT-1", "tax_rate": "5"})
    d = deal_with_items(admin, [{"product_id": p.pk, "quantity": "2"}])
    q = services.create_quote(actor=admin, deal=d)
    line = q.lines.get()
    assert (line.sku, line.total, line.tax_rate) == ("SEAT-1", Decimal("20.00"), Decimal("5.00"))
    assert q.tax_total == Decimal("1.00")


@pytest.mark.django_db
def test_status_transitions(admin):
    d = deal_with_items(admin, ITEMS[:1])
    q = services.create_quote(actor=admin, deal=d)
    with pytest.raises(ValidationError) as exc:
        services.set_quote_status(actor=admin, quote=q, status="accepted")
    assert "can be marked sent" in exc.value.message_dict["status"][0]
    q = services.set_quote_status(actor=admin, quote=q, status="sent")
    assert q.status == "sent" and q.sent_at is not None and q.version == 2
    with pytest.raises(ValidationError) as exc:
        services.set_quote_status(actor=admin, quote=q, status="sent")
    assert "already sent" in exc.value.message_dict["status"][0]
    with pytest.raises(ConflictError):
        services.set_quote_status(actor=admin, quote=q, status="declined", expected_version=1)
    q = services.set_quote_status(actor=admin, quote=q, status="declined", expected_version=2)
    assert q.status == "declined" and q.decided_at is not None
    with pytest.raises(ValidationError) as exc:
        services.set_quote_status(actor=admin, quote=q, status="accepted")
    assert "cannot change any more" in exc.value.message_dict["status"][0]
    with pytest.raises(ValidationError) as exc:
        services.set_quote_status(actor=admin, quote=q, status="maybe")
    assert "status" in exc.value.message_dict
    # The deal's history shows the quote's life.
    changes = [e.changes["quote"]["new"] for e in AuditEntry.objects.filter(object_id=d.pk).order_by("id")
               if "quote" in e.changes]
    assert changes[0].startswith(f"{q.number} created") and changes[-1] == f"{q.number} declined"


@pytest.mark.django_db
def test_accepting_can_move_the_deal_to_the_first_won_stage(admin):
    d = deal_with_items(admin, ITEMS[:1])
    q = services.create_quote(actor=admin, deal=d)
    services.set_quote_status(actor=admin, quote=q, status="sent")
    with pytest.raises(ValidationError) as exc:
        services.set_quote_status(actor=admin, quote=q, status="declined", move_deal_to_won=True)
    assert "move_deal_to_won" in exc.value.message_dict
    q = services.set_quote_status(actor=admin, quote=q, status="accepted", move_deal_to_won=True)
    d = Deal.objects.get(pk=d.pk)
    assert q.status == "accepted"
    assert d.stage == stage(StageKind.WON) and d.closed_at is not None
    assert DealStageChange.objects.filter(deal=d, to_stage=d.stage).exists()


@pytest.mark.django_db
def test_accepting_without_moving_leaves_the_deal(admin):
    d = deal_with_items(admin, ITEMS[:1])
    first = d.stage
    q = services.create_quote(actor=admin, deal=d)
    services.set_quote_status(actor=admin, quote=q, status="sent")
    services.set_quote_status(actor=admin, quote=q, status="accepted")
    assert Deal.objects.get(pk=d.pk).stage == first


@pytest.mark.django_db
def test_permissions(admin, member, viewer, settings):
    d = deal_with_items(admin, ITEMS[:1])
    with pytest.raises(PermissionDenied):
        services.create_quote(actor=viewer, deal=d)
    q = services.create_quote(actor=member, deal=d)
    with pytest.raises(PermissionDenied):
        services.set_quote_status(actor=viewer, quote=q, status="sent")
    settings.KITH_RECORD_VISIBILITY = "own"
    with pytest.raises(PermissionDenied):
        services.create_quote(actor=member, deal=d)  # owned by admin: not visible to the member now


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_when_two_people_create_quotes_at_once(admin):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the lock matters on PostgreSQL")
    deals = [deal_with_items(admin, ITEMS[:1], name=f"Deal {i}") for i in range(2)]
    barrier = threading.Barrier(2)

    def work(d) -> list[str]:
        barrier.wait()
        return [services.create_quote(actor=admin, deal=d).number for _ in range(6)]

    numbers = [n for made in run_in_threads(work, deals) for n in made]
    year = timezone.localdate().year
    assert sorted(numbers) == [f"Q-{year}-{i:04d}" for i in range(1, 13)]
