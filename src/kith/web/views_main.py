"""Home, trash and global search."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kith.activities.models import Activity
from kith.activities.views_myday import my_day_context
from kith.contacts.models import Company, Contact
from kith.core import search as search_engine
from kith.core.permissions import visible
from kith.sales.models import Deal, Lead

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
        **my_day_context(user),  # My day: tasks, meetings, waiting leads, deals going cold
    }
    return render(request, "web/home.html", ctx)


def _contact_detail(c) -> str:
    return c.email or (c.company.name if c.company else "")


def _deal_detail(d) -> str:
    return " · ".join(p for p in [d.company.name if d.company else "", f"{d.amount} {d.currency}"] if p)


# (label, model, select_related, detail, restore URL name) of every record type that goes to the trash.
TRASH_TYPES = [
    ("Contact", Contact, ("company", "deleted_by"), _contact_detail, "web:contact_restore"),
    ("Company", Company, ("deleted_by",), lambda c: c.domain, "web:company_restore"),
    ("Lead", Lead, ("deleted_by",), lambda lead: lead.email or lead.company_name, "web:lead_restore"),
    ("Deal", Deal, ("company", "deleted_by"), _deal_detail, "web:deal_restore"),
    ("Activity", Activity, ("deleted_by",), lambda a: a.get_type_display(), "web:activity_restore"),
]


@login_required
@require_GET
def trash(request):
    user = request.user
    items = []
    for label, model, related, detail, restore in TRASH_TYPES:
        rows = visible(model.all_objects.trashed(), user).select_related(*related)
        for obj in rows.order_by("-deleted_at", "-id")[:TRASH_LIMIT]:
            items.append({"kind": label, "obj": obj, "detail": detail(obj), "restore_name": restore})
    items.sort(key=lambda i: (i["obj"].deleted_at, i["obj"].pk), reverse=True)
    truncated = len(items) > TRASH_LIMIT
    items = items[:TRASH_LIMIT]
    for item in items:
        item["purge_on"] = purge_date(item["obj"].deleted_at)
        item["restore_url"] = reverse(item.pop("restore_name"), args=[item["obj"].pk])
    return render(request, "web/trash.html", {
        "items": items,
        "truncated": truncated,
        "trash_days": int(getattr(settings, "KITH_TRASH_DAYS", 30)),
        "can_write": user.can_write,
    })


def search_hits(user, q: str, limit: int) -> list[dict]:
    """Ranked, visible contacts, companies, leads and deals for a query, as display rows."""
    hits = search_engine.search(q, kinds=["contact", "company", "lead", "deal"], limit=limit)
    ids: dict[str, list[int]] = {}
    for kind, oid, _ in hits:
        ids.setdefault(kind, []).append(oid)
    found = {
        "contact": {c.pk: c for c in visible(Contact, user).filter(pk__in=ids.get("contact", [])).select_related("company")},
        "company": {c.pk: c for c in visible(Company, user).filter(pk__in=ids.get("company", []))},
        "lead": {c.pk: c for c in visible(Lead, user).filter(pk__in=ids.get("lead", []))},
        "deal": {c.pk: c for c in visible(Deal, user).filter(pk__in=ids.get("deal", [])).select_related("company", "stage")},
    }
    rows = []
    for kind, oid, _score in hits:
        obj = found.get(kind, {}).get(oid)
        if obj is None:
            continue
        if kind == "contact":
            detail = " · ".join(p for p in [obj.email, obj.company.name if obj.company else ""] if p)
        elif kind == "company":
            detail = obj.domain
        elif kind == "lead":
            detail = " · ".join(p for p in [obj.email, obj.company_name, obj.get_status_display()] if p)
        else:
            detail = " · ".join(p for p in [obj.company.name if obj.company else "", obj.stage.name] if p)
        rows.append({"kind": kind, "kind_label": kind.capitalize(), "obj": obj, "title": str(obj), "detail": detail,
                     "url": obj.get_absolute_url()})
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
