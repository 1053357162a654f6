"""kith.core.phones: the fast phone library (rphonenumbers) gives exactly what phonenumbers gives, for every
region's example numbers in every form, the demo data's numbers and garbled input."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from kith.contacts.services import normalise_phone
from kith.core import search
from kith.core.management import demodata
from kith.core.phones import phonenumbers as fast

TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN, PhoneNumberType.PREMIUM_RATE]


def phone_samples() -> list[tuple[str, str]]:
    """Every region's example numbers (national, international, with an extension) with their last digits
    varied, and the demo data's numbers of every culture."""
    rng = random.Random(5)
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in TYPES:
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is None:
                continue
            national = phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.NATIONAL)
            for text in (national, phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                         national + " ext. 12"):
                out.append((text, region))
                digits = [i for i, ch in enumerate(text) if ch.isdigit()][-2:]
                chars = list(text)
                for i in digits:
                    chars[i] = str(rng.randint(0, 9))
                out.append(("".join(chars), region))
    for culture in sorted(demodata.CULTURES):
        out += [(demodata.phone_number(rng, culture, mobile=m), culture) for m in (True, False) for _ in range(20)]
    out += [("030 1234567", "DE"), ("+39 06 1234 5678", ""), ("555-0100", "US"), ("not a phone", "US"),
            ("12345", ""), ("+1 415 555 0142 x7", "US")]
    return out


def garbled(n: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return [("".join(rng.choice("0123456789  -+()x.") for _ in range(rng.randint(1, 20))), rng.choice(regions))
            for _ in range(n)]


def answer(lib, text: str, region: str):
    try:
        x = lib.parse(text, region or None)
    except lib.NumberParseException as exc:
        return ("error", int(exc.error_type))
    # what kith.contacts.services.parse_phone asks: possible and valid (the two may disagree on whether
    # some invalid garble is "possible"; Kith never uses that answer alone)
    usable = lib.is_possible_number(x) and lib.is_valid_number(x)
    out = (x.country_code, x.national_number, x.extension, bool(x.italian_leading_zero), usable)
    if not usable:
        return out
    return out + tuple(lib.format_number(x, f) for f in (lib.PhoneNumberFormat.E164, lib.PhoneNumberFormat.NATIONAL,
                                                         lib.PhoneNumberFormat.INTERNATIONAL)) + (
        lib.national_significant_number(x), lib.length_of_geographical_area_code(x))


def test_kith_uses_the_fast_library():
    assert fast.__name__ == "rphonenumbers"


def test_fast_library_gives_what_phonenumbers_gives():
    valid = 0
    for text, region in phone_samples():
        expected = answer(phonenumbers, text, region)
        assert answer(fast, text, region) == expected, (text, region)
        valid += len(expected) > 5
    assert valid > 2000  # most samples are real numbers, not only errors


def test_on_garbled_input_they_differ_only_where_their_metadata_versions_do():
    """The two libraries ship metadata of slightly different releases: a few number ranges (e.g. in
    Botswana, Romania) are valid in one and not yet in the other; they never disagree on how text parses."""
    samples = garbled(20000)
    differ = 0
    for text, region in samples:
        a, b = answer(phonenumbers, text, region), answer(fast, text, region)
        if a != b:
            differ += 1
            assert a[:4] == b[:4], (text, region, a, b)  # same country code, number, extension
    assert differ <= len(samples) // 1000


@pytest.mark.parametrize(("text", "region", "stored", "tokens"), [
    ("020 7946 0958", "GB", "+442079460958", ["442079460958", "2079460958", "02079460958", "79460958", "9460958"]),
    ("06 1234 5678", "IT", "+390612345678", ["390612345678", "0612345678", "12345678", "2345678"]),
    ("(415) 555-0142", "US", "+14155550142", ["14155550142", "4155550142", "5550142"]),
])
def test_stored_form_and_search_forms(text, region, stored, tokens):
    assert normalise_phone(text, region)[0] == stored
    assert search.phone_tokens(stored) == tokens
