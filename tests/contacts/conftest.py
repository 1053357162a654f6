from __future__ import annotations

import pytest

from kith.core.custom_field_services import create_custom_field


@pytest.fixture
def custom_field(db):
    """Define a custom field through the real service: custom_field("region", "select", choices=[...])."""

    def make(key: str, field_type: str, object_type: str = "contact", **extra):
        data = {
            "object_type": object_type,
            "key": key,
            "label": extra.pop("label", key.replace("_", " ").capitalize()),
            "field_type": field_type,
            **extra,
        }
        return create_custom_field(actor=None, data=data)

    return make
