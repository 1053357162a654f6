"""The contact record page and the create/edit forms."""

from __future__ import annotations

import re

import pytest

from kith.contacts import services
from kith.contacts.models import Contact
from kith.core.models import CustomField

from .conftest import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(db):
    CustomField.objects.create(object_type="contact", key="region", label="Region", field_type="select",
                               choices=["EMEA", "APAC"])
    CustomField.objects.create(object_type="contact", key="score", label="Score", field_type="number")
    CustomField.objects.create(object_type="contact", key="renewal", label="Renewal date", field_type="date")
    CustomField.objects.create(object_type="contact", key="vip", label="VIP", field_type="boolean")
    CustomField.objects.create(object_type="contact", key="topics", label="Topics", field_type="multiselect",
                               choices=["Product", "Pricing"])
    CustomField.objects.create(object_type="contact", key="site", label="Homepage", field_type="url")
    CustomField.objects.create(object_type="contact", key="alt", label="Assistant email", field_type="email")
    CustomField.objects.create(object_type="contact", key="budget", label="Budget", field_type="currency",
                               currency="EUR")
    CustomField.objects.create(object_type="contact", key="note", label="Note", field_type="text")


def form_data(**overrides):
    data = {
        "first_name": "", "last_name": "", "email": "", "additional_emails": "", "phone": "", "mobile": "",
        "job_title": "", "company_id": "", "lifecycle_stage": "lead", "lead_source": "", "street": "", "city": "",
        "region": "", "postal_code": "", "country": "", "owner_id": "", "tags": "",
    }
    data.update(overrides)
    return data


# --- record page ---------------------------------------------------------------------------------------


def test_detail_shows_every_field(admin_client, admin, make_contact, make_company, fields):
    acme = make_company(name="Acme", domain="acme.com")
    c = make_contact(first_name="Ada", last_name="Lovelace", email="ada@acme.com", phone="+49 30 1234567",
                     additional_emails="ada.l@home.org", job_title="CTO", company_id=acme.pk, street="1 Main St",
                     city="Berlin", postal_code="10115", country="DE", lead_source="Referral", tags="vip, math",
                     custom_fields={"region": "EMEA", "score": 7, "vip": True, "budget": "1250.5",
                                    "renewal": "2026-03-01", "topics": ["Pricing"]})
    r = admin_client.get(f"/contacts/{c.pk}/")
    assert r.status_code == 200
    page = text(r)
    for expected in ["Ada Lovelace", "ada@acme.com", "ada.l@home.org", "CTO", "Acme", "Referral", "Berlin",
                     "Germany", "Alice Admin", "vip", "math", "Region EMEA", "Score 7", "VIP Yes",
                     "Budget EUR 1,250.50", "Renewal date Mar 1, 2026", "Topics Pricing", "Created", "Updated"]:
        assert expected in page, expected
    html = r.content.decode()
    assert 'href="tel:+49301234567"' in html
    assert f'href="/companies/{acme.pk}/"' in html
    assert "kept as entered" not in page
    assert ">Edit<" in html and "Move to trash" in html


def test_phone_kept_as_typed_gets_a_warning_marker(admin_client, make_contact):
    c = make_contact(first_name="Odd", phone="call reception")
    page = text(admin_client.get(f"/contacts/{c.pk}/"))
    assert "call reception" in page
    assert "Not a recognised number; kept as entered" in page


def test_timeline_lists_changes_newest_first_with_labels(admin_client, admin, make_contact, make_company):
    acme = make_company(name="Acme")
    globex = make_company(name="Globex")
    c = make_contact(first_name="Ada", company_id=acme.pk, lifecycle_stage="lead")
    services.update_contact(actor=admin, contact=c, data={"company_id": globex.pk, "lifecycle_stage": "customer"})
    services.update_contact(actor=admin, contact=Contact.objects.get(pk=c.pk), data={"job_title": "CTO"})
    html = admin_client.get(f"/contacts/{c.pk}/").content.decode()
    assert 'id="history-heading"' not in html  # the timeline is the one place for the record's history
    history = text_of(html.split('id="timeline-entries"')[1])
    assert history.index("Job title: (empty) → CTO") < history.index("Company: Acme → Globex")
    assert "Lifecycle stage: Lead → Customer" in history
    assert history.count("Alice Admin updated") == 2
    assert "Alice Admin created this contact" in history


