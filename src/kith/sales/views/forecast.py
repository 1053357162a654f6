"""The forecast page: a period's pipeline, weighted, committed and won amounts against quota, with a chart.

/forecast/?period=2026-Q4|2026-11&group_by=owner|pipeline|none&pipeline=<id>&owner=<id>
The chart is an SVG drawn on the server (won against quota per owner): no JavaScript, no chart library.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kith.core.errors import ValidationError
from kith.core.models import Role, User
from kith.web.ui import is_fragment_request, url_with, vary_htmx

from ..choices import PeriodKind
from ..models import Pipeline
from ..services.forecast import GROUPS, Forecast, ForecastRow, current_period, forecast, parse_period

GROUP_LABELS = {"owner": "Owner", "pipeline": "Pipeline", "none": "Total only"}
CHART_ROW = 50


def chart(rows: list[ForecastRow]) -> dict[str, Any]:
    """Bars of won against quota, one group per owner. The SVG has no viewBox: lengths along the bars are
    percentages of its width and text keeps its size, so the chart is readable from phone to desktop."""
    rows = [r for r in rows if r.key is not None and (r.won_amount or r.quota)]
    top = max([max(r.won_amount, r.quota or Decimal(0)) for r in rows] or [Decimal(0)])
    bars = []
    for i, r in enumerate(rows):
        y = i * CHART_ROW
        won = float(r.won_amount / top * 100) if top else 0.0
        quota = float((r.quota or 0) / top * 100) if top else 0.0
        bars.append({
            "label": r.label, "won": r.won_amount, "quota": r.quota, "attainment": r.attainment,
            "y_text": y + 14, "y_won": y + 21, "y_quota": y + 34,
            "won_w": f"{max(won, 0.4 if r.won_amount else 0.0):.2f}%",
            "quota_w": f"{quota:.2f}%",
            "met": r.quota is not None and r.quota > 0 and r.won_amount >= r.quota,
        })
    return {"bars": bars, "height": max(len(bars) * CHART_ROW - 8, 1), "top": top}


def _people() -> list[User]:
    qs = User.objects.filter(is_active=True).exclude(role=Role.VIEWER).order_by("full_name", "email")
    return list(qs)


@login_required
@require_GET
def forecast_page(request):
    params = request.GET
    errors: dict[str, list[str]] = {}
    raw_period = params.get("period", "").strip()
    try:
        period = parse_period(raw_period) if raw_period else current_period(PeriodKind.QUARTER)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        period = current_period(PeriodKind.QUARTER)
    group_by = params.get("group_by") or "owner"
    if group_by not in GROUPS:
        errors["group_by"] = [f"Choose one of: {', '.join(GROUPS)}."]
        group_by = "owner"
    pipelines = list(Pipeline.objects.order_by("position", "id"))
    pipeline_id = params.get("pipeline") or None
    if pipeline_id and not any(str(p.pk) == pipeline_id for p in pipelines):
        errors["pipeline"] = ["Choose a pipeline from the list."]
        pipeline_id = None
    people = _people()
    owner_id = params.get("owner") or None
    if owner_id and not (owner_id.isdigit() and User.objects.filter(pk=int(owner_id)).exists()):
        errors["owner"] = ["Choose an owner from the list."]
        owner_id = None
    result: Forecast = forecast(user=request.user, period=period, group_by=group_by,
                                pipeline_id=pipeline_id, owner_id=owner_id)
    owner_rows = result.by_owner
    base = reverse("web:forecast")
    other_kind = PeriodKind.MONTH if period.kind == PeriodKind.QUARTER else PeriodKind.QUARTER
    ctx = {
        "result": result,
        "period": period,
        "total": result.total,
        "group_by": group_by,
        "errors": errors,
        "raw_period": raw_period,
        "pipelines": pipelines,
        "pipeline_id": pipeline_id or "",
        "people": people,
        "owner_id": owner_id or "",
        "chart": chart(owner_rows),
        "chart_note": "" if pipeline_id is None else "Quotas are per person, not per pipeline: none shown.",
        "prev_url": url_with(base, params, period=period.previous.key),
        "next_url": url_with(base, params, period=period.next.key),
        "this_url": url_with(base, params, period=current_period(period.kind).key),
        "other_kind_url": url_with(base, params, period=current_period(other_kind).key),
        "other_kind_label": "Months" if other_kind == PeriodKind.MONTH else "Quarters",
        "group_links": [
            {"label": label, "url": url_with(base, params, group_by=key), "current": key == group_by}
            for key, label in GROUP_LABELS.items()
        ],
    }
    if is_fragment_request(request) and request.htmx.target == "forecast-body":
        return vary_htmx(render(request, "sales/forecast/_body.html", ctx, status=400 if errors else 200))
    return vary_htmx(render(request, "sales/forecast/page.html", ctx, status=400 if errors else 200))
