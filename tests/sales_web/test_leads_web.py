"""The lead pages: list (columns, clock, filters, sorting, search, paging), record page, create/edit with
version conflicts, quick status and owner changes, trash and restore, permissions."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import make_user, signed_in
from kith.core.models import Notification
from kith.sales.models import Lead, LeadForm, SalesSettings
from kith.sales.services import leads, teams

pytestmark = pytest.mark.django_db


# --- helpers (also used by the other lead page tests) ------------------------------------------------------


def text(response) -> str:
    """The page's visible text, roughly: tags removed, whitespace collapsed."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html_lib.unescape(page).split())


def timeline_text(response) -> str:
    """The visible text of the record page's timeline entries (where the record's history shows), and only
    that: the page has no separate History card."""
    page = response.content.decode()
    assert 'id="history-heading"' not in page
    part = page.split('id="timeline-entries"', 1)[1].split(">", 1)[1].split("</ol>", 1)[0]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def names_in_table(response) -> list[str]:
    page = response.content.decode()
    return re.findall(r'class="record-link"[^>]*>(?:<span[^>]*>[^<]*</span>)?<span>([^<]+)</span>', page)


def make_lead(actor=None, **data) -> Lead:
    data.setdefault("owner_id", None)
    return leads.create_lead(actor=actor, data=data)


def age(lead: Lead, minutes: int) -> Lead:
    Lead.all_objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return Lead.all_objects.get(pk=lead.pk)


@pytest.fixture
def rep(db):
    return make_user("rita@example.com", "member", full_name="Rita Rep")


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


def lead_form_data(**overrides):
    data = dict.fromkeys(["first_name", "last_name", "title", "company_name", "email", "phone", "country", "source", "score", "owner_id", "tags", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "notes"], "")
    data["status"] = "new"
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------------------------


def test_list_shows_the_columns_and_the_waiting_clock(admin_client, admin, rep):
    fresh = make_lead(first_name="Fresh", email="fresh@corp.com", company_name="Corp", source="Website",
                      owner_id=rep.pk)
    late = age(make_lead(first_name="Late", email="late@corp.com"), 90)
    answered = make_lead(admin, first_name="Answered")
    leads.update_lead(actor=admin, lead=answered, data={"status": "contacted"})
    r = admin_client.get("/leads/")
    assert r.status_code == 200
    page = text(r)
    for header in ["Name", "Email", "Company", "Source", "Status", "Owner", "Created", "Waiting"]:
        assert f">{header}<" in r.content.decode() or header in page
    assert "fresh@corp.com" in page and "Corp" in page and "Website" in page and "Rita Rep" in page
    html = r.content.decode()
    row_late = html[html.index(">Late<"):].split("</tr>")[0]
    assert "Overdue" in row_late and "1 h 30 min" in row_late and "waiting-overdue" in row_late
    row_fresh = html[html.index(">Fresh<"):].split("</tr>")[0]
    assert "Overdue" not in row_fresh and "under a minute" in row_fresh and "data-clock-since" in row_fresh
    row_answered = html[html.index(">Answered<"):].split("</tr>")[0]
    assert "data-clock-since" not in row_answered and "Contacted" in row_answered
    assert late.pk and fresh.pk


def test_first_response_time_comes_from_sales_settings(admin_client):
    age(make_lead(first_name="Slow"), 90)
    row = SalesSettings.get()
    row.first_response_minutes = 120
    row.save()
    html = admin_client.get("/leads/").content.decode()
    assert "Overdue" not in html
    assert admin_client.get("/leads/?overdue=true").content.decode().count('class="record-link"') == 0


def test_waiting_too_long_filter(admin_client):
    age(make_lead(first_name="Late"), 61)
    make_lead(first_name="Fresh")
    assert names_in_table(admin_client.get("/leads/?overdue=true")) == ["Late"]
    assert names_in_table(admin_client.get("/leads/?overdue=false")) == ["Fresh"]


