"""Web forms: the builder's validation and public submissions (checks, honeypot, rate limit, attribution)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from conftest import make_user
from kith.core.errors import ValidationError
from kith.core.models import Notification
from kith.sales.models import FormSubmission, Lead, LeadForm
from kith.sales.services import teams, webforms

pytestmark = pytest.mark.django_db

FIELDS = [
    {"field": "first_name", "label": "First name", "required": True},
    {"field": "email", "label": "Work email", "required": True},
    {"field": "phone", "label": "Phone", "required": False},
    {"field": "company_name", "label": "Company", "required": False},
    {"field": "country", "label": "Country", "required": False},
]


@pytest.fixture
def form(admin):
    return webforms.create_form(actor=admin, data={
        "name": "Contact sales", "fields": FIELDS, "source": "Website form",
        "consent_text": "I agree to be contacted about Kith.",
    })


def submit(form, ip="203.0.113.7", meta=None, **data):
    base = {"first_name": "Lena", "email": "lena@corp.com", "consent": "on"}
    base.update(data)
    return webforms.submit_form(form=form, data=base, ip=ip, meta=meta or {})


# --- builder ----------------------------------------------------------------------------------------------


def test_create_form_derives_the_slug_and_keeps_field_order(form):
    assert form.slug == "contact-sales"
    assert [f["field"] for f in form.fields] == ["first_name", "email", "phone", "company_name", "country"]
    assert form.fields[1] == {"field": "email", "label": "Work email", "required": True}
    assert form.active and form.source == "Website form"
    assert form.get_absolute_url() == "/f/contact-sales"


def test_form_validation_reports_every_problem(admin, form):
    with pytest.raises(ValidationError) as exc:
        webforms.create_form(actor=admin, data={
            "name": "", "slug": "contact-sales", "redirect_url": "not a url",
            "fields": [{"field": "email"}, {"field": "email"}, {"field": "password"}],
        })
    errors = exc.value.message_dict
    assert errors["name"] == ["Give the form a name."]
    assert errors["slug"] == ["Another form already uses /f/contact-sales."]
    assert errors["fields.1.field"] == ["Email is on the form twice."]
    assert "fields.2.field" in errors
    assert "not a valid web address" in errors["redirect_url"][0]
    with pytest.raises(ValidationError) as exc:
        webforms.create_form(actor=admin, data={"name": "x", "slug": "Bad slug!", "fields": [{"field": "phone"}]})
    assert exc.value.message_dict == {
        "slug": ["Use only letters, digits and hyphens, e.g. “contact-sales”."],
        "fields": ["Include a name or an email field: a lead needs one of them."],
    }
    with pytest.raises(ValidationError) as exc:
        webforms.create_form(actor=admin, data={"name": "x", "fields": []})
    assert exc.value.message_dict == {"fields": ["Choose at least one field for the form."]}
    assert LeadForm.objects.count() == 1


def test_update_and_delete_form_keeps_its_leads(admin, form):
    lead = submit(form)
    form = webforms.update_form(actor=admin, form=form, data={"slug": "talk-to-us", "active": False,
                                                             "redirect_url": "example.com/thanks"})
    assert (form.slug, form.active, form.redirect_url) == ("talk-to-us", False, "https://example.com/thanks")
    webforms.delete_form(actor=admin, form=form)
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.form is None and lead.source == "Website form"


def test_only_admins_and_managers_build_forms(member):
    with pytest.raises(PermissionDenied):
        webforms.create_form(actor=member, data={"name": "Mine", "fields": FIELDS})


# --- submissions ------------------------------------------------------------------------------------------


def test_a_valid_submission_becomes_a_lead_with_its_attribution(form):
    lead = submit(form, phone="+44 20 7946 0958", company_name="Corp", country="Germany",
                  utm_campaign="spring",
                  meta={"referrer": "https://news.example/article", "landing_page": "https://kith.test/f/contact-sales?utm_source=news",
                        "query": {"utm_source": "news", "utm_medium": "email"}})
    assert (lead.first_name, lead.email, lead.phone, lead.company_name, lead.country) == (
        "Lena", "lena@corp.com", "+442079460958", "Corp", "DE")
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("news", "email", "spring")
    assert lead.referrer == "https://news.example/article"
    assert lead.landing_page == "https://kith.test/f/contact-sales?utm_source=news"
    assert lead.source == "Website form" and lead.form == form and lead.status == "new"
    assert lead.consent_text == "I agree to be contacted about Kith." and lead.consent_at is not None
    form.refresh_from_db()
    assert form.submissions == 1
    assert FormSubmission.objects.filter(form=form, ip="203.0.113.7").count() == 1


def test_utm_parameters_are_read_from_the_referring_url(form):
    lead = submit(form, meta={"referrer": "https://shop.example/pricing?utm_source=google&utm_term=crm+tool"})
    assert (lead.utm_source, lead.utm_term) == ("google", "crm tool")
    assert lead.landing_page == ""


def test_required_fields_consent_and_email_are_checked_together(form):
    with pytest.raises(ValidationError) as exc:
        submit(form, first_name="  ", email="lena-at-corp", consent="")
    errors = exc.value.message_dict
    assert errors["first_name"] == ["First name is required."]
    assert "not a valid email address" in errors["email"][0]
    assert errors["consent"] == ["Please tick the box to give your consent."]
    assert Lead.all_objects.count() == 0 and FormSubmission.objects.count() == 0
    form.refresh_from_db()
    assert form.submissions == 0


def test_required_field_error_alone_rolls_back_the_lead(form, admin):
    rep = make_user("rep@example.com", "member")
    teams.create_rule(actor=admin, data={"name": "All", "user_id": rep.pk})
    with pytest.raises(ValidationError) as exc:
        submit(form, first_name="")
    assert exc.value.message_dict == {"first_name": ["First name is required."]}
    assert Lead.all_objects.count() == 0
    assert Notification.objects.count() == 0


def test_without_consent_text_no_consent_is_needed(admin):
    form = webforms.create_form(actor=admin, data={"name": "Newsletter", "fields": [{"field": "email",
                                                                                    "required": True}]})
    lead = webforms.submit_form(form=form, data={"email": "a@b.co"}, ip="198.51.100.1", meta={})
    assert lead.consent_text == "" and lead.consent_at is None


def test_fields_not_on_the_form_are_ignored(form):
    lead = submit(form, title="Hacker", notes="ignored", score="1000", owner_id="1")
    assert (lead.title, lead.notes, lead.score, lead.owner) == ("", "", None, None)


def test_honeypot_pretends_success_and_keeps_nothing(form):
    assert submit(form, website="http://spam.example") is None
    assert Lead.all_objects.count() == 0 and FormSubmission.objects.count() == 0


def test_rate_limit_per_ip_and_form(form, settings, admin):
    settings.KITH_FORM_RATE_LIMIT = 2
    settings.KITH_FORM_RATE_WINDOW_SECONDS = 600
    submit(form, email="a@corp.com")
    submit(form, email="b@corp.com")
    with pytest.raises(webforms.TooManySubmissions) as exc:
        submit(form, email="c@corp.com")
    assert "Too many submissions" in exc.value.message
    assert 0 < exc.value.retry_after <= 601
    assert Lead.all_objects.count() == 2
    # Another address, or another form, is not affected.
    submit(form, ip="203.0.113.8", email="d@corp.com")
    other = webforms.create_form(actor=admin, data={"name": "Other", "fields": FIELDS})
    submit(other, email="e@corp.com")
    # Once the window has passed, the address may send again.
    FormSubmission.objects.update(created_at=timezone.now() - timedelta(seconds=601))
    submit(form, email="f@corp.com")
    assert Lead.all_objects.count() == 5


def test_rate_limit_of_zero_refuses_every_submission(form, settings):
    # KITH_FORM_RATE_LIMIT=0 accepts nothing: a 429 waiting a whole window, not a crash because no
    # submission is in the window to count from.
    settings.KITH_FORM_RATE_LIMIT = 0
    settings.KITH_FORM_RATE_WINDOW_SECONDS = 600
    with pytest.raises(webforms.TooManySubmissions) as exc:
        submit(form, email="a@corp.com")
    assert exc.value.retry_after == 600
    assert Lead.all_objects.count() == 0 and FormSubmission.objects.count() == 0


def test_inactive_form_refuses_submissions(admin, form):
    webforms.update_form(actor=admin, form=form, data={"active": False})
    with pytest.raises(ValidationError) as exc:
        submit(form)
    assert exc.value.messages == ["This form is not accepting submissions."]


def test_submission_runs_the_assignment_rules(admin, form):
    rep = make_user("rep@example.com", "member", full_name="Rep One")
    teams.create_rule(actor=admin, data={"name": "Web", "conditions": [
        {"field": "form", "op": "equals", "value": "contact-sales"}], "user_id": rep.pk})
    lead = submit(form)
    assert lead.owner == rep
    assert Notification.objects.get(user=rep).title.startswith("New lead assigned to you: Lena")
