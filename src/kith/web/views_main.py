"""Home, trash and global search."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kith.contacts.models import Company, Contact
from kith.core import search as search_engine
from kith.core.permissions import visible

from .ui import is_fragment_request, purge_date, vary_htmx

HOME_LIMIT = 8
TRASH_LIMIT = 200
SEARCH_DROPDOWN_LIMIT = 8
SEARCH_PAGE_LIMIT = 50


@login_required
@require_GET
def home(request):
    user = request.user
    contacts = visible(Contact, user).select_related("company", "owner")
    companies = visible(Company, user).select_related("owner")
    ctx = {
        "recent_contacts": list(contacts.order_by("-updated_at", "-id")[:HOME_LIMIT]),
        "recent_companies": list(companies.order_by("-updated_at", "-id")[:HOME_LIMIT]),
        "my_contacts": list(contacts.filter(owner=user).order_by("-updated_at", "-id")[:HOME_LIMIT]),
        "can_write": user.can_write,
    }
    return render(request, "web/home.html", ctx)


@login_required
@require_GET
def trash(request):
    user = request.user
    contacts = visible(Contact.all_objects.trashed(), user).select_related("company", "deleted_by")
    companies = visible(Company.all_objects.trashed(), user).select_related("deleted_by")
    items = []
    for c in contacts.order_by("-deleted_at", "-id")[:TRASH_LIMIT]:
        items.append({"kind": "Contact", "obj": c, "detail": c.email or (c.company.name if c.company else "")})
    for c in companies.order_by("-deleted_at", "-id")[:TRASH_LIMIT]:
        items.append({"kind": "Company", "obj": c, "detail": c.domain})
    items.sort(key=lambda i: (i["obj"].deleted_at, i["obj"].pk), reverse=True)
    truncated = len(items) > TRASH_LIMIT
    items = items[:TRASH_LIMIT]
    for item in items:
        item["purge_on"] = purge_date(item["obj"].deleted_at)
        name = "web:contact_restore" if item["kind"] == "Contact" else "web:company_restore"
        item["restore_url"] = reverse(name, args=[item["obj"].pk])
    return render(request, "web/trash.html", {
        "items": items,
        "truncated": truncated,
        "trash_days": int(getattr(settings, "KITH_TRASH_DAYS", 30)),
        "can_write": user.can_write,
    })


def search_hits(user, q: str, limit: int) -> list[dict]:
    """Ranked, visible contacts and companies for a query, as display rows."""
    hits = search_engine.search(q, kinds=["contact", "company"], limit=limit)
    contact_ids = [i for k, i, _ in hits if k == "contact"]
    company_ids = [i for k, i, _ in hits if k == "company"]
    contacts = {c.pk: c for c in visible(Contact, user).filter(pk__in=contact_ids).select_related("company")}
    companies = {c.pk: c for c in visible(Company, user).filter(pk__in=company_ids)}
    rows = []
    for kind, oid, _score in hits:
        if kind == "contact" and oid in contacts:
            c = contacts[oid]
            detail = " · ".join(p for p in [c.email, c.company.name if c.company else ""] if p)
            rows.append({"kind": "contact", "kind_label": "Contact", "obj": c, "title": str(c), "detail": detail,
                         "url": c.get_absolute_url()})
        elif kind == "company" and oid in companies:
            c = companies[oid]
            rows.append({"kind": "company", "kind_label": "Company", "obj": c, "title": c.name,
                         "detail": c.domain, "url": c.get_absolute_url()})
    return rows


@login_required
@require_GET
def search(request):
    q = (request.GET.get("q") or "").strip()[:200]
    if is_fragment_request(request):
        rows = search_hits(request.user, q, SEARCH_DROPDOWN_LIMIT) if q else []
        return vary_htmx(render(request, "web/_search_dropdown.html", {"q": q, "results": rows}))
    rows = search_hits(request.user, q, SEARCH_PAGE_LIMIT) if q else []
    return vary_htmx(render(request, "web/search.html", {"q": q, "results": rows}))