def test_filters_by_status_source_owner_me_tag_form_and_dates(admin_client, admin, rep):
    form = LeadForm.objects.create(name="Demo", slug="demo", fields=[{"field": "email", "label": "Email"}])
    a = make_lead(first_name="Ann", source="Website", owner_id=admin.pk, tags="vip")
    make_lead(first_name="Bob", source="Event", owner_id=rep.pk)
    leads.create_lead(actor=None, data={"first_name": "Cyd"}, form=form)
    leads.update_lead(actor=admin, lead=a, data={"status": "qualified"})
    assert names_in_table(admin_client.get("/leads/?status=qualified")) == ["Ann"]
    assert names_in_table(admin_client.get("/leads/?source=event")) == ["Bob"]
    assert names_in_table(admin_client.get("/leads/?owner=me")) == ["Ann"]
    assert names_in_table(admin_client.get(f"/leads/?owner={rep.pk}")) == ["Bob"]
    assert names_in_table(admin_client.get("/leads/?tag=VIP")) == ["Ann"]
    assert names_in_table(admin_client.get(f"/leads/?form={form.pk}")) == ["Cyd"]
    today = timezone.localdate().isoformat()
    assert len(names_in_table(admin_client.get(f"/leads/?created_after={today}"))) == 3
    assert names_in_table(admin_client.get("/leads/?created_before=2000-01-01")) == []
    r = admin_client.get("/leads/?status=bogus")
    assert r.status_code == 400 and "This filter can’t be used" in text(r)


def test_custom_field_filter(admin_client):
    from kith.core.custom_field_services import create_custom_field

    create_custom_field(actor=None, data={"object_type": "lead", "key": "budget_band", "label": "Budget band",
                                          "field_type": "select", "choices": ["Small", "Large"]})
    make_lead(first_name="Big", custom_fields={"budget_band": "Large"})
    make_lead(first_name="Tiny", custom_fields={"budget_band": "Small"})
    r = admin_client.get("/leads/?cf_budget_band=Large")
    assert names_in_table(r) == ["Big"]
    assert "Budget band" in text(r)


