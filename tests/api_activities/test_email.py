"""/api/v1/email-templates and /api/v1/emails: templates with merge fields, sending through a real SMTP server
(aiosmtpd) by the job worker, the status on the activity and the timeline, failures and retry."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kith.activities.models import Activity, EmailTemplate
from kith.core.models import Job, OutboundEmail

from .conftest import assert_error_shape, body_text, error_fields, free_port, run_jobs, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(admin):
    from kith.activities import services

    return services.create_email_template(actor=admin, data={
        "name": "Follow-up", "subject": "Hello {{ contact.first_name }} from {{ company.name }}",
        "body": 'Hi {{ contact.first_name|default:"there" }},\n\nthanks for your time. — {{ user.first_name }}'})


def test_template_crud_and_render(api, api_for, viewer, jon, follow_up):
    r = api.post("email-templates", {"name": "Intro", "subject": "Meet {{ user.full_name }}", "body": "Hello!"})
    assert r.status_code == 201, r.content
    intro = r.json()
    assert r["Location"] == f"/api/v1/email-templates/{intro['id']}"
    assert [t["name"] for t in walk(api, "email-templates", limit=1)] == ["Follow-up", "Intro"]
    assert [t["name"] for t in api.get("email-templates", q="intr").json()["items"]] == ["Intro"]
    assert api.get(f"email-templates/{intro['id']}").json() == intro

    changed = api.patch(f"email-templates/{intro['id']}", {"body": "Hello again!"})
    assert changed.status_code == 200 and changed.json()["body"] == "Hello again!"
    assert changed.json()["subject"] == "Meet {{ user.full_name }}"

    rendered = api.post(f"email-templates/{follow_up.pk}/render", {"related": [f"contact:{jon.pk}"]})
    assert rendered.status_code == 200, rendered.content
    assert rendered.json()["subject"] == "Hello Jon from Acme"
    assert rendered.json()["body"].startswith("Hi Jon,") and rendered.json()["body"].endswith("— Alice")
    assert rendered.json()["body_html"].startswith("<p>Hi Jon,")
    assert api.post(f"email-templates/{follow_up.pk}/render", {}).json()["body"].startswith("Hi there,")
    assert error_fields(api.post(f"email-templates/{follow_up.pk}/render", {"related": ["contact:999999"]})) == {
        "related"}
    assert "contact" in api.get("email-templates/merge-fields").json()["fields"]

    as_viewer = api_for(viewer)
    assert as_viewer.post(f"email-templates/{follow_up.pk}/render", {"related": [f"contact:{jon.pk}"]}).status_code == 200
    assert_error_shape(as_viewer.post("email-templates", {"name": "V", "subject": "s", "body": "b"}), 403)
    assert_error_shape(as_viewer.patch(f"email-templates/{intro['id']}", {"name": "V"}), 403)
    assert_error_shape(as_viewer.delete(f"email-templates/{intro['id']}"), 403)

    assert api.delete(f"email-templates/{intro['id']}").status_code == 204
    assert_error_shape(api.get(f"email-templates/{intro['id']}"), 404)
    assert_error_shape(api.post("email-templates/999999/render"), 404)


def test_template_validation(api, follow_up):
    r = api.post("email-templates", {"name": "follow-UP", "subject": "{{ contact.shoe_size }}"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"name", "subject", "body"}
    assert "shoe_size" in next(e["message"] for e in r.json()["errors"] if e["field"] == "subject")
    assert error_fields(api.post("email-templates", {"name": "x", "subject": "s", "body": "b", "html": "<p>"})) == {"html"}
    assert error_fields(api.patch(f"email-templates/{follow_up.pk}", {"body": "{{ planet.name }}"})) == {"body"}
    assert EmailTemplate.objects.count() == 1


def test_send_without_smtp_is_a_clear_400(api, jon, no_smtp):
    r = api.post("emails/send", {"subject": "Hi", "body": "Hello", "related": [f"contact:{jon.pk}"]})
    body = assert_error_shape(r, 400)
    assert "KITH_SMTP_URL" in body["detail"]
    assert not Activity.all_objects.filter(type="email").exists() and not OutboundEmail.objects.exists()


def test_send_with_a_template_arrives_and_shows_on_the_timeline(api, jon, acme, follow_up, smtp,
                                                               django_capture_on_commit_callbacks):
    r = api.post("emails/send", {"template_id": follow_up.pk, "cc": ["boss@acme.example"],
                                 "related": [f"contact:{jon.pk}"]})
    assert r.status_code == 202, r.content
    sent = r.json()
    assert sent["type"] == "email" and sent["email_status"] == "queued"
    assert sent["email_to"] == ["jon@acme.example"] and sent["email_cc"] == ["boss@acme.example"]
    assert sent["subject"] == "Hello Jon from Acme" and r["Location"] == f"/api/v1/activities/{sent['id']}"
    assert smtp.envelopes == []  # delivered by the worker, not in the request

    run_jobs(django_capture_on_commit_callbacks)
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "Hello Jon from Acme"
    assert message["To"] == "jon@acme.example" and message["Cc"] == "boss@acme.example"
    assert message["Reply-To"] == "alice@example.com"
    assert "thanks for your time" in body_text(message)
    assert sorted(smtp.envelopes[0].rcpt_tos) == ["boss@acme.example", "jon@acme.example"]

    after = api.get(f"activities/{sent['id']}").json()
    assert after["email_status"] == "sent" and after["sent_at"]
    for record in (f"contacts/{jon.pk}", f"companies/{acme.pk}"):
        entries = api.get(f"{record}/timeline", types="email").json()["items"]
        assert [(e["id"], e["activity"]["email_status"]) for e in entries] == [(sent["id"], "sent")]


def test_send_validation(api, admin, jon, smtp):
    from kith.contacts.services import create_contact

    nobody = create_contact(actor=admin, data={"first_name": "No", "last_name": "Email"})
    r = api.post("emails/send", {"related": [f"contact:{nobody.pk}"]})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"to", "subject", "body"}
    assert error_fields(api.post("emails/send", {"to": "not-an-address", "subject": "s", "body": "b"})) == {"to"}
    assert error_fields(api.post("emails/send", {"to": ["a@example.com"], "subject": "{{ contact.iq }}",
                                                 "body": "b"})) == {"subject"}
    assert error_fields(api.post("emails/send", {"to": ["a@example.com"], "template_id": 999999})) == {
        "template_id", "subject", "body"}
    assert error_fields(api.post("emails/send", {"to": ["a@example.com"], "subject": "s", "body": "b",
                                                 "bcc": ["x@example.com"]})) == {"bcc"}
    assert not OutboundEmail.objects.exists() and not Activity.all_objects.filter(type="email").exists()


def test_a_failed_email_is_visible_and_can_be_retried(api, api_for, viewer, jon, smtp, settings,
                                                      django_capture_on_commit_callbacks):
    working = settings.KITH_SMTP_URL
    settings.KITH_SMTP_URL = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    sent = api.post("emails/send", {"subject": "Proposal", "body": "Attached.", "related": [f"contact:{jon.pk}"]}).json()
    assert error_fields(api.post(f"emails/{sent['id']}/retry")) == {"email_status"}  # still trying on its own

    for _ in range(12):
        run_jobs(django_capture_on_commit_callbacks)
        if OutboundEmail.objects.get(activity_id=sent["id"]).status == "failed":
            break
        Job.objects.filter(name="mail.send", status="queued").update(run_at=timezone.now())  # skip the backoff
    failed = api.get(f"activities/{sent['id']}").json()
    assert failed["email_status"] == "failed" and "Connection" in failed["email_error"]

    assert_error_shape(api_for(viewer).post(f"emails/{sent['id']}/retry"), 403)
    settings.KITH_SMTP_URL = working
    r = api.post(f"emails/{sent['id']}/retry")
    assert r.status_code == 202, r.content
    assert r.json()["email_status"] == "queued" and r.json()["email_error"] == ""
    run_jobs(django_capture_on_commit_callbacks)
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Proposal"]
    assert api.get(f"activities/{sent['id']}").json()["email_status"] == "sent"

    note = api.post("activities", {"type": "note", "body": "x"}).json()
    assert error_fields(api.post(f"emails/{note['id']}/retry")) == {"type"}
    assert_error_shape(api.post("emails/999999/retry"), 404)
