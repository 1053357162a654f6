"""Lead pages: the list (with the first-response clock), record page, create/edit, quick status and owner
changes, conversion into a contact / company / deal, trash and restore."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.contacts.models import Company, Contact
from kith.core.countries import countries, country_name
from kith.core.models import CustomField
from kith.core.permissions import visible
from kith.web.ui import (
    Column,
    FilterField,
    ListSpec,
    _param,
    custom_filter_fields,
    date_filter_fields,
    list_page,
    owner_options,
    tag_names,
)
from kith.web.views_records import (
    detail_context,
    form_page,
    get_visible,
    require_writer,
    restore_action,
    show_warnings,
    trash_action,
)

from .. import services
from ..choices import LeadStatus
from ..filtersets import LeadFilterSet
from ..forms_leads import ConvertForm, LeadRecordForm, active_users
from ..models import Deal, Lead, LeadForm

NAV = "leads"
STATUS_LABELS = dict(LeadStatus.choices)


def lead_filter_fields(request: HttpRequest, params, defs: list[CustomField]) -> list[FilterField]:
    forms_ = [(str(f.pk), f.name) for f in LeadForm.objects.order_by("name")[:200]]
    fields = [
        FilterField("status", "Status", "select", _param(params, "status"), options=list(LeadStatus.choices)),
        FilterField("overdue", "Waiting too long", "select", _param(params, "overdue"),
                    options=[("true", "Yes: past the first-response time"), ("false", "No")]),
        FilterField("owner", "Owner", "select", _param(params, "owner"), options=owner_options()),
        FilterField("source", "Source", "text", _param(params, "source")),
        FilterField("form", "Web form", "select", _param(params, "form"), options=[("none", "No form"), *forms_]),
        FilterField("tag", "Tag", "text", _param(params, "tag"), datalist=tag_names()),
        FilterField("country", "Country", "select", _param(params, "country"), options=countries()),
        FilterField("utm_campaign", "UTM campaign", "text", _param(params, "utm_campaign")),
        *date_filter_fields(params),
    ]
    return fields + custom_filter_fields("lead", params, defs)


LEAD_LIST = ListSpec(
    model=Lead,
    filterset=LeadFilterSet,
    columns=[
        Column("Name", "name", "col-name w-15"),
        Column("Email", "email", "w-15"),
        Column("Company", "company_name", "w-12"),
        Column("Source", "source", "w-9"),
        Column("Status", "status", "w-10"),
        Column("Owner", "owner", "w-11"),
        Column("Created", "created_at", "col-date w-9"),
        Column("Waiting", None, "w-15"),
    ],
    select_related=("owner",),
    noun="lead",
    noun_plural="leads",
    url_name="web:lead_list",
    page_template="sales/leads/list.html",
    results_template="sales/leads/_results.html",
    rows_template="sales/leads/_rows.html",
    filter_fields=lead_filter_fields,
)


@login_required
@require_GET
def lead_list(request):
    return list_page(request, LEAD_LIST)


# --- record page ----------------------------------------------------------------------------------------


def _visible_or_none(model, obj, user):
    if obj is None:
        return None
    return obj if visible(model.all_objects.filter(pk=obj.pk), user).exists() else None


@login_required
@require_GET
def lead_detail(request, pk: int):
    lead = get_visible(Lead, request, pk, include_trash=True)
    ctx = detail_context(request, lead, "lead")
    user = request.user
    ctx.update({
        "nav_section": NAV,
        "status_choices": [(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED],
        "users": active_users(),
        "is_converted": lead.status == LeadStatus.CONVERTED,
        "converted_contact": _visible_or_none(Contact, lead.converted_contact, user),
        "converted_company": _visible_or_none(Company, lead.converted_company, user),
        "converted_deal": _visible_or_none(Deal, lead.converted_deal, user),
        "country": country_name(lead.country),
        "can_manage": user.can_manage_settings,
    })
    return render(request, "sales/leads/detail.html", ctx)


def _update(actor, lead, data, version):
    return services.update_lead(actor=actor, lead=lead, data=data, expected_version=version)


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request):
    def create(*, actor, data):
        lead = services.create_lead(actor=actor, data=data)
        if "owner_id" not in data:
            if lead.owner_id:
                messages.info(request, f"The assignment rules gave this lead to {lead.owner.display_name}.")
            else:
                messages.info(request, "No assignment rule matched, so this lead has no owner yet.")
        return lead

    return form_page(
        request, form_class=LeadRecordForm, instance=None, create=create, update=_update,
        template="sales/leads/form.html", noun="lead",
        extra={"cancel_url": reverse("web:lead_list"), "nav_section": NAV},
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk: int):
    lead = get_visible(Lead, request, pk)
    return form_page(
        request, form_class=LeadRecordForm, instance=lead, create=services.create_lead, update=_update,
        template="sales/leads/form.html", noun="lead",
        extra={"cancel_url": lead.get_absolute_url(), "nav_section": NAV},
    )


def _quick_update(request: HttpRequest, lead: Lead, data: dict[str, Any], done: str) -> HttpResponse:
    require_writer(request)
    try:
        lead = services.update_lead(actor=request.user, lead=lead, data=data)
    except ValidationError as exc:
        for field_messages in exc.message_dict.values():
            for message in field_messages:
                messages.error(request, message)
        return redirect(lead.get_absolute_url())
    messages.success(request, done.format(lead=lead))
    show_warnings(request, lead)
    return redirect(lead.get_absolute_url())


@login_required
@require_POST
def lead_status(request, pk: int):
    lead = get_visible(Lead, request, pk)
    status = request.POST.get("status", "")
    label = STATUS_LABELS.get(status, status)
    return _quick_update(request, lead, {"status": status}, f"Status changed to {label}.")


@login_required
@require_POST
def lead_assign(request, pk: int):
    lead = get_visible(Lead, request, pk)
    owner_id = request.POST.get("owner_id", "")
    if owner_id == "me":
        owner_id = str(request.user.pk)
    user = next((u for u in active_users() if str(u.pk) == owner_id), None)
    if user is None:
        done = "{lead} has no owner now."
    elif user.pk == request.user.pk:
        done = "You own {lead} now."
    else:
        done = f"{{lead}} was assigned to {user.display_name}; they were notified."
    return _quick_update(request, lead, {"owner_id": owner_id or None}, done)


@login_required
@require_http_methods(["GET", "POST"])
def lead_delete(request, pk: int):
    lead = get_visible(Lead, request, pk)
    return trash_action(
        request, lead, noun="lead", list_url=reverse("web:lead_list"),
        delete=lambda actor, obj, expected_version: services.delete_lead(
            actor=actor, lead=obj, expected_version=expected_version),
    )


@login_required
@require_POST
def lead_restore(request, pk: int):
    lead = get_visible(Lead, request, pk, include_trash=True)
    return restore_action(request, lead, noun="lead",
                          restore=lambda actor, obj: services.restore_lead(actor=actor, lead=obj))


# --- conversion -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request, pk: int):
    lead = get_visible(Lead, request, pk)
    require_writer(request)
    suggestions = services.conversion_suggestions(lead, actor=request.user)
    status = 200
    if request.method == "POST":
        form = ConvertForm(request.POST, lead=lead, suggestions=suggestions, user=request.user)
        if form.is_valid():
            try:
                contact, company, deal = services.convert_lead(actor=request.user, lead=lead, **form.convert_kwargs())
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                made = [f"contact {contact}"]
                if company:
                    made.append(f"company {company}")
                if deal:
                    made.append(f"deal {deal}")
                messages.success(request, f"{lead} was converted: {', '.join(made)}.")
                return redirect(lead.get_absolute_url())
        status = 400
    else:
        form = ConvertForm(lead=lead, suggestions=suggestions, user=request.user)
    ctx = {
        "obj": lead,
        "form": form,
        "suggestions": suggestions,
        "is_converted": lead.status == LeadStatus.CONVERTED,
        "nav_section": NAV,
        "noun": "conversion",
    }
    return render(request, "sales/leads/convert.html", ctx, status=status)
