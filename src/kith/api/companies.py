"""/api/v1/companies: list, create, get (with contacts_count), patch, trash, restore, history."""

from __future__ import annotations

from typing import Any

from kith.contacts import services
from kith.contacts.filtersets import CompanyFilterSet
from kith.contacts.models import Company, Contact
from kith.core.permissions import visible

from .resources import RecordResource, build_router
from .schemas import (
    CompanyDetailOut,
    CompanyIn,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    CompanyWriteOut,
    company_dict,
)


def _detail_extra(company: Company, user) -> dict[str, Any]:
    # One indexed count on the detail page only (lists never count).
    return {"contacts_count": visible(Contact, user).filter(company_id=company.pk).count()}


resource = RecordResource(
    model=Company,
    path="companies",
    singular="company",
    filterset=CompanyFilterSet,
    in_schema=CompanyIn,
    patch_schema=CompanyPatch,
    out_schema=CompanyOut,
    detail_schema=CompanyDetailOut,
    write_schema=CompanyWriteOut,
    page_schema=CompanyPage,
    to_dict=company_dict,
    create=lambda actor, data: services.create_company(actor=actor, data=data),
    update=lambda actor, obj, data, version: services.update_company(
        actor=actor, company=obj, data=data, expected_version=version
    ),
    delete=lambda actor, obj, version: services.delete_company(actor=actor, company=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_company(actor=actor, company=obj),
    detail_extra=_detail_extra,
)

router = build_router(resource)
