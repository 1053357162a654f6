"""/api/v1/lead-forms: the web forms that capture leads (hosted at /f/<slug>). Everyone reads them; admins and
managers create, change and delete them. Submissions go to the public page, not to this API."""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core.pagination import Ordering
from kith.sales import services
from kith.sales.models import LeadForm

from . import common, errors
from .auth import settings_auth
from .sales_schemas import LeadFormIn, LeadFormOut, LeadFormPage, lead_form_dict
from .schemas import with_errors

router = Router(tags=["lead forms"])
NAME_ORDERING = Ordering("name", (Lower("name"),))


@router.get("", response=with_errors({200: LeadFormPage}, errors.LIST), operation_id="list_lead_forms",
            summary="List lead forms", description="By name. Follow `next_cursor` for the next page.")
def list_lead_forms(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    q: str | None = Query(None, description="Part of the name or address (slug)."),
    active: bool | None = Query(None, description="true for forms taking submissions, false for paused ones"),
):
    qs = LeadForm.objects.all()
    if q and q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(slug__icontains=q.strip()))
    if active is not None:
        qs = qs.filter(active=active)
    rows, next_cursor = common.page(qs, ordering=NAME_ORDERING, descending=False, cursor=cursor, limit=limit)
    return {"items": [lead_form_dict(f) for f in rows], "next_cursor": next_cursor}


@router.post("", response=with_errors({201: LeadFormOut}, errors.CREATE), operation_id="create_lead_form",
             summary="Create a lead form (admins and managers)",
             description="`fields` lists the lead fields asked for, in order: first_name, last_name, email, phone, "
             "company_name, title, country, notes; one of the name or email fields is needed.", auth=settings_auth)
def create_lead_form(request: HttpRequest, payload: LeadFormIn):
    form = services.create_form(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, lead_form_dict(form))


@router.get("/{int:id}", response=with_errors({200: LeadFormOut}, errors.READ), operation_id="get_lead_form",
            summary="Get a lead form")
def get_lead_form(request: HttpRequest, id: int):
    return lead_form_dict(LeadForm.objects.get(pk=id))


@router.patch("/{int:id}", response=with_errors({200: LeadFormOut}, (400, 401, 403, 404, 422)),
              operation_id="update_lead_form", summary="Change a lead form (admins and managers)",
              description="Only the keys sent change; `fields` replaces the whole list. `active: false` pauses "
              "the form.", auth=settings_auth)
def update_lead_form(request: HttpRequest, id: int, payload: LeadFormIn):
    form = services.update_form(actor=request.auth, form=LeadForm.objects.get(pk=id),
                                data=payload.model_dump(exclude_unset=True))
    return lead_form_dict(form)


@router.delete("/{int:id}", response=with_errors({204: None}, (401, 403, 404)), operation_id="delete_lead_form",
               summary="Delete a lead form (admins and managers)",
               description="Its leads stay, with their attribution; they lose the link to the form.",
               auth=settings_auth)
def delete_lead_form(request: HttpRequest, id: int):
    services.delete_form(actor=request.auth, form=LeadForm.objects.get(pk=id))
    return Status(204, None)
