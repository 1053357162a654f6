"""The sales demo (kith.sales.demo.load_sales_demo) on a small workspace: what a person opening the sales pages
would see — pipelines with their stages, deals in every stage with a believable year of stage history, won and
lost deals, products, quotes, quotas and a forecast with numbers in it, leads in every status (some waiting too
long for a first response), the capture set-up (team, rule, web form)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from conftest import make_user
from kith.contacts import services as contact_services
from kith.contacts.models import Company, Contact
from kith.core import audit
from kith.core.models import AuditEntry
from kith.sales import money
from kith.sales.choices import LeadStatus, PeriodKind, QuoteStatus, StageKind
from kith.sales.demo import load_sales_demo
from kith.sales.filtersets import LeadFilterSet
from kith.sales.models import (
    AssignmentRule,
    Deal,
    DealStageChange,
    ExchangeRate,
    Lead,
    LeadForm,
    LineItem,
    Pipeline,
    Product,
    Quota,
    Quote,
    SalesSettings,
    Team,
)
from kith.sales.services.forecast import current_period, forecast
from kith.sales.services.quotas import add_periods, period_start_of

COMPANIES = [
    ("Brightwater Analytics", "brightwater.example", "US", 240),
    ("Südwind Maschinenbau", "suedwind.example", "DE", 2100),
    ("Kestrel Engineering", "kestrel.example", "GB", 530),
    ("Maison Lumière", "maison-lumiere.example", "FR", 220),
    ("Ipê Fintech", "ipe.example", "BR", 330),
    ("Northbeam Solar", "northbeam.example", "US", 85),
]
SEED = 20260114
PEOPLE = ["Ana Silva", "Ben Hughes", "Chloé Moreau", "Jürgen Weiß", "Priya Iyer", "Tom Clark", "Lena Becker",
          "Omar Haddad", "Sara Lopez", "Kenji Sato", "Mia Novak", "Raj Patel"]


def _workspace():
    admin = make_user("dana@example.com", "admin", full_name="Dana Demo")
    manager = make_user("sofia@example.com", "manager", full_name="Sofía Márquez")
    member = make_user("kenji@example.com", "member", full_name="Kenji Watanabe")
    member2 = make_user("amara@example.com", "member", full_name="Amara Okafor")
    viewer = make_user("lars@example.com", "viewer", full_name="Lars Nilsson")
    users = [admin, manager, member, member2, viewer]
    owners = [admin, manager, member, member2]
    companies = []
    for i, (name, domain, country, size) in enumerate(COMPANIES):
        companies.append(contact_services.create_company(actor=admin, data={
            "name": name, "domain": domain, "country": country, "size": size, "owner_id": owners[i % 4].pk,
        }))
    contacts = []
    for i, full in enumerate(PEOPLE):
        first, last = full.split()
        company = companies[i % len(companies)]
        contacts.append(contact_services.create_contact(actor=admin, data={
            "first_name": first, "last_name": last, "email": f"{first.lower()}.{i}@{company.domain}",
            "company_id": company.pk, "country": company.country,
        }))
    contacts.append(contact_services.create_contact(actor=admin, data={"first_name": "Solo", "email": "solo@mail.example"}))
    return users, companies, contacts


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for this module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        users, companies, contacts = _workspace()
        started = time.process_time()
        counts = load_sales_demo(rng=random.Random(SEED), users=users, companies=companies, contacts=contacts)
        seconds = time.process_time() - started
        yield {"counts": counts, "cpu_seconds": seconds, "users": {u.email.split("@")[0]: u for u in users},
               "companies": companies, "contacts": contacts, "now": timezone.now()}
        transaction.set_rollback(True)


@pytest.fixture
def sees(demo, db):
    return demo


def _quarter(offset: int) -> tuple[dt.date, dt.date]:
    start = add_periods(period_start_of(timezone.localdate(), PeriodKind.QUARTER), PeriodKind.QUARTER, offset)
    return start, add_periods(start, PeriodKind.QUARTER, 1)


def test_it_is_quick_and_reports_what_it_made(sees):
    # The work it does (processor time of this process, which on SQLite includes the database's): a busy
    # machine stretches the wall-clock time, not this.
    assert sees["cpu_seconds"] < 30
    counts = sees["counts"]
    assert counts["deals"] == Deal.objects.count() >= 110
    assert counts["won_deals"] == Deal.objects.filter(stage__kind=StageKind.WON).count() > 10
    assert counts["lost_deals"] == Deal.objects.filter(stage__kind=StageKind.LOST).count() > 5
    assert counts["open_deals"] == Deal.objects.filter(stage__kind=StageKind.OPEN).count() > 40
    assert counts["leads"] == Lead.objects.count() == 40
    assert counts["quotes"] == 8 and counts["products"] >= 12
    assert counts["stage_changes"] == DealStageChange.objects.count()


def test_two_pipelines_with_their_stages_and_a_catalogue(sees):
    pipelines = list(Pipeline.objects.order_by("position", "id"))
    assert [p.name for p in pipelines] == ["New business", "Renewals"]
    stages = {p.name: [(s.name, s.kind) for s in p.stages.order_by("position")] for p in pipelines}
    assert stages["New business"] == [("Qualified", "open"), ("Discovery", "open"), ("Proposal", "open"),
                                      ("Negotiation", "open"), ("Won", "won"), ("Lost", "lost")]
    assert stages["Renewals"] == [("Upcoming", "open"), ("In conversation", "open"), ("Renewal sent", "open"),
                                  ("Renewed", "won"), ("Churned", "lost")]
    products = list(Product.objects.all())
    assert len(products) >= 12 and all(p.sku for p in products)
    assert {p.currency for p in products} == {"USD", "EUR", "GBP"}
    assert {p.tax_rate for p in products} >= {Decimal("0.00"), Decimal("8.25"), Decimal("19.00"), Decimal("20.00")}
    assert any(p.sku.startswith("SEAT-") for p in products) and any(p.sku.startswith("SVC-") for p in products)
    assert any(p.sku.startswith("SUP-") for p in products)
    assert sum(not p.active for p in products) == 1


def test_deals_fill_every_stage_and_belong_to_the_companies_and_sales_people(sees):
    users = sees["users"]
    by_stage = Counter(Deal.objects.values_list("pipeline__name", "stage__name"))
    for pipeline in Pipeline.objects.all():
        for stage in pipeline.stages.all():
            assert by_stage[(pipeline.name, stage.name)] > 0, f"no deal in {pipeline} / {stage}"
    # An open board: the early stages hold more deals than the late ones.
    assert by_stage[("New business", "Qualified")] + by_stage[("New business", "Discovery")] > \
        by_stage[("New business", "Negotiation")]
    deals = list(Deal.objects.select_related("stage", "company").prefetch_related("deal_contacts__contact"))
    assert all(d.lost_reason for d in deals if d.stage.kind == StageKind.LOST)
    assert not any(d.lost_reason for d in deals if d.stage.kind != StageKind.LOST)
    owners = Counter(d.owner_id for d in deals)
    assert users["lars"].pk not in owners  # the viewer owns nothing
    assert {users[k].pk for k in ("dana", "sofia", "kenji", "amara")} == set(owners)
    company_ids = {c.pk for c in sees["companies"]}
    from_leads = set(Lead.objects.values_list("converted_deal_id", flat=True))
    assert all(d.company_id in company_ids for d in deals if d.pk not in from_leads)
    linked = [d for d in deals if d.deal_contacts.all()]
    assert len(linked) > len(deals) * 0.8
    for d in linked:
        assert all(link.contact.company_id == d.company_id for link in d.deal_contacts.all())
        assert sum(link.is_primary for link in d.deal_contacts.all()) == 1
    assert {d.currency for d in deals} == {"USD", "EUR", "GBP"}
    open_deals = [d for d in deals if d.stage.kind == StageKind.OPEN]
    assert 0 < sum(d.is_commit for d in open_deals) < len(open_deals) / 3
    assert not any(d.is_commit for d in deals if d.stage.kind != StageKind.OPEN)
    assert all(d.amount > 0 for d in deals)


def test_about_half_the_deals_have_line_items_that_make_their_amount(sees):
    deals = list(Deal.objects.prefetch_related("line_items"))
    with_items = [d for d in deals if d.line_items.all()]
    assert 0.3 * len(deals) < len(with_items) < 0.75 * len(deals)
    for d in with_items:
        assert d.amount == sum((li.total for li in d.line_items.all()), Decimal("0.00"))
    assert LineItem.objects.filter(discount_pct__gt=0).exists()
    eu = Deal.objects.filter(currency="EUR", line_items__product__sku="SEAT-PRO-12-EU").distinct()
    assert eu.exists()
    # Default-currency amounts use the exchange rates.
    rates = dict(ExchangeRate.objects.values_list("currency", "rate"))
    assert set(rates) == {"EUR", "GBP"} and SalesSettings.get().default_currency == "USD"
    for d in Deal.objects.filter(stage__kind=StageKind.OPEN):
        assert d.amount_default == money.convert(d.amount, rates.get(d.currency, Decimal("1")))


def test_stage_history_spreads_over_the_past_year_and_matches_the_deals(sees):
    now = sees["now"]
    changes = list(DealStageChange.objects.order_by("changed_at"))
    assert changes[-1].changed_at - changes[0].changed_at > dt.timedelta(days=200)
    assert changes[0].changed_at > now - dt.timedelta(days=366)
    assert changes[-1].changed_at <= now
    months = {(c.changed_at.year, c.changed_at.month) for c in changes}
    assert len(months) >= 10
    for deal in Deal.objects.select_related("stage"):
        own = [c for c in changes if c.deal_id == deal.pk]
        assert own[0].from_stage_id is None and own[0].changed_at == deal.created_at
        assert own[-1].to_stage_id == deal.stage_id
        assert deal.stage_changed_at == own[-1].changed_at
        assert all(a.changed_at < b.changed_at for a, b in itertools.pairwise(own))
        if deal.stage.kind == StageKind.OPEN:
            assert deal.closed_at is None
        else:
            assert deal.closed_at == deal.stage_changed_at
        # The change history tells the same story, at the same moments.
        history = list(audit.history(deal))
        assert history[-1].action == AuditEntry.Action.CREATE and history[-1].created_at == deal.created_at
        stage_entries = sorted(h.created_at for h in history if "stage" in h.changes)
        assert stage_entries == [c.changed_at for c in own]
        assert [h.created_at for h in history] == sorted((h.created_at for h in history), reverse=True)
    won = Deal.objects.filter(stage__kind=StageKind.WON)
    closed_months = {(d.closed_at.year, d.closed_at.month) for d in won}
    assert len(closed_months) >= 6  # won across the year, not all at once


def test_open_deals_are_expected_to_close_within_the_next_two_quarters(sees):
    today = timezone.localdate()
    _, q1 = _quarter(0)
    _, q2 = _quarter(1)
    _, q3 = _quarter(2)
    dates = list(Deal.objects.filter(stage__kind=StageKind.OPEN).values_list("expected_close_date", flat=True))
    assert all(d is not None and today - dt.timedelta(days=30) <= d < q3 for d in dates)
    assert any(d < today for d in dates)  # a few are overdue
    assert sum(today <= d < q1 for d in dates) >= 5
    assert sum(q1 <= d < q2 for d in dates) >= 3
    assert any(q2 <= d < q3 for d in dates)


def test_the_forecast_of_this_quarter_has_numbers_and_quotas(sees):
    users = sees["users"]
    result = forecast(user=users["dana"], period=current_period())
    total = result.total
    assert total.open_amount > 0 and total.open_count > 0
    assert 0 < total.weighted_amount < total.open_amount
    assert total.quota is not None and total.quota > 0
    assert len(result.rows) >= 3 and sum(r.open_count for r in result.rows) == total.open_count
    # Quotas for the previous, this and the next quarter for every sales person, none for the viewer.
    starts = {_quarter(i)[0] for i in (-1, 0, 1)}
    for key in ("dana", "sofia", "kenji", "amara"):
        mine = Quota.objects.filter(user=users[key], period_kind=PeriodKind.QUARTER)
        assert {q.period_start for q in mine} == starts
        assert all(q.amount >= 20000 and q.amount % 5000 == 0 for q in mine)
    assert not Quota.objects.filter(user=users["lars"]).exists()
    last = forecast(user=users["dana"], period=current_period().previous)
    assert last.total.won_count > 0 and last.total.attainment is not None


def test_quotes_in_every_status_follow_their_deals(sees):
    quotes = list(Quote.objects.select_related("deal__stage").order_by("created_at"))
    assert Counter(q.status for q in quotes) == {QuoteStatus.DRAFT: 2, QuoteStatus.SENT: 3,
                                                 QuoteStatus.ACCEPTED: 2, QuoteStatus.DECLINED: 1}
    assert [q.number for q in quotes] == sorted(q.number for q in quotes)  # numbered in date order
    for q in quotes:
        assert q.lines.exists() and q.total == q.subtotal + q.tax_total
        assert q.deal.created_at < q.created_at <= sees["now"]
        if q.status == QuoteStatus.ACCEPTED:
            assert q.deal.stage.kind == StageKind.WON and q.deal.closed_at == q.decided_at
        elif q.status == QuoteStatus.DECLINED:
            assert q.deal.stage.kind == StageKind.LOST and q.deal.closed_at > q.decided_at > q.sent_at
        else:
            assert q.deal.stage.kind == StageKind.OPEN and q.deal.stage.name in ("Proposal", "Negotiation")
        if q.status != QuoteStatus.DRAFT:
            assert q.sent_at > q.created_at
        history = [h for h in audit.history(q.deal) if "quote" in h.changes]
        assert history[-1].changes["quote"]["new"].startswith(f"{q.number} created")


def test_leads_in_every_status_some_waiting_too_long(sees):
    users, now = sees["users"], sees["now"]
    leads = list(Lead.objects.all())
    assert Counter(lead.status for lead in leads) == {
        LeadStatus.NEW: 12, LeadStatus.CONTACTED: 8, LeadStatus.QUALIFIED: 6, LeadStatus.UNQUALIFIED: 6,
        LeadStatus.CONVERTED: 8,
    }
    assert len({lead.source for lead in leads}) >= 5
    assert sum(bool(lead.utm_source and lead.utm_campaign) for lead in leads) >= 15
    overdue = list(LeadFilterSet({"overdue": "true"}, users["dana"]).apply(Lead.objects.all()))
    assert len(overdue) >= 5
    minutes = SalesSettings.get().first_response_minutes
    fresh = [lead for lead in leads if lead.awaiting_response and lead not in overdue]
    assert fresh and all(now - lead.created_at < dt.timedelta(minutes=minutes) for lead in fresh)
    for lead in leads:
        if lead.status == LeadStatus.NEW:
            assert lead.first_response_at is None
        else:
            assert lead.created_at < lead.first_response_at <= now
        assert lead.owner_id is not None and lead.owner_id != users["lars"].pk
    converted = [lead for lead in leads if lead.status == LeadStatus.CONVERTED]
    assert all(lead.converted_contact_id and lead.converted_company_id for lead in converted)
    assert sum(bool(lead.converted_deal_id) for lead in converted) >= 5
    assert all(lead.converted_at > lead.first_response_at for lead in converted)
    # One became an existing contact, one joined an existing company.
    demo_contacts = {c.pk for c in sees["contacts"]}
    demo_companies = {c.pk for c in sees["companies"]}
    assert any(lead.converted_contact_id in demo_contacts for lead in converted)
    assert sum(lead.converted_company_id in demo_companies for lead in converted) >= 2
    for lead in converted:
        contact = Contact.objects.get(pk=lead.converted_contact_id)
        if contact.pk not in demo_contacts:  # made by the conversion, back then
            assert contact.created_at == lead.converted_at
        if lead.converted_deal_id:
            deal = Deal.objects.get(pk=lead.converted_deal_id)
            assert deal.created_at == lead.converted_at and deal.stage.kind == StageKind.OPEN
            assert list(deal.contacts.all()) == [contact]
    assert Company.objects.filter(source_leads__isnull=False).exclude(pk__in=demo_companies).exists()


def test_web_form_team_and_rules_capture_and_assign_leads(sees):
    form = LeadForm.objects.get(slug="contact-sales")
    assert form.name == "Contact sales" and form.active
    from_form = Lead.objects.filter(form=form)
    assert form.submissions == from_form.count() >= 10
    assert all(lead.consent_at == lead.created_at for lead in from_form)
    team = Team.objects.get(name="Inbound")
    assert set(team.members.values_list("email", flat=True)) == {
        "sofia@example.com", "kenji@example.com", "amara@example.com"}
    assert SalesSettings.get().default_team == team
    rule = AssignmentRule.objects.get()
    assert rule.conditions == [{"field": "country", "op": "in", "value": "DE,AT,CH"}]
    dach = Lead.objects.filter(country__in=["DE", "AT", "CH"]).exclude(source__in=["Trade show", "Partner referral"])
    assert dach.exists() and {lead.owner_id for lead in dach} == {rule.user_id}
    history = audit.history(dach.first()).last()
    assert "rule" in history.changes["owner"]["reason"]


def test_a_second_run_changes_nothing(sees):
    before = (Deal.all_objects.count(), Lead.all_objects.count(), Product.objects.count(), Quota.objects.count())
    counts = load_sales_demo(rng=random.Random(1), users=list(sees["users"].values()),
                             companies=sees["companies"], contacts=sees["contacts"])
    assert counts["skipped"] == 1
    assert before == (Deal.all_objects.count(), Lead.all_objects.count(), Product.objects.count(),
                      Quota.objects.count())
    assert Pipeline.objects.count() == 2 and Team.objects.count() == 1 and LeadForm.objects.count() == 1


def _story():
    deals = sorted(Deal.objects.values_list("name", "stage__name", "amount", "currency", "owner__email",
                                            "expected_close_date"))
    leads = sorted(Lead.objects.values_list("email", "status", "source", "owner__email", "converted_deal__name"))
    quotes = sorted(Quote.objects.values_list("number", "status", "total", "deal__name"))
    return deals, leads, quotes


def test_the_same_seed_tells_the_same_story(sees):
    # The story's clock fixed (noon of a day that is not today): loaded at two moments from now, a close date
    # near midnight could fall on either side of it.
    day = timezone.localdate() - dt.timedelta(days=40)
    stories = []
    with transaction.atomic():
        for _ in range(2):
            # Back to the workspace before the demo (deals first: they protect their pipelines and products).
            made_by_leads = Lead.objects.values_list("converted_contact_id", "converted_company_id")
            contacts = {c for c, _ in made_by_leads} - {c.pk for c in sees["contacts"]}
            companies = {c for _, c in made_by_leads} - {c.pk for c in sees["companies"]}
            Deal.all_objects.all().delete()
            Lead.all_objects.all().delete()
            Contact.all_objects.filter(pk__in=contacts).delete()
            Company.all_objects.filter(pk__in=companies).delete()
            for model in (Quota, Product, Pipeline, AssignmentRule, Team, LeadForm, ExchangeRate):
                model.objects.all().delete()
            load_sales_demo(rng=random.Random(SEED), users=list(sees["users"].values()), companies=sees["companies"],
                            contacts=sees["contacts"], today=day)
            stories.append(_story())
        transaction.set_rollback(True)
    first, second = stories
    assert first == second and len(first[0]) > 100 and len(first[2]) == 8
