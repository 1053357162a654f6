"""/api/v1/forecast: open pipeline, weighted, committed, won and lost of a month or quarter, with quotas."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from kith.sales.services.forecast import current_period, forecast

from . import errors
from .sales_schemas import ForecastOut, forecast_dict
from .schemas import with_errors

router = Router(tags=["forecast"])


@router.get(
    "",
    response=with_errors({200: ForecastOut}, errors.LIST),
    operation_id="get_forecast",
    summary="The sales forecast of a period",
    description=(
        "Over the deals you can see, in the default currency: open deals whose expected close date falls in the "
        "period (their amount, weighted by stage probability, and the committed ones), deals won and lost in the "
        "period, quotas and attainment (won ÷ quota). One row per owner or pipeline, and the total."
    ),
)
def get_forecast(
    request: HttpRequest,
    period: str | None = Query(None, description="A quarter such as 2026-Q4 or a month such as 2026-11; the "
                               "current quarter when left out."),
    group_by: str = Query("owner", description="owner, pipeline or none (the total only)"),
    pipeline: str | None = Query(None, description="Only this pipeline's deals (id); quotas are left out."),
    owner: str | None = Query(None, description="Only this owner's deals: a user id or “me”."),
):
    if owner == "me":
        owner = str(request.auth.pk)
    fc = forecast(user=request.auth, period=period or current_period(), group_by=group_by, pipeline_id=pipeline,
                  owner_id=owner)
    return forecast_dict(fc)
