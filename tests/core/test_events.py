"""Domain events (kith.core.events): delivered after commit only; a broken subscriber never breaks a write."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from kith.contacts import services
from kith.contacts.models import Contact
from kith.core import events


class Boom(Exception):
    pass


@pytest.fixture
def received():
    """Every event delivered, as (name, payload)."""
    got: list[tuple[str, dict]] = []

    def collect(name, payload):
        got.append((name, payload))

    events.subscribe("*")(collect)
    yield got
    events.unsubscribe("*", collect)


@pytest.fixture
def failing_subscriber():
    calls = []

    def explode(name, payload):
        calls.append(name)
        raise RuntimeError("subscriber is broken")

    events.subscribe("contact.created")(explode)
    yield calls
    events.unsubscribe("contact.created", explode)


def test_event_is_delivered_after_commit_not_before(admin, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact = services.create_contact(actor=admin, data={"first_name": "Ada", "email": "ada@example.com"})
        assert received == []
    assert [name for name, _ in received] == ["contact.created"]
    payload = received[0][1]
    assert payload["type"] == "contact"
    assert payload["id"] == contact.pk
    assert payload["version"] == 1
    assert payload["actor_id"] == admin.pk
    assert payload["changes"]["email"] == {"old": None, "new": "ada@example.com"}


def test_rolled_back_write_delivers_nothing(admin, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        services.create_contact(actor=admin, data={"first_name": "Ada"})
        raise Boom
    assert callbacks == []
    assert received == []
    assert not Contact.all_objects.exists()


def test_refused_write_delivers_nothing(admin, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Exception):
        services.create_contact(actor=admin, data={"email": "broken"})
    assert callbacks == []
    assert received == []


def test_each_write_has_its_event(admin, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact = services.create_contact(actor=admin, data={"first_name": "Ada"})
        services.update_contact(actor=admin, contact=contact, data={"last_name": "Lovelace"})
        services.update_contact(actor=admin, contact=contact, data={"last_name": "Lovelace"})  # no-op: no event
        services.delete_contact(actor=admin, contact=contact)
        services.restore_contact(actor=admin, contact=contact)
        company = services.create_company(actor=admin, data={"name": "Acme"})
        services.update_company(actor=admin, company=company, data={"name": "Acme Inc"})
    assert [name for name, _ in received] == [
        "contact.created", "contact.updated", "contact.deleted", "contact.restored",
        "company.created", "company.updated",
    ]
    assert received[1][1]["changes"] == {"last_name": {"old": "", "new": "Lovelace"}}
    assert [p["version"] for _, p in received[:4]] == [1, 2, 3, 4]


def test_named_subscriptions_get_only_their_event(admin, django_capture_on_commit_callbacks):
    got = []

    def on_company(name, payload):
        got.append(name)

    events.subscribe("company.created")(on_company)
    events.subscribe("company.created")(on_company)  # registering twice delivers once
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.create_contact(actor=admin, data={"first_name": "Ada"})
            services.create_company(actor=admin, data={"name": "Acme"})
    finally:
        events.unsubscribe("company.created", on_company)
    assert got == ["company.created"]


def test_failing_subscriber_does_not_break_the_write_or_other_subscribers(
    admin, received, failing_subscriber, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.ERROR, logger="kith.core.events"), django_capture_on_commit_callbacks(execute=True):
        contact = services.create_contact(actor=admin, data={"first_name": "Ada"})
    assert failing_subscriber == ["contact.created"]
    assert [name for name, _ in received] == ["contact.created"]
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert "subscriber" in caplog.text and "contact.created" in caplog.text


# --- with real transactions (no test-wrapping transaction) -------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_real_commit_delivers_once_the_outer_transaction_commits(received, failing_subscriber):
    from kith.core.models import User

    admin = User.objects.create_user("alice@example.com", "x", role="admin")
    with transaction.atomic():
        contact = services.create_contact(actor=admin, data={"first_name": "Ada"})
        assert received == []
    assert [(n, p["id"]) for n, p in received] == [("contact.created", contact.pk)]
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_real_rollback_delivers_nothing(received):
    from kith.core.models import User

    admin = User.objects.create_user("alice@example.com", "x", role="admin")
    with pytest.raises(Boom), transaction.atomic():
        services.create_contact(actor=admin, data={"first_name": "Ada"})
        raise Boom
    assert received == []
    assert not Contact.all_objects.exists()
