"""Company pages: list, record page with its people, create/edit forms, trash and restore, lookup."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models.functions import Lower
from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.contacts import services
from kith.contacts.filtersets import CompanyFilterSet
from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.permissions import visible
from kith.duplicates.views import form_warning, warn_after_save
from kith.sales.views.deals import deals_for

from .forms import CompanyForm
from .ui import Column, ListSpec, company_filter_fields, list_page, url_with
from .views_records import detail_context, form_page, get_visible, restore_action, trash_action

PEOPLE_LIMIT = 50

COMPANY_LIST = ListSpec(
    model=Company,
    filterset=CompanyFilterSet,
    columns=[
        Column("Name", "name", "col-name w-24"),
        Column("Domain", "domain", "w-17"),
        Column("Industry", "industry", "w-15"),
        Column("Employees", "size", "col-num w-10"),
        Column("City", "city", "w-13"),
        Column("Owner", "owner", "w-12"),
        Column("Updated", "updated_at", "col-date w-9"),
    ],
    select_related=("owner",),
    noun="company",
    noun_plural="companies",
    url_name="web:company_list",
    page_template="web/companies/list.html",
    results_template="web/companies/_results.html",
    rows_template="web/companies/_rows.html",
    filter_fields=company_filter_fields,
)


@login_required
@require_GET
def company_list(request):
    return list_page(request, COMPANY_LIST)


@login_required
@require_GET
def company_detail(request, pk: int):
    company = get_visible(Company, request, pk, include_trash=True)
    ctx = detail_context(request, company, "company")
    people = list(
        visible(Contact, request.user).filter(company=company).select_related("owner")
        .order_by(Lower("full_name"), "id")[: PEOPLE_LIMIT + 1]
    )
    ctx["people"] = people[:PEOPLE_LIMIT]
    ctx["people_more"] = len(people) > PEOPLE_LIMIT
    ctx["people_url"] = url_with(reverse("web:contact_list"), QueryDict(), company=company.pk)
    ctx["add_person_url"] = reverse("web:contact_create") + f"?company={company.pk}"
    ctx["deals"] = deals_for(request.user, company=company)
    ctx["new_deal_query"] = f"company={company.pk}"
    return render(request, "web/companies/detail.html", ctx)


def _update(actor, company, data, version):
    return services.update_company(actor=actor, company=company, data=data, expected_version=version)


def _warned(request, write):
    """The write, then a non-blocking "may already exist" message for likely duplicates."""
    def run(*args, **kwargs):
        obj = write(*args, **kwargs)
        warn_after_save(request, obj)
        return obj

    return run


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request):
    return form_page(
        request, form_class=CompanyForm, instance=None, create=_warned(request, services.create_company),
        update=_update, template="web/companies/form.html", noun="company",
        initial={"owner_id": str(request.user.pk)},
        extra={"cancel_url": reverse("web:company_list"), **form_warning(request, "company")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request, pk: int):
    company = get_visible(Company, request, pk)
    return form_page(
        request, form_class=CompanyForm, instance=company, create=services.create_company,
        update=_warned(request, _update), template="web/companies/form.html", noun="company",
        extra={"cancel_url": company.get_absolute_url(), **form_warning(request, "company", company)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request, pk: int):
    company = get_visible(Company, request, pk)
    return trash_action(
        request, company, noun="company", list_url=reverse("web:company_list"),
        delete=lambda actor, obj, expected_version: services.delete_company(
            actor=actor, company=obj, expected_version=expected_version),
    )


@login_required
@require_POST
def company_restore(request, pk: int):
    company = get_visible(Company, request, pk, include_trash=True)
    return restore_action(
        request, company, noun="company",
        restore=lambda actor, obj: services.restore_company(actor=actor, company=obj),
    )


@login_required
@require_GET
def company_lookup(request):
    """Companies for the company picker: [{"id", "label", "hint"}], best matches first."""
    q = (request.GET.get("q") or "").strip()
    qs = visible(Company, request.user)
    if q:
        ids = [oid for _, oid, _ in search.search(q, kinds=["company"], limit=20)]
        found = {c.pk: c for c in qs.filter(pk__in=ids)}
        companies = [found[i] for i in ids if i in found]
    else:
        companies = list(qs.order_by(Lower("name"), "id")[:20])
    return JsonResponse({"results": [{"id": c.pk, "label": c.name, "hint": c.domain} for c in companies]})
