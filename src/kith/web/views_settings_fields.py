"""Settings → Custom fields: list per record type, create, edit, delete (admins and managers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from kith.core import custom_field_services as services
from kith.core.errors import ValidationError
from kith.core.models import CustomField
from kith.core.permissions import require_settings

from .forms_settings import SELECT_TYPES, CustomFieldCreateForm, CustomFieldEditForm
from .views_settings import render_settings

SECTION = "web:settings_fields"
OBJECT_TYPES = [
    (CustomField.ObjectType.CONTACT, "Contacts", "contacts"),
    (CustomField.ObjectType.COMPANY, "Companies", "companies"),
    (CustomField.ObjectType.LEAD, "Leads", "leads"),
    (CustomField.ObjectType.DEAL, "Deals", "deals"),
]


def _list_url(object_type: str) -> str:
    return f"{reverse('web:settings_fields')}#{object_type}-fields"


@login_required
@require_GET
def field_list(request):
    require_settings(request.user)
    fields = list(CustomField.objects.order_by("object_type", "position", "id"))
    groups = [
        {
            "object_type": value,
            "title": title,
            "plural": plural,
            "fields": [f for f in fields if f.object_type == value],
        }
        for value, title, plural in OBJECT_TYPES
    ]
    return render_settings(request, "web/settings/fields/list.html", {"groups": groups}, section=SECTION)


@login_required
@require_http_methods(["GET", "POST"])
def field_create(request):
    require_settings(request.user)
    if request.method == "POST":
        form = CustomFieldCreateForm(request.POST)
        if form.is_valid():
            try:
                field = services.create_custom_field(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request, f"Custom field “{field.label}” was added to {field.get_object_type_display().lower()}s."
                )
                return redirect(_list_url(field.object_type))
    else:
        object_type = request.GET.get("object_type")
        if object_type not in CustomField.ObjectType.values:
            object_type = CustomField.ObjectType.CONTACT
        form = CustomFieldCreateForm(initial={"object_type": object_type, "field_type": "text"})
    return render_settings(
        request, "web/settings/fields/form.html", {"form": form, "creating": True}, section=SECTION
    )


@login_required
@require_http_methods(["GET", "POST"])
def field_edit(request, pk: int):
    require_settings(request.user)
    field = get_object_or_404(CustomField, pk=pk)
    if request.method == "POST":
        form = CustomFieldEditForm(request.POST, field=field)
        if form.is_valid():
            try:
                field = services.update_custom_field(actor=request.user, field=field, data=form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Custom field “{field.label}” was saved.")
                return redirect(_list_url(field.object_type))
    else:
        form = CustomFieldEditForm(field=field)
    return render_settings(
        request,
        "web/settings/fields/form.html",
        {"form": form, "creating": False, "field": field, "is_select": field.field_type in SELECT_TYPES},
        section=SECTION,
    )


@login_required
@require_http_methods(["GET", "POST"])
def field_delete(request, pk: int):
    require_settings(request.user)
    field = get_object_or_404(CustomField, pk=pk)
    if request.method == "POST":
        object_type, label = field.object_type, field.label
        services.delete_custom_field(actor=request.user, field=field)
        messages.success(request, f"Custom field “{label}” was deleted.")
        return redirect(_list_url(object_type))
    return render_settings(request, "web/settings/fields/delete.html", {"field": field}, section=SECTION)
