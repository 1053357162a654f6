"""Sales: leads and their capture (web forms, assignment), pipelines and deals, products, quotes, quotas.

Money is Decimal end to end (see kith.sales.money for the rounding rules).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from kith.core.features import KithModel, TimestampsMixin

from . import money
from .choices import LeadStatus, PeriodKind, QuoteStatus, StageKind


class SalesSettings(models.Model):
    """Workspace-wide sales settings (one row, pk=1)."""

    default_currency = models.CharField(max_length=3, default="USD")
    first_response_minutes = models.PositiveIntegerField(default=60)
    quote_terms = models.TextField(blank=True, default="Payment due within 30 days of invoice.")
    quote_validity_days = models.PositiveIntegerField(default=30)
    default_team = models.ForeignKey(
        "Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="new leads no rule matched are assigned round-robin over this team",
    )

    class Meta:
        verbose_name_plural = "sales settings"

    def __str__(self) -> str:
        return "Sales settings"

    @classmethod
    def get(cls) -> SalesSettings:
        obj, _ = cls.objects.get_or_create(pk=1, defaults={"default_currency": settings.KITH_DEFAULT_CURRENCY})
        return obj


class ExchangeRate(models.Model):
    """1 unit of `currency` = `rate` units of the default currency."""

    currency = models.CharField(max_length=3, unique=True)
    rate = models.DecimalField(max_digits=20, decimal_places=8)
    updated_at = models.DateTimeField(default=timezone.now)
    # set on the row services.settings.set_exchange_rate returns: how many open deals it recomputed
    deals_recomputed: int

    class Meta:
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate}"


class Team(TimestampsMixin):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="sales_teams")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssignmentRule(TimestampsMixin):
    """If every condition matches a new lead, assign it to the user, or round-robin over the team."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    # [{"field": "country", "op": "equals", "value": "DE"}]; ops: equals, not_equals, contains, in, is_empty
    conditions = models.JSONField(default=list, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadForm(TimestampsMixin):
    """A web form that creates leads: hosted at /f/<slug> and embeddable as HTML."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    # [{"field": "email", "label": "Work email", "required": true}, …] — field is a Lead field
    fields = models.JSONField(default=list)
    consent_text = models.CharField(max_length=500, blank=True)
    redirect_url = models.URLField(max_length=500, blank=True)
    thank_you_text = models.CharField(max_length=500, default="Thank you! We will be in touch soon.")
    source = models.CharField(max_length=100, default="Web form")
    active = models.BooleanField(default=True)
    submissions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("public_form", args=[self.slug])


class FormSubmission(models.Model):
    """One submission of a public form, kept for per-IP rate limiting."""

    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["form", "ip", "created_at"], name="formsubmission_rate_idx")]

    def __str__(self) -> str:
        return f"{self.form} from {self.ip}"


class Lead(KithModel):
    object_type = "lead"
    audit_fields = {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "phone": "Phone",
        "company_name": "Company",
        "title": "Title",
        "source": "Source",
        "status": "Status",
        "score": "Score",
        "notes": "Notes",
        "country": "Country",
        "owner": "Owner",
        "converted_contact": "Converted to contact",
        "converted_company": "Converted to company",
        "converted_deal": "Converted to deal",
    }

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    full_name = models.CharField(max_length=300, blank=True, editable=False)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    score = models.IntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=1000, blank=True)
    landing_page = models.CharField(max_length=1000, blank=True)
    form = models.ForeignKey(LeadForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    consent_text = models.CharField(max_length=500, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_leads"
    )
    converted_company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_leads"
    )
    converted_deal = models.ForeignKey("Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_leads")

    class Meta:
        base_manager_name = "all_objects"
        indexes = [
            models.Index(Lower("full_name"), "id", name="lead_name_idx"),
            models.Index(fields=["updated_at", "id"], name="lead_updated_idx"),
            models.Index(fields=["created_at", "id"], name="lead_created_idx"),
            models.Index(fields=["status", "created_at"], name="lead_status_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Lead {self.pk}"

    def save(self, *args, **kwargs):
        self.full_name = self.compute_full_name()
        super().save(*args, **kwargs)

    def compute_full_name(self) -> str:
        return " ".join(p for p in [self.first_name.strip(), self.last_name.strip()] if p) or self.email

    def get_absolute_url(self) -> str:
        return reverse("web:lead_detail", args=[self.pk])

    def search_document(self) -> tuple[str, str]:
        parts = [self.email, self.phone.lstrip("+"), self.company_name, self.title, self.source]
        return self.full_name, " ".join(p for p in parts if p)

    @property
    def awaiting_response(self) -> bool:
        return self.first_response_at is None and self.status == LeadStatus.NEW and self.deleted_at is None

    def response_time(self):
        """Time from creation to first response, or until now while it waits."""
        end = self.first_response_at or timezone.now()
        return end - self.created_at


class Pipeline(TimestampsMixin):
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:deal_board", args=[self.pk])


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(default=0, help_text="win probability in percent (0-100)")
    kind = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN


class Deal(KithModel):
    object_type = "deal"
    audit_fields = {
        "name": "Name",
        "amount": "Amount",
        "currency": "Currency",
        "expected_close_date": "Expected close",
        "pipeline": "Pipeline",
        "stage": "Stage",
        "company": "Company",
        "lost_reason": "Lost reason",
        "next_step": "Next step",
        "is_commit": "Commit",
        "owner": "Owner",
    }

    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3)
    amount_default = models.DecimalField(
        max_digits=18, decimal_places=2, default=Decimal("0.00"), help_text="amount in the default currency"
    )
    expected_close_date = models.DateField(null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    contacts = models.ManyToManyField("contacts.Contact", through="DealContact", blank=True, related_name="deals")
    lost_reason = models.CharField(max_length=300, blank=True)
    next_step = models.CharField(max_length=300, blank=True)
    is_commit = models.BooleanField(default=False, help_text="the owner commits to closing it in its period")
    stage_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # (previous stage, new stage) between services.deals._set_stage and the save that records it; not a field
    _stage_change: tuple[Stage | None, Stage]

    class Meta:
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["stage", "updated_at", "id"], name="deal_board_idx"),
            models.Index(fields=["expected_close_date"], name="deal_close_idx"),
            models.Index(fields=["closed_at"], name="deal_closed_idx"),
            models.Index(Lower("name"), "id", name="deal_name_idx"),
            models.Index(fields=["updated_at", "id"], name="deal_updated_idx"),
            models.Index(fields=["created_at", "id"], name="deal_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:deal_detail", args=[self.pk])

    def search_document(self) -> tuple[str, str]:
        parts = [self.company.name if self.company_id else "", self.next_step]
        return self.name, " ".join(p for p in parts if p)

    @property
    def weighted_amount(self) -> Decimal:
        return money.weighted(self.amount, self.stage.probability)

    @property
    def primary_contact(self):
        link = next((dc for dc in self.deal_contacts.all() if dc.is_primary), None)
        return link.contact if link else None


class DealContact(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="deal_contacts")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="deal_links")
    is_primary = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="dealcontact_unique")]

    def __str__(self) -> str:
        return f"{self.contact} on {self.deal}"


class DealStageChange(models.Model):
    """Every stage a deal entered, with when: time in stage, cycle length and stage conversion."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="stagechange_deal_idx")]

    def __str__(self) -> str:
        return f"{self.deal}: {self.from_stage} → {self.to_stage}"


class Product(TimestampsMixin):
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    unit_price = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0.00"), help_text="percent")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["sku"], condition=~Q(sku=""), name="product_unique_sku")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})" if self.sku else self.name


class LineItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=18, decimal_places=2)
    discount_pct = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def total(self) -> Decimal:
        return money.line_total(self.quantity, self.unit_price, self.discount_pct)


class Quote(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="quotes")
    number = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    currency = models.CharField(max_length=3)
    valid_until = models.DateField()
    terms = models.TextField(blank=True)
    subtotal = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("web:quote_detail", args=[self.pk])


class QuoteLine(models.Model):
    """A snapshot of a line item when the quote was made: later price changes do not alter a sent quote."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(max_digits=18, decimal_places=2)
    discount_pct = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=18, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Quota(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quotas")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(help_text="first day of the month or quarter")
    amount = models.DecimalField(max_digits=18, decimal_places=2, help_text="in the default currency")

    class Meta:
        ordering = ["period_start", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period_kind", "period_start"], name="quota_unique_period")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.period_kind} {self.period_start}: {self.amount}"
