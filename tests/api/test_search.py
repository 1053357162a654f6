"""/api/v1/search: ranked contacts and companies by name, email, phone digits, company, domain, typos."""

from __future__ import annotations

import pytest

from .conftest import assert_error_shape, company, contact, error_fields


@pytest.fixture
def data(admin):
    acme = company(admin, name="Acme Rockets", domain="acme-rockets.com", industry="Aerospace", city="Denver",
                   phone="+1 303 555 0188")
    globex = company(admin, name="Globex", domain="globex.io")
    return {
        "acme": acme,
        "globex": globex,
        "ada": contact(admin, first_name="Ada", last_name="Lovelace", email="ada@analytical.org",
                       phone="+44 20 7946 0958", job_title="Engineer", company_id=acme.pk),
        "alan": contact(admin, first_name="Alan", last_name="Turing", email="alan@bletchley.uk",
                        mobile="+1 (415) 555-0142", company_id=globex.pk),
        "grace": contact(admin, first_name="Grace", last_name="Hopper", email="grace@navy.mil"),
    }


def hits(api, q, **params) -> list[tuple[str, int]]:
    r = api.get("search", q=q, **params)
    assert r.status_code == 200, r.content
    return [(h["type"], h["id"]) for h in r.json()]


@pytest.mark.django_db
class TestSearch:
    def test_result_shape(self, api, data):
        r = api.get("search", q="Ada")
        assert r.status_code == 200
        [hit] = r.json()
        assert set(hit) == {"type", "id", "title", "subtitle", "url", "score"}
        assert (hit["type"], hit["id"], hit["title"]) == ("contact", data["ada"].pk, "Ada Lovelace")
        assert hit["subtitle"] == "Engineer at Acme Rockets · ada@analytical.org"
        assert hit["url"] == data["ada"].get_absolute_url()
        assert isinstance(hit["score"], float)

    def test_name_prefix(self, api, data):
        assert hits(api, "lov") == [("contact", data["ada"].pk)]
        assert hits(api, "ada lov") == [("contact", data["ada"].pk)]
        assert ("company", data["globex"].pk) in hits(api, "glob")

    def test_email(self, api, data):
        assert hits(api, "grace@navy.mil") == [("contact", data["grace"].pk)]
        assert ("contact", data["alan"].pk) in hits(api, "bletchley")

    @pytest.mark.parametrize("q", ["02079460958", "020 7946 0958", "+44 20 7946 0958", "7946"])
    def test_phone_digits(self, api, data, q):
        assert ("contact", data["ada"].pk) in hits(api, q)

    def test_mobile_and_company_phone(self, api, data):
        assert ("contact", data["alan"].pk) in hits(api, "415-555-0142")
        assert ("company", data["acme"].pk) in hits(api, "303 555 0188")

    def test_company_name_finds_company_first_then_its_people(self, api, data):
        results = hits(api, "acme rockets")
        assert results[0] == ("company", data["acme"].pk)
        assert ("contact", data["ada"].pk) in results

    def test_domain(self, api, data):
        assert ("company", data["globex"].pk) in hits(api, "globex.io")
        assert ("company", data["acme"].pk) in hits(api, "acme-rockets.com")

    def test_small_typo(self, api, data):
        assert ("contact", data["ada"].pk) in hits(api, "Lovelcae")
        assert ("contact", data["grace"].pk) in hits(api, "Grcae Hopper")
        assert ("company", data["globex"].pk) in hits(api, "Glbex")

    def test_types_and_limit(self, api, data):
        assert {t for t, _ in hits(api, "acme", types="company")} == {"company"}
        assert {t for t, _ in hits(api, "acme", types="contact")} == {"contact"}
        assert {t for t, _ in hits(api, "acme", types="contact,company")} == {"contact", "company"}
        assert len(hits(api, "acme", limit=1)) == 1
        r = api.get("search", q="acme", types="spaceship")
        assert_error_shape(r, 422)
        assert error_fields(r) == {"types"}
        assert error_fields(api.get("search", q="acme", limit=0)) == {"limit"}

    def test_empty_and_no_match(self, api, data):
        assert api.get("search", q="").json() == []
        assert api.get("search").json() == []
        assert api.get("search", q="zzzqqq").json() == []

    def test_trashed_records_are_not_found(self, api, data):
        api.delete(f"contacts/{data['grace'].pk}")
        assert hits(api, "hopper") == []
        api.post(f"contacts/{data['grace'].pk}/restore")
        assert hits(api, "hopper") == [("contact", data["grace"].pk)]

    def test_only_visible_records(self, api_for, admin, member, settings):
        settings.KITH_RECORD_VISIBILITY = "own"
        contact(admin, first_name="Zelda", last_name="Private")
        mine = contact(member, first_name="Zelda", last_name="Mine")
        assert hits(api_for(member), "zelda") == [("contact", mine.pk)]
        assert len(hits(api_for(admin), "zelda")) == 2

    def test_needs_authentication(self, client, data):
        assert_error_shape(client.get("/api/v1/search", {"q": "ada"}), 401)