def text_of(html: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_missing_record_is_404(admin_client):
    assert admin_client.get("/contacts/999999/").status_code == 404
    assert admin_client.get("/contacts/999999/edit/").status_code == 404


def test_trashed_contact_page_shows_a_restore_banner(admin_client, admin, make_contact):
    c = make_contact(first_name="Gone")
    services.delete_contact(actor=admin, contact=c)
    r = admin_client.get(f"/contacts/{c.pk}/")
    assert r.status_code == 200
    page = text(r)
    assert "This contact is in the trash" in page and "Restore" in page
    assert "Move to trash" not in page
    assert admin_client.get(f"/contacts/{c.pk}/edit/").status_code == 404


def test_contact_not_visible_is_404(signed_in, member, make_contact, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    c = make_contact(first_name="Private")
    assert signed_in(member).get(f"/contacts/{c.pk}/").status_code == 404


# --- forms ---------------------------------------------------------------------------------------------


def test_new_contact_form_has_a_label_for_every_control(admin_client, fields):
    html = admin_client.get("/contacts/new/").content.decode()
    controls = [t for t in re.findall(r"<(?:input|select|textarea)[^>]*>", html) if 'type="hidden"' not in t]
    ids = {re.search(r'\bid="([^"]+)"', t).group(1) for t in controls if ' id="' in t}
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    assert ids - labelled == set()
    for label in ["First name", "Last name", "Email", "Additional emails", "Phone", "Mobile", "Job title",
                  "Company", "Lifecycle stage", "Lead source", "Street", "City", "Region / state", "Postal code",
                  "Country", "Owner", "Tags", "Region", "Score", "Renewal date", "VIP", "Topics", "Homepage",
                  "Assistant email", "Budget (EUR)", "Note"]:
        assert f">{label}<" in html or f">{label} <" in html, label
    # Right widgets for each custom field type.
    assert 'type="number" name="cf_score"' in html
    assert 'type="date" name="cf_renewal"' in html
    assert 'type="checkbox" name="cf_vip"' in html
    assert '<select name="cf_region"' in html
    assert 'type="checkbox" name="cf_topics" value="Pricing"' in html
    assert 'type="url" name="cf_site"' in html
    assert 'type="email" name="cf_alt"' in html
    assert 'name="cf_budget"' in html and 'inputmode="decimal"' in html
    # Countries come from the shared list; the owner defaults to the signed-in user.
    assert '<option value="DE">Germany</option>' in html
    assert re.search(r'<option value="\d+" selected>Alice Admin</option>', html)


def test_create_contact(admin_client, admin, make_company, fields):
    acme = make_company(name="Acme")
    r = admin_client.post("/contacts/new/", form_data(
        first_name="Grace", last_name="Hopper", email="grace@navy.mil", company_id=str(acme.pk),
        tags="navy, cobol", owner_id=str(admin.pk), country="US", cf_region="APAC", cf_score="12", cf_vip="on",
        cf_topics=["Product", "Pricing"], cf_budget="99.5",
    ))
    c = Contact.objects.get(email="grace@navy.mil")
    assert r.status_code == 302 and r["Location"] == f"/contacts/{c.pk}/"
    assert c.company == acme and c.tag_names == ["cobol", "navy"] and c.country == "US"
    assert c.custom_fields == {"region": "APAC", "score": 12, "vip": True, "topics": ["Product", "Pricing"],
                               "budget": "99.50"}
    page = text(admin_client.get(r["Location"]))
    assert "Grace Hopper was created." in page


def test_bad_email_shows_next_to_the_field_and_in_the_summary(admin_client):
    r = admin_client.post("/contacts/new/", form_data(first_name="X", email="not-an-email"))
    assert r.status_code == 400
    html = r.content.decode()
    assert "There is a problem with this contact" in text(r)
    assert re.search(r'<a href="#id_email">Email: “not-an-email” is not a valid email address', html)
    field = html.split('for="id_email"')[1].split('class="field ')[0]
    assert 'aria-invalid="true"' in field and 'id="id_email_error"' in field
    assert "is not a valid email address" in text_of(field)
    assert not Contact.objects.filter(first_name="X").exists()
    # What the user typed is kept.
    assert 'value="not-an-email"' in html


def test_custom_field_errors_map_to_their_fields(admin_client, fields):
    r = admin_client.post("/contacts/new/", form_data(first_name="Y", cf_score="lots", cf_site="not a url"))
    html = r.content.decode()
    assert r.status_code == 400
    score = html.split('for="id_cf_score"')[1].split('class="field ')[0]
    assert "Enter a number." in text_of(score)
    site = html.split('for="id_cf_site"')[1].split('class="field ')[0]
    assert "Enter a valid web address." in text_of(site)
    assert "There are 2 problems with this contact" in text(r)


def test_required_custom_field(admin_client):
    CustomField.objects.create(object_type="contact", key="source_id", label="Source ID", field_type="text",
                               required=True)
    html = admin_client.get("/contacts/new/").content.decode()
    assert "(required)" in html
    r = admin_client.post("/contacts/new/", form_data(first_name="Z"))
    assert "Source ID is required." in text(r)


def test_no_name_and_no_email_is_an_error_on_first_name(admin_client):
    r = admin_client.post("/contacts/new/", form_data())
    html = r.content.decode()
    first = html.split('for="id_first_name"')[1].split('class="field ')[0]
    assert "Enter a first name, a last name or an email." in text_of(first)


def test_phone_warning_is_shown_as_a_message(admin_client):
    r = admin_client.post("/contacts/new/", form_data(first_name="Pat", phone="ext. 42"), follow=True)
    page = text(r)
    assert "could not be read as a phone number; it was kept as entered." in page


def test_duplicate_email_error(admin_client, make_contact):
    make_contact(first_name="First", email="dup@example.com")
    r = admin_client.post("/contacts/new/", form_data(first_name="Second", email="dup@example.com"))
    assert "Another contact already has this email (First)." in text(r)


def test_company_prefill_from_add_person(admin_client, make_company):
    acme = make_company(name="Acme")
    html = admin_client.get(f"/contacts/new/?company={acme.pk}").content.decode()
    assert f'<option value="{acme.pk}" selected>Acme</option>' in html
    assert f'href="/companies/{acme.pk}/">Cancel' in html


def test_company_select_is_searchable(admin_client, make_company):
    make_company(name="Acme Rockets", domain="acme.com")
    make_company(name="Globex")
    html = admin_client.get("/contacts/new/").content.decode()
    assert re.search(r'<select name="company_id"[^>]*data-combobox', html)
    data = admin_client.get("/companies/lookup/?q=acm").json()
    assert [r["label"] for r in data["results"]] == ["Acme Rockets"]
    assert data["results"][0]["hint"] == "acme.com"
    assert len(admin_client.get("/companies/lookup/").json()["results"]) == 2


def test_edit_contact_records_history(admin_client, make_contact, fields):
    c = make_contact(first_name="Ada", last_name="Lovelace", email="ada@example.com", custom_fields={"score": 1})
    html = admin_client.get(f"/contacts/{c.pk}/edit/").content.decode()
    assert f'name="version" value="{c.version}"' in html
    assert 'value="Ada"' in html and 'value="1"' in html
    r = admin_client.post(f"/contacts/{c.pk}/edit/", form_data(
        first_name="Ada", last_name="King", email="ada@example.com", cf_score="2", owner_id=str(c.owner_id),
        version=str(c.version)))
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.last_name == "King" and c.custom_fields["score"] == 2
    page = text(admin_client.get(f"/contacts/{c.pk}/"))
    assert "Ada King was saved." in page
    assert "Last name: Lovelace → King" in page
    assert "Score: 1 → 2" in page


def test_saving_unchanged_form_records_nothing(admin_client, make_contact, fields):
    c = make_contact(first_name="Same", email="same@example.com")
    version = c.version
    admin_client.post(f"/contacts/{c.pk}/edit/", form_data(first_name="Same", email="same@example.com",
                                                           owner_id=str(c.owner_id), version=str(version)))
    c.refresh_from_db()
    assert c.version == version


def test_stale_version_shows_a_conflict_with_current_values(admin_client, admin, make_contact):
    c = make_contact(first_name="Ada", job_title="CTO")
    stale = c.version
    services.update_contact(actor=admin, contact=c, data={"job_title": "CEO"})
    r = admin_client.post(f"/contacts/{c.pk}/edit/", form_data(first_name="Ada", job_title="Founder",
                                                               owner_id=str(c.owner_id), version=str(stale)))
    assert r.status_code == 409
    page = text(r)
    assert "Someone else changed this contact while you were editing" in page
    assert "Your changes were not saved" in page
    assert "Job title: Founder" in page  # what the user typed, to re-apply
    html = r.content.decode()
    assert 'value="CEO"' in html  # the form shows the current value
    c.refresh_from_db()
    assert c.job_title == "CEO"
    assert f'name="version" value="{c.version}"' in html


def test_viewer_gets_403_on_write_urls_and_sees_no_buttons(signed_in, viewer, make_contact):
    c = make_contact(first_name="Ada")
    v = signed_in(viewer)
    page = v.get(f"/contacts/{c.pk}/").content.decode()
    assert ">Edit<" not in page and "Move to trash" not in page
    assert v.get("/contacts/new/").status_code == 403
    assert v.post("/contacts/new/", form_data(first_name="X")).status_code == 403
    assert v.get(f"/contacts/{c.pk}/edit/").status_code == 403
    assert v.post(f"/contacts/{c.pk}/edit/", form_data(first_name="X")).status_code == 403
    assert v.get(f"/contacts/{c.pk}/delete/").status_code == 403
    assert v.post(f"/contacts/{c.pk}/delete/").status_code == 403
    assert v.post(f"/contacts/{c.pk}/restore/").status_code == 403
    assert not Contact.objects.filter(first_name="X").exists()
    assert Contact.objects.filter(pk=c.pk).exists()


def test_editing_keeps_a_deactivated_owner_and_a_trashed_company(admin_client, admin, member, make_contact,
                                                                  make_company):
    acme = make_company(name="Acme")
    c = make_contact(first_name="Ada", owner_id=member.pk, company_id=acme.pk)
    member.is_active = False
    member.save()
    services.delete_company(actor=admin, company=acme)
    html = admin_client.get(f"/contacts/{c.pk}/edit/").content.decode()
    assert f'<option value="{member.pk}" selected>Bob Member (deactivated)</option>' in html
    r = admin_client.post(f"/contacts/{c.pk}/edit/", form_data(
        first_name="Ada", job_title="CTO", owner_id=str(member.pk), company_id=str(acme.pk), version=str(c.version)))
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.job_title == "CTO" and c.owner_id == member.pk and c.company_id == acme.pk