def test_sorting_and_search_as_you_type(admin_client):
    make_lead(first_name="Zed", company_name="Alpha")
    make_lead(first_name="Amy", company_name="Zulu")
    assert names_in_table(admin_client.get("/leads/?ordering=name")) == ["Amy", "Zed"]
    assert names_in_table(admin_client.get("/leads/?ordering=-company_name")) == ["Amy", "Zed"]
    r = admin_client.get("/leads/?q=ze", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()
    assert names_in_table(r) == ["Zed"]


def test_load_more_pages_with_a_cursor(admin_client, settings):
    settings.KITH_UI_PAGE_SIZE = 2
    for i in range(5):
        make_lead(first_name=f"Lead{i}")
    r = admin_client.get("/leads/?ordering=name")
    assert names_in_table(r) == ["Lead0", "Lead1"]
    seen = names_in_table(r)
    next_url = re.search(r'href="([^"]+)"[^>]*rel="next"', r.content.decode()).group(1)
    while next_url:
        r = admin_client.get(html_lib.unescape(next_url), HTTP_HX_REQUEST="true")
        seen += names_in_table(r)
        m = re.search(r'href="([^"]+)"[^>]*rel="next"', r.content.decode())
        next_url = m.group(1) if m else None
    assert seen == [f"Lead{i}" for i in range(5)]


def test_members_see_the_list_but_not_the_admin_links(rep):
    make_lead(first_name="Ann")
    page = signed_in(rep).get("/leads/").content.decode()
    assert "Ann" in page and 'href="/leads/new/"' in page
    assert "/leads/forms/" not in page and "/leads/assignment/" not in page


def test_viewers_see_no_write_buttons(viewer):
    lead = make_lead(first_name="Ann")
    c = signed_in(viewer)
    assert 'href="/leads/new/"' not in c.get("/leads/").content.decode()
    page = c.get(f"/leads/{lead.pk}/").content.decode()
    assert "/convert/" not in page and "/edit/" not in page and "Reassign" not in page and "Change status" not in page
    assert c.get("/leads/new/").status_code == 403
    assert c.post(f"/leads/{lead.pk}/status/", {"status": "contacted"}).status_code == 403
    assert c.post(f"/leads/{lead.pk}/convert/", {"contact_mode": "new", "company_mode": "none"}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_list_requires_sign_in(client):
    r = client.get("/leads/")
    assert r.status_code == 302 and "/login/" in r["Location"]


# --- record page ----------------------------------------------------------------------------------------------


def test_detail_shows_every_field_attribution_and_consent(admin_client, admin):
    form = LeadForm.objects.create(name="Contact sales", slug="contact-sales",
                                   fields=[{"field": "email", "label": "Email"}])
    lead = leads.create_lead(actor=None, form=form, consent_text="Yes, contact me.", data={
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.io", "phone": "+44 20 7946 0958",
        "company_name": "Analytical", "title": "CTO", "country": "GB", "source": "Web form", "score": 42,
        "notes": "Wants a demo", "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring",
        "utm_term": "crm", "utm_content": "ad-1", "referrer": "https://search.example/q",
        "landing_page": "https://kith.test/f/contact-sales?utm_source=google", "tags": "hot"})
    r = admin_client.get(f"/leads/{lead.pk}/")
    assert r.status_code == 200
    page = text(r)
    for expected in ["Ada Lovelace", "ada@analytical.io", "Analytical", "CTO", "United Kingdom", "Web form", "42",
                     "Wants a demo", "UTM source google", "UTM medium cpc", "UTM campaign spring", "UTM term crm",
                     "UTM content ad-1", "https://search.example/q", "https://kith.test/f/contact-sales?utm_source=google",
                     "Contact sales", "Yes, contact me.", "Given", "hot", "New", "Unassigned", "Waiting"]:
        assert expected in page, expected
    assert f'href="/leads/forms/{form.pk}/"' in r.content.decode()
    # the timeline says which web form created the lead, and lists its country by name
    timeline = timeline_text(r)
    assert timeline.startswith("Web form “Contact sales” created this lead")
    assert "Country: United Kingdom" in timeline


def test_detail_shows_the_response_time_once_answered(admin_client, admin):
    lead = age(make_lead(first_name="Ann"), 30)
    leads.update_lead(actor=admin, lead=lead, data={"status": "contacted"})
    page = text(admin_client.get(f"/leads/{lead.pk}/"))
    assert "Response time Responded in 30 min" in page


def test_timeline_shows_the_assignment_reason(admin_client, admin, rep):
    team = teams.create_team(actor=admin, data={"name": "Inbound", "member_ids": [rep.pk]})
    teams.create_rule(actor=admin, data={"name": "Web leads", "team_id": team.pk})
    lead = leads.create_lead(actor=None, data={"first_name": "Ann"})
    leads.update_lead(actor=admin, lead=lead, data={"status": "qualified"})
    timeline = timeline_text(admin_client.get(f"/leads/{lead.pk}/"))
    assert "Owner: Rita Rep · assigned by rule “Web leads”, round-robin in team Inbound" in timeline
    assert "Alice Admin updated just now Status: New → Qualified" in timeline
    assert timeline.index("Status: New → Qualified") < timeline.index("created this lead")  # newest first


def test_unknown_or_invisible_lead_is_404(admin_client, rep, settings):
    assert admin_client.get("/leads/999999/").status_code == 404
    settings.KITH_RECORD_VISIBILITY = "own"
    other = make_lead(first_name="Secret", owner_id=make_user("o@example.com", "member").pk)
    assert signed_in(rep).get(f"/leads/{other.pk}/").status_code == 404


# --- create and edit ------------------------------------------------------------------------------------------


def test_create_runs_the_assignment_rules_by_default(admin_client, admin, rep):
    teams.create_rule(actor=admin, data={"name": "All", "user_id": rep.pk})
    r = admin_client.get("/leads/new/")
    assert "Assign by the assignment rules" in r.content.decode()
    r = admin_client.post("/leads/new/", lead_form_data(first_name="Ann", email="ann@corp.com", owner_id="auto"),
                          follow=True)
    lead = Lead.objects.get(email="ann@corp.com")
    assert lead.owner == rep
    assert "The assignment rules gave this lead to Rita Rep." in text(r)
    assert Notification.objects.filter(user=rep).count() == 1


def test_create_with_a_chosen_owner_and_errors_next_to_fields(admin_client, admin):
    r = admin_client.post("/leads/new/", lead_form_data(email="not-an-email", score="5000"))
    assert r.status_code == 400
    page = text(r)
    assert "There are 2 problems with this lead" in page
    assert "not a valid email address" in page and "Enter a whole number from -1000 to 1000." in page
    r = admin_client.post("/leads/new/", lead_form_data(first_name="Bo", owner_id=str(admin.pk), status="contacted"))
    lead = Lead.objects.get(first_name="Bo")
    assert r.status_code == 302 and r["Location"] == f"/leads/{lead.pk}/"
    assert lead.owner == admin and lead.status == "contacted"


def test_edit_saves_and_a_stale_version_is_a_409(admin_client, admin):
    lead = make_lead(admin, first_name="Ann", email="ann@corp.com")
    r = admin_client.get(f"/leads/{lead.pk}/edit/")
    assert 'value="ann@corp.com"' in r.content.decode()
    r = admin_client.post(f"/leads/{lead.pk}/edit/", lead_form_data(first_name="Ann", email="ann@corp.com",
                                                                   title="CEO", version=str(lead.version)))
    assert r.status_code == 302
    assert Lead.objects.get(pk=lead.pk).title == "CEO"
    r = admin_client.post(f"/leads/{lead.pk}/edit/", lead_form_data(first_name="Ann", email="ann@corp.com",
                                                                   title="CFO", version=str(lead.version)))
    assert r.status_code == 409
    assert "Someone else changed this lead while you were editing" in text(r)
    assert Lead.objects.get(pk=lead.pk).title == "CEO"


def test_editing_a_converted_lead_keeps_its_status(admin_client, admin):
    lead = make_lead(admin, first_name="Ann")
    leads.convert_lead(actor=admin, lead=lead)
    lead = Lead.objects.get(pk=lead.pk)
    r = admin_client.post(f"/leads/{lead.pk}/edit/", lead_form_data(first_name="Ann", title="CTO", status="new",
                                                                   version=str(lead.version)))
    assert r.status_code == 302
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.title) == ("converted", "CTO")


# --- quick actions --------------------------------------------------------------------------------------------


def test_changing_the_status_records_the_first_response(admin_client):
    lead = make_lead(first_name="Ann")
    r = admin_client.post(f"/leads/{lead.pk}/status/", {"status": "contacted"}, follow=True)
    assert "Status changed to Contacted." in text(r)
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == "contacted" and lead.first_response_at is not None
    r = admin_client.post(f"/leads/{lead.pk}/status/", {"status": "converted"}, follow=True)
    assert "Convert the lead to mark it converted." in text(r)


def test_reassigning_notifies_the_new_owner_and_shows_in_the_timeline(admin_client, rep):
    lead = make_lead(first_name="Ann")
    r = admin_client.post(f"/leads/{lead.pk}/assign/", {"owner_id": rep.pk}, follow=True)
    page = text(r)
    assert "Ann was assigned to Rita Rep; they were notified." in page
    assert "Alice Admin updated just now Owner: (empty) → Rita Rep" in timeline_text(r)
    note = Notification.objects.get(user=rep)
    assert note.url == f"/leads/{lead.pk}/"
    r = admin_client.post(f"/leads/{lead.pk}/assign/", {"owner_id": ""}, follow=True)
    assert "Ann has no owner now." in text(r)
    assert Lead.objects.get(pk=lead.pk).owner is None


# --- trash ------------------------------------------------------------------------------------------------


def test_trash_and_restore(admin_client):
    lead = make_lead(first_name="Ann")
    r = admin_client.post(f"/leads/{lead.pk}/delete/", {"version": lead.version})
    assert r.status_code == 302 and r["Location"] == "/leads/"
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert "Ann" not in names_in_table(admin_client.get("/leads/"))
    page = text(admin_client.get(f"/leads/{lead.pk}/"))
    assert "This lead is in the trash" in page
    r = admin_client.post(f"/leads/{lead.pk}/restore/", follow=True)
    assert "Ann was restored." in text(r)
    assert Lead.objects.filter(pk=lead.pk).exists()
