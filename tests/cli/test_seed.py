"""kith seed: bulk rows that are complete, searchable and listable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.models import AuditEntry, CustomField, SearchTerm, User

pytestmark = pytest.mark.django_db


def test_seed_creates_searchable_rows():
    owner = User.objects.create_user("owner@example.com", "Long-enough-1", role="admin")
    out = StringIO()
    call_command("seed", "--contacts", "300", "--companies", "12", "--batch", "100", stdout=out)
    assert "rows/s" in out.getvalue()

    assert Contact.objects.count() == 300
    assert Company.objects.count() == 12
    assert Contact.objects.filter(owner=owner).count() == 300
    assert Contact.objects.exclude(company=None).count() > 200
    assert Contact.tags.through.objects.exists()
    assert CustomField.objects.filter(object_type="contact", key="preferred_language").exists()
    assert Contact.objects.exclude(custom_fields={}).count() > 150
    assert AuditEntry.objects.filter(action="create").count() == 312
    assert SearchTerm.objects.count() > 50
    assert len(set(Contact.objects.values_list("email", flat=True))) == 300

    someone = Contact.objects.exclude(company=None).select_related("company").order_by("pk")[137]
    hits = search.search(someone.full_name, kinds=["contact"], limit=200)
    assert ("contact", someone.pk) in {(k, i) for k, i, _ in hits}
    by_company = search.search(someone.company.name, kinds=["company"], limit=5)
    assert by_company and by_company[0][1] == someone.company_id
    with_mobile = Contact.objects.exclude(mobile="").order_by("pk").first()
    hits = search.search(with_mobile.mobile.lstrip("+"), kinds=["contact"], limit=300)
    assert with_mobile.pk in {i for _, i, _ in hits}

    # Seeded rows behave like any other: the API lists them and can change them.
    from kith.core.tokens import create_token

    _, secret = create_token(user=owner)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    page = client.get("/api/v1/contacts?limit=200").json()
    assert len(page["items"]) == 200 and page["next_cursor"]
    r = client.patch(f"/api/v1/contacts/{someone.pk}", {"job_title": "Chief Seeder"}, content_type="application/json")
    assert r.status_code == 200, r.content


def test_seed_twice_keeps_emails_and_domains_unique():
    call_command("seed", "--contacts", "120", "--companies", "3", stdout=StringIO())
    call_command("seed", "--contacts", "120", "--companies", "3", stdout=StringIO())
    assert Contact.objects.count() == 240
    assert Contact.objects.values("email").distinct().count() == 240
    assert Company.objects.values("domain").distinct().count() == 6
    new = Contact(first_name="After", last_name="Seed")
    new.save()
    assert new.pk > max(Contact.objects.exclude(pk=new.pk).values_list("pk", flat=True))


def test_seed_with_activities_links_them_to_contacts_and_their_companies():
    from kith.activities.models import Activity, ActivityLink

    User.objects.create_user("owner@example.com", "Long-enough-1", role="admin")
    call_command("seed", "--contacts", "60", "--companies", "4", "--activities", "200", "--batch", "50",
                 stdout=StringIO())
    assert Activity.objects.count() == 200
    contact_links = ActivityLink.objects.filter(record_type="contact")
    assert contact_links.count() == 200
    assert set(contact_links.values_list("record_id", flat=True)) <= set(Contact.objects.values_list("pk", flat=True))
    assert ActivityLink.objects.filter(record_type="company").exists()  # rolled up to the contact's company
