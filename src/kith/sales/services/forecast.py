"""The sales forecast of a month or quarter: open pipeline, weighted, committed, won, lost, quota, attainment.

Two GROUP BY (owner, pipeline) queries, whatever the number of deals and the grouping asked for:
  1. open deals whose expected close date falls in the period (index deal_close_idx);
  2. won and lost deals closed in the period (index deal_closed_idx).
Amounts are the deals' amount_default (the default currency). Sums are exact: on SQLite, which stores
decimals as floating point, they are added up as integer cents in SQL; on PostgreSQL numeric is exact.
The weighted amount of a deal is amount × stage probability / 100 rounded half-up to the cent (kith.sales.money),
per deal, so the forecast adds up to the weighted amounts shown on the deals.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, Func, Q, Sum
from django.utils import timezone

from kith.core import permissions
from kith.core.errors import ValidationError
from kith.core.models import Role, User

from .. import money
from ..choices import PeriodKind, StageKind
from ..models import Deal, Pipeline, SalesSettings
from .quotas import add_periods, quota_amounts

GROUPS = ("owner", "pipeline", "none")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


# --- periods ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # "month" or "quarter"
    start: dt.date  # first day
    end: dt.date  # first day of the next period (exclusive)

    @property
    def key(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return self.start.strftime("%B %Y")

    def shifted(self, count: int) -> Period:
        start = add_periods(self.start, self.kind, count)
        return Period(self.kind, start, add_periods(start, self.kind, 1))

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    @property
    def next(self) -> Period:
        return self.shifted(1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes [start, end) in the workspace's time zone."""
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(self.end, dt.time.min, tzinfo=tz),
        )


def parse_period(value: Any) -> Period:
    """'2026-Q4' (a quarter) or '2026-11' (a month); ValidationError naming "period" otherwise."""
    text = str(value or "").strip()
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        kind, start = PeriodKind.QUARTER, (year, 3 * quarter - 2)
    elif m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValidationError({"period": [f"“{text}” has no month {month}; use 01 to 12."]})
        kind, start = PeriodKind.MONTH, (year, month)
    else:
        raise ValidationError({"period": [
            f"“{text}” is not a period; use a quarter such as 2026-Q4 or a month such as 2026-11."
            if text else "Choose a period such as 2026-Q4 or 2026-11."
        ]})
    if not 1900 <= year <= 9998:
        raise ValidationError({"period": ["Choose a year from 1900 to 9998."]})
    first = dt.date(start[0], start[1], 1)
    return Period(kind, first, add_periods(first, kind, 1))


def current_period(kind: str = PeriodKind.QUARTER, today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    month = 3 * ((today.month - 1) // 3) + 1 if kind == PeriodKind.QUARTER else today.month
    first = dt.date(today.year, month, 1)
    return Period(kind, first, add_periods(first, kind, 1))


# --- exact sums in SQL --------------------------------------------------------------------------------------


class Cents(Func):
    """An amount column as whole cents (exact integer arithmetic on SQLite's floating-point decimals)."""

    output_field = BigIntegerField()
    template = "(%(expressions)s * 100)"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="CAST(ROUND(%(expressions)s * 100) AS INTEGER)", **extra)


class WeightedCents(Func):
    """amount × probability / 100, rounded half-up to the cent, as whole cents (amounts are never negative)."""

    output_field = BigIntegerField()
    arg_joiner = " * "
    template = "ROUND(%(expressions)s)"  # amount (2 places) × probability = cents, exact numeric

    def as_sqlite(self, compiler, connection, **extra):
        amount, probability = self.source_expressions
        amount_sql, amount_params = compiler.compile(amount)
        prob_sql, prob_params = compiler.compile(probability)
        sql = f"((CAST(ROUND({amount_sql} * 100) AS INTEGER) * {prob_sql} + 50) / 100)"
        return sql, (*amount_params, *prob_params)


def _from_cents(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return money.q(Decimal(value) / 100)


# --- the forecast -------------------------------------------------------------------------------------------


@dataclass
class ForecastRow:
    key: int | None
    label: str
    open_amount: Decimal = Decimal("0.00")
    open_count: int = 0
    weighted_amount: Decimal = Decimal("0.00")
    committed_amount: Decimal = Decimal("0.00")
    committed_count: int = 0
    won_amount: Decimal = Decimal("0.00")
    won_count: int = 0
    lost_count: int = 0
    quota: Decimal | None = None
    is_total: bool = False

    @property
    def attainment(self) -> Decimal | None:
        """Won as a percentage of the quota (1 decimal), or None without a (non-zero) quota."""
        if not self.quota:
            return None
        return (self.won_amount * 100 / self.quota).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "open_amount": self.open_amount, "open_count": self.open_count,
            "weighted_amount": self.weighted_amount, "committed_amount": self.committed_amount,
            "committed_count": self.committed_count, "won_amount": self.won_amount, "won_count": self.won_count,
            "lost_count": self.lost_count, "quota": self.quota, "attainment": self.attainment,
        }


@dataclass
class Forecast:
    period: Period
    group_by: str
    currency: str
    rows: list[ForecastRow] = field(default_factory=list)
    by_owner: list[ForecastRow] = field(default_factory=list)  # for the won-against-quota chart
    total: ForecastRow = field(default_factory=lambda: ForecastRow(None, "Total", is_total=True))


def _clean_id(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: [f"“{value}” is not an id."]}) from None


