"""Request and response shapes of the sales API (leads, forms, pipelines, deals, products, quotes, quotas,
forecast) and the functions that turn records into them.

Like schemas.py: inputs forbid unknown keys and leave every field optional, so what a client sends is passed
to the service as is and the service decides what is required. Money goes out as a JSON string with two
decimals ("1250.00"), never a float; money comes in as a string or a number and is parsed by the service
with kith.sales.money.parse (send strings for exactness).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field, WithJsonSchema

from kith.core.models import CustomField
from kith.sales import money
from kith.sales.choices import LeadStatus, PeriodKind, QuoteStatus, StageKind
from kith.sales.models import Deal, Lead, LeadForm, Pipeline, Product, Quota, Quote, SalesSettings, Stage
from kith.sales.services.forecast import GROUPS, Forecast, ForecastRow
from kith.sales.services.webforms import FORM_FIELDS

from .schemas import Input, WarningOut, _custom, _tags

# A money or decimal input: a string such as "1250.00" (exact) or a JSON number; the service parses it.
Amount = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                        "description": "decimal, e.g. \"1250.00\" (a string keeps it exact)"})]
DateText = Annotated[str | None, WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                                                 "description": "YYYY-MM-DD"})]
VERSION_HELP = "the version you read; a stale one answers 409 (or send If-Match)"


def cf_keys(object_type: str) -> set[str]:
    """The custom field keys defined now (values of deleted definitions are not served)."""
    return set(CustomField.objects.filter(object_type=object_type).values_list("key", flat=True))


def money_text(value: Decimal | None) -> str | None:
    """A decimal as a plain string with exactly two places ("1250.00"), or None."""
    if value is None:
        return None
    return f"{money.q(Decimal(value)):f}"


def _money(description: str = "") -> Any:
    return Field(description=(description + " " if description else "") + "decimal string with 2 places, e.g. \"1250.00\"")


# --- summaries -----------------------------------------------------------------------------------------------


class ContactSummaryOut(Schema):
    id: int
    name: str
    email: str
    company_id: int | None
    url: str = Field(description="the record's page in the web app")


class CompanySummaryOut(Schema):
    id: int
    name: str
    domain: str
    url: str


class DealSummaryOut(Schema):
    id: int
    name: str
    amount: str = _money()
    currency: str
    pipeline_id: int
    stage_id: int
    url: str


def contact_summary(contact) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"id": contact.pk, "name": str(contact), "email": contact.email, "company_id": contact.company_id,
            "url": contact.get_absolute_url()}


def company_summary(company) -> dict[str, Any] | None:
    if company is None:
        return None
    return {"id": company.pk, "name": company.name, "domain": company.domain, "url": company.get_absolute_url()}


def deal_summary(deal) -> dict[str, Any] | None:
    if deal is None:
        return None
    return {"id": deal.pk, "name": deal.name, "amount": money_text(deal.amount), "currency": deal.currency,
            "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id, "url": deal.get_absolute_url()}


# --- leads ---------------------------------------------------------------------------------------------------


class LeadIn(Input):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = Field(None, description="stored in E.164 when it can be read")
    company_name: str | None = None
    title: str | None = None
    source: str | None = None
    status: str | None = Field(None, description="one of: " + ", ".join(LeadStatus.values)
                               + " (“converted” only by converting)")
    score: int | None = Field(None, description="-1000 to 1000")
    notes: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code or country name")
    owner_id: int | None = Field(None, description="on create, leave out to let the assignment rules choose; "
                                 "null for nobody")
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None


class LeadPatch(LeadIn):
    version: int | None = Field(None, description=VERSION_HELP)


class LeadOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    company_name: str
    title: str
    source: str
    status: str
    score: int | None
    notes: str
    country: str
    owner_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer: str
    landing_page: str
    form_id: int | None
    consent_text: str
    consent_at: dt.datetime | None
    assigned_at: dt.datetime | None
    first_response_at: dt.datetime | None
    response_seconds: int | None = Field(description="seconds from creation to the first response; null while "
                                         "it waits")
    overdue: bool = Field(description="new, not yet responded to, and older than the workspace's first-response "
                          "time")
    converted_at: dt.datetime | None
    converted_contact_id: int | None
    converted_company_id: int | None
    converted_deal_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class LeadWriteOut(LeadOut):
    warnings: list[WarningOut] = []


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class ConvertDealIn(Input):
    name: str | None = Field(None, description="defaults to “<company or contact> deal”")
    amount: Amount | None = None
    currency: str | None = Field(None, description="ISO 4217; the default currency when left out")
    pipeline_id: int | None = Field(None, description="the first pipeline when left out")
    stage_id: int | None = Field(None, description="the pipeline's first open stage when left out")
    expected_close_date: DateText = None


class ConvertIn(Input):
    contact_id: int | None = Field(None, description="link this existing contact instead of creating one")
    company_id: int | None = Field(None, description="link this existing company")
    create_company: bool = Field(True, description="without company_id, create a company from the lead's "
                                 "company name (when it has one)")
    deal: ConvertDealIn | None = Field(None, description="also create a deal for the contact and company")


class ConvertOut(Schema):
    lead: LeadOut
    contact: ContactSummaryOut
    company: CompanySummaryOut | None
    deal: DealSummaryOut | None


class ConversionSuggestionsOut(Schema):
    contact: ContactSummaryOut | None = Field(description="a contact with the lead's email")
    company: CompanySummaryOut | None = Field(description="a company with the lead's email domain or company name")


def first_response_minutes(lead: Lead) -> int:
    """From the list's annotation (no query per row), else from the sales settings."""
    if not hasattr(lead, "_first_response_minutes"):
        return SalesSettings.get().first_response_minutes
    minutes = lead._first_response_minutes
    # No settings row yet: the default it will be created with.
    return SalesSettings._meta.get_field("first_response_minutes").default if minutes is None else minutes


