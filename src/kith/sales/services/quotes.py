"""Quotes: a numbered snapshot of a deal's line items with per-line tax, and its status.

Numbers are Q-<year>-<0001>, counting per calendar year, unique however many people create quotes at once:
the next number is taken while holding a lock on the sales settings row, which serialises quote creation on
PostgreSQL (SELECT … FOR UPDATE); SQLite serialises every writing transaction already (IMMEDIATE).

Status: draft → sent → accepted or declined. Accepting can also move the deal to its pipeline's first won stage.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from kith.core import audit, events, permissions, records
from kith.core.errors import ValidationError
from kith.core.models import AuditEntry

from .. import money
from ..choices import QuoteStatus, StageKind
from ..models import Deal, Quote, QuoteLine, SalesSettings
from .common import clean_date

MAX_TERMS = 10_000
TRANSITIONS: dict[str, tuple[QuoteStatus, ...]] = {
    QuoteStatus.DRAFT: (QuoteStatus.SENT,),
    QuoteStatus.SENT: (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED),
    QuoteStatus.ACCEPTED: (),
    QuoteStatus.DECLINED: (),
}


def _next_number(year: int) -> str:
    """The next free number of the year. Call only while holding the numbering lock."""
    prefix = f"Q-{year}-"
    last = (
        Quote.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = 1
    if last:
        try:
            seq = int(last[len(prefix):]) + 1
        except ValueError:
            seq = Quote.objects.filter(number__startswith=prefix).count() + 1
    return f"{prefix}{seq:04d}"


def _note_on_deal(deal: Deal, actor, old: str | None, new: str) -> None:
    """Quotes appear in the deal's change history."""
    audit.record(deal, action=AuditEntry.Action.UPDATE, actor=actor,
                 changes={"quote": {"old": old, "new": new, "label": "Quote"}})


def quote_lines_preview(deal: Deal) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """What a quote made now would contain: lines with tax and the totals (for the new-quote form)."""
    lines = []
    subtotal = tax_total = Decimal("0.00")
    for li in deal.line_items.select_related("product").all():
        total = money.line_total(li.quantity, li.unit_price, li.discount_pct)
        tax = money.tax(total, li.tax_rate)
        lines.append({"name": li.name, "sku": li.product.sku if li.product else "", "quantity": li.quantity,
                      "unit_price": li.unit_price, "discount_pct": li.discount_pct, "tax_rate": li.tax_rate,
                      "total": total, "tax": tax})
        subtotal += total
        tax_total += tax
    return lines, {"subtotal": subtotal, "tax_total": tax_total, "total": subtotal + tax_total}


def create_quote(*, actor, deal: Deal, valid_until: Any = None, terms: str | None = None) -> Quote:
    """A draft quote of the deal's line items. valid_until defaults to today + the validity days of the
    sales settings, terms to their quote terms."""
    permissions.require_write(actor, deal)
    settings_row = SalesSettings.get()
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    until = None
    try:
        until = clean_date(valid_until, field="valid_until")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if until is None and "valid_until" not in errors:
        until = today + dt.timedelta(days=settings_row.quote_validity_days)
    if until is not None and until < today:
        errors["valid_until"] = ["A quote must be valid until today or later."]
    text = settings_row.quote_terms if terms is None else str(terms).strip()
    if len(text) > MAX_TERMS:
        errors["terms"] = [f"Must be at most {MAX_TERMS} characters."]
    if errors:
        raise ValidationError(errors)
    assert until is not None  # the default above unless valid_until had an error
    with transaction.atomic():
        # The numbering lock first (always settings before deal rows), then the deal.
        SalesSettings.objects.select_for_update().get(pk=settings_row.pk)
        try:
            locked = Deal.objects.select_for_update().get(pk=deal.pk)
        except Deal.DoesNotExist:
            raise ValidationError({"deal": ["This deal is in the trash; restore it to quote it."]}) from None
        items = list(locked.line_items.select_related("product").all())
        if not items:
            raise ValidationError({"items": [
                "A quote needs at least one line item; add products or lines to the deal first."
            ]})
        now = timezone.now()
        quote = Quote(
            deal=locked, number=_next_number(today.year), status=QuoteStatus.DRAFT, currency=locked.currency,
            valid_until=until, terms=text, created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now, updated_at=now,
        )
        lines = []
        subtotal = tax_total = Decimal("0.00")
        for pos, li in enumerate(items):
            total = money.line_total(li.quantity, li.unit_price, li.discount_pct)
            subtotal += total
            tax_total += money.tax(total, li.tax_rate)
            lines.append(QuoteLine(
                quote=quote, name=li.name, sku=li.product.sku if li.product else "", quantity=li.quantity,
                unit_price=li.unit_price, discount_pct=li.discount_pct, tax_rate=li.tax_rate, total=total,
                position=pos,
            ))
        quote.subtotal, quote.tax_total, quote.total = subtotal, tax_total, subtotal + tax_total
        quote.save()
        QuoteLine.objects.bulk_create(lines)
        _note_on_deal(locked, actor, None, f"{quote.number} created ({money.fmt(quote.total, quote.currency)})")
        events.emit("quote.created", {"type": "quote", "id": quote.pk, "number": quote.number,
                                      "deal_id": locked.pk, "actor_id": getattr(actor, "pk", None)})
    return quote


