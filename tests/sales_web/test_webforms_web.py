"""Web form builder pages and the public hosted form (/f/<slug>): HTML and JSON submissions."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from conftest import signed_in
from kith.core.models import Notification
from kith.sales.models import FormSubmission, Lead, LeadForm
from kith.sales.services import teams, webforms

from .test_leads_web import text

pytestmark = pytest.mark.django_db

FIELDS = [
    {"field": "first_name", "label": "First name", "required": True},
    {"field": "email", "label": "Work email", "required": True},
    {"field": "company_name", "label": "Company", "required": False},
]


@pytest.fixture
def form(admin):
    return webforms.create_form(actor=admin, data={"name": "Contact sales", "slug": "contact-sales",
                                                   "fields": FIELDS, "consent_text": "You may contact me."})


def builder_data(**overrides):
    data = {"name": "Demo request", "slug": "", "source": "Website", "active": "on", "consent_text": "",
            "redirect_url": "", "thank_you_text": "Thanks, we will call you."}
    for i, name in enumerate(["first_name", "last_name", "email", "phone", "company_name", "title", "country",
                              "notes"]):
        data[f"label_{name}"] = ""
        data[f"order_{name}"] = ""
    data.update(overrides)
    return data


# --- builder ----------------------------------------------------------------------------------------------


def test_build_a_form_then_see_its_link_snippet_and_count(admin):
    c = signed_in(admin)
    r = c.get("/leads/forms/new/")
    assert r.status_code == 200
    r = c.post("/leads/forms/new/", builder_data(
        use_email="on", label_email="Work email", required_email="on", order_email="1",
        use_first_name="on", label_first_name="Your name", order_first_name="2",
        consent_text="I agree to the privacy policy."), follow=True)
    form = LeadForm.objects.get(slug="demo-request")
    assert form.fields == [{"field": "email", "label": "Work email", "required": True},
                           {"field": "first_name", "label": "Your name", "required": False}]
    assert form.source == "Website" and form.thank_you_text == "Thanks, we will call you."
    page = text(r)
    assert "It is live at /f/demo-request" in page
    assert "http://testserver/f/demo-request" in page
    assert "0 submissions" in page
    html = r.content.decode()
    snippet = re.search(r'<textarea id="embed-snippet"[^>]*readonly[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert '&lt;form action=&quot;http://testserver/f/demo-request&quot; method=&quot;post&quot;&gt;' in snippet
    assert "name=&quot;email&quot; type=&quot;email&quot;" in snippet and "required" in snippet
    assert "name=&quot;website&quot;" in snippet  # the honeypot
    assert "name=&quot;consent&quot;" in snippet and "I agree to the privacy policy." in snippet
    webforms.submit_form(form=form, data={"email": "a@corp.com", "consent": "yes"}, ip="1.2.3.4")
    assert "1 submission" in text(c.get(f"/leads/forms/{form.pk}/"))
    assert "1" in text(c.get("/leads/forms/"))


def test_builder_errors_are_shown(admin, form):
    c = signed_in(admin)
    r = c.post("/leads/forms/new/", builder_data(name="", slug="contact-sales"))
    assert r.status_code == 400
    page = text(r)
    assert "Give the form a name." in page
    assert "Another form already uses /f/contact-sales." in page
    assert "Choose at least one field for the form." in page
    r = c.post("/leads/forms/new/", builder_data(use_phone="on"))
    assert "Include a name or an email field" in text(r)
    assert LeadForm.objects.count() == 1


def test_edit_and_delete(admin, form):
    c = signed_in(admin)
    r = c.get(f"/leads/forms/{form.pk}/edit/")
    assert 'value="Work email"' in r.content.decode()
    r = c.post(f"/leads/forms/{form.pk}/edit/", builder_data(
        name="Contact sales", slug="contact-sales", use_email="on", label_email="Email", required_email="on",
        redirect_url="https://example.com/thanks"))
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.fields == [{"field": "email", "label": "Email", "required": True}]
    assert form.redirect_url == "https://example.com/thanks" and form.active
    r = c.post(f"/leads/forms/{form.pk}/delete/", follow=True)
    assert "was deleted. Its leads were kept." in text(r)
    assert not LeadForm.objects.exists()


def test_only_admins_and_managers_reach_the_builder(member, manager, form):
    m = signed_in(member)
    assert m.get("/leads/forms/").status_code == 403
    assert m.get(f"/leads/forms/{form.pk}/").status_code == 403
    assert m.post("/leads/forms/new/", builder_data(use_email="on")).status_code == 403
    assert signed_in(manager).get("/leads/forms/").status_code == 200


# --- the public form: HTML ------------------------------------------------------------------------------------


def test_public_form_renders_without_login_and_carries_attribution(form):
    c = Client()
    r = c.get("/f/contact-sales?utm_source=newsletter&utm_campaign=spring", HTTP_REFERER="https://blog.example/post")
    assert r.status_code == 200
    html = r.content.decode()
    page = text(r)
    assert "Contact sales" in page and "First name (required)" in page and "Work email (required)" in page
    assert "You may contact me." in page
    assert 'name="website"' in html and 'tabindex="-1"' in html  # honeypot, out of reach
    assert '<input type="hidden" name="utm_source" value="newsletter">' in html
    assert '<input type="hidden" name="referrer" value="https://blog.example/post">' in html
    assert 'name="landing_page" value="http://testserver/f/contact-sales?utm_source=newsletter&amp;utm_campaign=spring"' in html
    assert "<script" not in html and "style=" not in html


def test_html_submission_with_errors_is_shown_again_with_the_values(form):
    r = Client(enforce_csrf_checks=True).post("/f/contact-sales", {"first_name": "", "email": "lena@corp",
                                                                    "company_name": "Corp"})
    assert r.status_code == 400
    page = text(r)
    assert "Please correct 3 things" in page
    assert "First name is required." in page and "not a valid email address" in page
    assert "Please tick the box to give your consent." in page
    html = r.content.decode()
    assert 'value="Corp"' in html and 'aria-invalid="true"' in html
    assert not Lead.all_objects.exists()


def test_html_submission_creates_the_lead_and_thanks(admin, form):
    rep = admin
    teams.create_rule(actor=admin, data={"name": "Sales form", "conditions": [
        {"field": "form", "op": "equals", "value": "contact-sales"}], "user_id": rep.pk})
    c = Client(enforce_csrf_checks=True)  # embeddable: no CSRF token needed
    r = c.post("/f/contact-sales?utm_medium=email", {
        "first_name": "Lena", "email": "lena@corp.com", "consent": "yes", "utm_source": "newsletter",
        "referrer": "https://blog.example/post", "landing_page": "https://kith.test/f/contact-sales"},
        HTTP_REFERER="https://kith.test/f/contact-sales", REMOTE_ADDR="198.51.100.9")
    assert r.status_code == 302 and r["Location"] == "/f/contact-sales?sent=1"
    lead = Lead.objects.get(email="lena@corp.com")
    assert (lead.utm_source, lead.utm_medium) == ("newsletter", "email")
    assert lead.referrer == "https://blog.example/post"
    assert lead.consent_text == "You may contact me." and lead.source == "Web form"
    assert lead.owner == rep
    assert FormSubmission.objects.get().ip == "198.51.100.9"
    page = text(Client().get(r["Location"]))
    assert "Thank you" in page and "We will be in touch soon." in page


def test_embedded_submission_records_the_referring_page(form):
    Client().post("/f/contact-sales", {"first_name": "Max", "email": "max@corp.com", "consent": "on"},
                  HTTP_REFERER="https://www.corp.example/pricing?utm_source=google&utm_campaign=brand")
    lead = Lead.objects.get(email="max@corp.com")
    assert lead.referrer == "https://www.corp.example/pricing?utm_source=google&utm_campaign=brand"
    assert lead.landing_page == lead.referrer
    assert (lead.utm_source, lead.utm_campaign) == ("google", "brand")


def test_redirect_url_after_success(admin, form):
    webforms.update_form(actor=admin, form=form, data={"redirect_url": "https://corp.example/thanks"})
    r = Client().post("/f/contact-sales", {"first_name": "Max", "email": "max@corp.com", "consent": "on"})
    assert r.status_code == 302 and r["Location"] == "https://corp.example/thanks"


def test_honeypot_looks_like_success_but_keeps_nothing(form):
    r = Client().post("/f/contact-sales", {"first_name": "Bot", "email": "bot@spam.com", "consent": "on",
                                           "website": "http://spam.example"})
    assert r.status_code == 302 and r["Location"] == "/f/contact-sales?sent=1"
    assert not Lead.all_objects.exists()


def test_rate_limit_answers_429(form, settings):
    settings.KITH_FORM_RATE_LIMIT = 1
    c = Client()
    data = {"first_name": "A", "email": "a@corp.com", "consent": "on"}
    assert c.post("/f/contact-sales", data).status_code == 302
    r = c.post("/f/contact-sales", {**data, "email": "b@corp.com"})
    assert r.status_code == 429
    assert "Too many submissions from your address" in text(r)
    assert int(r["Retry-After"]) > 0
    r = c.post("/f/contact-sales", json.dumps({**data, "email": "c@corp.com"}), content_type="application/json")
    assert r.status_code == 429 and r.json()["detail"].startswith("Too many submissions")
    assert Lead.all_objects.count() == 1


def test_inactive_or_unknown_form_is_404(admin, form):
    assert Client().get("/f/nope").status_code == 404
    webforms.update_form(actor=admin, form=form, data={"active": False})
    assert Client().get("/f/contact-sales").status_code == 404
    r = Client().post("/f/contact-sales", {"first_name": "A", "email": "a@corp.com", "consent": "on"})
    assert r.status_code == 404 and not Lead.all_objects.exists()


# --- the public form: JSON ------------------------------------------------------------------------------------


def test_json_submission_201(form):
    r = Client().post("/f/contact-sales", json.dumps({"first_name": "Jo", "email": "jo@corp.com", "consent": True,
                                                      "utm_campaign": "launch"}),
                      content_type="application/json")
    assert r.status_code == 201
    body = r.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body["message"] == "Thank you! We will be in touch soon."
    assert (lead.email, lead.utm_campaign) == ("jo@corp.com", "launch")
    assert r["Access-Control-Allow-Origin"] == "*"


def test_json_errors_400_name_each_field(form):
    r = Client().post("/f/contact-sales", json.dumps({"email": "nope"}), content_type="application/json")
    assert r.status_code == 400
    body = r.json()
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"first_name", "email", "consent"}
    assert body["detail"]
    r = Client().post("/f/contact-sales", "{not json", content_type="application/json")
    assert r.status_code == 400 and r.json() == {"detail": "The body is not valid JSON.", "errors": []}
    r = Client().post("/f/nope", "{}", content_type="application/json")
    assert r.status_code == 404 and r.json()["errors"] == []


def test_cors_preflight(form):
    r = Client().options("/f/contact-sales")
    assert r.status_code == 204
    assert r["Access-Control-Allow-Methods"] == "POST, OPTIONS"


def test_notification_for_the_owner_of_a_submitted_lead(admin, form, member):
    teams.create_rule(actor=admin, data={"name": "To Bob", "user_id": member.pk})
    Client().post("/f/contact-sales", {"first_name": "Lena", "email": "lena@corp.com", "consent": "on"})
    note = Notification.objects.get(user=member)
    assert "Lena" in note.title and "To Bob" in note.title