def forecast(*, user, period: str | Period, group_by: str = "owner", pipeline_id: Any = None,
             owner_id: Any = None) -> Forecast:
    """The forecast of `period` ("2026-Q4" or "2026-11") over the deals `user` may see, grouped by owner,
    pipeline or not at all (group_by "none": only the total row)."""
    per = period if isinstance(period, Period) else parse_period(period)
    if group_by not in GROUPS:
        raise ValidationError({"group_by": [f"Must be one of: {', '.join(GROUPS)}."]})
    pipeline_id = _clean_id(pipeline_id, "pipeline")
    owner_id = _clean_id(owner_id, "owner")

    open_qs, open_aggs, closed_qs, closed_aggs = _querysets(user, per, pipeline_id, owner_id)
    # One GROUP BY (owner, pipeline) per query; every grouping, and the per-owner chart, is rolled up from it
    # in Python. The sums are whole cents, so adding them up again is exact.
    cells = [
        *(("open", r) for r in open_qs.order_by().values("owner_id", "pipeline_id").annotate(**open_aggs)),
        *(("closed", r) for r in closed_qs.order_by().values("owner_id", "pipeline_id").annotate(**closed_aggs)),
    ]

    def roll_up(field_name: str | None) -> dict[Any, dict[str, Any]]:
        out: dict[Any, dict[str, Any]] = {}
        for _, r in cells:
            key = r[field_name] if field_name else None
            acc = out.setdefault(key, {})
            for name, value in r.items():
                if name not in ("owner_id", "pipeline_id") and value is not None:
                    acc[name] = acc.get(name, 0) + value
        return out

    quota_users = _quota_scope(user, owner_id)
    # Quotas belong to people: per owner row, and in the total unless a pipeline filter is set.
    quotas = quota_amounts(kind=per.kind, start=per.start, user_ids=quota_users) if pipeline_id is None else {}
    by_owner = _rows(roll_up("owner_id"))
    for user_id, amount in quotas.items():
        by_owner.setdefault(user_id, ForecastRow(user_id, "")).quota = amount
    _label_owners(by_owner)
    result = Forecast(period=per, group_by=group_by, currency=SalesSettings.get().default_currency)
    result.by_owner = _ordered(by_owner)
    if group_by == "owner":
        result.rows = result.by_owner
    elif group_by == "pipeline":
        rows = _rows(roll_up("pipeline_id"))
        names = dict(Pipeline.objects.filter(pk__in=[k for k in rows if k is not None]).values_list("pk", "name"))
        for key, x in rows.items():
            x.label = names.get(key, "Unknown pipeline")
        result.rows = _ordered(rows)
    total = result.total
    for x in _rows(roll_up(None)).values():
        for name in ("open_amount", "open_count", "weighted_amount", "committed_amount", "committed_count",
                     "won_amount", "won_count", "lost_count"):
            setattr(total, name, getattr(x, name))
    total.quota = sum(quotas.values(), Decimal("0.00")) if quotas else None
    return result


