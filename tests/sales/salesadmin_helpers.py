"""Helpers for the sales-setup tests (products, quotes, forecast, quotas, settings): records made through services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, Pipeline, Stage


def pipeline() -> Pipeline:
    return services.ensure_default_pipeline()


def stage(kind: str = StageKind.OPEN, name: str | None = None, p: Pipeline | None = None) -> Stage:
    p = p or pipeline()
    qs = p.stages.filter(kind=kind)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("position").first()


def deal(actor, **data) -> Deal:
    data.setdefault("name", "Deal")
    return services.create_deal(actor=actor, data=data)


def deal_with_items(actor, items, **data) -> Deal:
    d = deal(actor, **data)
    return services.set_line_items(actor=actor, deal=d, items=items)


def close(d: Deal, kind: str, when: dt.datetime, actor, lost_reason: str = "Too expensive") -> Deal:
    """Move the deal to the won/lost stage through the service, then set when it closed."""
    s = stage(kind, p=d.pipeline)
    services.move_deal(actor=actor, deal=d, stage_id=s.pk, lost_reason=lost_reason if kind == StageKind.LOST else None)
    Deal.all_objects.filter(pk=d.pk).update(closed_at=when)
    return Deal.all_objects.get(pk=d.pk)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())
