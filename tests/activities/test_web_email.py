"""Sending email from a record in the web UI (compose, templates, live preview, not-configured state) and the
email templates settings pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kith.activities import services
from kith.activities.models import Activity, EmailStatus, EmailTemplate
from kith.contacts.services import create_company, create_contact
from kith.sales import services as sales

from .conftest import HX, page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(admin):
    company = create_company(actor=admin, data={"name": "Analytical Engines"})
    return create_contact(
        actor=admin,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example",
            "company_id": company.pk,
        },
    )


@pytest.fixture
def welcome(admin):
    return services.create_email_template(
        actor=admin,
        data={
            "name": "Welcome",
            "subject": "Welcome to Kith, {{ contact.first_name }}",
            "body": 'Hello {{ contact.first_name|default:"there" }} at {{ company.name }},\n\n- one\n- two',
        },
    )


# --- compose -------------------------------------------------------------------------------------------


def test_compose_is_prefilled_for_a_contact(smtp, signed_in, member, ada, welcome):
    response = signed_in(member).get(reverse("web:email_compose"), {"related": f"contact:{ada.pk}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="to" value="ada@engines.example"' in html
    assert f'<option value="{welcome.pk}">Welcome</option>' in html
    text = page_text(response)
    assert "Logged on the timeline of Ada Lovelace" in text
    assert "Sending email is not set up" not in text
    assert "replies go to bob@example.com" in text
    assert "{{ contact.first_name }}" in text  # the merge fields list


def test_compose_for_a_deal_is_addressed_to_its_contacts(smtp, signed_in, admin, ada):
    grace = create_contact(actor=admin, data={"first_name": "Grace", "email": "grace@navy.example"})
    deal = sales.create_deal(actor=admin, data={"name": "Engine order", "contact_ids": [ada.pk, grace.pk]})
    response = signed_in(admin).get(reverse("web:email_compose"), {"related": f"deal:{deal.pk}"})
    assert response.status_code == 200
    match = re.search(r'name="to" value="([^"]*)"', response.content.decode())
    assert sorted(match.group(1).split(", ")) == ["ada@engines.example", "grace@navy.example"]


def test_picking_a_template_fills_subject_and_message(smtp, signed_in, member, ada, welcome):
    response = signed_in(member).get(
        reverse("web:email_template_fill"), {"template": welcome.pk, "related": f"contact:{ada.pk}"}, **HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="email-fields"')
    assert 'value="Welcome to Kith, {{ contact.first_name }}"' in html
    assert "Hello {{ contact.first_name|default:&quot;there&quot; }} at {{ company.name }}" in html


def test_live_preview_renders_merge_fields_from_the_record(smtp, signed_in, member, ada, welcome):
    client = signed_in(member)
    response = client.post(
        reverse("web:email_preview"),
        {"related": f"contact:{ada.pk}", "subject": welcome.subject, "body": welcome.body},
        **HX,
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "Welcome to Kith, Ada" in text and "Hello Ada at Analytical Engines" in text
    assert "<li>one</li>" in response.content.decode()
    bad = client.post(
        reverse("web:email_preview"),
        {
            "related": f"contact:{ada.pk}",
            "subject": "Hi {{ contact.nickname }}",
            "body": "<script>x</script>",
        },
        **HX,
    )
    text = page_text(bad)
    assert "Unknown merge fields" in text and "contact has no field “nickname”" in text
    assert "<script>" not in bad.content.decode()


def test_sending_queues_the_email_on_the_timeline(smtp, signed_in, member, ada):
    client = signed_in(member)
    response = client.post(
        reverse("web:email_compose"),
        {
            "related": f"contact:{ada.pk}",
            "to": "ada@engines.example",
            "cc": "",
            "subject": "Hello {{ contact.first_name }}",
            "body": "See you **soon**.",
            "template": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == ada.get_absolute_url()
    email = Activity.objects.get(type="email")
    assert email.subject == "Hello Ada" and email.email_status == EmailStatus.QUEUED
    assert email.email_to == ["ada@engines.example"] and email.owner == member
    assert services.related_records(email) == [("contact", ada)]
    followed = client.get(response["Location"])
    assert "is being sent to ada@engines.example" in page_text(followed)
    timeline = client.get(reverse("web:activity_timeline", args=["contact", ada.pk]))
    assert "Hello Ada" in page_text(timeline)


def test_sending_with_bad_input_shows_field_errors(smtp, signed_in, member, ada):
    response = signed_in(member).post(
        reverse("web:email_compose"),
        {
            "related": f"contact:{ada.pk}",
            "to": "not-an-address",
            "subject": "Hi {{ contact.shoe_size }}",
            "body": "x",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_to_error"', html)
    assert re.search(r'id="id_subject_error".*contact has no field “shoe_size”', html, re.S)
    assert Activity.objects.filter(type="email").count() == 0


def test_without_smtp_the_compose_form_says_so_and_sends_nothing(no_smtp, signed_in, member, ada):
    client = signed_in(member)
    response = client.get(reverse("web:email_compose"), {"related": f"contact:{ada.pk}"})
    text = page_text(response)
    assert "Sending email is not set up" in text and "KITH_SMTP_URL" in text
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled', response.content.decode())
    response = client.post(
        reverse("web:email_compose"),
        {"related": f"contact:{ada.pk}", "to": ada.email, "subject": "Hi", "body": "x"},
    )
    assert response.status_code == 400
    assert "an administrator must set KITH_SMTP_URL" in page_text(response)
    assert Activity.objects.filter(type="email").count() == 0


def test_viewers_cannot_send(smtp, signed_in, viewer, ada):
    client = signed_in(viewer)
    assert client.get(reverse("web:email_compose"), {"related": f"contact:{ada.pk}"}).status_code == 403


def test_email_status_fragment_for_an_email_i_cannot_see_is_not_found(
    smtp, settings, signed_in, admin, member
):
    settings.KITH_RECORD_VISIBILITY = "own"
    secret = create_contact(
        actor=admin, data={"first_name": "Secret", "email": "s@x.example", "owner_id": admin.pk}
    )
    email = services.send_email(
        actor=admin, data={"subject": "Private", "body": "x", "related": [f"contact:{secret.pk}"]}
    )
    assert signed_in(member).get(reverse("web:email_status", args=[email.pk]), **HX).status_code == 404


# --- email templates -----------------------------------------------------------------------------------


def test_template_list_and_settings_links(signed_in, member, welcome):
    client = signed_in(member)
    index = client.get(reverse("web:settings"))
    assert reverse("web:email_template_list") in index.content.decode()
    assert reverse("web:notification_settings") in index.content.decode()
    response = client.get(reverse("web:email_template_list"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Welcome" in text and "Welcome to Kith, {{ contact.first_name }}" in text
    assert "New template" in text


def test_create_edit_delete_a_template(signed_in, member):
    client = signed_in(member)
    page = client.get(reverse("web:email_template_create"))
    assert "{{ deal.amount }}" in page_text(page)  # the merge fields are listed beside the form
    response = client.post(
        reverse("web:email_template_create"),
        {
            "name": "Quote follow-up",
            "subject": "Your quote for {{ deal.name }}",
            "body": "Dear {{ contact.first_name }}",
        },
    )
    assert response.status_code == 302
    tpl = EmailTemplate.objects.get(name="Quote follow-up")
    assert tpl.created_by == member

    response = client.post(
        reverse("web:email_template_edit", args=[tpl.pk]),
        {
            "name": "Quote follow-up",
            "subject": "Quote {{ deal.name }}",
            "body": "Hi {{ contact.first_name }}",
        },
    )
    assert response.status_code == 302
    tpl.refresh_from_db()
    assert tpl.subject == "Quote {{ deal.name }}"

    confirm = client.get(reverse("web:email_template_delete", args=[tpl.pk]))
    assert "Delete the template “Quote follow-up”?" in page_text(confirm)
    client.post(reverse("web:email_template_delete", args=[tpl.pk]))
    assert not EmailTemplate.objects.exists()


def test_unknown_merge_fields_and_duplicate_names_are_field_errors(signed_in, member, welcome):
    client = signed_in(member)
    response = client.post(
        reverse("web:email_template_create"),
        {"name": "welcome", "subject": "Hi {{ contact.nickname }}", "body": "From {{ boss.name }}"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_name_error".*A template named “welcome” already exists', html, re.S)
    assert re.search(r'id="id_subject_error".*contact has no field “nickname”', html, re.S)
    assert re.search(r'id="id_body_error".*unknown object “boss”', html, re.S)
    assert "There are 3 problems" in page_text(response)
    assert EmailTemplate.objects.count() == 1


def test_viewers_see_templates_but_cannot_change_them(signed_in, viewer, welcome):
    client = signed_in(viewer)
    response = client.get(reverse("web:email_template_list"))
    assert response.status_code == 200 and "New template" not in page_text(response)
    assert (
        client.post(
            reverse("web:email_template_create"), {"name": "x", "subject": "x", "body": "x"}
        ).status_code
        == 403
    )
    assert client.post(reverse("web:email_template_delete", args=[welcome.pk])).status_code == 403
    assert EmailTemplate.objects.count() == 1