def lead_dict(obj: Lead, cf_keys: set[str] | None = None) -> dict[str, Any]:
    waiting = obj.awaiting_response
    overdue = waiting and obj.created_at < timezone.now() - dt.timedelta(minutes=first_response_minutes(obj))
    response = None
    if obj.first_response_at is not None:
        response = max(0, int((obj.first_response_at - obj.created_at).total_seconds()))
    return {
        "id": obj.pk,
        "first_name": obj.first_name,
        "last_name": obj.last_name,
        "full_name": obj.full_name,
        "email": obj.email,
        "phone": obj.phone,
        "company_name": obj.company_name,
        "title": obj.title,
        "source": obj.source,
        "status": obj.status,
        "score": obj.score,
        "notes": obj.notes,
        "country": obj.country,
        "owner_id": obj.owner_id,
        "tags": _tags(obj),
        "custom_fields": _custom(obj, cf_keys),
        "utm_source": obj.utm_source,
        "utm_medium": obj.utm_medium,
        "utm_campaign": obj.utm_campaign,
        "utm_term": obj.utm_term,
        "utm_content": obj.utm_content,
        "referrer": obj.referrer,
        "landing_page": obj.landing_page,
        "form_id": obj.form_id,
        "consent_text": obj.consent_text,
        "consent_at": obj.consent_at,
        "assigned_at": obj.assigned_at,
        "first_response_at": obj.first_response_at,
        "response_seconds": response,
        "overdue": bool(overdue),
        "converted_at": obj.converted_at,
        "converted_contact_id": obj.converted_contact_id,
        "converted_company_id": obj.converted_company_id,
        "converted_deal_id": obj.converted_deal_id,
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        "deleted_at": obj.deleted_at,
    }


# --- lead forms ----------------------------------------------------------------------------------------------


class FormFieldIn(Input):
    field: str = Field(description="one of: " + ", ".join(FORM_FIELDS))
    label: str | None = Field(None, description="defaults to the field's usual label")
    required: bool | None = None


class LeadFormIn(Input):
    name: str | None = None
    slug: str | None = Field(None, description="the form's address /f/<slug>; derived from the name when left out")
    fields: list[FormFieldIn] | None = Field(None, description="the lead fields asked for, in order; needs a "
                                             "name or an email field")
    consent_text: str | None = Field(None, description="when set, people must tick a box with this text")
    redirect_url: str | None = Field(None, description="send people here after submitting (else the thank-you "
                                     "text shows)")
    thank_you_text: str | None = None
    source: str | None = Field(None, description="the source of the leads it creates (default “Web form”)")
    active: bool | None = None


class FormFieldOut(Schema):
    field: str
    label: str
    required: bool


class LeadFormOut(Schema):
    id: int
    name: str
    slug: str
    url: str = Field(description="the public page of the form (no sign-in)")
    fields: list[FormFieldOut]
    consent_text: str
    redirect_url: str
    thank_you_text: str
    source: str
    active: bool
    submissions: int
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadFormPage(Schema):
    items: list[LeadFormOut]
    next_cursor: str | None


