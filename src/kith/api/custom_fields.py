"""/api/v1/custom-fields: definitions of custom fields. Everyone reads; admins and managers change them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core import custom_field_services as services
from kith.core.errors import ValidationError
from kith.core.models import CustomField

from . import errors
from .auth import settings_auth
from .schemas import (
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPage,
    CustomFieldPatch,
    custom_field_dict,
    with_errors,
)

router = Router(tags=["custom fields"])
OBJECT_TYPES = ", ".join(CustomField.ObjectType.values)


@router.get("", response=with_errors({200: CustomFieldPage}, errors.LIST), operation_id="list_custom_fields",
            summary="List custom field definitions")
def list_custom_fields(
    request: HttpRequest,
    object_type: str | None = Query(None, description=f"{OBJECT_TYPES}; all when left out"),
):
    qs = CustomField.objects.order_by("object_type", "position", "id")
    if object_type:
        if object_type not in CustomField.ObjectType.values:
            raise ValidationError({"object_type": [f"Must be one of: {OBJECT_TYPES}."]})
        qs = qs.filter(object_type=object_type)
    # A workspace has a handful of definitions: one page, no cursor.
    return {"items": [custom_field_dict(f) for f in qs], "next_cursor": None}


@router.post("", response=with_errors({201: CustomFieldOut}, errors.CREATE), operation_id="create_custom_field",
             summary="Create a custom field (admins and managers)", auth=settings_auth)
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    field = services.create_custom_field(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, custom_field_dict(field))


@router.get("/{int:id}", response=with_errors({200: CustomFieldOut}, errors.READ), operation_id="get_custom_field",
            summary="Get a custom field definition")
def get_custom_field(request: HttpRequest, id: int):
    return custom_field_dict(CustomField.objects.get(pk=id))


@router.patch("/{int:id}", response=with_errors({200: CustomFieldOut}, (400, 401, 403, 404, 422)),
              operation_id="update_custom_field", summary="Change a custom field (admins and managers)",
              description="key, field_type and object_type cannot change.", auth=settings_auth)
def update_custom_field(request: HttpRequest, id: int, payload: CustomFieldPatch):
    field = CustomField.objects.get(pk=id)
    field = services.update_custom_field(actor=request.auth, field=field, data=payload.model_dump(exclude_unset=True))
    return custom_field_dict(field)


@router.delete("/{int:id}", response=with_errors({204: None}, (401, 403, 404)), operation_id="delete_custom_field",
               summary="Delete a custom field (admins and managers)",
               description="Values stay stored in the records but are no longer served.", auth=settings_auth)
def delete_custom_field(request: HttpRequest, id: int):
    services.delete_custom_field(actor=request.auth, field=CustomField.objects.get(pk=id))
    return Status(204, None)
