"""The contact list: columns, sorting, filters, search, keyset paging, htmx fragments, query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kith.contacts.models import Contact
from kith.core.models import CustomField

from .conftest import names_in_table, text

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(make_contact, make_company, member):
    acme = make_company(name="Acme", domain="acme.com")
    globex = make_company(name="Globex", domain="globex.io")
    ada = make_contact(first_name="Ada", last_name="Lovelace", email="ada@acme.com", company_id=acme.pk,
                       job_title="CTO", lifecycle_stage="customer", tags="vip, engineering")
    bob = make_contact(first_name="Bob", last_name="Builder", email="bob@globex.io", company_id=globex.pk,
                       lifecycle_stage="lead", owner_id=member.pk)
    cy = make_contact(first_name="Cy", last_name="Young", email="cy@example.com", lifecycle_stage="opportunity",
                      tags="vip")
    return {"acme": acme, "globex": globex, "ada": ada, "bob": bob, "cy": cy}


def test_list_shows_the_columns_and_rows(admin_client, people):
    r = admin_client.get("/contacts/")
    assert r.status_code == 200
    html = r.content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>(?:<a[^>]*>)?([^<]+)', html)
    assert headers == ["Name", "Email", "Phone", "Company", "Job title", "Lifecycle stage", "Owner", "Updated"]
    page = text(r)
    assert "ada@acme.com" in page and "Acme" in page and "CTO" in page and "Customer" in page
    assert "Bob Member" in page  # Bob's owner
    assert "<html" in html and 'id="results"' in html
    assert r["Vary"] and "HX-Request" in r["Vary"]


def test_every_header_is_a_sort_link_with_aria_sort(admin_client, people):
    html = admin_client.get("/contacts/").content.decode()
    ths = re.findall(r"<th [^>]*>", html)
    assert len(ths) == 8
    # Default: updated, newest first.
    assert re.search(r'<th scope="col" class="col-date[^"]*" aria-sort="descending">', html)
    assert sum('aria-sort="none"' in t for t in ths) == 6  # phone has no ordering
    assert 'href="/contacts/?ordering=name"' in html
    # Clicking "Updated" while it sorts descending turns it ascending.
    assert 'href="/contacts/?ordering=updated_at"' in html


def test_sorting_by_name_both_ways(admin_client, people):
    r = admin_client.get("/contacts/?ordering=name")
    assert names_in_table(r) == ["Ada Lovelace", "Bob Builder", "Cy Young"]
    html = r.content.decode()
    assert re.search(r'<th scope="col" class="col-name[^"]*" aria-sort="ascending">', html)
    assert 'href="/contacts/?ordering=-name"' in html
    r = admin_client.get("/contacts/?ordering=-name")
    assert names_in_table(r) == ["Cy Young", "Bob Builder", "Ada Lovelace"]
    assert re.search(r'<th scope="col" class="col-name[^"]*" aria-sort="descending">', r.content.decode())


def test_sorting_by_company_and_owner(admin_client, people):
    assert names_in_table(admin_client.get("/contacts/?ordering=company")) == ["Cy Young", "Ada Lovelace", "Bob Builder"]
    assert names_in_table(admin_client.get("/contacts/?ordering=-company"))[0] == "Bob Builder"


def test_sort_links_keep_filters_and_drop_the_cursor(admin_client, people, settings):
    settings.KITH_UI_PAGE_SIZE = 1
    first = admin_client.get("/contacts/?tag=vip&ordering=name").content.decode()
    next_url = re.search(r'href="([^"]*cursor=[^"]*)"', first).group(1).replace("&amp;", "&")
    html = admin_client.get(next_url).content.decode()
    assert names_in_table_html(html) == ["Cy Young"]
    assert 'href="/contacts/?tag=vip&amp;ordering=-name"' in html


def names_in_table_html(html: str) -> list[str]:
    return re.findall(r'class="record-link"[^>]*>(?:<span[^>]*>[^<]*</span>)?<span>([^<]+)</span>', html)


def test_filter_by_owner_me_and_user(signed_in, member, people):
    c = signed_in(member)
    assert names_in_table(c.get("/contacts/?owner=me")) == ["Bob Builder"]
    assert set(names_in_table(c.get(f"/contacts/?owner={member.pk}"))) == {"Bob Builder"}
    assert "Bob Builder" not in names_in_table(c.get("/contacts/?owner=none"))


def test_filter_by_company_tag_and_stage(admin_client, people):
    assert names_in_table(admin_client.get(f"/contacts/?company={people['acme'].pk}")) == ["Ada Lovelace"]
    assert names_in_table(admin_client.get("/contacts/?company=none")) == ["Cy Young"]
    assert set(names_in_table(admin_client.get("/contacts/?tag=vip"))) == {"Ada Lovelace", "Cy Young"}
    assert names_in_table(admin_client.get("/contacts/?lifecycle_stage=lead")) == ["Bob Builder"]


def test_active_filters_show_as_chips_with_remove_links(admin_client, people):
    r = admin_client.get(f"/contacts/?company={people['acme'].pk}&lifecycle_stage=customer")
    page = text(r)
    assert "Company: Acme" in page
    assert "Lifecycle stage: Customer" in page
    html = r.content.decode()
    assert f'href="/contacts/?company={people["acme"].pk}" aria-label="Remove filter Lifecycle stage"' in html


def test_filter_by_dates(admin_client, people):
    old = timezone.now() - dt.timedelta(days=10)
    Contact.objects.filter(pk=people["cy"].pk).update(created_at=old, updated_at=old)
    day = (old.date()).isoformat()
    assert names_in_table(admin_client.get(f"/contacts/?created_before={day}")) == ["Cy Young"]
    assert "Cy Young" not in names_in_table(admin_client.get(f"/contacts/?updated_after={timezone.now().date()}"))


def test_filter_by_custom_fields(admin_client, make_contact):
    CustomField.objects.create(object_type="contact", key="region", label="Region", field_type="select",
                               choices=["EMEA", "APAC"])
    CustomField.objects.create(object_type="contact", key="score", label="Score", field_type="number")
    CustomField.objects.create(object_type="contact", key="vip", label="VIP", field_type="boolean")
    make_contact(first_name="Eve", custom_fields={"region": "EMEA", "score": 10, "vip": True})
    make_contact(first_name="Fay", custom_fields={"region": "APAC", "score": 3})
    page = admin_client.get("/contacts/").content.decode()
    # One input per custom field, by type.
    assert 'name="cf_region"' in page and 'name="cf_score__gte"' in page and 'name="cf_score__lte"' in page
    assert 'name="cf_vip"' in page
    assert names_in_table(admin_client.get("/contacts/?cf_region=APAC")) == ["Fay"]
    assert names_in_table(admin_client.get("/contacts/?cf_score__gte=5")) == ["Eve"]
    assert names_in_table(admin_client.get("/contacts/?cf_vip=true")) == ["Eve"]
    assert names_in_table(admin_client.get("/contacts/?cf_vip=false")) == ["Fay"]


def test_invalid_filter_names_the_filter(admin_client, people):
    r = admin_client.get("/contacts/?created_after=yesterday")
    assert r.status_code == 400
    page = text(r)
    assert "Created from: Enter a date as YYYY-MM-DD." in page
    r = admin_client.get("/contacts/?owner=somebody")
    assert "Owner: Use a user id, “me” or “none”." in text(r)
    r = admin_client.get("/contacts/?ordering=shoe_size")
    assert r.status_code == 400 and "Sort order: Unknown ordering “shoe_size”" in text(r)
    # The htmx fragment carries the same message (and is swapped in: 400 is configured to swap).
    r = admin_client.get("/contacts/?lifecycle_stage=king", **HX)
    assert r.status_code == 400 and "Lifecycle stage: Unknown value “king”" in text(r)


def test_search_box_uses_the_filtersets_q(admin_client, people):
    r = admin_client.get("/contacts/?q=lovelace")
    assert names_in_table(r) == ["Ada Lovelace"]
    assert 'value="lovelace"' in r.content.decode()
    # Search as you type: the input asks for the results fragment after a pause, and pushes the URL.
    html = admin_client.get("/contacts/").content.decode()
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'hx-push-url="true"' in html
    assert names_in_table(admin_client.get("/contacts/?q=globex")) == ["Bob Builder"]


def test_htmx_request_returns_only_the_results_fragment(admin_client, people):
    r = admin_client.get("/contacts/?q=ada", **HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in html and 'class="sidebar"' not in html
    assert "<table" in html and "Ada Lovelace" in html and "Bob Builder" not in html
    # The filter count badge is refreshed out of band.
    assert 'id="filter-count"' in html and 'hx-swap-oob="true"' in html


def test_empty_results_say_so(admin_client, people):
    r = admin_client.get("/contacts/?q=zzzzzzzz")
    assert "No contacts match" in text(r)
    assert "Clear search and filters" in text(r)


def test_keyset_paging_with_load_more_and_next_link(admin_client, make_contact, settings):
    settings.KITH_UI_PAGE_SIZE = 2
    for name in ["Ann", "Ben", "Cat", "Dan", "Eli"]:
        make_contact(first_name=name)
    r = admin_client.get("/contacts/?ordering=name")
    assert names_in_table(r) == ["Ann", "Ben"]
    html = r.content.decode()
    match = re.search(r'<a class="btn btn-secondary btn-sm" href="([^"]+)" hx-get="([^"]+)" hx-target="#load-more"'
                      r' hx-swap="outerHTML" hx-push-url="false" rel="next">Load more</a>', html)
    assert match, "a Load more link that htmx appends from and that works as a plain link"
    next_url = match.group(1).replace("&amp;", "&")
    assert "cursor=" in next_url and "ordering=name" in next_url
    # Without JavaScript: the link opens the next page in full.
    full = admin_client.get(next_url)
    assert names_in_table(full) == ["Cat", "Dan"]
    assert "<html" in full.content.decode() and "Back to the first page" in text(full)
    # With htmx: only the new rows (and the next Load more row) come back.
    frag = admin_client.get(next_url, **HX)
    fhtml = frag.content.decode()
    assert "<table" not in fhtml and "<html" not in fhtml
    assert fhtml.count("<tr") == 3 and 'id="load-more"' in fhtml
    last_url = re.search(r'hx-get="([^"]+)"', fhtml.split('id="load-more"')[1]).group(1).replace("&amp;", "&")
    last = admin_client.get(last_url, **HX).content.decode()
    assert "Eli" in last and 'id="load-more"' not in last


def test_bad_cursor_is_a_clear_error(admin_client, people):
    r = admin_client.get("/contacts/?cursor=bogus!")
    assert r.status_code == 400
    assert "Page: This cursor is not valid" in text(r)


def test_list_does_a_constant_number_of_queries(admin_client, make_contact, make_company, settings):
    settings.KITH_UI_PAGE_SIZE = 50

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = admin_client.get("/contacts/?ordering=name")
            assert r.status_code == 200
        return len(ctx.captured_queries)

    co = make_company(name="Initech")
    make_contact(first_name="One", company_id=co.pk, tags="a")
    few = count()
    for i in range(12):
        c2 = make_company(name=f"Co {i}")
        make_contact(first_name=f"Person {i}", company_id=c2.pk, tags=f"t{i}")
    assert count() == few


def test_viewer_sees_no_new_button(signed_in, viewer, people):
    page = signed_in(viewer).get("/contacts/").content.decode()
    assert "Ada Lovelace" in page
    assert "New contact" not in page


def test_own_visibility_hides_other_peoples_contacts(signed_in, member, people, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    names = names_in_table(signed_in(member).get("/contacts/"))
    # Bob is the member's; Ada and Cy are owned by the admin.
    assert names == ["Bob Builder"]
