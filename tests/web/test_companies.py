"""Company pages: list, record page with its people, forms."""

from __future__ import annotations

import re

import pytest

from kith.contacts import services
from kith.contacts.models import Company
from kith.core.models import CustomField

from .conftest import names_in_table, text

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def company_form(**overrides):
    data = {
        "name": "", "domain": "", "website": "", "industry": "", "size": "", "annual_revenue": "", "phone": "",
        "street": "", "city": "", "region": "", "postal_code": "", "country": "", "description": "",
        "owner_id": "", "tags": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def companies(make_company, member):
    return [
        make_company(name="Acme", domain="acme.com", industry="Manufacturing", size=120, city="Berlin"),
        make_company(name="Globex", domain="globex.io", industry="Software", size=15, city="London",
                     owner_id=member.pk),
        make_company(name="Initech", industry="Consulting", size=4000, city="Austin", tags="partner"),
    ]


def test_company_list_columns_and_sorting(admin_client, companies):
    r = admin_client.get("/companies/")
    html = r.content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(?:<a[^>]*>)?([^<]+)', html)
    assert headers == ["Name", "Domain", "Industry", "Employees", "City", "Owner", "Updated"]
    assert html.count('aria-sort="') == 7
    assert names_in_table(admin_client.get("/companies/?ordering=size")) == ["Globex", "Acme", "Initech"]
    assert names_in_table(admin_client.get("/companies/?ordering=-size")) == ["Initech", "Acme", "Globex"]
    assert names_in_table(admin_client.get("/companies/?ordering=-name")) == ["Initech", "Globex", "Acme"]
    assert "4,000" in text(admin_client.get("/companies/"))


def test_company_list_filters_and_search(admin_client, member, companies):
    assert names_in_table(admin_client.get("/companies/?industry=soft")) == ["Globex"]
    assert names_in_table(admin_client.get("/companies/?city=Austin")) == ["Initech"]
    assert names_in_table(admin_client.get("/companies/?tag=partner")) == ["Initech"]
    assert names_in_table(admin_client.get(f"/companies/?owner={member.pk}")) == ["Globex"]
    assert names_in_table(admin_client.get("/companies/?q=acme")) == ["Acme"]
    frag = admin_client.get("/companies/?q=glob", **HX).content.decode()
    assert "<html" not in frag and "Globex" in frag and "Acme" not in frag
    r = admin_client.get("/companies/?updated_before=31-12-2020")
    assert r.status_code == 400 and "Updated until: Enter a date as YYYY-MM-DD." in text(r)


def test_company_detail_with_people_and_add_person(admin_client, companies, make_contact):
    acme = companies[0]
    make_contact(first_name="Ada", last_name="Lovelace", job_title="CTO", company_id=acme.pk)
    make_contact(first_name="Zed", company_id=acme.pk)
    make_contact(first_name="Other")
    r = admin_client.get(f"/companies/{acme.pk}/")
    assert r.status_code == 200
    page = text(r)
    for expected in ["Acme", "acme.com", "https://acme.com", "Manufacturing", "120", "Berlin", "People 2"]:
        assert expected in page, expected
    people = text_between(r.content.decode(), 'id="people-heading"', 'id="deals-heading"')
    assert "Ada Lovelace" in people and "Zed" in people and "Other" not in people
    assert f'href="/contacts/new/?company={acme.pk}"' in r.content.decode()
    assert "Add person" in page


def text_between(html: str, start: str, end: str) -> str:
    import html as html_lib

    part = html.split(start)[1].split(end)[0]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def test_create_company_and_errors(admin_client, admin):
    CustomField.objects.create(object_type="company", key="arr", label="ARR", field_type="currency", currency="EUR")
    html = admin_client.get("/companies/new/").content.decode()
    assert ">ARR (EUR)<" in html and ">Name <span class=\"req\">(required)</span>" in html
    r = admin_client.post("/companies/new/", company_form(domain="not a domain", size="many", cf_arr="abc"))
    assert r.status_code == 400
    page = text(r)
    assert "A company needs a name." in page
    assert "is not a valid domain" in page
    assert "Enter a whole number of employees" in page
    assert "Enter an amount such as 1250.00." in page
    r = admin_client.post("/companies/new/", company_form(name="Hooli", domain="https://www.hooli.xyz/about",
                                                          size="1,200", owner_id=str(admin.pk), cf_arr="1000"))
    hooli = Company.objects.get(name="Hooli")
    assert r["Location"] == f"/companies/{hooli.pk}/"
    assert hooli.domain == "hooli.xyz" and hooli.size == 1200 and hooli.custom_fields == {"arr": "1000.00"}


def test_edit_company_and_history(admin_client, companies):
    acme = companies[0]
    r = admin_client.post(f"/companies/{acme.pk}/edit/", company_form(
        name="Acme Corp", domain="acme.com", website="https://acme.com", industry="Manufacturing", size="150",
        city="Berlin", owner_id=str(acme.owner_id), version=str(acme.version)))
    assert r.status_code == 302
    html = admin_client.get(f"/companies/{acme.pk}/").content.decode()
    assert 'id="history-heading"' not in html  # the change shows in the timeline, once
    timeline = text_between(html, 'id="timeline-entries"', "</ol>")
    assert "Name: Acme → Acme Corp" in timeline
    assert "Employees: 120 → 150" in timeline
    assert text(admin_client.get(f"/companies/{acme.pk}/")).count("Name: Acme → Acme Corp") == 1


def test_company_domain_clash(admin_client, companies):
    r = admin_client.post("/companies/new/", company_form(name="Copy", domain="acme.com"))
    assert "Another company already has this domain (Acme)." in text(r)


def test_company_viewer_permissions(signed_in, viewer, companies):
    v = signed_in(viewer)
    acme = companies[0]
    page = v.get(f"/companies/{acme.pk}/").content.decode()
    assert "Add person" not in page and ">Edit<" not in page and "Move to trash" not in page
    assert "New company" not in v.get("/companies/").content.decode()
    assert v.get("/companies/new/").status_code == 403
    assert v.get(f"/companies/{acme.pk}/edit/").status_code == 403
    assert v.post(f"/companies/{acme.pk}/delete/").status_code == 403
    assert v.post(f"/companies/{acme.pk}/restore/").status_code == 403


def test_trashed_company_page(admin_client, admin, companies):
    acme = companies[0]
    services.delete_company(actor=admin, company=acme)
    r = admin_client.get(f"/companies/{acme.pk}/")
    assert "This company is in the trash" in text(r)
    assert admin_client.get("/companies/999999/").status_code == 404


def test_company_list_does_a_constant_number_of_queries(admin_client, make_company, admin, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/companies/?ordering=name").status_code == 200
        return len(ctx.captured_queries)

    make_company(name="First", owner_id=admin.pk)
    few = count()
    for i in range(10):
        make_company(name=f"Co {i}", owner_id=(admin if i % 2 else member).pk, tags=f"t{i}")
    assert count() == few
