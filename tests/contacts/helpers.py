"""Helpers shared by the contacts tests."""

from __future__ import annotations

from django.db import connection

from kith.contacts.models import Company, Contact
from kith.core.models import AuditEntry, SearchTerm, Tag


def search_rows() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM kith_search")
        return cur.fetchone()[0]


def db_state() -> dict:
    """Everything a contact or company write can touch, to prove a refused write changed nothing."""
    return {
        "contacts": list(
            Contact.all_objects.order_by("id").values_list(
                "id", "version", "first_name", "last_name", "email", "phone", "country", "owner_id",
                "company_id", "custom_fields", "deleted_at", "updated_at",
            )
        ),
        "companies": list(
            Company.all_objects.order_by("id").values_list(
                "id", "version", "name", "domain", "website", "size", "annual_revenue", "custom_fields",
                "deleted_at", "updated_at",
            )
        ),
        "contact_tags": sorted(Contact.tags.through.objects.values_list("contact_id", "tag_id")),
        "company_tags": sorted(Company.tags.through.objects.values_list("company_id", "tag_id")),
        "tags": sorted(Tag.objects.values_list("name", flat=True)),
        "history": list(AuditEntry.objects.order_by("id").values_list("id", "action", "changes")),
        "search_rows": search_rows(),
        "search_terms": SearchTerm.objects.count(),
    }
