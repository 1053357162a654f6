"""Helpers for the API tests: records made through the services, custom field definitions of every type."""

from __future__ import annotations

import pytest


def contact(actor, **data):
    from kith.contacts.services import create_contact

    return create_contact(actor=actor, data=data)


def company(actor, **data):
    from kith.contacts.services import create_company

    return create_company(actor=actor, data=data)


def error_fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    for err in body["errors"]:
        assert set(err) == {"field", "message"}
    return body


@pytest.fixture
def contact_fields(admin):
    """One contact custom field of each type."""
    from kith.core.custom_field_services import create_custom_field

    specs = [
        {"key": "nickname", "label": "Nickname", "field_type": "text"},
        {"key": "score", "label": "Score", "field_type": "number"},
        {"key": "budget", "label": "Budget", "field_type": "currency", "currency": "EUR"},
        {"key": "birthday", "label": "Birthday", "field_type": "date"},
        {"key": "vip", "label": "VIP", "field_type": "boolean"},
        {"key": "tier", "label": "Tier", "field_type": "select", "choices": ["gold", "silver", "bronze"]},
        {"key": "interests", "label": "Interests", "field_type": "multiselect",
         "choices": ["golf", "chess", "tennis"]},
        {"key": "homepage", "label": "Homepage", "field_type": "url"},
        {"key": "assistant", "label": "Assistant email", "field_type": "email"},
    ]
    return {s["key"]: create_custom_field(actor=admin, data={"object_type": "contact", **s}) for s in specs}
