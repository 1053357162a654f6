"""kith demo: realistic data through the services, with history, personas and a saved login."""

from __future__ import annotations

import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.models import AuditEntry, CustomField, User

pytestmark = pytest.mark.django_db


def test_demo_loads_realistic_data_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()

    assert 280 <= Contact.all_objects.count() <= 320
    assert 35 <= Company.objects.count() <= 50
    assert Contact.all_objects.exclude(deleted_at=None).count() == 3  # something in the trash
    countries = set(Company.objects.values_list("country", flat=True))
    assert len(countries) >= 15
    industries = set(Company.objects.values_list("industry", flat=True))
    assert len(industries) >= 10
    names = list(Contact.objects.values_list("full_name", flat=True))
    assert any(not n.isascii() and any("\u0400" <= ch <= "\u04ff" or "\u3040" <= ch <= "\u9fff" for ch in n)
               for n in names), "expected names in non-Latin scripts"
    assert any(ch in "".join(names) for ch in "éüçñøåł")

    # Emails on the company's domain, E.164 phones.
    at_company = Contact.objects.exclude(company=None).select_related("company")
    assert all(c.email.endswith("@" + c.company.domain) for c in at_company)
    phones = [p for p in Contact.objects.values_list("mobile", flat=True) if p]
    assert len(phones) > 100 and all(p.startswith("+") and p[1:].isdigit() for p in phones)
    assert len({c.lifecycle_stage for c in Contact.objects.all()}) >= 6
    assert Contact.objects.filter(tags__isnull=False).distinct().count() > 100

    # Personas and owners.
    roles = dict(User.objects.values_list("email", "role"))
    assert roles["demo@example.com"] == "admin"
    assert {"admin", "manager", "member", "viewer"} <= set(roles.values())
    owners = set(Contact.objects.exclude(owner=None).values_list("owner__role", flat=True))
    assert {"admin", "manager", "member"} <= owners and "viewer" not in owners

    # Custom fields with values.
    keys = {(f.object_type, f.key): f.field_type for f in CustomField.objects.all()}
    assert keys[("contact", "preferred_language")] == "select"
    assert keys[("contact", "newsletter")] == "boolean"
    assert keys[("contact", "birthday")] == "date"
    assert keys[("company", "tier")] == "select"
    assert keys[("company", "contract_value")] == "currency"
    assert keys[("company", "renewal_date")] == "date"
    assert keys[("company", "segments")] == "multiselect"
    assert Contact.objects.filter(custom_fields__has_key="birthday").count() > 30
    # Every company of the contacts demo has segments; the sales demo adds a few from converted leads.
    companies = Company.objects.filter(source_leads__isnull=True)
    assert companies.filter(custom_fields__has_key="segments").count() == companies.count() >= 35

    # History: creations and later updates, spread over time, by several people.
    updates = AuditEntry.objects.filter(action="update")
    assert updates.count() > 100
    # Every demo record went through a service, so each has its "created" history row.
    from django.contrib.contenttypes.models import ContentType

    created = AuditEntry.objects.filter(action="create")
    for model in (Contact, Company):
        kind = ContentType.objects.get_for_model(model)
        assert created.filter(content_type=kind).count() == model.all_objects.count()
    assert updates.values("actor").distinct().count() >= 2
    oldest = Contact.objects.order_by("created_at").first().created_at
    newest = Contact.objects.order_by("-created_at").first().created_at
    assert (newest - oldest).days > 180

    # Searchable through the index the services maintain.
    someone = Contact.objects.order_by("pk")[42]
    assert someone.pk in {i for _, i, _ in search.search(someone.full_name, kinds=["contact"], limit=50)}

    # The login is saved owner-only and printed.
    login = tmp_path / "demo-login.txt"
    assert stat.S_IMODE(login.stat().st_mode) == 0o600
    password = next(line.split(":", 1)[1].strip() for line in login.read_text().splitlines()
                    if line.startswith("password:"))
    assert User.objects.get(email="demo@example.com").check_password(password)
    assert password in text and "demo@example.com" in text

    # A second run is refused politely.
    with pytest.raises(CommandError) as info:
        call_command("demo", stdout=StringIO())
    assert "already has" in str(info.value) and "--force" in str(info.value)
    before = Contact.all_objects.count()
    assert Contact.all_objects.count() == before


def test_demo_force_adds_to_existing_data_without_clashing(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    admin = User.objects.create_user("owner@example.com", "Long-enough-1", role="admin")
    from kith.contacts.services import create_contact

    create_contact(actor=admin, data={"first_name": "Existing", "email": "existing@example.com"})
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
    call_command("demo", "--force", "--contacts", "40", stdout=StringIO())
    assert Contact.objects.filter(email="existing@example.com").exists()
    assert Contact.all_objects.count() >= 35
