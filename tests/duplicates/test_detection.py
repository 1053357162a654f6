"""Which pairs a scan proposes, with what confidence and reasons."""

from __future__ import annotations

from array import array

import pytest

from kith.duplicates import detection, matching
from kith.duplicates.models import DuplicatePair
from kith.duplicates.services import dismiss_pair

pytestmark = pytest.mark.django_db


def pairs(object_type="contact"):
    return {(p.a_id, p.b_id): p for p in DuplicatePair.objects.filter(object_type=object_type)}


def pair_of(a, b, object_type="contact"):
    lo, hi = sorted([a.pk, b.pk])
    return DuplicatePair.objects.filter(object_type=object_type, a_id=lo, b_id=hi).first()


def test_same_email_ignoring_case_dots_and_tags(contact):
    a = contact(first_name="Jon", last_name="Smith", email="jon.smith@gmail.com")
    b = contact(first_name="Jonathan", last_name="Smith", email="JonSmith+crm@googlemail.com")
    unrelated = contact(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    detection.scan("contact")
    p = pair_of(a, b)
    assert p is not None and p.confidence >= 90
    assert p.reasons[0] == "same email ignoring dots and +tags (jon.smith@gmail.com / jonsmith+crm@googlemail.com)"
    assert not DuplicatePair.objects.filter(a_id=unrelated.pk).exists()
    assert not DuplicatePair.objects.filter(b_id=unrelated.pk).exists()


def test_additional_email_matches_primary(contact):
    a = contact(first_name="Maria", last_name="Garcia", email="maria@acme.com")
    b = contact(first_name="María", last_name="García", email="mg@home.es", additional_emails=["MARIA@acme.com"])
    detection.scan("contact")
    p = pair_of(a, b)
    assert p.confidence >= 95
    assert "same email (maria@acme.com)" in p.reasons
    assert "same name at acme.com" in p.reasons


def test_phones_in_different_formats(contact):
    a = contact(first_name="Ken", last_name="Adams", phone="+44 20 7946 0018", country="GB")
    b = contact(first_name="Kenneth", last_name="Adams", mobile="020 7946 0018", country="GB")
    detection.scan("contact")
    p = pair_of(a, b)
    assert p is not None and p.confidence >= 75
    assert p.reasons[0] == "same phone (+44 20 7946 0018)"


def test_similar_name_at_the_same_company(contact, company):
    acme = company(name="Acme Ltd", domain="acme.com")
    a = contact(first_name="Jon", last_name="Smith", company_id=acme.pk)
    b = contact(first_name="John", last_name="Smith", email="john@acme.com")
    far = contact(first_name="John", last_name="Smith")  # same name, nothing else in common
    detection.scan("contact")
    p = pair_of(a, b)
    assert p.confidence >= 70
    assert any(r.startswith("similar name (") and r.endswith("at the same company") for r in p.reasons) or \
        any("at acme.com" in r for r in p.reasons)
    weak = pair_of(b, far)
    assert weak is None or weak.confidence < p.confidence


@pytest.mark.parametrize(("one", "two"), [
    (("Zoë", "Müller"), ("Zoe", "Mueller")),
    (("Дмитрий", "Иванов"), ("Дмитрий", "Иваноф")),
    (("山田", "太郎"), ("山田", "太朗")),
    (("Σωκράτης", "Παππάς"), ("Σωκρατης", "Παππας")),
    (("José", "Núñez"), ("Jose", "Nunez")),
])
def test_unicode_names_in_many_scripts(contact, company, one, two):
    org = company(name="Org", domain="org.example")
    a = contact(first_name=one[0], last_name=one[1], company_id=org.pk)
    b = contact(first_name=two[0], last_name=two[1], company_id=org.pk)
    detection.scan("contact")
    p = pair_of(a, b)
    assert p is not None, "pair not proposed"
    assert p.confidence >= 60
    assert "at the same company" in p.reasons[-1]


def test_blocking_does_not_miss_obvious_pairs_among_many(contact, company):
    org = company(name="Big Co", domain="bigco.example")
    # Many people with the same first name at one company make a large block (compared by neighbours).
    for i in range(80):
        contact(first_name="Anna", last_name=f"Person{i:03d}", company_id=org.pk)
    a = contact(first_name="Anna", last_name="Schmidt", company_id=org.pk)
    b = contact(first_name="Anna", last_name="Schmitt", company_id=org.pk)
    typo = contact(first_name="Anan", last_name="Schmidt", email="anna.schmidt@bigco.example")
    result = detection.scan("contact")
    assert result.candidates < 80 * 10  # not every pair of the 83
    assert pair_of(a, b) is not None
    assert pair_of(a, typo) is not None


def test_companies_by_domain_name_and_phone(company):
    a = company(name="Acme, Inc.", domain="acme.com", phone="+1 415 555 0100")
    b = company(name="The ACME Company", website="https://www.acme.com/uk", domain="acme.co.uk")
    c = company(name="Acmee Corp", phone="+14155550100", city="Springfield")
    other = company(name="Globex", domain="globex.com")
    detection.scan("company")
    p = pair_of(a, b, "company")
    assert p.confidence >= 90 and "same domain (acme.com)" in p.reasons
    assert "same name ignoring legal forms (Inc, Ltd …)" in p.reasons
    pc = pair_of(a, c, "company")
    assert pc is not None and any(r.startswith("same phone") for r in pc.reasons)
    assert not DuplicatePair.objects.filter(a_id=other.pk).exists()


def test_dismissed_pairs_are_not_proposed_again(contact, admin):
    a = contact(first_name="Ken", last_name="Adams", email="ken@acme.com")
    b = contact(first_name="Ken", last_name="Adams", email="ken.adams@acme.com")
    detection.scan("contact")
    p = pair_of(a, b)
    dismiss_pair(actor=admin, pair=p)
    detection.scan("contact", full=True)
    detection.scan("contact")
    p.refresh_from_db()
    assert p.status == DuplicatePair.Status.DISMISSED
    assert DuplicatePair.objects.filter(status="open").count() == 0


def test_incremental_scan_finds_new_and_drops_stale(contact, admin):
    from kith.contacts import services

    a = contact(first_name="Lena", last_name="Berg", email="lena@berg.example")
    first = detection.scan("contact")
    assert first.mode == "full" and first.found == 0
    b = contact(first_name="Lena", last_name="Berg", phone="+49 30 1234567", email="lena.berg@berg.example")
    second = detection.scan("contact")
    assert second.mode == "incremental" and 1 <= second.records <= 2  # written since the last scan (5 s margin)
    assert pair_of(a, b) is not None
    services.update_contact(actor=admin, contact=b, data={"first_name": "Tom", "last_name": "Fischer",
                                                          "email": "tom@other.example"})
    third = detection.scan("contact")
    assert third.removed == 1 and pair_of(a, b) is None


def test_min_confidence(contact):
    contact(first_name="Ken", last_name="Adams")
    contact(first_name="Ken", last_name="Adams")
    detection.scan("contact", min_conf=90)
    assert DuplicatePair.objects.count() == 0
    detection.scan("contact", full=True, min_conf=40)
    assert DuplicatePair.objects.get().reasons == ["same name"]


def test_scoring_reasons_directly():
    a = matching.contact_profile({"id": 1, "first_name": "Jon", "last_name": "Smith", "email": "jsmith@gmail.com"})
    b = matching.contact_profile({"id": 2, "first_name": "Jon", "last_name": "Smyth", "email": "jsmith@acme.com"})
    conf, reasons = matching.score("contact", a, b)
    assert reasons == ["similar name (80%) and the same email name (jsmith)"] or reasons[0].startswith("similar name")
    assert 40 <= conf < 90


def test_candidate_pairs_are_kept_packed_and_come_out_once_each_in_order(monkeypatch):
    """A scan's candidate pairs are packed into sorted runs as they gather (a million-contact scan proposes
    millions); reading them merges the runs and drops a pair proposed by two blocks."""
    monkeypatch.setattr(detection, "PAIR_RUN", 3)
    pairs = detection.Pairs()
    proposed = [(9 << 32) | 12, (1 << 32) | 2, (5 << 32) | 7, (1 << 32) | 2, (3 << 32) | 4, (5 << 32) | 7,
                (2 << 32) | 3, (9 << 32) | 12]
    for p in proposed:
        pairs.add(p)
    assert len(pairs.runs) >= 2  # packed as they came
    assert list(pairs) == sorted(set(proposed))
    assert [len(b) for b in pairs.batches(2)] == [2, 2, 1]


def test_found_pairs_are_a_sorted_array_searched_for_pruning():
    """A scan keeps the pairs it found packed 8 bytes each, sorted as they arrive (a million-contact scan finds
    millions); pruning asks it by binary search."""
    found = array("Q", [(1 << 32) | 2, (1 << 32) | 9, (4 << 32) | 5, (7 << 32) | 8])
    assert all(detection._found(found, p) for p in found)
    assert not any(detection._found(found, p) for p in [0, (1 << 32) | 3, (2 << 32) | 1, (9 << 32) | 10])
    assert not detection._found(array("Q"), (1 << 32) | 2)


def test_profile_cache_drops_records_the_scan_is_past_first(monkeypatch):
    monkeypatch.setattr(detection, "PROFILE_CACHE", 4)
    cache = dict.fromkeys([1, 2, 3, 7, 8, 9])
    detection._trim(cache, done_below=3)
    assert list(cache) == [3, 7, 8, 9]  # 1 and 2 come before the pairs still to score
    cache.update(dict.fromkeys([10, 11, 12]))
    detection._trim(cache, done_below=3)
    assert list(cache) == [11, 12]  # then the oldest, down to half the bound


def test_small_batches_and_cache_find_and_prune_the_same_pairs(contact, admin, monkeypatch):
    """Scoring in many batches through a tiny profile cache gives the same pairs, confidences and reasons, and
    removes the same stale open pairs, as one batch."""
    from kith.contacts import services

    people = [contact(first_name="Lena", last_name="Berg", email=f"lena{i}@berg.example") for i in range(4)]
    people += [contact(first_name="Ken", last_name="Adams", phone="+49 30 1234567") for _ in range(3)]
    detection.scan("contact", full=True)
    before = {k: (p.confidence, p.reasons) for k, p in pairs().items()}
    assert len(before) == 6 + 3
    moved = people[1]
    services.update_contact(actor=admin, contact=moved, data={"first_name": "Tom", "last_name": "Fischer",
                                                              "email": "tom@other.example"})
    monkeypatch.setattr(detection, "SCORE_BATCH", 2)
    monkeypatch.setattr(detection, "PROFILE_CACHE", 2)
    result = detection.scan("contact", full=True)
    assert result.removed == 3 and result.found == 6
    assert {k: (p.confidence, p.reasons) for k, p in pairs().items()} == {
        k: v for k, v in before.items() if moved.pk not in k}


def test_e164_numbers_are_not_parsed_nor_cached():
    matching._parsed_digits.cache_clear()
    assert matching.phone_digits("+442079460018") == "442079460018"
    assert matching.phone_digits(" ") == ""
    assert matching._parsed_digits.cache_info().currsize == 0
    assert matching.phone_digits("020 7946 0018", "GB") == "442079460018"
    assert matching._parsed_digits.cache_info().currsize == 1


def test_a_new_record_gets_the_keys_a_refresh_reads_back(contact, company, admin):
    """Creating a record keys it from the saved instance (no delete, no read back); the keys are the ones
    refresh_keys computes from the database, company name and domain included."""
    from kith.contacts.services import update_contact
    from kith.duplicates.models import MatchKey

    acme = company(name="Acme Ltd", domain="acme.example")
    records = [
        contact(first_name="Jon", last_name="Smith", email="Jon.Smith@Gmail.com", phone="+44 20 7946 0958",
                mobile="+49 151 23456789", additional_emails=["j@acme.example"], company_id=acme.pk, country="GB"),
        contact(first_name="Zoë", last_name="", email="", phone="030 1234567", country="DE"),
        company(name="Globex Corporation", domain="globex.example", phone="+1 415 555 0123", country="US"),
    ]

    def keys(obj):
        return sorted(MatchKey.objects.filter(object_type=obj.object_type, record_id=obj.pk)
                      .values_list("key", "sort_name"))

    first: dict[int, list] = {}
    for obj in records:
        first[obj.pk] = created = keys(obj)
        assert created, obj
        detection.refresh_keys(obj.object_type, [obj.pk])
        assert keys(obj) == created, obj
    # an update is keyed again from the database
    jon = records[0]
    update_contact(actor=admin, contact=jon, data={"email": "jon@other.example"})
    updated = keys(jon)
    detection.refresh_keys("contact", [jon.pk])
    assert keys(jon) == updated != first[jon.pk]
