"""Keyset pagination (kith.core.pagination) over every ordering of the contact and company lists."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kith.contacts.filtersets import CompanyFilterSet, ContactFilterSet
from kith.contacts.models import Company, Contact
from kith.core.pagination import decode_cursor, encode_cursor, paginate, parse_ordering

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
TIMES = [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(microseconds=1)]
NAMES = ["Ada", "ada", "Bob", "Cy"]


@pytest.fixture
def contacts(admin, member):
    """23 contacts with many ties in every sort key (names, emails, companies, stages, owners, dates)."""
    acme = Company.objects.create(name="Acme")
    beta = Company.objects.create(name="beta")
    companies = itertools.cycle([acme, None, beta, acme])
    owners = itertools.cycle([admin, None, member])
    rows = []
    for i in range(23):
        first_name = NAMES[i % len(NAMES)]
        rows.append(
            Contact(
                first_name=first_name,
                full_name=first_name,
                email="" if i % 3 == 0 else f"p{i % 5}-{i}@example.com",
                company=next(companies),
                job_title=["CEO", "", "ceo", "Engineer"][i % 4],
                lifecycle_stage=["lead", "customer", "lead"][i % 3],
                owner=next(owners),
                created_at=TIMES[i % 3],
                updated_at=TIMES[(i // 2) % 3],
            )
        )
    Contact.objects.bulk_create(rows)
    return list(Contact.objects.order_by("id"))


@pytest.fixture
def companies(admin, member):
    owners = itertools.cycle([admin, None, member])
    rows = [
        Company(
            name=["Acme", "acme", "Beta", "Gamma"][i % 4],
            domain="" if i % 2 else f"c{i}.example.com",
            industry=["Tools", "", "tools"][i % 3],
            size=[None, 10, 0, 10, None][i % 5],
            city=["Paris", "", "paris", "Oslo"][i % 4],
            owner=next(owners),
            created_at=TIMES[i % 3],
            updated_at=TIMES[(i + 1) % 3],
        )
        for i in range(21)
    ]
    Company.objects.bulk_create(rows)
    return list(Company.objects.order_by("id"))


_unique = itertools.count()


def insert_contact(n: int) -> None:
    email = "" if n % 2 else f"new{next(_unique)}@x.com"
    Contact.objects.create(first_name=NAMES[n % len(NAMES)], job_title="CEO", email=email,
                           created_at=TIMES[n % 3], updated_at=TIMES[(n + 1) % 3])


def insert_company(n: int) -> None:
    Company.objects.create(name=["Acme", "Beta"][n % 2], size=[None, 10][n % 2], city="Paris",
                           created_at=TIMES[n % 3], updated_at=TIMES[(n + 2) % 3])


def walk(filterset, model, ordering_value: str, limit: int, insert):
    """Follow next_cursor to the end, inserting a row after each page. Returns the ids in visiting order."""
    ordering, descending = parse_ordering(ordering_value, filterset.orderings, filterset.default_ordering)
    seen: list[int] = []
    cursor = None
    for n in itertools.count():
        rows, cursor = paginate(model.objects.all(), ordering=ordering, descending=descending, cursor=cursor,
                                limit=limit)
        assert len(rows) <= limit
        seen.extend(r.pk for r in rows)
        if n < 8:
            insert(n)
        if cursor is None:
            return seen
        assert n < 100, "pagination does not end"


def one_page(filterset, model, ordering_value: str) -> list[int]:
    ordering, descending = parse_ordering(ordering_value, filterset.orderings, filterset.default_ordering)
    rows, cursor = paginate(model.objects.all(), ordering=ordering, descending=descending, cursor=None, limit=10_000)
    assert cursor is None
    return [r.pk for r in rows]


def check_walk(filterset, model, ordering_value, insert, limit):
    expected = one_page(filterset, model, ordering_value)
    original = set(expected)
    seen = walk(filterset, model, ordering_value, limit, insert)
    where = f"ordering={ordering_value} limit={limit}"
    assert len(seen) == len(set(seen)), f"a row was visited twice ({where})"
    assert original <= set(seen), f"a row was skipped ({where})"
    # The rows that existed at the start come in the same order as one unpaginated query.
    assert [pk for pk in seen if pk in original] == expected, where


@pytest.mark.parametrize("name", list(ContactFilterSet.orderings))
def test_every_contact_ordering_visits_every_row_once(contacts, name):
    for ordering_value, limit in itertools.product([name, "-" + name], [2, 7]):
        check_walk(ContactFilterSet, Contact, ordering_value, insert_contact, limit)


@pytest.mark.parametrize("name", list(CompanyFilterSet.orderings))
def test_every_company_ordering_visits_every_row_once(companies, name):
    for ordering_value, limit in itertools.product([name, "-" + name], [2, 7]):
        check_walk(CompanyFilterSet, Company, ordering_value, insert_company, limit)


def test_orderings_sort_by_what_they_say(contacts, companies):
    def values(fs, model, ordering, attr):
        return [getattr(model.objects.get(pk=pk), attr) for pk in one_page(fs, model, ordering)]

    names = [n.lower() for n in values(ContactFilterSet, Contact, "name", "full_name")]
    assert names == sorted(names)
    created = values(ContactFilterSet, Contact, "-created_at", "created_at")
    assert created == sorted(created, reverse=True)
    sizes = [-1 if s is None else s for s in values(CompanyFilterSet, Company, "size", "size")]
    assert sizes == sorted(sizes)
    # Ties are broken by id, in the direction of the ordering.
    ids = one_page(CompanyFilterSet, Company, "-size")
    biggest = [c.pk for c in companies if c.size == 10]
    assert ids[: len(biggest)] == sorted(biggest, reverse=True)


def test_default_ordering_is_most_recently_updated_first(contacts):
    ordering, descending = parse_ordering(None, ContactFilterSet.orderings, ContactFilterSet.default_ordering)
    assert (ordering.name, descending) == ("updated_at", True)
    ordering, descending = parse_ordering(" name ", ContactFilterSet.orderings, ContactFilterSet.default_ordering)
    assert (ordering.name, descending) == ("name", False)


def test_empty_list_has_no_next_page(db):
    ordering, descending = parse_ordering("name", ContactFilterSet.orderings, "name")
    assert paginate(Contact.objects.all(), ordering=ordering, descending=descending, cursor=None, limit=10) == ([], None)


def test_last_full_page_then_an_empty_page_is_not_offered(contacts):
    ordering, descending = parse_ordering("name", ContactFilterSet.orderings, "name")
    rows, cursor = paginate(Contact.objects.all(), ordering=ordering, descending=descending, cursor=None, limit=23)
    assert len(rows) == 23
    assert cursor is None


def test_cursor_round_trips_values():
    values = [T0, dt.date(2026, 1, 31), "ada", 7, None]
    import decimal

    values.append(decimal.Decimal("12.50"))
    assert decode_cursor(encode_cursor(values), len(values)) == values


def test_unknown_ordering_is_refused_naming_ordering():
    for bad in ("shoe_size", "-password", "name;drop", "Name", "full_name"):
        with pytest.raises(ValidationError) as excinfo:
            parse_ordering(bad, ContactFilterSet.orderings, "name")
        assert list(excinfo.value.message_dict) == ["ordering"]
        assert "name" in excinfo.value.message_dict["ordering"][0]


def b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


TAMPERED = {
    "garbage": "not a cursor!!",
    "non-ascii": "ü" * 8,
    "not json": base64.urlsafe_b64encode(b"\xff\xfe{]").decode(),
    "object": b64({"k": 1}),
    "too short": b64([1]),
    "too long": b64([T0.isoformat(), 1, 2]),
    "bad datetime": b64([{"t": "yesterday"}, 5]),
    "bad tag": b64([{"x": 1}, 5]),
    "text for a date": b64(["ada", 5]),
    "text for the id": b64([{"t": T0.isoformat()}, "abc"]),
    "list value": b64([[1, 2], 5]),
    "object value for the id": b64([{"t": T0.isoformat()}, {"d": "1"}]),
    "huge id": b64([{"t": T0.isoformat()}, 10**30]),
    "float id": b64([{"t": T0.isoformat()}, 1.5]),
}


def test_tampered_cursor_is_refused_naming_cursor(contacts):
    ordering, descending = parse_ordering("created_at", ContactFilterSet.orderings, "name")
    failures = []
    for what, cursor in TAMPERED.items():
        try:
            paginate(Contact.objects.all(), ordering=ordering, descending=descending, cursor=cursor, limit=5)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict") or list(exc.message_dict) != ["cursor"]:
                failures.append((what, exc))
        except Exception as exc:
            failures.append((what, exc))
        else:
            failures.append((what, "accepted"))
    assert failures == []


@pytest.mark.parametrize(("made_for", "used_for"), [("name", "created_at"), ("created_at", "size"), ("name", "size")])
def test_cursor_of_another_ordering_is_refused_naming_cursor(companies, made_for, used_for):
    ordering, descending = parse_ordering(made_for, CompanyFilterSet.orderings, "name")
    _, cursor = paginate(Company.objects.all(), ordering=ordering, descending=descending, cursor=None, limit=2)
    ordering, descending = parse_ordering(used_for, CompanyFilterSet.orderings, "name")
    with pytest.raises(ValidationError) as excinfo:
        paginate(Company.objects.all(), ordering=ordering, descending=descending, cursor=cursor, limit=2)
    assert list(excinfo.value.message_dict) == ["cursor"]


def test_cursor_survives_the_row_it_points_at_being_deleted(contacts):
    ordering, descending = parse_ordering("name", ContactFilterSet.orderings, "name")
    expected = one_page(ContactFilterSet, Contact, "name")
    first, cursor = paginate(Contact.objects.all(), ordering=ordering, descending=descending, cursor=None, limit=5)
    Contact.objects.filter(pk=first[-1].pk).delete()
    rest, _ = paginate(Contact.objects.all(), ordering=ordering, descending=descending, cursor=cursor, limit=100)
    assert [r.pk for r in rest] == expected[5:]


def test_pages_of_a_filtered_list(contacts, admin):
    qs = ContactFilterSet({"lifecycle_stage": "customer"}, admin).apply(Contact.objects.all())
    ordering, descending = parse_ordering("-name", ContactFilterSet.orderings, "name")
    seen, cursor = [], None
    while True:
        rows, cursor = paginate(qs, ordering=ordering, descending=descending, cursor=cursor, limit=3)
        seen += [r.pk for r in rows]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.pk for c in contacts if c.lifecycle_stage == "customer")


def test_datetime_cursor_keeps_microseconds(contacts):
    # Two timestamps one microsecond apart must not be merged by the cursor.
    assert timezone.is_aware(decode_cursor(encode_cursor([TIMES[2], 1]), 2)[0])
    assert decode_cursor(encode_cursor([TIMES[2], 1]), 2)[0] == TIMES[2]
