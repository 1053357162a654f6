"""/api/v1/contacts: list, create, get, patch, trash, restore, history."""

from __future__ import annotations

from django.db.models import F

from kith.contacts import services
from kith.contacts.filtersets import ContactFilterSet
from kith.contacts.models import Contact

from .duplicates_api import hints
from .resources import RecordResource, build_router
from .schemas import ContactIn, ContactOut, ContactPage, ContactPatch, ContactWriteOut, contact_dict


def _hinted(obj, actor):
    obj.duplicate_hints = hints("contact", obj, actor)
    return obj


def _to_dict(obj, cf_keys=None):
    data = contact_dict(obj, cf_keys)
    if hasattr(obj, "duplicate_hints"):
        data["duplicates"] = obj.duplicate_hints
    return data


resource = RecordResource(
    model=Contact,
    path="contacts",
    singular="contact",
    filterset=ContactFilterSet,
    in_schema=ContactIn,
    patch_schema=ContactPatch,
    out_schema=ContactOut,
    detail_schema=ContactOut,
    write_schema=ContactWriteOut,
    page_schema=ContactPage,
    to_dict=_to_dict,
    create=lambda actor, data: _hinted(services.create_contact(actor=actor, data=data), actor),
    update=lambda actor, obj, data, version: _hinted(services.update_contact(
        actor=actor, contact=obj, data=data, expected_version=version
    ), actor),
    delete=lambda actor, obj, version: services.delete_contact(actor=actor, contact=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_contact(actor=actor, contact=obj),
    # The company's name as a column of the row (a join, not a second model per row).
    prepare=lambda qs: qs.annotate(company_name_value=F("company__name")),
)

router = build_router(resource)
