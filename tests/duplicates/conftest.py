from __future__ import annotations

import pytest

from kith.contacts import services


@pytest.fixture
def contact(admin):
    def make(**data):
        return services.create_contact(actor=admin, data=data)

    return make


@pytest.fixture
def company(admin):
    def make(**data):
        return services.create_company(actor=admin, data=data)

    return make


@pytest.fixture
def custom_field(db):
    from kith.core.custom_field_services import create_custom_field

    def make(key: str, field_type: str, object_type: str = "contact", **extra):
        data = {"object_type": object_type, "key": key, "label": extra.pop("label", key.replace("_", " ").capitalize()),
                "field_type": field_type, **extra}
        return create_custom_field(actor=None, data=data)

    return make
