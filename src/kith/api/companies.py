"""/api/v1/companies: list, create, get (with contacts_count), patch, trash, restore, history."""

from __future__ import annotations

from typing import Any

from kith.contacts import services
from kith.contacts.filtersets import CompanyFilterSet
from kith.contacts.models import Company, Contact
from kith.core.permissions import visible

from .duplicates_api import hints
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


def _hinted(obj, actor):
    obj.duplicate_hints = hints("company", obj, actor)
    return obj


def _to_dict(obj, cf_keys=None):
    data = company_dict(obj, cf_keys)
    if hasattr(obj, "duplicate_hints"):
        data["duplicates"] = obj.duplicate_hints
    return data


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
    to_dict=_to_dict,
    create=lambda actor, data: _hinted(services.create_company(actor=actor, data=data), actor),
    update=lambda actor, obj, data, version: _hinted(services.update_company(
        actor=actor, company=obj, data=data, expected_version=version
    ), actor),
    delete=lambda actor, obj, version: services.delete_company(actor=actor, company=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_company(actor=actor, company=obj),
    detail_extra=_detail_extra,
)

router = build_router(resource)
