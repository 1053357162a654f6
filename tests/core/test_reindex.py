"""kith reindex rebuilds the search index from the records."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from kith.contacts import services
from kith.core import search

pytestmark = pytest.mark.django_db


def test_reindex_restores_a_lost_index(admin):
    contact = services.create_contact(actor=admin, data={"first_name": "Ingrid", "email": "ingrid@fjell.no"})
    search.clear()
    assert search.search("ingrid") == []

    out = io.StringIO()
    call_command("reindex", stdout=out)

    assert search.search("ingrid") == [("contact", contact.pk, pytest.approx(search.search("ingrid")[0][2]))]
    assert "contact: 1 records indexed" in out.getvalue()


def test_reindex_of_one_type_leaves_the_others(admin):
    services.create_company(actor=admin, data={"name": "Fjellheim AS"})
    services.create_contact(actor=admin, data={"first_name": "Sigrid"})
    call_command("reindex", "--type", "contact", stdout=io.StringIO())
    assert [k for k, _, _ in search.search("fjellheim")] == ["company"]
    assert [k for k, _, _ in search.search("sigrid")] == ["contact"]
