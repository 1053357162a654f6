"""/api/v1/leads: list, create, get, patch, trash, restore, history; convert and conversion suggestions."""

from __future__ import annotations

from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse

from kith.core import permissions
from kith.sales import services
from kith.sales.filtersets import LeadFilterSet
from kith.sales.models import Lead, SalesSettings

from . import common, errors
from .auth import write_auth
from .resources import RecordResource, build_router
from .sales_schemas import (
    ConversionSuggestionsOut,
    ConvertIn,
    ConvertOut,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadWriteOut,
    cf_keys,
    company_summary,
    contact_summary,
    deal_summary,
    lead_dict,
)
from .schemas import with_errors


def _prepare(qs):
    # The first-response time decides "overdue": read it in the same query as the leads (constant per page).
    minutes = SalesSettings.objects.filter(pk=1).values("first_response_minutes")[:1]
    return qs.annotate(_first_response_minutes=Subquery(minutes))


resource = RecordResource(
    model=Lead,
    path="leads",
    singular="lead",
    filterset=LeadFilterSet,
    in_schema=LeadIn,
    patch_schema=LeadPatch,
    out_schema=LeadOut,
    detail_schema=LeadOut,
    write_schema=LeadWriteOut,
    page_schema=LeadPage,
    to_dict=lead_dict,
    create=lambda actor, data: services.create_lead(actor=actor, data=data),
    update=lambda actor, obj, data, version: services.update_lead(
        actor=actor, lead=obj, data=data, expected_version=version
    ),
    delete=lambda actor, obj, version: services.delete_lead(actor=actor, lead=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_lead(actor=actor, lead=obj),
    prepare=_prepare,
)

router = build_router(resource)


def _lead(user, pk: int) -> Lead:
    return _prepare(permissions.visible(Lead, user).prefetch_related("tags")).get(pk=pk)


@router.post(
    "/{int:id}/convert",
    response=with_errors({200: ConvertOut}, (400, *errors.ACTION)),
    operation_id="convert_lead",
    auth=write_auth,
    summary="Convert a lead",
    description=(
        "In one step: a contact (new from the lead, or `contact_id`), a company (`company_id`, or new from the "
        "lead's company name unless `create_company` is false) and, with `deal`, a deal for them. The lead "
        "becomes converted and links to them. Nothing is written when anything is wrong; errors of the new "
        "contact and deal are named `contact.<field>` and `deal.<field>`."
    ),
)
def convert_lead(request: HttpRequest, id: int, payload: ConvertIn, response: HttpResponse):
    user = request.auth
    lead = _lead(user, id)
    data = payload.model_dump(exclude_unset=True)
    contact, company, deal = services.convert_lead(
        actor=user,
        lead=lead,
        contact_id=data.get("contact_id"),
        company_id=data.get("company_id"),
        create_company=data.get("create_company", True),
        deal=data.get("deal"),
    )
    lead = _lead(user, id)
    common.set_record_headers(response, lead)
    return {
        "lead": lead_dict(lead, cf_keys("lead")),
        "contact": contact_summary(contact),
        "company": company_summary(company),
        "deal": deal_summary(deal),
    }


@router.get(
    "/{int:id}/conversion-suggestions",
    response=with_errors({200: ConversionSuggestionsOut}, errors.READ),
    operation_id="lead_conversion_suggestions",
    summary="Existing records a lead probably is",
    description="A contact with the lead's email, and a company with its email domain or company name, to link "
    "when converting instead of creating duplicates.",
)
def conversion_suggestions(request: HttpRequest, id: int):
    user = request.auth
    found = services.conversion_suggestions(_lead(user, id), actor=user)
    return {"contact": contact_summary(found["contact"]), "company": company_summary(found["company"])}
