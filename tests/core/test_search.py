"""Global search (kith.core.search) on whichever database the suite runs against (run it on both)."""

from __future__ import annotations

import pytest

from kith.contacts import services
from kith.contacts.filtersets import CompanyFilterSet, ContactFilterSet
from kith.contacts.models import Company, Contact
from kith.core import search


@pytest.fixture
def people(admin):
    engines = services.create_company(
        actor=admin, data={"name": "Analytical Engines", "domain": "analytical-engines.co.uk", "industry": "Computing"}
    )
    navy = services.create_company(actor=admin, data={"name": "Navy Labs", "domain": "navylabs.example.com"})

    def contact(**data):
        return services.create_contact(actor=admin, data=data)

    return {
        "ada": contact(first_name="Ada", last_name="Lovelace", email="ada@analytical-engines.co.uk",
                       phone="+44 20 7946 0958", company_id=engines.pk),
        "john": contact(first_name="John", last_name="Smith", email="john.smith@example.com", phone="(415) 555-2671"),
        "zoe": contact(first_name="Zoë", last_name="Ng", email="zoe@example.org"),
        "grace": contact(first_name="Grace", last_name="Hopper", company_id=navy.pk, job_title="Rear admiral"),
        "engines": engines,
        "navy": navy,
    }


def found(q, kinds=None):
    return [(kind, oid) for kind, oid, _ in search.search(q, kinds=kinds)]


def contact_ids(q):
    return [oid for kind, oid in found(q, kinds=["contact"])]


def ref(obj):
    return (obj.object_type, obj.pk)


def finds_only(queries, obj) -> list:
    """The queries that do not find exactly `obj` among contacts (empty when all do)."""
    return [(q, got) for q in queries if (got := contact_ids(q)) != [obj.pk]]


def test_name_and_name_prefix(people):
    assert finds_only(["Lov", "lovelace", "ada", "Ada Lov", "ADA LOVELACE", "  ada  "], people["ada"]) == []


def test_all_words_must_match(people):
    assert contact_ids("ada smith") == []
    assert contact_ids("john smi") == [people["john"].pk]


def test_by_email(people):
    assert finds_only(["john.smith@example.com", "john.smith@", "JOHN.SMITH@EXAMPLE.COM"], people["john"]) == []


def test_by_phone_digits_with_any_punctuation(people):
    queries = ["(415) 555-2671", "415-555-2671", "415.555.2671", "+1 415 555 2671", "14155552671", "4155552671",
               "555-2671", "415 555"]
    assert finds_only(queries, people["john"]) == []


def test_by_international_phone_as_written_at_home_or_abroad(people):
    queries = ["+44 20 7946 0958", "020 7946 0958", "7946 0958", "2079460958", "44 20 7946"]
    assert finds_only(queries, people["ada"]) == []


def test_national_numbers_are_found_as_people_write_them(admin):
    failures = []
    for country, typed, queries in [
        ("DE", "030 1234567", ["030 1234567", "+49 30 1234567", "1234567"]),
        ("IT", "06 1234 5678", ["06 1234 5678", "+39 06 1234 5678", "1234 5678"]),
        ("FR", "01 42 68 53 00", ["01 42 68 53 00", "+33 1 42 68 53 00", "42 68 53 00"]),
        ("GB", "07911 123456", ["07911 123456", "+44 7911 123456", "7911123456"]),
    ]:
        contact = services.create_contact(actor=admin, data={"first_name": country, "country": country, "phone": typed})
        assert contact.phone.startswith("+"), contact.phone
        failures += finds_only(queries, contact)
    assert failures == []


def test_digits_inside_an_email_address_are_not_read_as_a_phone_number(admin):
    """A phone's national and local forms are added for the record's phone numbers only: digits inside an
    e-mail address are searchable as they are, but do not make the contact show up for other numbers."""
    contact = services.create_contact(actor=admin, data={"first_name": "Digits", "email": "d.49301234567@x.example"})
    assert found("49301234567") == [("contact", contact.pk)]
    assert found("0301234567") == []  # the German national form of +49 30 1234567 (not this contact's phone)
    contact = services.update_contact(actor=admin, contact=contact, data={"phone": "+49301234567"})
    assert found("0301234567") == [("contact", contact.pk)]


def test_by_company_name_finds_the_company_and_its_contacts(people):
    results = found("analytical")
    assert set(results) == {ref(people["engines"]), ref(people["ada"])}
    assert found("navy", kinds=["contact"]) == [ref(people["grace"])]


def test_company_by_domain(people):
    assert found("analytical-engines.co.uk", kinds=["company"]) == [ref(people["engines"])]
    assert found("navylabs", kinds=["company"]) == [ref(people["navy"])]


def test_by_job_title(people):
    assert contact_ids("admiral") == [people["grace"].pk]


def test_small_typos_still_find(people):
    assert finds_only(["Jonh", "Smtih", "Jonh Smtih", "jhon smith"], people["john"]) == []
    assert finds_only(["Lovlace", "lovelaec", "Ada Lovelcae"], people["ada"]) == []
    assert finds_only(["Hoper", "Grcae Hopper"], people["grace"]) == []


def test_typos_do_not_find_unrelated_records(people):
    assert contact_ids("Xyzzy") == []
    assert contact_ids("Jxxx") == []


def test_accents_are_ignored(people):
    assert finds_only(["zoe", "Zoe", "ZOË", "zoë ng", "zoe@example.org"], people["zoe"]) == []


