"""The review queue, the merge page, undo from the survivor's timeline, and the warning on the record forms."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from kith.contacts.models import Contact
from kith.duplicates import detection
from kith.duplicates.models import DuplicatePair

pytestmark = pytest.mark.django_db


def text(response) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def merge_entry(response) -> tuple[str, str]:
    """The survivor page's timeline entry of the latest merge: its HTML and its visible text. The record's
    history shows only in the timeline (no separate History card)."""
    body = response.content.decode()
    assert 'id="history-heading"' not in body
    timeline = body.split('id="timeline-entries"', 1)[1]
    entry = re.search(r'<li class="tl-entry tl-change tl-change-merge".*?</li>\s*(?=<li class="tl-|</ol>)',
                      timeline, re.S).group(0)
    return entry, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", entry)).split())


@pytest.fixture
def signed_in():
    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def found(contact, company):
    acme = company(name="Acme Ltd", domain="acme.com")
    a = contact(first_name="Jon", last_name="Smith", email="jon@acme.com", company_id=acme.pk, phone="+442079460018")
    b = contact(first_name="John", last_name="Smith", email="john.smith@gmail.com", phone="020 7946 0018",
                country="GB", job_title="CTO")
    contact(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    detection.scan("contact")
    return a, b, DuplicatePair.objects.get()


def test_queue_shows_pairs_with_reasons_and_compare(signed_in, admin, found):
    _a, _b, pair = found
    r = signed_in(admin).get(reverse("web:duplicate_list"))
    assert r.status_code == 200
    page = text(r)
    assert "Jon Smith and John Smith" in page
    assert f"{pair.confidence}% likely" in page
    assert "same phone (+44 20 7946 0018)" in page
    assert "jon@acme.com" in page and "john.smith@gmail.com" in page and "Acme Ltd" in page
    assert "Ada Lovelace" not in page
    assert "Contacts 1" in page and "Companies 0" in page
    r = signed_in(admin).get(reverse("web:duplicate_list") + "?type=company")
    assert "No likely duplicate companies" in text(r)


def test_not_a_duplicate_is_remembered(signed_in, member, found):
    _a, _b, pair = found
    c = signed_in(member)
    r = c.post(reverse("web:duplicate_dismiss", args=[pair.pk]), follow=True)
    assert "Marked Jon Smith and John Smith as not duplicates" in text(r)
    assert "No likely duplicate contacts" in text(r)
    detection.scan("contact", full=True)
    assert "No likely duplicate contacts" in text(c.get(reverse("web:duplicate_list")))


def test_viewer_sees_queue_but_cannot_act(signed_in, viewer, found):
    a, b, pair = found
    c = signed_in(viewer)
    page = text(c.get(reverse("web:duplicate_list")))
    assert "Jon Smith and John Smith" in page and "Not a duplicate" not in page
    assert c.post(reverse("web:duplicate_dismiss", args=[pair.pk])).status_code == 403
    assert c.get(reverse("web:duplicate_merge", args=["contact", a.pk, b.pk])).status_code == 403


def test_merge_page_choices_and_undo_from_the_timeline(signed_in, admin, viewer, found):
    a, b, pair = found
    c = signed_in(admin)
    url = reverse("web:duplicate_merge", args=["contact", a.pk, b.pk]) + f"?pair={pair.pk}"
    page = c.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    # differing fields offer both values; the newer record's (b) non-empty value is the default
    assert re.search(r'name="f_first_name" value="b"[^>]*checked', body)
    assert re.search(r'name="f_company" value="a"[^>]*checked', body)  # empty on b
    assert "4 fields already the same Last name: Smith Phone: +44 20 7946 0018" in text(page)
    r = c.post(url, {"survivor": "a", "f_first_name": "a", "f_email": "a", "f_job_title": "b", "pair": pair.pk},
               follow=True)
    page = text(r)
    assert r.redirect_chain[-1][0] == a.get_absolute_url()
    assert f"Merged John Smith (#{b.pk}) into Jon Smith (#{a.pk})." in page
    assert "You can undo this from its entry in the timeline below." in page
    entry_html, entry = merge_entry(r)
    assert entry.startswith(f"Alice Admin merged John Smith (#{b.pk}) into this contact")
    assert "Undo merge" in entry and page.count("Undo merge") == 1
    # a viewer sees the merge in the survivor's timeline, without the button
    viewer_entry = merge_entry(signed_in(viewer).get(a.get_absolute_url()))[1]
    assert f"merged John Smith (#{b.pk}) into this contact" in viewer_entry and "Undo merge" not in viewer_entry
    a.refresh_from_db()
    assert a.first_name == "Jon" and a.job_title == "CTO" and a.additional_emails == ["john.smith@gmail.com"]
    assert Contact.all_objects.get(pk=b.pk).in_trash
    pair.refresh_from_db()
    assert pair.status == "merged"

    undo = re.search(r'<form method="post" action="(/merges/\d+/undo/)"', entry_html).group(1)
    assert signed_in(viewer).post(undo).status_code == 403
    r = c.post(undo, follow=True)
    page = text(r)
    assert r.redirect_chain[-1][0] == a.get_absolute_url()
    assert "Undid the merge: John Smith is back" in page
    timeline = r.content.decode().split('id="timeline-entries"', 1)[1]
    assert "Alice Admin undid the merge of John Smith" in " ".join(re.sub(r"<[^>]+>", " ", timeline).split())
    assert "This merge was undone." in merge_entry(r)[1] and "Undo merge" not in page
    assert not Contact.all_objects.get(pk=b.pk).in_trash


def test_undo_button_explains_when_refused(signed_in, admin, found):
    from kith.contacts import services as contacts
    from kith.duplicates.services import merge

    a, b, _pair = found
    merge(actor=admin, object_type="contact", survivor_id=a.pk, loser_id=b.pk)
    contacts.update_contact(actor=admin, contact=Contact.objects.get(pk=a.pk), data={"lead_source": "Fair"})
    r = signed_in(admin).get(a.get_absolute_url())
    # the survivor took the newer record's first name by default
    entry = merge_entry(r)[1]
    assert "Cannot be undone: John Smith was changed after the merge (Lead source)" in entry
    assert "Undo merge" not in text(r)


def test_warning_on_create_form_and_after_save(signed_in, admin, found):
    a, _b, _pair = found
    c = signed_in(admin)
    # the htmx check as the user types
    r = c.post(reverse("web:duplicate_check", args=["contact"]),
               {"first_name": "Jon", "last_name": "Smyth", "email": "", "company_id": str(a.company_id)},
               HTTP_HX_REQUEST="true")
    page = text(r)
    assert "This contact may already exist" in page
    assert "Jon Smith at Acme Ltd may already exist" in page
    assert f'href="{a.get_absolute_url()}"' in r.content.decode()
    r = c.post(reverse("web:duplicate_check", args=["contact"]), {"first_name": "Zed", "last_name": "Zulu"})
    assert "may already exist" not in text(r)
    # the create form itself carries the live check; saving is not blocked
    form = c.get(reverse("web:contact_create"))
    assert 'hx-post="/duplicates/check/contact/"' in form.content.decode()
    data = {"first_name": "Jon", "last_name": "Smith", "email": "JON.SMITH+x@acme.com", "lifecycle_stage": "lead",
            "owner_id": str(admin.pk)}
    r = c.post(reverse("web:contact_create"), data, follow=True)
    page = text(r)
    assert "Jon Smith was created." in page
    assert "Jon Smith at Acme Ltd may already exist" in page


def test_warning_on_edit_form_shows_existing_look_alike(signed_in, admin, company):
    x = company(name="Globex Corporation", domain="globex.com")
    y = company(name="Globex Corp", website="globex.co.uk")
    page = text(signed_in(admin).get(reverse("web:company_edit", args=[y.pk])))
    assert "Globex Corporation at globex.com may already exist" in page
    assert x.pk != y.pk


def test_own_visibility_hides_pairs_with_records_of_others(signed_in, settings, admin, member, contact):
    from kith.contacts import services as contacts

    settings.KITH_RECORD_VISIBILITY = "own"
    mine = contacts.create_contact(actor=member, data={"first_name": "Ken", "last_name": "Adams",
                                                       "email": "ken@acme.com"})
    contacts.create_contact(actor=member, data={"first_name": "Ken", "last_name": "Adams", "email": "k.en@acme.com"})
    contact(first_name="Ken", last_name="Adams", email="ke.n@acme.com")  # owned by the admin
    detection.scan("contact")
    assert DuplicatePair.objects.count() == 3
    page = text(signed_in(member).get(reverse("web:duplicate_list")))
    assert page.count("Ken Adams and Ken Adams") == 1 and "Contacts 1" in page
    assert "Contacts 3" in text(signed_in(admin).get(reverse("web:duplicate_list")))
    # the trash drops a record's open pairs
    contacts.delete_contact(actor=member, contact=mine)
    assert DuplicatePair.objects.count() == 1