def _rows(sums: dict[Any, dict[str, Any]]) -> dict[Any, ForecastRow]:
    rows: dict[Any, ForecastRow] = {}
    for key, r in sums.items():
        if not (r.get("open_count") or r.get("won_count") or r.get("lost_count")):
            continue
        rows[key] = ForecastRow(
            key, "",
            open_amount=_from_cents(r.get("open_cents")), open_count=r.get("open_count", 0),
            weighted_amount=_from_cents(r.get("weighted_cents")),
            committed_amount=_from_cents(r.get("committed_cents")), committed_count=r.get("committed_count", 0),
            won_amount=_from_cents(r.get("won_cents")), won_count=r.get("won_count", 0),
            lost_count=r.get("lost_count", 0),
        )
    return rows


def _ordered(rows: dict[Any, ForecastRow]) -> list[ForecastRow]:
    return sorted(rows.values(), key=lambda x: (x.key is None, x.label.lower(), x.key or 0))


def _querysets(user, per: Period, pipeline_id: int | None, owner_id: int | None):
    """The two filtered querysets of a forecast and their aggregates (open deals by expected close date;
    won and lost deals by when they closed)."""
    deals = permissions.visible(Deal, user)  # live deals only
    if pipeline_id is not None:
        deals = deals.filter(pipeline_id=pipeline_id)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    start_dt, end_dt = per.bounds()
    open_qs = deals.filter(expected_close_date__gte=per.start, expected_close_date__lt=per.end,
                           stage__kind=StageKind.OPEN)
    open_aggs = {
        "open_cents": Sum(Cents("amount_default")),
        "open_count": Count("id"),
        "weighted_cents": Sum(WeightedCents("amount_default", "stage__probability")),
        "committed_cents": Sum(Cents("amount_default"), filter=Q(is_commit=True)),
        "committed_count": Count("id", filter=Q(is_commit=True)),
    }
    closed_qs = deals.filter(closed_at__gte=start_dt, closed_at__lt=end_dt,
                             stage__kind__in=[StageKind.WON, StageKind.LOST])
    closed_aggs = {
        "won_cents": Sum(Cents("amount_default"), filter=Q(stage__kind=StageKind.WON)),
        "won_count": Count("id", filter=Q(stage__kind=StageKind.WON)),
        "lost_count": Count("id", filter=Q(stage__kind=StageKind.LOST)),
    }
    return open_qs, open_aggs, closed_qs, closed_aggs


def forecast_queries(*, user, period: str | Period, pipeline_id=None, owner_id=None):
    """The two GROUP BY querysets forecast() runs (for EXPLAIN and benchmarks)."""
    per = period if isinstance(period, Period) else parse_period(period)
    open_qs, open_aggs, closed_qs, closed_aggs = _querysets(user, per, pipeline_id, owner_id)
    return (open_qs.order_by().values("owner_id", "pipeline_id").annotate(**open_aggs),
            closed_qs.order_by().values("owner_id", "pipeline_id").annotate(**closed_aggs))


def _quota_scope(user, owner_id: int | None):
    """Whose quotas the forecast may show: one owner when filtered; only oneself when records are private."""
    if owner_id is not None:
        return [owner_id]
    if user.role not in (Role.ADMIN, Role.MANAGER) and permissions.visibility_rule() != "all":
        return [user.pk]
    return None


def _label_owners(rows: dict[Any, ForecastRow]) -> None:  # one query for all owners
    users = {u.pk: u for u in User.objects.filter(pk__in=[k for k in rows if k is not None])}
    for key, x in rows.items():
        if key is None:
            x.label = "No owner"
        else:
            u = users.get(key)
            x.label = u.display_name if u else f"User {key}"