def test_accented_query_finds_plain_text(admin):
    rene = services.create_contact(actor=admin, data={"first_name": "Rene", "last_name": "Descartes"})
    assert contact_ids("René") == [rene.pk]


def test_trashed_records_disappear_and_come_back_on_restore(admin, people):
    ada, engines = people["ada"], people["engines"]
    services.delete_contact(actor=admin, contact=ada)
    services.delete_company(actor=admin, company=engines)
    assert contact_ids("lovelace") == []
    assert found("analytical", kinds=["company"]) == []
    services.restore_contact(actor=admin, contact=ada)
    services.restore_company(actor=admin, company=engines)
    assert contact_ids("lovelace") == [ada.pk]
    assert found("analytical", kinds=["company"]) == [ref(engines)]


def test_updates_are_searchable_at_once(admin, people):
    john = people["john"]
    services.update_contact(actor=admin, contact=john, data={"last_name": "Wickham", "phone": "+33 1 42 68 53 00"})
    assert contact_ids("john wickham") == [john.pk]
    assert contact_ids("smith") == [john.pk]  # still in his email
    assert contact_ids("01 42 68 53 00") == [john.pk]
    assert contact_ids("415 555 2671") == []


def test_a_name_match_ranks_before_a_body_only_match(admin):
    # Created first so that it would come first on ties or id order.
    body_only = services.create_contact(
        actor=admin, data={"first_name": "Joan", "last_name": "Clarke", "job_title": "Turing fellow"}
    )
    name_match = services.create_contact(actor=admin, data={"first_name": "Alan", "last_name": "Turing"})
    assert contact_ids("turing") == [name_match.pk, body_only.pk]
    body_only2 = services.create_contact(
        actor=admin, data={"first_name": "Hugh", "last_name": "Alexander", "email": "turing.fan@example.com"}
    )
    results = contact_ids("turing")
    assert results[0] == name_match.pk
    assert set(results) == {name_match.pk, body_only.pk, body_only2.pk}


def test_exact_matches_come_before_fuzzy_ones(admin):
    fuzzy = services.create_contact(actor=admin, data={"first_name": "Jon", "last_name": "Snow"})
    exact = services.create_contact(actor=admin, data={"first_name": "Jonh", "last_name": "Doe"})
    results = contact_ids("jonh")
    assert results[0] == exact.pk
    assert fuzzy.pk in results or results == [exact.pk]


def test_kinds_and_limit(people):
    assert {k for k, _ in found("example")} == {"contact", "company"}
    assert {k for k, _ in found("example", kinds=["company"])} == {"company"}
    assert len(search.search("example", limit=1)) == 1


def test_odd_queries_do_not_fail(people):
    for q in ["", "   ", "@@@", "'", '"', "*", "ada\" OR body:x", "a:b", "(", "NEAR(", "-", "ada's", "!", "&|", "\\"]:
        search.search(q)
        ContactFilterSet({"q": q}, None).apply(Contact.objects.all()).count()
    # Punctuation is not search syntax: an apostrophe is just a word break.
    assert contact_ids("lovelace's") == [] and contact_ids("ada lovelace!") == [people["ada"].pk]


def test_empty_query_finds_nothing(people):
    assert search.search("") == []
    assert search.search("  ,. ") == []


def test_filter_queryset_narrows_a_list(people):
    qs = search.filter_queryset(Contact.objects.all(), "lov", "contact")
    assert list(qs) == [people["ada"]]
    assert list(search.filter_queryset(Contact.objects.all(), "Smtih", "contact")) == [people["john"]]
    assert list(search.filter_queryset(Contact.objects.all(), "", "contact")) == list(Contact.objects.all())
    assert set(search.filter_queryset(Company.objects.all(), "navy", "company")) == {people["navy"]}


def test_list_q_parameter_combines_with_filters(admin, people):
    services.update_contact(actor=admin, contact=people["john"], data={"lifecycle_stage": "customer"})
    qs = ContactFilterSet({"q": "example", "lifecycle_stage": "customer"}, admin).apply(Contact.objects.all())
    assert list(qs) == [people["john"]]
    qs = ContactFilterSet({"q": ["ignored", "555 2671"]}, admin).apply(Contact.objects.all())
    assert list(qs) == [people["john"]]
    qs = CompanyFilterSet({"q": "engines"}, admin).apply(Company.objects.all())
    assert list(qs) == [people["engines"]]


def test_filter_queryset_does_not_mix_kinds(admin):
    company = services.create_company(actor=admin, data={"name": "Zephyr"})
    contact = services.create_contact(actor=admin, data={"first_name": "Other"})
    # The same primary key in another kind must not match.
    assert list(search.filter_queryset(Contact.objects.filter(pk=contact.pk), "zephyr", "contact")) == []
    assert list(search.filter_queryset(Company.objects.all(), "zephyr", "company")) == [company]


def test_index_can_be_rebuilt(admin, people):
    search.clear("contact")
    assert contact_ids("lovelace") == []
    assert found("analytical", kinds=["company"]) == [ref(people["engines"])]
    search.index_many("contact", Contact.objects.select_related("company"))
    assert contact_ids("lovelace") == [people["ada"].pk]
    search.clear()
    assert found("analytical") == []


@pytest.mark.django_db
def test_sqlite_index_merges_its_segments_sixteen_at_a_time():
    """FTS5's default (4) made bulk writes re-merge the same entries over and over (migration core 0005)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("an FTS5 setting")
    with connection.cursor() as cur:
        cur.execute("SELECT v FROM kith_search_config WHERE k = 'automerge'")
        assert cur.fetchone() == (16,)
