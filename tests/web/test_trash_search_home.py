"""Trash and restore, global search, and the home page."""

from __future__ import annotations

import re

import pytest

from kith.contacts import services
from kith.contacts.models import Company, Contact

from .conftest import text

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


# --- trash ---------------------------------------------------------------------------------------------


def test_move_to_trash_asks_first_then_posts(admin_client, make_contact):
    c = make_contact(first_name="Ada", last_name="Lovelace")
    detail = admin_client.get(f"/contacts/{c.pk}/").content.decode()
    # The button opens a confirmation dialog (kith.js); without JavaScript it opens a confirmation page.
    assert f'action="/contacts/{c.pk}/delete/"' in detail and 'data-dialog-open="trash-dialog"' in detail
    assert '<dialog id="trash-dialog"' in detail
    confirm = admin_client.get(f"/contacts/{c.pk}/delete/")
    assert confirm.status_code == 200 and "Move Ada Lovelace to the trash?" in text(confirm)
    assert Contact.objects.filter(pk=c.pk).exists()
    r = admin_client.post(f"/contacts/{c.pk}/delete/", {"version": str(c.version)}, follow=True)
    assert r.redirect_chain[-1][0] == "/contacts/"
    assert "Ada Lovelace was moved to the trash." in text(r)
    assert not Contact.objects.filter(pk=c.pk).exists()
    assert Contact.all_objects.get(pk=c.pk).in_trash


def test_trash_with_stale_version_is_refused(admin_client, admin, make_contact):
    c = make_contact(first_name="Ada")
    stale = c.version
    services.update_contact(actor=admin, contact=c, data={"job_title": "CTO"})
    r = admin_client.post(f"/contacts/{c.pk}/delete/", {"version": str(stale)}, follow=True)
    assert "changed by someone else" in text(r)
    assert Contact.objects.filter(pk=c.pk).exists()


def test_trash_page_lists_items_newest_first_and_restores(admin_client, admin, make_contact, make_company,
                                                          settings):
    settings.KITH_TRASH_DAYS = 14
    ada = make_contact(first_name="Ada", email="ada@example.com")
    acme = make_company(name="Acme", domain="acme.com")
    services.delete_contact(actor=admin, contact=ada)
    services.delete_company(actor=admin, company=acme)
    r = admin_client.get("/trash/")
    page = text(r)
    assert "deleted for good after 14 days" in page
    assert page.index("Acme") < page.index("Ada")  # newest first
    assert "ada@example.com" in page and "acme.com" in page and "Alice Admin" in page
    html = r.content.decode()
    assert f'action="/contacts/{ada.pk}/restore/"' in html
    r = admin_client.post(f"/contacts/{ada.pk}/restore/", {"next": "/trash/"}, follow=True)
    assert r.redirect_chain[-1][0] == "/trash/"
    assert "Ada was restored." in text(r)
    assert Contact.objects.filter(pk=ada.pk).exists()
    r = admin_client.post(f"/companies/{acme.pk}/restore/", follow=True)
    assert r.redirect_chain[-1][0] == f"/companies/{acme.pk}/"
    assert Company.objects.filter(pk=acme.pk).exists()
    assert "The trash is empty" in text(admin_client.get("/trash/"))


def test_restore_error_is_shown_as_a_message(admin_client, admin, make_contact):
    old = make_contact(first_name="Old", email="same@example.com")
    services.delete_contact(actor=admin, contact=old)
    make_contact(first_name="New", email="same@example.com")
    r = admin_client.post(f"/contacts/{old.pk}/restore/", {"next": "/trash/"}, follow=True)
    page = text(r)
    assert "Old could not be restored: A live contact already has same@example.com" in page
    assert Contact.all_objects.get(pk=old.pk).in_trash


def test_trash_restore_from_the_record_banner(admin_client, admin, make_company):
    acme = make_company(name="Acme")
    services.delete_company(actor=admin, company=acme)
    html = admin_client.get(f"/companies/{acme.pk}/").content.decode()
    assert f'action="/companies/{acme.pk}/restore/"' in html


def test_viewer_sees_trash_without_restore_buttons(signed_in, viewer, admin, make_contact):
    c = make_contact(first_name="Ada")
    services.delete_contact(actor=admin, contact=c)
    r = signed_in(viewer).get("/trash/")
    assert "Ada" in text(r)
    assert ">Restore<" not in r.content.decode() and "/restore/" not in r.content.decode()


def test_restore_is_post_only(admin_client, admin, make_contact):
    c = make_contact(first_name="Ada")
    services.delete_contact(actor=admin, contact=c)
    assert admin_client.get(f"/contacts/{c.pk}/restore/").status_code == 405


