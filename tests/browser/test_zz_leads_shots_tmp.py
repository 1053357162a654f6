"""TEMPORARY (leads engineer): screenshots of the lead pages; deleted after use."""
from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import login, make_user
from django.utils import timezone

from kith.contacts import services as cs
from kith.core.models import Notification
from kith.sales.models import Lead, SalesSettings
from kith.sales.services import leads, pipelines, teams, webforms

from .test_leads_browser import bell_wired  # noqa: F401

pytestmark = pytest.mark.browser
OUT = "/tmp/kith-leads/shots"


def seed(admin):
    rita = make_user("rita@example.com", "member", full_name="Rita Ramos")
    sam = make_user("sam@example.com", "member", full_name="Sam Okafor")
    team = teams.create_team(actor=admin, data={"name": "Inbound EMEA", "member_ids": [rita.pk, sam.pk]})
    teams.create_team(actor=admin, data={"name": "Enterprise", "member_ids": [admin.pk]})
    teams.create_rule(actor=admin, data={"name": "DACH region", "team_id": team.pk, "conditions": [
        {"field": "country", "op": "in", "value": "DE, AT, CH"}]})
    teams.create_rule(actor=admin, data={"name": "Big companies from ads", "user_id": admin.pk, "conditions": [
        {"field": "utm_source", "op": "equals", "value": "google"}, {"field": "title", "op": "contains", "value": "VP"}]})
    teams.create_rule(actor=admin, data={"name": "Partner referrals", "user_id": sam.pk, "active": False,
                                         "conditions": [{"field": "source", "op": "equals", "value": "Partner"}]})
    s = SalesSettings.get(); s.default_team = team; s.save()
    form = webforms.create_form(actor=admin, data={
        "name": "Talk to sales", "slug": "talk-to-sales", "source": "Website",
        "fields": [{"field": "first_name", "label": "First name", "required": True},
                   {"field": "last_name", "label": "Last name"},
                   {"field": "email", "label": "Work email", "required": True},
                   {"field": "company_name", "label": "Company"},
                   {"field": "notes", "label": "How can we help?"}],
        "consent_text": "I agree that Kith may contact me about my request."})
    people = [
        ("Lena", "Berg", "lena@initech.io", "Initech", "DE", "VP Sales", 5, "Website"),
        ("Marco", "Rossi", "marco@pasta.it", "Pasta Co", "IT", "Owner", 95, "Event"),
        ("Aiko", "Tanaka", "aiko@kaizen.jp", "Kaizen Labs", "JP", "CTO", 240, "Website"),
        ("Oliver", "Smith", "oliver@acme.co.uk", "Acme UK", "GB", "Head of Ops", 30, "Referral"),
        ("Fatima", "Zahra", "fatima@atlas.ma", "Atlas", "MA", "CEO", 3000, "Partner"),
        ("Jonas", "Weber", "jonas@bau.de", "Bau GmbH", "DE", "Procurement", 50, "Website"),
    ]
    made = []
    for first, last, email, company, country, title, minutes, source in people:
        lead = leads.create_lead(actor=None, form=form if source == "Website" else None,
                                 consent_text="I agree that Kith may contact me about my request." if source == "Website" else "",
                                 data={"first_name": first, "last_name": last, "email": email, "company_name": company,
                                       "country": country, "title": title, "source": source,
                                       "utm_source": "google" if source == "Website" else "",
                                       "utm_campaign": "autumn-launch" if source == "Website" else "",
                                       "referrer": "https://www.google.com/" if source == "Website" else ""})
        Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
        made.append(lead)
    leads.update_lead(actor=admin, lead=Lead.objects.get(pk=made[3].pk), data={"status": "contacted"})
    leads.update_lead(actor=admin, lead=Lead.objects.get(pk=made[4].pk), data={"status": "qualified", "owner_id": admin.pk})
    pipelines.create_pipeline(actor=admin, data={"name": "New business"})
    cs.create_company(actor=admin, data={"name": "Initech", "domain": "initech.io"})
    Notification.objects.create(user=admin, kind="lead.assigned", title="New lead assigned to you: Fatima Zahra", url=f"/leads/{made[4].pk}/", actor=sam)
    return made, form


def test_shots(page, admin, bell_wired):  # noqa: F811
    made, form = seed(admin)
    login(page, admin)
    for width, tag in ((1280, "wide"), (390, "narrow")):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in [("list", "/leads/"), ("detail", f"/leads/{made[0].pk}/"),
                          ("convert", f"/leads/{made[0].pk}/convert/"), ("forms", "/leads/forms/"),
                          ("form", f"/leads/forms/{form.pk}/"), ("builder", f"/leads/forms/{form.pk}/edit/"),
                          ("assignment", "/leads/assignment/"), ("rule", "/leads/assignment/rules/new/"),
                          ("notifications", "/notifications/"), ("new", "/leads/new/"),
                          ("detail2", f"/leads/{made[4].pk}/")]:
            page.goto(url)
            page.screenshot(path=f"{OUT}/{name}-{tag}.png", full_page=True)
        ctx = page.context.browser.new_context(viewport={"width": width, "height": 900}, base_url=page.url.split("/leads")[0])
        p2 = ctx.new_page()
        p2.goto("/f/talk-to-sales")
        p2.screenshot(path=f"{OUT}/public-{tag}.png", full_page=True)
        p2.get_by_role("button", name="Send").click()
        p2.screenshot(path=f"{OUT}/public-errors-{tag}.png", full_page=True)
        p2.goto("/f/talk-to-sales?sent=1")
        p2.screenshot(path=f"{OUT}/public-thanks-{tag}.png", full_page=True)
        ctx.close()
