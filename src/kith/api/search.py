"""/api/v1/search: one ranked list of contacts, companies, leads and deals matching a query, typos forgiven."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from kith.contacts.models import Company, Contact
from kith.core import search as search_index
from kith.core.errors import ValidationError
from kith.core.permissions import visible
from kith.sales.models import Deal, Lead

from . import errors
from .schemas import SearchResultOut, with_errors

router = Router(tags=["search"])

TYPES = {"contact": Contact, "company": Company, "lead": Lead, "deal": Deal}


def _subtitle(obj) -> str:
    if isinstance(obj, Contact):
        role = obj.job_title
        if obj.company_id:
            role = f"{role} at {obj.company.name}" if role else obj.company.name
        parts = [role, obj.email]
    elif isinstance(obj, Lead):
        parts = [obj.company_name, obj.email, obj.get_status_display()]
    elif isinstance(obj, Deal):
        parts = [obj.company.name if obj.company_id else "", f"{obj.amount} {obj.currency}", obj.stage.name]
    else:
        parts = [obj.domain, obj.industry, obj.city]
    return " · ".join(p for p in parts if p)


def _types(request: HttpRequest) -> list[str]:
    names: list[str] = []
    for value in request.GET.getlist("types"):
        names.extend(p.strip() for p in value.split(",") if p.strip())
    bad = [n for n in names if n not in TYPES]
    if bad:
        raise ValidationError({"types": [f"Unknown type “{bad[0]}”. Use any of: {', '.join(TYPES)}."]})
    return list(dict.fromkeys(names)) or list(TYPES)


@router.get("", response=with_errors({200: list[SearchResultOut]}, errors.LIST), operation_id="search",
            summary="Search contacts, companies, leads and deals",
            description="Best matches first: names, emails, phone digits, company names and domains; every word "
            "must match, the last as a prefix, and small typos are forgiven.")
def search(
    request: HttpRequest,
    q: str = Query("", description="What to look for."),
    types: str | None = Query(None, description="Comma-separated: contact, company, lead, deal (default all)."),
    limit: int = Query(20, ge=1, le=100, description="At most this many results, 1 to 100."),
):
    kinds = _types(request)
    if not q.strip():
        return []
    user = request.auth
    # Ask for more than needed: some hits may be records this user cannot see.
    hits = search_index.search(q, kinds=kinds, limit=min(limit * 2, 200))
    found: dict[str, dict[int, Any]] = {}
    for kind in kinds:
        ids = [oid for k, oid, _ in hits if k == kind]
        qs = visible(TYPES[kind], user)
        if kind in ("contact", "deal"):
            qs = qs.select_related("company", *(("stage",) if kind == "deal" else ()))
        found[kind] = qs.in_bulk(ids) if ids else {}
    results = []
    for kind, oid, score in hits:
        obj = found.get(kind, {}).get(oid)
        if obj is None:
            continue
        results.append({
            "type": kind,
            "id": obj.pk,
            "title": str(obj),
            "subtitle": _subtitle(obj),
            "url": obj.get_absolute_url(),
            "score": round(score, 6),
        })
        if len(results) >= limit:
            break
    return results
