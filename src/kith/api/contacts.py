"""/api/v1/contacts: list, create, get, patch, trash, restore, history."""

from __future__ import annotations

from django.db.models import F

from kith.contacts import services
from kith.contacts.filtersets import ContactFilterSet
from kith.contacts.models import Contact

from .resources import RecordResource, build_router
from .schemas import ContactIn, ContactOut, ContactPage, ContactPatch, ContactWriteOut, contact_dict

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
    to_dict=contact_dict,
    create=lambda actor, data: services.create_contact(actor=actor, data=data),
    update=lambda actor, obj, data, version: services.update_contact(
        actor=actor, contact=obj, data=data, expected_version=version
    ),
    delete=lambda actor, obj, version: services.delete_contact(actor=actor, contact=obj, expected_version=version),
    restore=lambda actor, obj: services.restore_contact(actor=actor, contact=obj),
    # The company's name as a column of the row (a join, not a second model per row).
    prepare=lambda qs: qs.annotate(company_name_value=F("company__name")),
)

router = build_router(resource)