def lead_form_dict(form: LeadForm) -> dict[str, Any]:
    return {
        "id": form.pk,
        "name": form.name,
        "slug": form.slug,
        "url": form.get_absolute_url(),
        "fields": [{"field": f.get("field", ""), "label": f.get("label") or FORM_FIELDS.get(f.get("field"), ""),
                    "required": bool(f.get("required"))} for f in (form.fields or [])],
        "consent_text": form.consent_text,
        "redirect_url": form.redirect_url,
        "thank_you_text": form.thank_you_text,
        "source": form.source,
        "active": form.active,
        "submissions": form.submissions,
        "created_at": form.created_at,
        "updated_at": form.updated_at,
    }


# --- pipelines -----------------------------------------------------------------------------------------------


class StageIn(Input):
    name: str | None = None
    probability: int | None = Field(None, description="win probability in percent, 0 to 100")
    kind: str | None = Field(None, description="one of: " + ", ".join(StageKind.values) + " (default open)")


class PipelineIn(Input):
    name: str | None = None
    stages: list[StageIn] | None = Field(None, description="in order; the default stages when left out")
    position: int | None = None


class PipelinePatch(Input):
    name: str | None = None
    position: int | None = None


class ReorderIn(Input):
    stage_ids: list[int] = Field(description="every stage id of the pipeline, once, in the new order")


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    kind: str


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    stages: list[StageOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class PipelinePage(Schema):
    items: list[PipelineOut]
    next_cursor: str | None = None


def stage_dict(stage: Stage) -> dict[str, Any]:
    return {"id": stage.pk, "pipeline_id": stage.pipeline_id, "name": stage.name, "position": stage.position,
            "probability": stage.probability, "kind": stage.kind}


def pipeline_dict(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "position": pipeline.position,
        # Meta ordering (position, id), from the prefetch cache when the caller prefetched "stages".
        "stages": [stage_dict(s) for s in pipeline.stages.all()],
        "created_at": pipeline.created_at,
        "updated_at": pipeline.updated_at,
    }


# --- deals ---------------------------------------------------------------------------------------------------


class DealIn(Input):
    name: str | None = None
    amount: Amount | None = Field(None, description="decimal, e.g. \"1250.00\"; with line items the amount is "
                                  "their total and cannot be set")
    currency: str | None = Field(None, description="ISO 4217; the default currency when left out")
    expected_close_date: DateText = None
    pipeline_id: int | None = Field(None, description="the first pipeline when left out")
    stage_id: int | None = Field(None, description="the pipeline's first open stage when left out; a lost stage "
                                 "needs lost_reason")
    company_id: int | None = None
    contact_ids: list[int] | None = None
    primary_contact_id: int | None = Field(None, description="the first of contact_ids when left out")
    lost_reason: str | None = None
    next_step: str | None = None
    is_commit: bool | None = Field(None, description="the owner commits to closing it in its period")
    owner_id: int | None = Field(None, description="defaults to you on create; null for nobody")
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class DealPatch(DealIn):
    version: int | None = Field(None, description=VERSION_HELP)


class MoveIn(Input):
    stage_id: int = Field(description="a stage of any pipeline; the deal moves to that pipeline")
    lost_reason: str | None = Field(None, description="required when the stage is a lost stage")
    version: int | None = Field(None, description=VERSION_HELP)


class LineItemIn(Input):
    product_id: int | None = Field(None, description="a product: its name, price and tax rate are the defaults")
    name: str | None = Field(None, description="required without a product")
    quantity: Amount | None = Field(None, description="default 1; at least 0.01, 2 decimals")
    unit_price: Amount | None = Field(None, description="the product's price when left out")
    discount_pct: Amount | None = Field(None, description="percent, 0 to 100")
    tax_rate: Amount | None = Field(None, description="percent, 0 to 100; the product's rate when left out")


class LineItemOut(Schema):
    id: int | None
    product_id: int | None
    name: str
    quantity: str = Field(description="decimal string, e.g. \"2.00\"")
    unit_price: str = _money()
    discount_pct: str = Field(description="percent, decimal string")
    tax_rate: str = Field(description="percent, decimal string")
    total: str = _money("quantity × unit price less the discount, rounded half-up to the cent;")
    position: int


class DealOut(Schema):
    id: int
    name: str
    amount: str = _money()
    currency: str
    amount_default: str = _money("the amount in the workspace's default currency;")
    expected_close_date: dt.date | None
    pipeline_id: int
    stage_id: int
    stage_name: str
    stage_kind: str = Field(description="one of: " + ", ".join(StageKind.values))
    probability: int = Field(description="the stage's win probability in percent")
    weighted_amount: str = _money("amount × probability, rounded half-up;")
    company_id: int | None
    contact_ids: list[int]
    primary_contact_id: int | None
    lost_reason: str
    next_step: str
    is_commit: bool
    owner_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    line_items: list[LineItemOut]
    closed_at: dt.datetime | None
    stage_changed_at: dt.datetime
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class DealWriteOut(DealOut):
    warnings: list[WarningOut] = []


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class StageVisitOut(Schema):
    stage_id: int
    stage_name: str
    from_stage_id: int | None
    entered_at: dt.datetime
    left_at: dt.datetime | None = Field(description="null for the stage the deal is in now")
    duration_seconds: int = Field(description="time in the stage; until now for the current one")
    actor_id: int | None


class StageTotalOut(Schema):
    stage_id: int
    stage_name: str
    visits: int
    duration_seconds: int


class StageHistoryOut(Schema):
    items: list[StageVisitOut] = Field(description="every stage the deal entered, oldest first")
    totals: list[StageTotalOut] = Field(description="time per stage over all visits, in order of first entry")


def decimal_text(value: Decimal) -> str:
    """A quantity or percentage as stored: two places ("3.00", "19.00")."""
    return f"{money.q(Decimal(value)):f}"


def line_item_dict(li) -> dict[str, Any]:
    return {
        "id": li.pk,
        "product_id": li.product_id,
        "name": li.name,
        "quantity": decimal_text(li.quantity),
        "unit_price": money_text(li.unit_price),
        "discount_pct": decimal_text(li.discount_pct),
        "tax_rate": decimal_text(li.tax_rate),
        "total": money_text(li.total),
        "position": li.position,
    }


def deal_dict(obj: Deal, cf_keys: set[str] | None = None) -> dict[str, Any]:
    links = sorted(obj.deal_contacts.all(), key=lambda dc: dc.pk) if obj.pk else []
    primary = next((dc.contact_id for dc in links if dc.is_primary), None)
    stage = obj.stage
    return {
        "id": obj.pk,
        "name": obj.name,
        "amount": money_text(obj.amount),
        "currency": obj.currency,
        "amount_default": money_text(obj.amount_default),
        "expected_close_date": obj.expected_close_date,
        "pipeline_id": obj.pipeline_id,
        "stage_id": obj.stage_id,
        "stage_name": stage.name,
        "stage_kind": stage.kind,
        "probability": stage.probability,
        "weighted_amount": money_text(money.weighted(obj.amount, stage.probability)),
        "company_id": obj.company_id,
        "contact_ids": [dc.contact_id for dc in links],
        "primary_contact_id": primary,
        "lost_reason": obj.lost_reason,
        "next_step": obj.next_step,
        "is_commit": obj.is_commit,
        "owner_id": obj.owner_id,
        "tags": _tags(obj),
        "custom_fields": _custom(obj, cf_keys),
        "line_items": [line_item_dict(li) for li in sorted(obj.line_items.all(), key=lambda x: (x.position, x.pk))]
        if obj.pk else [],
        "closed_at": obj.closed_at,
        "stage_changed_at": obj.stage_changed_at,
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        "deleted_at": obj.deleted_at,
    }


# --- products ------------------------------------------------------------------------------------------------


class ProductIn(Input):
    name: str | None = None
    sku: str | None = Field(None, description="optional; unique when set")
    description: str | None = None
    unit_price: Amount | None = Field(None, description="required on create, e.g. \"99.00\"")
    currency: str | None = Field(None, description="ISO 4217; the default currency when left out")
    tax_rate: Amount | None = Field(None, description="percent, 0 to 100")
    active: bool | None = None


class ProductOut(Schema):
    id: int
    name: str
    sku: str
    description: str
    unit_price: str = _money()
    currency: str
    tax_rate: str = Field(description="percent, decimal string, e.g. \"19.00\"")
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


def product_dict(p: Product) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "sku": p.sku, "description": p.description,
            "unit_price": money_text(p.unit_price), "currency": p.currency, "tax_rate": decimal_text(p.tax_rate),
            "active": p.active, "created_at": p.created_at, "updated_at": p.updated_at}


