"""Companies: domain and website normalisation, unique live domains, size and revenue, trash and restore."""

from __future__ import annotations

import decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.contacts import services
from kith.contacts.models import Company, Contact

from .helpers import db_state


def create(actor, **data) -> Company:
    return services.create_company(actor=actor, data=data)


def assert_refused(actor, data, field, *, company=None, message_part: str | None = None):
    before = db_state()
    with pytest.raises(ValidationError) as excinfo:
        if company is None:
            services.create_company(actor=actor, data=data)
        else:
            services.update_company(actor=actor, company=company, data=data)
    errors = excinfo.value.message_dict
    assert field in errors, errors
    if message_part:
        assert message_part in " ".join(errors[field])
    assert db_state() == before
    return errors


def test_create_company(admin):
    company = create(admin, name="  Acme Corp ", industry="Anvils", description="Makes anvils.", city="Phoenix")
    company = Company.objects.get(pk=company.pk)
    assert (company.name, company.industry, company.city) == ("Acme Corp", "Anvils", "Phoenix")
    assert company.owner == admin
    assert company.version == 1
    assert str(company) == "Acme Corp"


@pytest.mark.parametrize("data", [{}, {"name": "   "}, {"domain": "acme.com"}])
def test_company_needs_a_name(admin, data):
    assert_refused(admin, data, "name", message_part="needs a name")


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("https://www.Acme.COM/path", "acme.com"),
        ("http://acme.com:8080/?q=1", "acme.com"),
        ("WWW.ACME.CO.UK.", "acme.co.uk"),
        ("Sub.Acme.io", "sub.acme.io"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_domain_is_normalised(admin, typed, domain):
    company = create(admin, name="Acme", domain=typed)
    assert Company.objects.get(pk=company.pk).domain == domain


@pytest.mark.parametrize("typed", ["localhost", "not a domain", "http://", "acme..com", "-acme.com"])
def test_invalid_domain_is_refused(admin, typed):
    assert_refused(admin, {"name": "Acme", "domain": typed}, "domain")


def test_website_is_derived_from_the_domain(admin):
    company = create(admin, name="Acme", domain="https://www.Acme.COM/path")
    assert Company.objects.get(pk=company.pk).website == "https://acme.com"


def test_domain_is_derived_from_the_website(admin):
    company = create(admin, name="Acme", website="https://www.acme.com/about")
    company = Company.objects.get(pk=company.pk)
    assert company.domain == "acme.com"
    assert company.website == "https://www.acme.com/about"


def test_website_without_scheme_gets_https(admin):
    assert create(admin, name="Acme", website="acme.com/team").website == "https://acme.com/team"


def test_an_explicit_website_is_not_overwritten_by_the_domain(admin):
    company = create(admin, name="Acme", domain="acme.com", website="https://shop.acme.com")
    assert (company.domain, company.website) == ("acme.com", "https://shop.acme.com")


@pytest.mark.parametrize("typed", ["not a url", "ftp://acme.com", "https://"])
def test_invalid_website_is_refused(admin, typed):
    assert_refused(admin, {"name": "Acme", "website": typed}, "website")


def test_website_longer_than_the_column_is_refused(admin):
    # The column holds 500 characters; PostgreSQL would otherwise fail the whole write with a server error.
    long_url = "https://acme.com/" + "a" * 490
    assert_refused(admin, {"name": "Acme", "website": long_url}, "website", message_part="500")
    ok = "https://acme.com/" + "a" * 483
    assert len(ok) == 500
    assert create(admin, name="Acme", website=ok).website == ok


def test_two_live_companies_cannot_share_a_domain(admin):
    create(admin, name="Acme", domain="acme.com")
    errors = assert_refused(admin, {"name": "Acme 2", "domain": "https://WWW.ACME.com"}, "domain")
    assert "already has this domain" in errors["domain"][0]


def test_a_domain_derived_from_the_website_must_be_unique_too(admin):
    create(admin, name="Acme", domain="acme.com")
    assert_refused(admin, {"name": "Acme 2", "website": "https://acme.com/shop"}, "domain")


def test_companies_without_domain_do_not_clash(admin):
    create(admin, name="One")
    create(admin, name="Two")
    assert Company.objects.filter(domain="").count() == 2


def test_trashed_companys_domain_can_be_reused_and_restoring_then_conflicts(admin):
    old = create(admin, name="Acme", domain="acme.com")
    services.delete_company(actor=admin, company=old)
    new = create(admin, name="Acme (new)", domain="acme.com")
    assert new.domain == "acme.com"

    before = db_state()
    with pytest.raises(ValidationError) as excinfo:
        services.restore_company(actor=admin, company=old)
    assert list(excinfo.value.message_dict) == ["domain"]
    assert "acme.com" in excinfo.value.message_dict["domain"][0]
    assert db_state() == before


def test_update_to_another_companys_domain_is_refused(admin):
    create(admin, name="Acme", domain="acme.com")
    globex = create(admin, name="Globex", domain="globex.com")
    assert_refused(admin, {"domain": "acme.com"}, "domain", company=globex)


@pytest.mark.parametrize(("typed", "size"), [(250, 250), ("1,200", 1200), (" 7 ", 7), (0, 0), ("", None), (None, None)])
def test_size_is_a_whole_number_of_employees(admin, typed, size):
    assert Company.objects.get(pk=create(admin, name="Acme", size=typed).pk).size == size


@pytest.mark.parametrize("typed", [-1, "12.5", "many", 10**12, "99999999999"])
def test_invalid_size_is_refused(admin, typed):
    assert_refused(admin, {"name": "Acme", "size": typed}, "size")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("2,500,000", decimal.Decimal("2500000.00")),
        (1234.5, decimal.Decimal("1234.50")),
        ("0", decimal.Decimal("0.00")),
        ("1e3", decimal.Decimal("1000.00")),
        ("", None),
    ],
)
def test_annual_revenue_is_stored_with_two_decimals(admin, typed, amount):
    company = create(admin, name="Acme", annual_revenue=typed)
    assert Company.objects.get(pk=company.pk).annual_revenue == amount