def won_stage_for(deal: Deal):
    return deal.pipeline.stages.filter(kind=StageKind.WON).order_by("position", "id").first()


def set_quote_status(*, actor, quote: Quote, status: str, move_deal_to_won: bool = False,
                     expected_version: int | None = None) -> Quote:
    """draft → sent → accepted / declined. With move_deal_to_won, accepting also moves the deal to the first
    won stage of its pipeline (through services.deals.move_deal, so it is recorded like any stage change)."""
    from .deals import move_deal

    deal = Deal.all_objects.get(pk=quote.deal_id)
    permissions.require_write(actor, deal)
    if status not in QuoteStatus.values:
        raise ValidationError({"status": [f"Must be one of: {', '.join(QuoteStatus.values)}."]})
    with transaction.atomic():
        locked = Quote.objects.select_for_update().get(pk=quote.pk)
        records.check_version(locked, expected_version)
        allowed = TRANSITIONS[locked.status]
        if status not in allowed:
            current = QuoteStatus(locked.status).label.lower()
            wanted = QuoteStatus(status).label.lower()
            if status == locked.status:
                message = f"This quote is already {current}."
            elif allowed:
                nexts = " or ".join(QuoteStatus(s).label.lower() for s in allowed)
                message = f"A {current} quote cannot be marked {wanted}; it can be marked {nexts}."
            else:
                message = f"This quote was {current}; it cannot change any more. Create a new quote instead."
            raise ValidationError({"status": [message]})
        if move_deal_to_won and status != QuoteStatus.ACCEPTED:
            raise ValidationError({"move_deal_to_won": ["Only accepting a quote can mark the deal won."]})
        if deal.deleted_at is not None:
            raise ValidationError({"deal": ["This quote's deal is in the trash; restore it first."]})
        now = timezone.now()
        old = locked.status
        locked.status = status
        if status == QuoteStatus.SENT:
            locked.sent_at = now
        else:
            locked.decided_at = now
        locked.version += 1
        locked.updated_at = now
        locked.save()
        _note_on_deal(deal, actor, f"{locked.number} {QuoteStatus(old).label.lower()}",
                      f"{locked.number} {QuoteStatus(status).label.lower()}")
        if move_deal_to_won:
            current_stage = deal.stage
            if current_stage.kind != StageKind.WON:
                stage = won_stage_for(deal)
                if stage is None:
                    raise ValidationError({"move_deal_to_won": [
                        f"The pipeline “{deal.pipeline}” has no won stage to move the deal to."
                    ]})
                move_deal(actor=actor, deal=deal, stage_id=stage.pk)
        events.emit("quote.status_changed", {"type": "quote", "id": locked.pk, "number": locked.number,
                                             "deal_id": deal.pk, "old": old, "new": status,
                                             "actor_id": getattr(actor, "pk", None)})
    return locked
