"""List filters (kith.core.filters) through ContactFilterSet and CompanyFilterSet, incl. cf_<key> filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from kith.contacts import services
from kith.contacts.filtersets import CompanyFilterSet, ContactFilterSet
from kith.contacts.models import Company, Contact


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T12:00:00+00:00")


@pytest.fixture
def contact_fields(custom_field):
    custom_field("notes", "text")
    custom_field("score", "number")
    custom_field("budget", "currency", currency="EUR")
    custom_field("renewal", "date")
    custom_field("newsletter", "boolean")
    custom_field("region", "select", choices=["EMEA", "Americas", "APAC"])
    custom_field("products", "multiselect", choices=["Anvils", "Rockets", "Magnets", "Rocket"])
    custom_field("linkedin", "url")
    custom_field("assistant", "email")


@pytest.fixture
def crm(admin, member, contact_fields):
    acme = services.create_company(actor=admin, data={"name": "Acme"})

    def contact(name, **data):
        return services.create_contact(actor=admin, data={"first_name": name, **data})

    people = {
        "ada": contact("Ada", owner_id=member.pk, company_id=acme.pk, lifecycle_stage="customer", country="GB",
                       lead_source="Conference 2026", tags=["VIP", "Math"],
                       custom_fields={"notes": "Likes tea", "score": 10, "budget": "1500.50", "renewal": "2026-03-01",
                                      "newsletter": True, "region": "EMEA", "products": ["Anvils", "Rockets"],
                                      "linkedin": "linkedin.com/in/ada", "assistant": "charles@example.com"}),
        "grace": contact("Grace", owner_id=None, lifecycle_stage="lead", country="US", lead_source="Website",
                         tags=["vip"],
                         custom_fields={"notes": "Coffee", "score": 2.5, "budget": "99.99", "renewal": "2026-01-15",
                                        "newsletter": False, "region": "Americas", "products": ["Rocket"]}),
        "alan": contact("Alan", lifecycle_stage="opportunity", country="GB", tags=["Crypto"],
                        custom_fields={"score": 100, "budget": "20000", "region": "EMEA", "products": ["Magnets"]}),
        "blank": contact("Blank", owner_id=None),
    }
    dates = {"ada": "2026-01-10", "grace": "2026-02-01", "alan": "2026-02-28", "blank": "2026-03-15"}
    for key, day in dates.items():
        Contact.objects.filter(pk=people[key].pk).update(created_at=at(day), updated_at=at(day) + dt.timedelta(days=5))
    people["acme"] = acme
    return people


def names(params, user=None, filterset=ContactFilterSet, model=Contact):
    qs = filterset(params, user).apply(model.objects.all())
    field = "first_name" if model is Contact else "name"
    return sorted(qs.values_list(field, flat=True))


def refused(params, user=None, filterset=ContactFilterSet, model=Contact) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        list(filterset(params, user).apply(model.objects.all()))
    return excinfo.value.message_dict


def test_no_filters_lists_everything(crm, admin):
    assert names({}, admin) == ["Ada", "Alan", "Blank", "Grace"]
    assert names(None, admin) == ["Ada", "Alan", "Blank", "Grace"]


# --- owner -----------------------------------------------------------------------------------------------------


def test_owner_me_none_and_ids(crm, admin, member):
    assert names({"owner": "me"}, member) == ["Ada"]
    assert names({"owner": "me"}, admin) == ["Alan"]
    assert names({"owner": "none"}, admin) == ["Blank", "Grace"]
    assert names({"owner": str(member.pk)}, admin) == ["Ada"]
    assert names({"owner": ["me", "none"]}, member) == ["Ada", "Blank", "Grace"]
    assert names({"owner": f"{member.pk},{admin.pk}"}, admin) == ["Ada", "Alan"]


def test_bad_owner_is_refused_naming_owner(crm, admin):
    errors = refused({"owner": "bob"}, admin)
    assert list(errors) == ["owner"]
    assert "me" in errors["owner"][0]


# --- tags --------------------------------------------------------------------------------------------------------


def test_tag_any_of_and_case_insensitive(crm, admin):
    assert names({"tag": "VIP"}, admin) == ["Ada", "Grace"]
    assert names({"tag": "vip"}, admin) == ["Ada", "Grace"]
    assert names({"tag": ["math", "crypto"]}, admin) == ["Ada", "Alan"]
    assert names({"tag": "nothing"}, admin) == []


def test_tag_filter_lists_each_record_once(crm, admin):
    qs = ContactFilterSet({"tag": ["vip", "math"]}, admin).apply(Contact.objects.all())
    assert qs.count() == 2
    assert sorted(c.first_name for c in qs) == ["Ada", "Grace"]


# --- choice, id and text filters ---------------------------------------------------------------------------------


def test_lifecycle_stage(crm, admin):
    assert names({"lifecycle_stage": "customer"}, admin) == ["Ada"]
    assert names({"lifecycle_stage": ["lead", "opportunity"]}, admin) == ["Alan", "Blank", "Grace"]
    assert names({"lifecycle_stage": "lead,customer"}, admin) == ["Ada", "Blank", "Grace"]


def test_bad_lifecycle_stage_is_refused_with_the_choices(crm, admin):
    errors = refused({"lifecycle_stage": "king"}, admin)
    assert list(errors) == ["lifecycle_stage"]
    assert "king" in errors["lifecycle_stage"][0]
    assert "customer" in errors["lifecycle_stage"][0]


def test_company_filter(crm, admin):
    assert names({"company": str(crm["acme"].pk)}, admin) == ["Ada"]
    assert names({"company": "none"}, admin) == ["Alan", "Blank", "Grace"]
    assert list(refused({"company": "acme"}, admin)) == ["company"]


def test_country_and_lead_source(crm, admin):
    assert names({"country": "gb"}, admin) == ["Ada", "Alan"]
    assert names({"lead_source": "conference"}, admin) == ["Ada"]
    assert names({"lead_source": ["web", "conf"]}, admin) == ["Ada", "Grace"]


# --- dates -------------------------------------------------------------------------------------------------------


def test_created_and_updated_date_ranges_are_inclusive_days(crm, admin):
    assert names({"created_after": "2026-02-01"}, admin) == ["Alan", "Blank", "Grace"]
    assert names({"created_before": "2026-02-01"}, admin) == ["Ada", "Grace"]
    assert names({"created_after": "2026-02-01", "created_before": "2026-02-28"}, admin) == ["Alan", "Grace"]
    assert names({"updated_after": "2026-03-05"}, admin) == ["Alan", "Blank"]
    assert names({"updated_before": "2026-01-15"}, admin) == ["Ada"]


def test_date_range_follows_the_time_zone(crm, admin, settings):
    # 2026-02-01 12:00 UTC is already 2026-02-02 02:00 on Kiritimati (UTC+14).
    settings.TIME_ZONE = "Pacific/Kiritimati"
    assert "Grace" not in names({"created_before": "2026-02-01"}, admin)
    assert "Grace" in names({"created_after": "2026-02-02"}, admin)


def test_bad_dates_are_refused_naming_the_parameter(crm, admin):
    failures = []
    for param in ("created_after", "created_before", "updated_after", "updated_before"):
        for value in ("yesterday", "2026-13-01", "01/02/2026"):
            errors = refused({param: value}, admin)
            if list(errors) != [param] or "YYYY-MM-DD" not in errors[param][0]:
                failures.append((param, value, errors))
    assert failures == []


def test_every_bad_parameter_is_reported_at_once(crm, admin):
    errors = refused({"owner": "x", "created_after": "x", "lifecycle_stage": "x", "cf_score": "x", "cf_nope": "1"}, admin)
    assert set(errors) == {"owner", "created_after", "lifecycle_stage", "cf_score", "cf_nope"}


# --- custom fields -----------------------------------------------------------------------------------------------


CF_CASES = [
    ({"cf_notes": "tea"}, ["Ada"]),
    ({"cf_notes": "COFFEE"}, ["Grace"]),
    ({"cf_score": "10"}, ["Ada"]),
    ({"cf_score": "2.5"}, ["Grace"]),
    ({"cf_score__gte": "10"}, ["Ada", "Alan"]),
    ({"cf_score__lte": "10"}, ["Ada", "Grace"]),
    ({"cf_score__gte": "3", "cf_score__lte": "99"}, ["Ada"]),
    ({"cf_budget__gte": "1500.50"}, ["Ada", "Alan"]),
    ({"cf_budget__lte": "1500.49"}, ["Grace"]),
    ({"cf_budget": "99.99"}, ["Grace"]),
    ({"cf_budget__gte": "9999"}, ["Alan"]),
    ({"cf_renewal": "2026-03-01"}, ["Ada"]),
    ({"cf_renewal__gte": "2026-02-01"}, ["Ada"]),
    ({"cf_renewal__lte": "2026-02-01"}, ["Grace"]),
    ({"cf_newsletter": "true"}, ["Ada"]),
    ({"cf_newsletter": "false"}, ["Alan", "Blank", "Grace"]),
    ({"cf_region": "EMEA"}, ["Ada", "Alan"]),
    ({"cf_region": ["Americas", "APAC"]}, ["Grace"]),
    ({"cf_products": "Rockets"}, ["Ada"]),
    ({"cf_products": "Rocket"}, ["Grace"]),
    ({"cf_products": ["Magnets", "Anvils"]}, ["Ada", "Alan"]),
    ({"cf_linkedin": "in/ada"}, ["Ada"]),
    ({"cf_assistant": "charles"}, ["Ada"]),
]


def test_custom_field_filters(crm, admin):
    failures = [(params, got, expected) for params, expected in CF_CASES if (got := names(params, admin)) != expected]
    assert failures == []


BAD_CF_CASES = [
    ("cf_score", "ten", "number"),
    ("cf_score__gte", "ten", "number"),
    ("cf_budget__lte", "1.234", "decimal"),
    ("cf_renewal", "March", "YYYY-MM-DD"),
    ("cf_renewal__gte", "2026-02-30", "YYYY-MM-DD"),
    ("cf_newsletter", "perhaps", "true or false"),
    ("cf_region", "Mars", "Mars"),
    ("cf_products", "Pianos", "Pianos"),
    ("cf_notes__gte", "a", "__gte"),
    ("cf_region__lte", "EMEA", "__lte"),
    ("cf_score__between", "1", "__between"),
    ("cf_score__gte", "1e400", "between"),
    ("cf_budget__gte", "1e30", "between"),
    ("cf_shoe_size", "44", "shoe_size"),
]


def test_bad_custom_field_filters_are_refused_naming_the_parameter(crm, admin):
    failures = []
    for param, value, message in BAD_CF_CASES:
        errors = refused({param: value}, admin)
        if list(errors) != [param] or message not in errors[param][0]:
            failures.append((param, value, errors))
    assert failures == []


def test_filters_read_a_querydict(crm, admin):
    params = QueryDict("lifecycle_stage=lead&lifecycle_stage=customer&tag=vip&cf_score__lte=10")
    assert names(params, admin) == ["Ada", "Grace"]
    assert ContactFilterSet(params, admin).active() == {
        "lifecycle_stage": ["lead", "customer"], "tag": ["vip"], "cf_score__lte": ["10"],
    }


def test_empty_parameters_are_ignored(crm, admin):
    assert names({"owner": "", "tag": [], "cf_score": " ", "lifecycle_stage": ","}, admin) == [
        "Ada", "Alan", "Blank", "Grace"
    ]


# --- companies ---------------------------------------------------------------------------------------------------


@pytest.fixture
def firms(admin, member, custom_field):
    custom_field("arr", "currency", object_type="company", currency="USD")
    custom_field("tier", "select", object_type="company", choices=["Gold", "Silver"])

    def company(name, **data):
        return services.create_company(actor=admin, data={"name": name, **data})

    made = {
        "acme": company("Acme", domain="acme.com", industry="Heavy Tools", city="Phoenix", country="US",
                        owner_id=member.pk, tags=["Partner"], custom_fields={"arr": "50000", "tier": "Gold"}),
        "globex": company("Globex", domain="globex.co.uk", industry="Energy", city="London", country="GB",
                          owner_id=None, custom_fields={"arr": "900", "tier": "Silver"}),
        "initech": company("Initech", industry="Software tools", city="Austin", country="us", tags=["partner"]),
    }
    Company.objects.filter(pk=made["acme"].pk).update(created_at=at("2025-12-31"))
    return made


def company_names(params, user):
    return names(params, user, CompanyFilterSet, Company)


def test_company_filters(firms, admin, member):
    assert company_names({"industry": "tools"}, admin) == ["Acme", "Initech"]
    assert company_names({"country": "US"}, admin) == ["Acme", "Initech"]
    assert company_names({"city": "lond"}, admin) == ["Globex"]
    assert company_names({"domain": ".co.uk"}, admin) == ["Globex"]
    assert company_names({"owner": "me"}, member) == ["Acme"]
    assert company_names({"owner": "none"}, admin) == ["Globex"]
    assert company_names({"tag": "PARTNER"}, admin) == ["Acme", "Initech"]
    assert company_names({"created_before": "2025-12-31"}, admin) == ["Acme"]
    assert company_names({"created_after": "2026-01-01"}, admin) == ["Globex", "Initech"]
    assert company_names({"cf_arr__gte": "1000"}, admin) == ["Acme"]
    assert company_names({"cf_tier": "Silver"}, admin) == ["Globex"]


def test_company_filter_errors(firms, admin):
    errors = refused({"cf_tier": "Bronze", "created_after": "soon", "owner": "?"}, admin, CompanyFilterSet, Company)
    assert set(errors) == {"cf_tier", "created_after", "owner"}
    # A contact field is not a company filter.
    assert "cf_score" not in CompanyFilterSet.custom_filters()


def test_contact_custom_field_is_unknown_on_companies(firms, admin, custom_field):
    custom_field("score", "number")
    assert list(refused({"cf_score": "1"}, admin, CompanyFilterSet, Company)) == ["cf_score"]


def test_openapi_parameters_describe_each_filter():
    params = {p["name"]: p for p in ContactFilterSet.openapi_parameters()}
    assert {"owner", "tag", "lifecycle_stage", "created_after", "cf_<key>"} <= set(params)
    assert "customer" in params["lifecycle_stage"]["schema"]["enum"]
    assert params["created_after"]["schema"]["format"] == "date"
