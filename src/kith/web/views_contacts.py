"""Contact pages: list, record page, create/edit forms, trash and restore."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.contacts import services
from kith.contacts.filtersets import ContactFilterSet
from kith.contacts.models import Company, Contact
from kith.core.permissions import visible
from kith.duplicates.views import form_warning, warn_after_save
from kith.sales.views.deals import deals_for

from .forms import ContactForm
from .ui import Column, ListSpec, contact_filter_fields, list_page
from .views_records import detail_context, form_page, get_visible, restore_action, trash_action

CONTACT_LIST = ListSpec(
    model=Contact,
    filterset=ContactFilterSet,
    columns=[
        Column("Name", "name", "col-name w-17"),
        Column("Email", "email", "w-17"),
        Column("Phone", None, "w-13"),
        Column("Company", "company", "w-12"),
        Column("Job title", "job_title", "w-12"),
        Column("Lifecycle stage", "lifecycle_stage", "w-11"),
        Column("Owner", "owner", "w-9"),
        Column("Updated", "updated_at", "col-date w-9"),
    ],
    select_related=("company", "owner"),
    noun="contact",
    noun_plural="contacts",
    url_name="web:contact_list",
    page_template="web/contacts/list.html",
    results_template="web/contacts/_results.html",
    rows_template="web/contacts/_rows.html",
    filter_fields=contact_filter_fields,
)


@login_required
@require_GET
def contact_list(request):
    return list_page(request, CONTACT_LIST)


@login_required
@require_GET
def contact_detail(request, pk: int):
    contact = get_visible(Contact, request, pk, include_trash=True)
    ctx = detail_context(request, contact, "contact")
    company = contact.company
    ctx["company"] = company
    ctx["company_visible"] = company is not None and visible(Company.all_objects.filter(pk=company.pk),
                                                               request.user).exists()
    ctx["deals"] = deals_for(request.user, contact=contact)
    ctx["new_deal_query"] = f"contact={contact.pk}"
    return render(request, "web/contacts/detail.html", ctx)


def _update(actor, contact, data, version):
    return services.update_contact(actor=actor, contact=contact, data=data, expected_version=version)


def _warned(request, write):
    """The write, then a non-blocking "may already exist" message for likely duplicates."""
    def run(*args, **kwargs):
        obj = write(*args, **kwargs)
        warn_after_save(request, obj)
        return obj

    return run


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request):
    initial = {"owner_id": str(request.user.pk)}
    company_id = request.GET.get("company", "")
    company = None
    if company_id.isdigit():
        company = visible(Company, request.user).filter(pk=int(company_id)).first()
        if company is not None:
            initial["company_id"] = str(company.pk)
    return form_page(
        request, form_class=ContactForm, instance=None, create=_warned(request, services.create_contact),
        update=_update, template="web/contacts/form.html", noun="contact", initial=initial,
        extra={"cancel_url": company.get_absolute_url() if company else reverse("web:contact_list"),
               **form_warning(request, "contact")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = get_visible(Contact, request, pk)
    return form_page(
        request, form_class=ContactForm, instance=contact, create=services.create_contact,
        update=_warned(request, _update), template="web/contacts/form.html", noun="contact",
        extra={"cancel_url": contact.get_absolute_url(), **form_warning(request, "contact", contact)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    contact = get_visible(Contact, request, pk)
    return trash_action(
        request, contact, noun="contact", list_url=reverse("web:contact_list"),
        delete=lambda actor, obj, expected_version: services.delete_contact(
            actor=actor, contact=obj, expected_version=expected_version),
    )


@login_required
@require_POST
def contact_restore(request, pk: int):
    contact = get_visible(Contact, request, pk, include_trash=True)
    return restore_action(
        request, contact, noun="contact",
        restore=lambda actor, obj: services.restore_contact(actor=actor, contact=obj),
    )