# --- global search -------------------------------------------------------------------------------------


def test_global_search_box_is_labelled_on_every_page(admin_client):
    html = admin_client.get("/").content.decode()
    assert '<label for="global-search-input" class="visually-hidden">Search</label>' in html
    assert 'hx-get="/search/"' in html and 'role="combobox"' in html


def test_global_search_dropdown_and_full_page(admin_client, make_contact, make_company):
    acme = make_company(name="Acme Rockets", domain="acme.com")
    ada = make_contact(first_name="Ada", last_name="Lovelace", email="ada@acme.com", company_id=acme.pk)
    make_contact(first_name="Bob", email="bob@example.com")
    r = admin_client.get("/search/?q=acme", **HX)
    html = r.content.decode()
    assert "<html" not in html and 'role="listbox"' in html
    assert f'href="/contacts/{ada.pk}/"' in html and f'href="/companies/{acme.pk}/"' in html
    assert "ada@acme.com · Acme Rockets" in text(r)
    assert "bob@example.com" not in html
    assert 'See all results for “acme”' in text(r)
    full = admin_client.get("/search/?q=acme")
    assert "<html" in full.content.decode() and "Results for “acme”" in text(full)
    assert "Ada Lovelace" in text(full) and "acme.com" in text(full)


def test_search_with_no_results_and_typos(admin_client, make_contact):
    make_contact(first_name="Jonathan", last_name="Smith")
    assert "No contacts or companies match “zzqx”." in text(admin_client.get("/search/?q=zzqx", **HX))
    assert "Jonathan Smith" in text(admin_client.get("/search/?q=jonathon", **HX))
    assert admin_client.get("/search/?q=", **HX).content.decode().strip() == ""


def test_search_respects_visibility(signed_in, member, make_contact, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    make_contact(first_name="Secret", last_name="Agent")
    assert "Secret Agent" not in text(signed_in(member).get("/search/?q=secret"))


def test_trashed_records_are_not_found(admin_client, admin, make_contact):
    c = make_contact(first_name="Vanishing")
    services.delete_contact(actor=admin, contact=c)
    assert "Vanishing" not in text(admin_client.get("/search/?q=vanishing", **HX))


# --- home ----------------------------------------------------------------------------------------------


def test_home_has_quick_actions_recent_records_and_my_contacts(signed_in, admin, member, make_contact,
                                                              make_company):
    make_company(name="Acme")
    make_contact(first_name="Mine", owner_id=member.pk)
    make_contact(first_name="Theirs")
    r = signed_in(member).get("/")
    page = text(r)
    for expected in ["New contact", "New company", "New lead", "New deal", "Recently updated contacts",
                     "Recently updated companies", "My contacts", "Acme", "Mine", "Theirs"]:
        assert expected in page, expected
    mine = page.split("My contacts", 2)[-1]
    assert "Mine" in mine and "Theirs" not in mine
    html = r.content.decode()
    assert 'href="/contacts/new/"' in html and 'href="/companies/new/"' in html
    assert re.search(r'href="/contacts/\?owner=me"', html)


def test_my_contacts_on_home_read_the_owner_index(signed_in, admin, make_contact, query_plan):
    """"Mine, most recently updated first" is read from (owner, updated_at, id): with only an owner index
    SQLite read all of the owner's contacts and sorted them (350 ms at 100,000)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_contact(first_name="Mine", owner_id=admin.pk)
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(admin).get("/").status_code == 200
    mine = [q["sql"] for q in queries.captured_queries
            if 'FROM "contacts_contact"' in q["sql"] and re.search(r'"contacts_contact"."owner_id" = \d', q["sql"])
            and 'ORDER BY "contacts_contact"."updated_at" DESC' in q["sql"]]
    assert mine
    for sql in mine:
        plan = query_plan(sql)
        assert "contact_owner_updated_idx" in plan, plan
        if connection.vendor == "sqlite":  # PostgreSQL may sort a handful of rows it expects to be few
            assert "TEMP B-TREE" not in plan, plan


def test_home_for_viewer_has_no_create_actions(signed_in, viewer):
    html = signed_in(viewer).get("/").content.decode()
    assert 'href="/contacts/new/"' not in html and 'href="/companies/new/"' not in html


def test_navigation_marks_the_current_section(admin_client):
    html = admin_client.get("/companies/").content.decode()
    assert re.search(r'<a href="/companies/" aria-current="page">', html)
    for url in ["/", "/contacts/", "/companies/", "/trash/"]:
        assert f'href="{url}"' in html