@pytest.mark.parametrize("typed", ["-5", "lots", "NaN", "Infinity", 10**16])
def test_invalid_annual_revenue_is_refused(admin, typed):
    assert_refused(admin, {"name": "Acme", "annual_revenue": typed}, "annual_revenue")


def test_company_phone_uses_the_company_country(admin):
    company = create(admin, name="Acme", country="United Kingdom", phone="020 7946 0958")
    assert (company.country, company.phone) == ("GB", "+442079460958")
    odd = create(admin, name="Odd", phone="ask for Bob")
    assert odd.phone == "ask for Bob"
    assert odd.warnings[0]["field"] == "phone"


def test_company_country_must_exist(admin):
    assert_refused(admin, {"name": "Acme", "country": "Atlantis"}, "country")


def test_company_owner_and_tags(admin, member):
    create(admin, name="First", tags=["Partner"])
    company = create(admin, name="Acme", owner_id=member.pk, tags=["partner", "EMEA", "emea"])
    assert company.owner == member
    assert company.tag_names == ["EMEA", "Partner"]
    assert_refused(admin, {"name": "X", "owner_id": 424242}, "owner_id")


def test_company_unknown_fields_are_refused(admin):
    assert_refused(admin, {"name": "Acme", "first_name": "Ada"}, "first_name")


def test_company_update_and_trash_cycle(admin):
    company = create(admin, name="Acme", domain="acme.com")
    company = services.update_company(actor=admin, company=company, data={"industry": "Anvils", "size": 10})
    assert (company.industry, company.size, company.version) == ("Anvils", 10, 2)

    trashed = services.delete_company(actor=admin, company=company)
    assert trashed.in_trash and trashed.version == 3
    assert not Company.objects.filter(pk=company.pk).exists()
    restored = services.restore_company(actor=admin, company=trashed)
    assert not restored.in_trash and restored.version == 4


def test_trashing_a_company_keeps_its_contacts_linked(admin):
    company = create(admin, name="Acme")
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "company_id": company.pk})
    services.delete_company(actor=admin, company=company)
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.company_id == company.pk
    assert contact.company.in_trash


def test_viewers_cannot_write_companies(admin, viewer):
    company = create(admin, name="Acme")
    before = db_state()
    with pytest.raises(PermissionDenied):
        create(viewer, name="Viewer Inc")
    with pytest.raises(PermissionDenied):
        services.update_company(actor=viewer, company=company, data={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        services.delete_company(actor=viewer, company=company)
    assert db_state() == before