# --- quotes --------------------------------------------------------------------------------------------------


class QuoteIn(Input):
    deal_id: int
    valid_until: DateText = Field(None, description="YYYY-MM-DD; today + the quote validity days when left out")
    terms: str | None = Field(None, description="the workspace's quote terms when left out")


class QuoteStatusIn(Input):
    status: str = Field(description="one of: " + ", ".join(QuoteStatus.values) + "; draft → sent → accepted or "
                        "declined")
    move_deal_to_won: bool = Field(False, description="when accepting: also move the deal to its pipeline's "
                                   "first won stage")
    version: int | None = Field(None, description=VERSION_HELP)


class QuoteLineOut(Schema):
    name: str
    sku: str
    quantity: str
    unit_price: str = _money()
    discount_pct: str
    tax_rate: str
    total: str = _money("before tax;")
    position: int


class QuoteOut(Schema):
    id: int
    number: str = Field(description="Q-<year>-<0001>")
    deal_id: int
    status: str = Field(description="one of: " + ", ".join(QuoteStatus.values))
    currency: str
    valid_until: dt.date
    terms: str
    subtotal: str = _money()
    tax_total: str = _money()
    total: str = _money()
    lines: list[QuoteLineOut]
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    version: int
    pdf_url: str = Field(description="GET it for the quote as a PDF")


