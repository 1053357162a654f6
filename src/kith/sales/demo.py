"""Sales demo data for `kith demo`: every sales page looks lived-in on first start.

load_sales_demo() writes through the sales services (pipelines, products, deals, line items, stage moves,
quotes, quotas, exchange rates, teams, assignment rules, web forms, leads and their conversion), so change
history, search, stage history and events are exactly what people typing the data would have produced.
Each write is one "step" with a moment in the past; after a step, what it wrote (history rows, stage
changes, notifications, form submissions) is back-dated to that moment with queryset.update(), and each
record's created_at / stage_changed_at / closed_at / first_response_at … are set from the same moments, so
time in stage, won dates, response times and forecasts spread over the past year and stay consistent:

- a deal's DealStageChange rows are the moments it entered each stage; its stage_changed_at is the last of
  them and, when won or lost, its closed_at too; its history rows carry the same moments;
- open deals close (expected) from a few weeks ago to the end of the quarter after next; won and lost deals
  closed during the past year;
- quotes are created, sent and decided while their deal sits in Proposal or Negotiation; accepting a quote
  marks its deal won (through the quote service), declining one precedes the deal being lost.

Deterministic given `rng` (and the users, companies and contacts passed in); only the clock moves. Setup
(currencies, pipelines, products, team, rule, form) is re-used when it exists; deals, leads, quotes and
quotas are only created in a workspace that has no deals and no leads yet.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from kith.core import permissions
from kith.core.models import AuditEntry, Notification, Role

from .choices import LeadStatus, PeriodKind, QuoteStatus, StageKind
from .models import (
    AssignmentRule,
    Deal,
    DealStageChange,
    ExchangeRate,
    FormSubmission,
    Lead,
    LeadForm,
    Pipeline,
    Product,
    Quote,
    SalesSettings,
    Stage,
    Team,
)

NEW_BUSINESS = "New business"
RENEWALS = "Renewals"
RENEWAL_STAGES = [
    {"name": "Upcoming", "probability": 30, "kind": StageKind.OPEN},
    {"name": "In conversation", "probability": 60, "kind": StageKind.OPEN},
    {"name": "Renewal sent", "probability": 85, "kind": StageKind.OPEN},
    {"name": "Renewed", "probability": 100, "kind": StageKind.WON},
    {"name": "Churned", "probability": 0, "kind": StageKind.LOST},
]
# What one unit is worth in US dollars; the rates set are relative to the workspace's default currency.
USD_VALUE = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
EURO_COUNTRIES = {"DE", "AT", "FR", "ES", "NL", "IE", "IT", "BE", "PT", "FI", "GR", "LU"}

# sku, name, description, unit price, currency (None: the default currency), tax rate %, active
PRODUCTS = [
    ("SEAT-STR-12", "Starter seat, annual", "Contacts, companies and one pipeline for small teams.",
     "180.00", None, "8.25", True),
    ("SEAT-PRO-12", "Professional seat, annual", "Pipelines, forecasts, quotes, web forms and automation.",
     "588.00", None, "8.25", True),
    ("SEAT-ENT-12", "Enterprise seat, annual", "SSO, audit log export, sandboxes and priority support.",
     "1188.00", None, "8.25", True),
    ("SEAT-PRO-12-EU", "Professional seat, annual (EU)", "The Professional seat billed in euros by our EU entity.",
     "549.00", "EUR", "19.00", True),
    ("SEAT-PRO-12-UK", "Professional seat, annual (UK)", "The Professional seat billed in pounds by our UK entity.",
     "469.00", "GBP", "20.00", True),
    ("SVC-ONBOARD", "Onboarding package", "Kick-off workshop, workspace set-up and two training sessions.",
     "2500.00", None, "0", True),
    ("SVC-MIGRATE", "Data migration", "Import from spreadsheets or another CRM, with de-duplication.",
     "4800.00", None, "0", True),
    ("SVC-TRAIN-HD", "Admin training, half day", "Remote training for workspace admins.", "950.00", None, "0", True),
    ("SVC-INTEG-DAY", "Integration engineering, per day", "Custom integrations and API work by our engineers.",
     "1400.00", None, "0", True),
    ("SUP-STD-12", "Standard support plan, annual", "Email support, answered the next business day.",
     "1200.00", None, "8.25", True),
    ("SUP-PREM-12", "Premium support plan, annual", "Round-the-clock support, a named engineer, 1-hour response.",
     "6000.00", None, "8.25", True),
    ("ADD-SANDBOX-12", "Sandbox workspace, annual", "A copy of the workspace to try changes safely.",
     "1800.00", None, "8.25", True),
    ("ADD-LEGACY-RPT", "Legacy reporting add-on", "Retired in favour of built-in reports; kept on older deals.",
     "300.00", None, "8.25", False),
]

# theme → line items [(sku, (min qty, max qty), discountable)]
THEMES = {
    "Professional rollout": [("SEAT-PRO-12", (10, 80), True), ("SVC-ONBOARD", (1, 1), False),
                             ("SUP-STD-12", (1, 1), False)],
    "Enterprise platform": [("SEAT-ENT-12", (40, 250), True), ("SVC-MIGRATE", (1, 1), False),
                            ("SUP-PREM-12", (1, 1), False), ("ADD-SANDBOX-12", (1, 1), False)],
    "Starter team": [("SEAT-STR-12", (3, 25), True)],
    "Integration project": [("SVC-INTEG-DAY", (3, 15), False), ("SVC-TRAIN-HD", (1, 2), False)],
    "Team expansion": [("SEAT-PRO-12", (5, 30), True)],
    "Pilot": [("SEAT-PRO-12", (5, 12), True), ("SVC-TRAIN-HD", (1, 1), False)],
    "Support upgrade": [("SUP-PREM-12", (1, 1), False)],
    "Migration from spreadsheets": [("SVC-MIGRATE", (1, 1), False), ("SEAT-STR-12", (5, 20), True)],
}
RENEWAL_ITEMS = [("SEAT-PRO-12", (10, 90), True), ("SUP-STD-12", (1, 1), False)]
LOST_REASONS = [
    "Chose a competitor", "No budget this year", "Built it in-house", "Project postponed", "Price too high",
    "Could not reach the decision maker", "Went quiet after the demo",
]
CHURN_REASONS = ["Moved to a competitor", "Company was acquired", "Budget cuts", "Team downsized"]
NEXT_STEPS = [
    "Send the proposal", "Security review call", "Demo for the finance team", "Agree on the discount",
    "Legal review of the MSA", "Follow up on pricing", "Schedule the kick-off", "Reference call with a customer",
    "Confirm seat count", "Send the renewal quote",
]

# Prospects that leads come from: company, domain (.example), country.
PROSPECTS = [
    ("Fernhill Dental Group", "fernhill-dental", "US"), ("Bluefin Robotics", "bluefin-robotics", "US"),
    ("Nordlicht Energie", "nordlicht-energie", "DE"), ("Bergblick Hotels", "bergblick-hotels", "AT"),
    ("Helvetia Präzision", "helvetia-praezision", "CH"), ("Riverside Veterinary", "riverside-vet", "GB"),
    ("Quarry Lane Studios", "quarrylane-studios", "GB"), ("Solenne Cosmétiques", "solenne-cosmetiques", "FR"),
    ("Verde Agritech", "verde-agritech", "ES"), ("Polder Data", "polder-data", "NL"),
    ("Aurora Learning", "aurora-learning", "CA"), ("Saffron Kitchens", "saffron-kitchens", "IN"),
    ("Lagoa Seguros", "lagoa-seguros", "BR"), ("Tidewater Marine", "tidewater-marine", "US"),
    ("Zürcher Treuhand", "zuercher-treuhand", "CH"), ("Elbe Logistik", "elbe-logistik", "DE"),
    ("Cobalt Ridge Mining", "cobalt-ridge", "CA"), ("Harbourlight Insurance", "harbourlight", "IE"),
    ("Mosaic Health Partners", "mosaic-health", "US"), ("Pinecrest Schools", "pinecrest-schools", "US"),
    ("Fjordline Analytics", "fjordline-analytics", "SE"), ("Sunbelt HVAC", "sunbelt-hvac", "US"),
    ("Orchard & Vine", "orchard-vine", "US"), ("Kranich Software", "kranich-software", "DE"),
    ("Wiener Werkraum", "wiener-werkraum", "AT"), ("Atlas Freight", "atlas-freight", "PL"),
    ("Granite Peak Legal", "granitepeak-legal", "US"), ("Luma Interiors", "luma-interiors", "FR"),
    ("Redwood Property Group", "redwood-property", "US"), ("Kestrel Drones", "kestrel-drones", "GB"),
    ("Moorland Brewing", "moorland-brewing", "GB"), ("Tesela Arquitectura", "tesela-arquitectura", "ES"),
    ("Isarwerk Medizintechnik", "isarwerk", "DE"), ("Blue Heron Credit", "blueheron-credit", "US"),
    ("Copperline Telecom", "copperline-telecom", "US"), ("Alba Foods", "alba-foods", "IT"),
    ("Northgate Clinics", "northgate-clinics", "GB"), ("Prairie Wind Co-op", "prairiewind", "US"),
    ("Sakura Learning", "sakura-learning", "JP"), ("Lumen Finance", "lumen-finance", "NL"),
    ("Glacier Outfitters", "glacier-outfitters", "CA"), ("Helios Solar", "helios-solar", "ES"),
]
FIRST_NAMES = [
    "Hannah", "Lukas", "Priya", "Mateo", "Chloé", "Ravi", "Sofia", "Jonas", "Aisha", "Tom", "Elena", "Marco",
    "Yuki", "Fatima", "Oskar", "Grace", "Diego", "Ingrid", "Samuel", "Leila", "Noah", "Clara", "Ahmed", "Julia",
    "Ben", "Mei", "Felix", "Nora", "Pedro", "Zoë",
]
LAST_NAMES = [
    "Becker", "Okoye", "Lindgren", "Rossi", "Dubois", "Kowalski", "Hughes", "Tanaka", "Moreno", "Novak",
    "Schulz", "Khan", "Fischer", "Murphy", "Silva", "Andersen", "Nguyen", "Weber", "Costa", "Patel", "Müller",
    "O'Neill",
]
LEAD_TITLES = [
    "Head of Sales", "Sales Operations Manager", "COO", "Founder", "Marketing Director", "IT Manager",
    "VP Revenue", "Office Manager", "Customer Success Lead", "CFO",
]
FORM_MESSAGES = [
    "We are a team of 25 and want to move off spreadsheets. Can we get a demo?",
    "Looking for a CRM with a proper pipeline board and quotes. What does pricing look like for 40 seats?",
    "Our current CRM contract ends next quarter; we would like to compare.",
    "Do you support SSO and an EU data location?",
    "Interested in the forecasting features for our regional sales managers.",
    "",
]
# source → (utm_source, utm_medium, utm_campaign, referrer); the "Web form" ones vary
WEB_ATTRIBUTION = [
    ("google", "cpc", "crm-switch", "https://www.google.com/"),
    ("linkedin", "social", "sales-teams", "https://www.linkedin.com/"),
    ("newsletter", "email", "product-update", ""),
    ("", "", "", "https://duckduckgo.com/"),
]
SOURCES = {
    "Webinar": ("webinar", "event", "pipeline-hygiene-webinar", ""),
    "LinkedIn ads": ("linkedin", "paid-social", "forecasting-ebook", "https://www.linkedin.com/"),
    "Trade show": ("", "", "", ""),
    "Partner referral": ("partner", "referral", "atelier-numerique", ""),
    "Cold outreach": ("", "", "", ""),
}
LEAD_MIX = [  # (source, statuses …): 40 leads
    ("Web form", ["new", "new", "new", "new", "new", "new", "contacted", "contacted", "contacted", "qualified",
                  "qualified", "unqualified", "converted", "converted"]),
    ("Webinar", ["new", "new", "contacted", "qualified", "unqualified", "converted"]),
    ("LinkedIn ads", ["new", "new", "contacted", "unqualified", "converted"]),
    ("Trade show", ["new", "contacted", "qualified", "converted", "converted"]),
    ("Partner referral", ["contacted", "qualified", "unqualified", "converted", "converted"]),
    ("Cold outreach", ["new", "contacted", "qualified", "unqualified", "unqualified"]),
]
INBOUND = {"Web form", "LinkedIn ads"}


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


@dataclass
class _Step:
    when: dt.datetime
    kind: str  # create, items, move, update, quote, quote_status
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _DealPlan:
    owner: Any
    steps: list[_Step]
    outcome: str  # open, won, lost
    deal: Any = None  # while it runs
    quote: Any = None
    stage_at: dt.datetime | None = None  # when it entered its current stage


class _Clock:
    """Back-dates what the services wrote in the last step: history rows, stage changes, notifications and
    form submissions with an id above the marks. Plain SQL: it runs after every step."""

    TABLES = ((AuditEntry, "created_at"), (DealStageChange, "changed_at"), (Notification, "created_at"),
              (FormSubmission, "created_at"))

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        self.sql = []
        for model, column in self.TABLES:
            table = quote(model._meta.db_table)
            # Identifiers come from the models, values are parameters.
            self.sql.append((f"UPDATE {table} SET {quote(column)} = %s WHERE {quote('id')} > %s",  # noqa: S608
                             f"SELECT MAX({quote('id')}) FROM {table}"))  # noqa: S608
        self.marks = [model.objects.aggregate(m=Max("id"))["m"] or 0 for model, _ in self.TABLES]

    def stamp(self, when: dt.datetime, *, deal_only: bool = False) -> None:
        """deal_only: the step wrote no notifications and no form submissions (two queries saved)."""
        value = connection.ops.adapt_datetimefield_value(when)
        with connection.cursor() as cursor:
            for i, (update, latest) in enumerate(self.sql[:2] if deal_only else self.sql):
                cursor.execute(update, [value, self.marks[i]])
                if cursor.rowcount:
                    cursor.execute(latest)
                    self.marks[i] = cursor.fetchone()[0]


class _SalesDemo:
    def __init__(self, *, rng: random.Random, users, companies, contacts, today: dt.date | None):
        from kith.sales import services

        self.services = services
        self.rng = rng
        real_today = timezone.localdate()
        if today is None or today == real_today:
            self.now = timezone.now().replace(microsecond=0)
        else:
            self.now = dt.datetime.combine(today, dt.time(12), tzinfo=timezone.get_current_timezone())
        self.today = timezone.localdate(self.now)
        self.users = sorted((u for u in users if u.is_active), key=lambda u: u.pk)
        self.companies = sorted((c for c in companies if c.deleted_at is None), key=lambda c: c.pk)
        self.contacts = sorted((c for c in contacts if c.deleted_at is None), key=lambda c: c.pk)
        self.admin = next((u for u in self.users if u.role == Role.ADMIN), None)
        if self.admin is None:
            raise ValueError("load_sales_demo needs an admin among the users (exchange rates are admin-only).")
        self.boss = next((u for u in self.users if u.role == Role.MANAGER), self.admin)
        self.owners = [u for u in self.users if u.can_write]
        self.owner_ids = {u.pk for u in self.owners}
        self.by_company: dict[int, list[Any]] = {}
        for contact in self.contacts:
            if contact.company_id:
                self.by_company.setdefault(contact.company_id, []).append(contact)
        self.counts: dict[str, int] = {}
        self.deal_names: set[str] = set()
        self.open_planned = 0
        self.themes_used: dict[int, set[str]] = {}

    # --- helpers ------------------------------------------------------------------------------------------

    def actor_for(self, owner):
        """Who writes a record: its owner when they may see everything it links to, else the manager."""
        if owner is not None and owner.can_write and (
            permissions.visibility_rule() == "all" or owner.role in (Role.ADMIN, Role.MANAGER)
        ):
            return owner
        return self.boss

    def office(self, t: dt.datetime, lo: dt.datetime | None = None, hi: dt.datetime | None = None) -> dt.datetime:
        """The same day in office hours (8:00-17:59 local time) when that stays within (lo, hi)."""
        rng = self.rng
        local = timezone.localtime(t)
        moved = local.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59),
                              microsecond=0)
        hi = hi or self.now
        if (lo is None or lo < moved) and moved < hi:
            return moved
        return t.replace(microsecond=0) if (lo is None or lo < t.replace(microsecond=0)) else t

    def moments(self, start: dt.datetime, end: dt.datetime, n: int) -> list[dt.datetime]:
        """n sorted moments strictly between start and end, in office hours when that fits."""
        span = (end - start).total_seconds()
        out = [self.office(start + dt.timedelta(seconds=self.rng.uniform(0.03, 0.97) * span), start, end)
               for _ in range(n)]
        return sorted(out)

    def quarter(self, offset: int) -> tuple[dt.date, dt.date]:
        """[first day, first day of the next) of the quarter `offset` quarters from today's."""
        from .services.quotas import add_periods, period_start_of

        start = add_periods(period_start_of(self.today, PeriodKind.QUARTER), PeriodKind.QUARTER, offset)
        return start, add_periods(start, PeriodKind.QUARTER, 1)

    def day_between(self, first: dt.date, last: dt.date) -> dt.date:
        if last <= first:
            return first
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def unique_name(self, name: str) -> str:
        candidate, n = name, 2
        while candidate.lower() in self.deal_names:
            candidate = f"{name} ({n})"
            n += 1
        self.deal_names.add(candidate.lower())
        return candidate

    # --- setup --------------------------------------------------------------------------------------------

    def setup_currencies(self) -> None:
        s = self.services
        default = SalesSettings.get().default_currency
        if default not in USD_VALUE and not Deal.all_objects.exists():
            s.update_sales_settings(actor=self.admin, data={"default_currency": "USD"})
            default = "USD"
        self.default_currency = default
        self.rates = {default: Decimal("1")}
        for code, usd in USD_VALUE.items():
            if code == default:
                continue
            rate = (usd / USD_VALUE.get(default, Decimal("1"))).quantize(Decimal("0.00000001"), ROUND_HALF_UP)
            existing = ExchangeRate.objects.filter(currency=code).first()
            if existing is None:
                existing = s.set_exchange_rate(actor=self.admin, currency=code, rate=str(rate))
            self.rates[code] = existing.rate
        self.counts["exchange_rates"] = ExchangeRate.objects.count()

    def setup_pipelines(self) -> None:
        s = self.services
        nb = Pipeline.objects.filter(name__iexact=NEW_BUSINESS).first()
        if nb is None:
            nb = s.create_pipeline(actor=self.admin, data={"name": NEW_BUSINESS, "position": 0})
        renewals = Pipeline.objects.filter(name__iexact=RENEWALS).first()
        if renewals is None:
            renewals = s.create_pipeline(actor=self.admin, data={"name": RENEWALS, "stages": RENEWAL_STAGES})
        self.pipelines = {}
        for key, p in (("nb", nb), ("renewals", renewals)):
            stages = list(p.stages.order_by("position", "id"))
            self.pipelines[key] = {
                "pipeline": p,
                "open": [st for st in stages if st.kind == StageKind.OPEN],
                "won": next((st for st in stages if st.kind == StageKind.WON), None),
                "lost": next((st for st in stages if st.kind == StageKind.LOST), None),
            }
            if not self.pipelines[key]["won"] or not self.pipelines[key]["lost"]:
                raise ValueError(f"The pipeline “{p}” needs a won and a lost stage for the demo.")
        self.counts["pipelines"] = Pipeline.objects.count()
        self.counts["stages"] = Stage.objects.count()

    def setup_products(self) -> None:
        s = self.services
        self.products: dict[str, Product] = {}
        for sku, name, description, price, currency, tax, active in PRODUCTS:
            product = Product.objects.filter(sku__iexact=sku).first()
            if product is None:
                product = s.create_product(actor=self.boss, data={
                    "sku": sku, "name": name, "description": description, "unit_price": price,
                    "currency": currency or self.default_currency, "tax_rate": tax, "active": active,
                })
            self.products[sku] = product
        self.counts["products"] = Product.objects.count()

    def setup_capture(self) -> None:
        """The Inbound team (default team for new leads), a DACH rule, and the Contact sales form."""
        s = self.services
        reps = [u for u in self.owners if u.role != Role.ADMIN] or self.owners
        team = Team.objects.filter(name__iexact="Inbound").first()
        if team is None:
            team = s.create_team(actor=self.boss, data={"name": "Inbound", "member_ids": [u.pk for u in reps]})
        dach = next((u for u in reps if u.role == Role.MEMBER), reps[0])
        rule_name = f"DACH leads to {dach.display_name}"[:100]
        if not AssignmentRule.objects.filter(name=rule_name).exists():
            s.create_rule(actor=self.boss, data={
                "name": rule_name, "user_id": dach.pk,
                "conditions": [{"field": "country", "op": "in", "value": "DE,AT,CH"}],
            })
        if SalesSettings.get().default_team_id is None:
            s.update_sales_settings(actor=self.admin, data={"default_team_id": team.pk})
        form = LeadForm.objects.filter(slug="contact-sales").first()
        if form is None:
            form = s.create_form(actor=self.boss, data={
                "name": "Contact sales", "slug": "contact-sales", "source": "Web form",
                "fields": [
                    {"field": "first_name", "label": "First name", "required": True},
                    {"field": "last_name", "label": "Last name", "required": True},
                    {"field": "email", "label": "Work email", "required": True},
                    {"field": "company_name", "label": "Company", "required": False},
                    {"field": "title", "label": "Job title", "required": False},
                    {"field": "country", "label": "Country", "required": False},
                    {"field": "notes", "label": "How can we help?", "required": False},
                ],
                "consent_text": "I agree that Kith may contact me about my enquiry.",
                "thank_you_text": "Thank you! Someone from our sales team will get back to you within one business day.",
            })
        self.team, self.form = team, form
        self.counts.update(teams=Team.objects.count(), rules=AssignmentRule.objects.count(),
                           forms=LeadForm.objects.count())

    # --- deals --------------------------------------------------------------------------------------------

    def currency_for(self, company) -> str:
        country = getattr(company, "country", "") or ""
        if country in EURO_COUNTRIES and self.rng.random() < 0.8:
            return "EUR" if "EUR" in self.rates else self.default_currency
        if country == "GB" and self.rng.random() < 0.85:
            return "GBP" if "GBP" in self.rates else self.default_currency
        return self.default_currency

    def convert_price(self, amount: Decimal, from_currency: str, to_currency: str, unit: str = "1") -> Decimal:
        value = amount * self.rates[from_currency] / self.rates[to_currency]
        return value.quantize(Decimal(unit), rounding=ROUND_HALF_UP)

    def line_items(self, spec, currency: str) -> list[dict[str, Any]]:
        rng = self.rng
        items = []
        for i, (sku, (lo, hi), discountable) in enumerate(spec):
            if i > 1 and rng.random() < 0.35:  # extras are optional
                continue
            product = self.products[sku]
            local = {"EUR": f"{sku}-EU", "GBP": f"{sku}-UK"}.get(currency)
            if local in self.products and self.products[local].currency == currency:
                product = self.products[local]
            qty = rng.randint(lo, hi)
            if qty > 20:
                qty = qty // 5 * 5
            item: dict[str, Any] = {"product_id": product.pk, "quantity": str(qty)}
            if discountable and rng.random() < 0.45:
                item["discount_pct"] = rng.choice(["5", "10", "10", "15", "20"])
            if product.currency != currency:
                item["unit_price"] = _money(self.convert_price(product.unit_price, product.currency, currency))
            items.append(item)
        return items

    def typed_amount(self, company, currency: str) -> Decimal:
        size = getattr(company, "size", None) or 50
        lo, hi = (2_400, 18_000) if size < 100 else (9_000, 60_000) if size < 1000 else (30_000, 180_000)
        base = Decimal(self.rng.randint(lo // 100, hi // 100) * 100)
        return self.convert_price(base, self.default_currency, currency, unit="100") or Decimal("100")

    def pick_company(self, i: int):
        if not self.companies:
            return None
        # Every company gets a deal before any gets a second; then at random.
        if i < len(self.companies):
            return self.companies[i]
        return self.rng.choice(self.companies)

    def plan_deal(self, *, pipeline_key: str, outcome: str, company, quote: str | None = None) -> _DealPlan:
        rng, now = self.rng, self.now
        info = self.pipelines[pipeline_key]
        opens: list[Stage] = info["open"]
        owner = rng.choice(self.owners)
        if company is not None and company.owner_id in self.owner_ids and rng.random() < 0.35:
            owner = company.owner  # the account's owner works its deals
        currency = self.currency_for(company)
        company_name = company.name if company is not None else rng.choice(PROSPECTS)[0]
        if pipeline_key == "renewals":
            theme, spec = "renewal", RENEWAL_ITEMS
        else:
            used = self.themes_used.setdefault(company.pk if company is not None else 0, set())
            theme = rng.choice([t for t in THEMES if t not in used] or list(THEMES))
            used.add(theme)
            spec = THEMES[theme]
        with_items = quote is not None or rng.random() < 0.5
        data: dict[str, Any] = {"currency": currency, "owner_id": owner.pk}
        if company is not None:
            data["company_id"] = company.pk
            people = self.by_company.get(company.pk, [])
            if people:
                chosen = rng.sample(people, k=min(len(people), rng.choice([1, 1, 2, 3])))
                data["contact_ids"] = [c.pk for c in chosen]
                data["primary_contact_id"] = chosen[0].pk
        if not with_items:
            data["amount"] = _money(self.typed_amount(company, currency))

        # The path through the stages and when each was entered.
        q0, q1 = self.quarter(0)
        _, q2 = self.quarter(1)
        _, q3 = self.quarter(2)
        if outcome == "open":
            if quote in ("draft", "sent"):
                current = min(3 if quote == "sent" and rng.random() < 0.4 else 2, len(opens) - 1)
            else:
                current = rng.choices(range(len(opens)), weights=[34, 28, 22, 16, 10, 8][: len(opens)])[0]
            path = list(opens[: current + 1])
            end_state = None
        else:
            reach = len(opens) - 1 if outcome == "won" else rng.randint(0, len(opens) - 1)
            if quote == "declined":
                reach = min(2, len(opens) - 1)
            path = list(opens[: reach + 1])
            end_state = info["won"] if outcome == "won" else info["lost"]
        if len(path) > 2 and quote is None and rng.random() < 0.2:  # skipped a stage
            path.pop(rng.randint(1, len(path) - 2))
        if len(path) > 1 and quote is None and rng.random() < 0.1:  # came in qualified by a partner
            path.pop(0)

        # When things happened.
        quote_times: list[dt.datetime] = []
        if quote is not None:
            year_start = dt.datetime.combine(dt.date(timezone.localdate().year, 1, 1), dt.time(0, 5),
                                             tzinfo=timezone.get_current_timezone())
            floor = min(max(year_start, now - dt.timedelta(days=rng.randint(20, 40))), now - dt.timedelta(hours=2))
            n = {"draft": 1, "sent": 2, "accepted": 3, "declined": 4}[quote]
            quote_times = self.moments(floor, now - dt.timedelta(minutes=30), n)
            created = self.office(floor - dt.timedelta(days=rng.uniform(20, 80)))
            entries = [created, *self.moments(created, quote_times[0], len(path) - 1)]
            close_at = quote_times[-1] if end_state is not None else None
        elif outcome == "open":
            age = rng.triangular(1, 240, 35)
            created = self.office(now - dt.timedelta(days=age))
            entries = [created, *self.moments(created, now - dt.timedelta(hours=2), len(path) - 1)]
            close_at = None
        else:
            closed_ago = rng.uniform(2, 350)
            cycle = min(rng.uniform(14, 120), 364 - closed_ago)
            close_at = self.office(now - dt.timedelta(days=closed_ago))
            created = self.office(close_at - dt.timedelta(days=cycle), hi=close_at - dt.timedelta(days=1))
            entries = [created, *self.moments(created, close_at, len(path) - 1)]

        # Expected close: open deals from a few weeks ago to the end of the quarter after next.
        stage_rank = 0
        if outcome == "open":
            stage_rank = min(3, [s.pk for s in opens].index(path[-1].pk))
            weights = [[25, 35, 50, 65][stage_rank], [40, 40, 35, 25][stage_rank], [30, 20, 10, 5][stage_rank]]
            bucket = rng.choices([1, 2, 3], weights=weights)[0]
            self.open_planned += 1
            if quote is not None:
                bucket = 1
            elif self.open_planned % 15 == 7:  # one in fifteen is past its expected close date
                bucket = 0
            if bucket == 0:
                expected = self.today - dt.timedelta(days=rng.randint(1, 25))
            elif bucket == 1:
                expected = self.day_between(self.today, q1 - dt.timedelta(days=1))
            elif bucket == 2:
                expected = self.day_between(q1, q2 - dt.timedelta(days=1))
            else:
                expected = self.day_between(q2, q3 - dt.timedelta(days=1))
        else:
            expected = timezone.localdate(close_at) + dt.timedelta(days=rng.randint(-10, 20))
        data["expected_close_date"] = expected.isoformat()
        if pipeline_key == "renewals":
            theme = f"{expected.year} renewal"
        data["name"] = self.unique_name(f"{company_name} – {theme}")
        data["stage_id"] = path[0].pk
        if outcome == "open" and rng.random() < 0.5:
            data["next_step"] = rng.choice(NEXT_STEPS)

        steps = [_Step(entries[0], "create", data)]
        if with_items:
            items_at = entries[0] + dt.timedelta(minutes=rng.randint(5, 90))
            limit = entries[1] if len(entries) > 1 else (quote_times[0] if quote_times else now)
            if items_at >= limit:
                items_at = entries[0] + (limit - entries[0]) / 2
            steps.append(_Step(items_at, "items", {"items": self.line_items(spec, currency)}))
        for stage, when in zip(path[1:], entries[1:], strict=True):
            steps.append(_Step(when, "move", {"stage_id": stage.pk}))
        if outcome == "open" and quote is None:
            last = steps[-1].when
            if rng.random() < 0.35 and last < now - dt.timedelta(days=2):
                # A later edit: the close date slipped or the next step changed; some are committed.
                when = self.moments(last, now - dt.timedelta(hours=1), 1)[0]
                change: dict[str, Any] = {"next_step": rng.choice(NEXT_STEPS)}
                if rng.random() < 0.5 and expected >= self.today:
                    slipped = min(expected + dt.timedelta(days=rng.randint(14, 45)), q3 - dt.timedelta(days=1))
                    change["expected_close_date"] = slipped.isoformat()
                steps.append(_Step(when, "update", change))
        if outcome == "open":
            committed = expected >= q0 and expected < q1 and stage_rank >= 2 and rng.random() < 0.55
            if committed:
                last = steps[-1].when
                steps.append(_Step(last + (now - last) * rng.uniform(0.1, 0.8), "update", {"is_commit": True}))
        if quote is not None:
            steps.append(_Step(quote_times[0], "quote"))
            if quote in ("sent", "accepted", "declined"):
                steps.append(_Step(quote_times[1], "quote_status", {"status": QuoteStatus.SENT}))
            if quote == "accepted":
                steps.append(_Step(quote_times[2], "quote_status", {"status": QuoteStatus.ACCEPTED, "won": True}))
            if quote == "declined":
                steps.append(_Step(quote_times[2], "quote_status", {"status": QuoteStatus.DECLINED}))
                steps.append(_Step(quote_times[3], "move", {"stage_id": end_state.pk,
                                                            "lost_reason": "Chose a competitor"}))
        elif end_state is not None:
            reason = None
            if outcome == "lost":
                reason = rng.choice(CHURN_REASONS if pipeline_key == "renewals" else LOST_REASONS)
            steps.append(_Step(close_at, "move", {"stage_id": end_state.pk, "lost_reason": reason}))
        steps.sort(key=lambda st: st.when)
        return _DealPlan(owner=owner, steps=steps, outcome=outcome)

    def run_step(self, plan: _DealPlan, step: _Step) -> None:
        """One write of a deal's story through the services, then back-date what it wrote."""
        s = self.services
        actor = self.actor_for(plan.owner)
        if step.kind == "create":
            plan.deal = s.create_deal(actor=actor, data=step.data)
            plan.stage_at = step.when
        elif step.kind == "items":
            plan.deal = s.set_line_items(actor=actor, deal=plan.deal, items=step.data["items"])
        elif step.kind == "move":
            plan.deal = s.move_deal(actor=actor, deal=plan.deal, stage_id=step.data["stage_id"],
                                    lost_reason=step.data.get("lost_reason"))
            plan.stage_at = step.when
        elif step.kind == "update":
            plan.deal = s.update_deal(actor=actor, deal=plan.deal, data=step.data)
        elif step.kind == "quote":
            plan.quote = s.create_quote(actor=actor, deal=plan.deal)
            validity = SalesSettings.get().quote_validity_days
            Quote.objects.filter(pk=plan.quote.pk).update(
                created_at=step.when, updated_at=step.when,
                valid_until=timezone.localdate(step.when) + dt.timedelta(days=validity),
            )
        elif step.kind == "quote_status":
            won = bool(step.data.get("won"))
            plan.quote = s.set_quote_status(actor=actor, quote=plan.quote, status=step.data["status"],
                                            move_deal_to_won=won)
            moment = "sent_at" if step.data["status"] == QuoteStatus.SENT else "decided_at"
            Quote.objects.filter(pk=plan.quote.pk).update(updated_at=step.when, **{moment: step.when})
            if won:
                plan.deal = Deal.objects.get(pk=plan.deal.pk)
                plan.stage_at = step.when
        self.clock.stamp(step.when, deal_only=True)

    def finish_deal(self, plan: _DealPlan) -> None:
        Deal.all_objects.filter(pk=plan.deal.pk).update(
            created_at=plan.steps[0].when, updated_at=plan.steps[-1].when, stage_changed_at=plan.stage_at,
            closed_at=plan.stage_at if plan.outcome != "open" else None,
        )

    def make_deals(self) -> None:
        rng = self.rng
        plans: list[_DealPlan] = []
        # Deals that carry quotes: 2 drafts, 3 sent, 2 accepted (won), 1 declined (then lost).
        quote_kinds = ["draft", "draft", "sent", "sent", "sent", "accepted", "accepted", "declined"]
        index = 0
        for kind in quote_kinds:
            outcome = {"accepted": "won", "declined": "lost"}.get(kind, "open")
            plans.append(self.plan_deal(pipeline_key="nb", outcome=outcome, company=self.pick_company(index),
                                        quote=kind))
            index += 1
        for _ in range(88):
            outcome = rng.choices(["open", "won", "lost"], weights=[50, 28, 22])[0]
            plans.append(self.plan_deal(pipeline_key="nb", outcome=outcome, company=self.pick_company(index)))
            index += 1
        for _ in range(24):
            outcome = rng.choices(["open", "won", "lost"], weights=[50, 35, 15])[0]
            plans.append(self.plan_deal(pipeline_key="renewals", outcome=outcome, company=self.pick_company(index)))
            index += 1
        # Deal by deal in the order they were created, so ids follow time like real data; the quoting (and
        # what follows it) of all deals in one time line, so quote numbers follow their dates.
        plans.sort(key=lambda p: p.steps[0].when)
        later: list[tuple[dt.datetime, int, _DealPlan, _Step]] = []
        for plan in plans:
            first_quote = next((st.when for st in plan.steps if st.kind == "quote"), None)
            for step in plan.steps:
                if first_quote is not None and step.when >= first_quote:
                    later.append((step.when, len(later), plan, step))
                else:
                    self.run_step(plan, step)
        for _, _, plan, step in sorted(later, key=lambda x: (x[0], x[1])):
            self.run_step(plan, step)
        for plan in plans:
            self.finish_deal(plan)

    # --- quotas -------------------------------------------------------------------------------------------

    def make_quotas(self) -> None:
        """Quarterly quotas for the previous, current and next quarters, near what people win a quarter."""
        rng = self.rng
        year_ago = self.quarter(-4)[0]
        won: dict[int, Decimal] = {}
        since = dt.datetime.combine(year_ago, dt.time.min, tzinfo=timezone.get_current_timezone())
        for owner_id, amount in Deal.objects.filter(
            stage__kind=StageKind.WON, closed_at__gte=since, owner__isnull=False,
        ).values_list("owner_id", "amount_default"):
            won[owner_id] = won.get(owner_id, Decimal("0")) + amount
        # A quarter's won business per person, on average over the year: everyone's quota is near it.
        average = sum(won.values(), Decimal("0")) / 4 / max(1, len(self.owners))
        count = 0
        for user in self.owners:
            base = max(Decimal("20000"), average * Decimal(rng.randint(85, 130)) / 100)
            for offset, growth in ((-1, "1.00"), (0, "1.05"), (1, "1.10")):
                amount = (base * Decimal(growth) / 5000).quantize(Decimal("1"), ROUND_HALF_UP) * 5000
                self.services.set_quota(actor=self.boss, user=user, period_kind=PeriodKind.QUARTER,
                                        period_start=self.quarter(offset)[0], amount=_money(amount))
                count += 1
        self.counts["quotas"] = count

    # --- leads --------------------------------------------------------------------------------------------

    def lead_person(self, i: int) -> dict[str, Any]:
        from kith.contacts.models import Contact

        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company, slug, country = PROSPECTS[i % len(PROSPECTS)]
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, n = f"{local}@{slug}.example", 2
        while email in self.lead_emails or Contact.all_objects.filter(email=email).exists():
            email, n = f"{local}{n}@{slug}.example", n + 1
        self.lead_emails.add(email)
        data = {"first_name": first, "last_name": last, "email": email, "company_name": company,
                "title": rng.choice(LEAD_TITLES), "country": country}
        if country in ("US", "CA") and rng.random() < 0.6:
            area = rng.choice(["212", "415", "512", "617", "303"] if country == "US" else ["416", "604"])
            data["phone"] = f"+1{area}55501{rng.randint(0, 99):02d}"
        return data

    def plan_leads(self) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        minutes = SalesSettings.get().first_response_minutes
        entries = [(source, status) for source, statuses in LEAD_MIX for status in statuses]
        rng.shuffle(entries)
        fresh_left = 4
        plans = []
        converted_kinds = ["deal", "deal", "deal", "deal", "deal", "existing_contact", "existing_company", "contact"]
        for i, (source, status) in enumerate(entries):
            person = self.lead_person(i)
            times: list[dt.datetime]
            if status == LeadStatus.NEW:
                if source in INBOUND and fresh_left:
                    fresh_left -= 1
                    created = now - dt.timedelta(minutes=rng.randint(3, max(4, int(minutes * 0.6))))
                else:
                    latest = now - dt.timedelta(minutes=minutes * 2 + 30)
                    created = latest - dt.timedelta(minutes=rng.randint(0, 6 * 24 * 60))
                    if source != "Web form":  # forms fill in at any hour, imports happen at work
                        created = self.office(created, hi=latest)
                times = [created]
            elif status == LeadStatus.CONTACTED:
                created = self.office(now - dt.timedelta(days=rng.uniform(2, 60)))
                times = [created, self.office(created + dt.timedelta(minutes=rng.randint(8, 30 * 60)), lo=created)]
            elif status in (LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED):
                created = self.office(now - dt.timedelta(days=rng.uniform(6, 150)))
                first = self.office(created + dt.timedelta(minutes=rng.randint(8, 26 * 60)), lo=created)
                end = min(first + dt.timedelta(days=20), now - dt.timedelta(hours=1))
                times = [created, first, *self.moments(first, end, 1)]
            else:
                created = self.office(now - dt.timedelta(days=rng.uniform(15, 300)))
                first = self.office(created + dt.timedelta(minutes=rng.randint(8, 20 * 60)), lo=created)
                end = min(first + dt.timedelta(days=25), now - dt.timedelta(hours=1))
                times = [created, first, *self.moments(first, end, 2)]
            plan = {"source": source, "status": status, "person": person, "times": times}
            if status == LeadStatus.CONVERTED:
                plan["convert"] = converted_kinds.pop(0) if converted_kinds else "contact"
            plans.append(plan)
        return plans

    def run_lead(self, plan: dict[str, Any], n: int) -> Lead:
        from kith.contacts.models import Company, Contact

        s, rng = self.services, self.rng
        source, status, times = plan["source"], plan["status"], plan["times"]
        data = dict(plan["person"])
        convert = plan.get("convert")
        existing_contact = existing_company = None
        if convert == "existing_contact":
            existing_contact = next(
                (c for c in self.contacts if c.email and c.company_id and not c.source_leads.exists()), None)
            if existing_contact is not None:
                data.update(first_name=existing_contact.first_name, last_name=existing_contact.last_name,
                            email=existing_contact.email, company_name=existing_contact.company.name,
                            country=existing_contact.country or data["country"])
                data.pop("phone", None)
        if convert == "existing_company" and self.companies:
            # Someone new at a company that is already a customer.
            candidate = self.companies[-1]
            domain = candidate.domain or f"{_ascii(candidate.name)}.example"
            email = f"{_ascii(data['first_name'])}.{_ascii(data['last_name'])}@{domain}"
            if not Contact.all_objects.filter(email=email).exists():
                existing_company = candidate
                data.update(email=email, company_name=candidate.name, country=candidate.country or data["country"])
        if existing_company is None and existing_contact is None:
            # A prospect that is already a company is linked to it rather than created again.
            existing_company = Company.objects.filter(domain=data["email"].split("@")[1]).first()

        lead: Lead
        if source == "Web form":
            utm_source, utm_medium, campaign, referrer = rng.choice(WEB_ATTRIBUTION)
            query = "&".join(f"{k}={v}" for k, v in (("utm_source", utm_source), ("utm_medium", utm_medium),
                                                        ("utm_campaign", campaign)) if v)
            landing = "https://kith.example/contact-sales" + (f"?{query}" if query else "")
            body = {k: v for k, v in data.items() if k in ("first_name", "last_name", "email", "company_name",
                                                              "title", "country")}
            body.update(notes=rng.choice(FORM_MESSAGES), consent="on")
            lead = s.submit_form(form=self.form, data=body, ip=f"198.51.100.{10 + n}",
                                 meta={"referrer": referrer, "landing_page": landing})
            if data.get("phone"):
                lead = s.update_lead(actor=self.actor_for(lead.owner), lead=lead, data={"phone": data["phone"]})
        else:
            utm_source, utm_medium, campaign, referrer = SOURCES[source]
            data.update(source=source, utm_source=utm_source, utm_medium=utm_medium, utm_campaign=campaign,
                        referrer=referrer)
            if utm_source:
                data["landing_page"] = f"https://kith.example/{campaign}?utm_source={utm_source}"
            if source == "Trade show":
                data["notes"] = "Met at our booth at the CRM Summit; wants a follow-up demo."
            elif source == "Partner referral":
                data["notes"] = "Referred by Atelier Numérique (partner)."
            if source in ("Trade show", "Partner referral"):
                data["owner_id"] = rng.choice(self.owners).pk
            if rng.random() < 0.6:
                data["score"] = rng.randint(15, 95)
            lead = s.create_lead(actor=self.boss, data=data)
        self.clock.stamp(times[0])
        actor = self.actor_for(lead.owner)
        steps: list[tuple[dt.datetime, dict[str, Any]]] = []
        if status != LeadStatus.NEW:
            steps.append((times[1], {"status": LeadStatus.CONTACTED}))
        if status in (LeadStatus.QUALIFIED, LeadStatus.CONVERTED):
            steps.append((times[2], {"status": LeadStatus.QUALIFIED, "score": rng.randint(60, 98)}))
        if status == LeadStatus.UNQUALIFIED:
            steps.append((times[2], {"status": LeadStatus.UNQUALIFIED,
                                     "notes": rng.choice(["No budget until next year.", "Looking for a free tool.",
                                                          "Too small for us: a single user.",
                                                          "Student project, not a buyer."])}))
        for when, change in steps:
            lead = s.update_lead(actor=actor, lead=lead, data=change)
            self.clock.stamp(when)
        converted_at = None
        if status == LeadStatus.CONVERTED:
            converted_at = times[-1]
            deal_spec = None
            if convert in ("deal", "existing_contact"):
                q_end = self.quarter(1)[1] - dt.timedelta(days=1)
                currency = "EUR" if data["country"] in EURO_COUNTRIES and "EUR" in self.rates else self.default_currency
                deal_spec = {
                    "name": self.unique_name(f"{data['company_name']} – "
                                             + ("expansion" if existing_contact is not None else "first order")),
                    "amount": _money(self.convert_price(Decimal(rng.randint(40, 400) * 100), self.default_currency,
                                                        currency, unit="100")),
                    "currency": currency,
                    "expected_close_date": self.day_between(self.today, q_end).isoformat(),
                    "next_step": "Discovery call",
                }
            contact, company, deal = s.convert_lead(
                actor=actor, lead=lead,
                contact_id=existing_contact.pk if existing_contact is not None else None,
                company_id=(existing_contact.company_id if existing_contact is not None
                            else existing_company.pk if existing_company is not None else None),
                deal=deal_spec,
            )
            self.clock.stamp(converted_at)
            if existing_contact is None:
                Contact.all_objects.filter(pk=contact.pk).update(created_at=converted_at, updated_at=converted_at)
            if company is not None and existing_contact is None and existing_company is None:
                Company.all_objects.filter(pk=company.pk).update(created_at=converted_at, updated_at=converted_at)
            if deal is not None:
                stage_at = converted_at
                opens = self.pipelines["nb"]["open"]
                if len(opens) > 1 and converted_at < self.now - dt.timedelta(days=4) and rng.random() < 0.7:
                    stage_at = self.moments(converted_at, self.now - dt.timedelta(hours=2), 1)[0]
                    s.move_deal(actor=self.actor_for(deal.owner), deal=deal, stage_id=opens[1].pk)
                    self.clock.stamp(stage_at)
                Deal.all_objects.filter(pk=deal.pk).update(created_at=converted_at, updated_at=stage_at,
                                                           stage_changed_at=stage_at)
        first_response = times[1] if len(times) > 1 else None
        Lead.all_objects.filter(pk=lead.pk).update(
            created_at=times[0], updated_at=times[-1] if status != LeadStatus.NEW else times[0],
            assigned_at=times[0] if lead.owner_id else None, first_response_at=first_response,
            converted_at=converted_at, consent_at=times[0] if lead.consent_at else None,
        )
        return lead

    def make_leads(self) -> None:
        self.lead_emails: set[str] = set()
        plans = self.plan_leads()
        plans.sort(key=lambda p: p["times"][0])
        for n, plan in enumerate(plans):
            self.run_lead(plan, n)
        # Notifications older than two days have been read.
        cutoff = self.now - dt.timedelta(days=2)
        Notification.objects.filter(kind="lead.assigned", read_at__isnull=True, created_at__lt=cutoff).update(
            read_at=F("created_at") + dt.timedelta(minutes=45)
        )

    # --- all ----------------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        with transaction.atomic():
            self.setup_currencies()
            self.setup_pipelines()
            self.setup_products()
            self.setup_capture()
            if Deal.all_objects.exists() or Lead.all_objects.exists():
                self.counts["skipped"] = 1
                return self.counts
            self.clock = _Clock()
            self.make_deals()
            self.make_leads()
            self.make_quotas()
        deals = Deal.objects.all()
        overdue_before = self.now - dt.timedelta(minutes=SalesSettings.get().first_response_minutes)
        self.counts.update(
            deals=deals.count(),
            open_deals=deals.filter(stage__kind=StageKind.OPEN).count(),
            won_deals=deals.filter(stage__kind=StageKind.WON).count(),
            lost_deals=deals.filter(stage__kind=StageKind.LOST).count(),
            stage_changes=DealStageChange.objects.count(),
            quotes=Quote.objects.count(),
            leads=Lead.objects.count(),
            converted_leads=Lead.objects.filter(status=LeadStatus.CONVERTED).count(),
            overdue_leads=Lead.objects.filter(status=LeadStatus.NEW, first_response_at__isnull=True,
                                              created_at__lt=overdue_before).count(),
        )
        return self.counts


def load_sales_demo(*, rng: random.Random, users: list, companies: list, contacts: list,
                    today: dt.date | None = None) -> dict[str, int]:
    """Load the sales demo (see the module docstring) and return what it made, by kind.

    users: the workspace's people (one admin needed; viewers own nothing); companies and contacts: the demo
    records deals and leads link to. `today` moves the timeline (tests); by default it is today.
    """
    return _SalesDemo(rng=rng, users=users, companies=companies, contacts=contacts, today=today).run()