class QuotePage(Schema):
    items: list[QuoteOut]
    next_cursor: str | None


def quote_dict(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.pk,
        "number": quote.number,
        "deal_id": quote.deal_id,
        "status": quote.status,
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "terms": quote.terms,
        "subtotal": money_text(quote.subtotal),
        "tax_total": money_text(quote.tax_total),
        "total": money_text(quote.total),
        "lines": [
            {"name": line.name, "sku": line.sku, "quantity": decimal_text(line.quantity),
             "unit_price": money_text(line.unit_price), "discount_pct": decimal_text(line.discount_pct),
             "tax_rate": decimal_text(line.tax_rate), "total": money_text(line.total), "position": line.position}
            for line in sorted(quote.lines.all(), key=lambda x: (x.position, x.pk))
        ],
        "created_by_id": quote.created_by_id,
        "created_at": quote.created_at,
        "updated_at": quote.updated_at,
        "sent_at": quote.sent_at,
        "decided_at": quote.decided_at,
        "version": quote.version,
        "pdf_url": f"/api/v1/quotes/{quote.pk}/pdf",
    }


# --- quotas --------------------------------------------------------------------------------------------------


class QuotaIn(Input):
    user_id: int
    period_kind: str = Field(description="one of: " + ", ".join(PeriodKind.values))
    period_start: DateText = Field(description="any day of the month or quarter (stored as its first day)")
    amount: Amount = Field(description="in the default currency, e.g. \"50000.00\"")


class QuotaOut(Schema):
    id: int
    user_id: int
    period_kind: str
    period: str = Field(description="e.g. 2026-Q4 or 2026-11 (as the forecast takes it)")
    period_start: dt.date
    amount: str = _money("in the default currency;")


class QuotaPage(Schema):
    items: list[QuotaOut]
    next_cursor: str | None


def quota_dict(quota: Quota) -> dict[str, Any]:
    start = quota.period_start
    if quota.period_kind == PeriodKind.QUARTER:
        period = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    else:
        period = f"{start.year}-{start.month:02d}"
    return {"id": quota.pk, "user_id": quota.user_id, "period_kind": quota.period_kind, "period": period,
            "period_start": start, "amount": money_text(quota.amount)}


# --- forecast ------------------------------------------------------------------------------------------------


class ForecastRowOut(Schema):
    key: int | None = Field(description="the owner's user id or the pipeline id; null for deals without an owner "
                            "and for the total")
    label: str
    open_amount: str = _money("open deals expected to close in the period;")
    open_count: int
    weighted_amount: str = _money("open amounts × stage probability;")
    committed_amount: str = _money("open deals marked commit;")
    committed_count: int
    won_amount: str = _money("deals won in the period;")
    won_count: int
    lost_count: int
    quota: str | None = Field(description="decimal string; null without a quota")
    attainment: str | None = Field(description="won as a percentage of the quota, one decimal, e.g. \"62.5\"")


class ForecastOut(Schema):
    period: str = Field(description="e.g. 2026-Q4 or 2026-11")
    period_label: str
    period_kind: str
    start: dt.date
    end: dt.date = Field(description="the first day after the period")
    group_by: str = Field(description="one of: " + ", ".join(GROUPS))
    currency: str = Field(description="every amount is in this, the default currency")
    rows: list[ForecastRowOut]
    total: ForecastRowOut


def forecast_row_dict(row: ForecastRow) -> dict[str, Any]:
    data = row.as_dict()
    for key in ("open_amount", "weighted_amount", "committed_amount", "won_amount", "quota"):
        data[key] = money_text(data[key])
    attainment = data["attainment"]
    data["attainment"] = None if attainment is None else f"{attainment:f}"
    return data


def forecast_dict(fc: Forecast) -> dict[str, Any]:
    return {
        "period": fc.period.key,
        "period_label": fc.period.label,
        "period_kind": fc.period.kind,
        "start": fc.period.start,
        "end": fc.period.end,
        "group_by": fc.group_by,
        "currency": fc.currency,
        "rows": [forecast_row_dict(r) for r in fc.rows],
        "total": forecast_row_dict(fc.total),
    }
