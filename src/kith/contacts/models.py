from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from kith.core.features import KithModel, owner_field

from .choices import LifecycleStage


class AddressMixin(models.Model):
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")

    class Meta:
        abstract = True

    @property
    def address_lines(self) -> list[str]:
        from kith.core.countries import country_name

        line2 = " ".join(p for p in [self.postal_code, self.city] if p)
        lines = [self.street, ", ".join(p for p in [line2, self.region] if p), country_name(self.country)]
        return [line for line in lines if line]


ADDRESS_AUDIT = {
    "street": "Street",
    "city": "City",
    "region": "Region",
    "postal_code": "Postal code",
    "country": "Country",
}


class Company(AddressMixin, KithModel):
    object_type = "company"
    audit_fields = {
        "name": "Name",
        "domain": "Domain",
        "website": "Website",
        "industry": "Industry",
        "size": "Employees",
        "annual_revenue": "Annual revenue",
        "phone": "Phone",
        **ADDRESS_AUDIT,
        "description": "Description",
        "owner": "Owner",
    }

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    website = models.URLField(max_length=500, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="number of employees")
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    owner = owner_field(db_index=False)  # indexed with updated_at: company_owner_updated_idx

    class Meta:
        verbose_name_plural = "companies"
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(deleted_at__isnull=True) & ~Q(domain=""),
                name="company_unique_live_domain",
            )
        ]
        indexes = [
            models.Index(Lower("name"), "id", name="company_name_idx"),
            models.Index(fields=["updated_at", "id"], name="company_updated_idx"),
            # "mine, most recently updated first" (the home page, lists filtered to an owner): without it
            # SQLite read every record of the owner and sorted them (350 ms at 100,000 contacts)
            models.Index(fields=["owner", "updated_at", "id"], name="company_owner_updated_idx"),
            models.Index(fields=["created_at", "id"], name="company_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("web:company_detail", args=[self.pk])

    def restore_conflicts(self) -> dict[str, list[str]] | None:
        if self.domain and Company.objects.keyed("domain", self.domain).exists():
            return {"domain": [f"A live company already has {self.domain}; change or trash it first."]}
        return None

    def search_document(self) -> tuple[str, str]:
        parts = [self.domain, self.website, self.industry, self.city, self.phone.lstrip("+")]
        return self.name, " ".join(p for p in parts if p)


class Contact(AddressMixin, KithModel):
    object_type = "contact"
    audit_fields = {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "additional_emails": "Additional emails",
        "phone": "Phone",
        "mobile": "Mobile",
        "job_title": "Job title",
        "company": "Company",
        "lifecycle_stage": "Lifecycle stage",
        "lead_source": "Lead source",
        **ADDRESS_AUDIT,
        "owner": "Owner",
    }

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    full_name = models.CharField(max_length=300, blank=True, editable=False, help_text="derived, for sorting")
    email = models.CharField(max_length=254, blank=True)
    additional_emails = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    mobile = models.CharField(max_length=40, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    lifecycle_stage = models.CharField(max_length=32, choices=LifecycleStage.choices, default=LifecycleStage.LEAD)
    lead_source = models.CharField(max_length=100, blank=True)
    owner = owner_field(db_index=False)  # indexed with updated_at: contact_owner_updated_idx

    class Meta:
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(deleted_at__isnull=True) & ~Q(email=""),
                name="contact_unique_live_email",
            )
        ]
        indexes = [
            models.Index(Lower("full_name"), "id", name="contact_name_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="contact_owner_updated_idx"),
            models.Index(fields=["created_at", "id"], name="contact_created_idx"),
            # exact look-ups by number (an import matching on phone; numbers are stored in E.164)
            models.Index(fields=["phone"], condition=~Q(phone=""), name="contact_phone_idx"),
            models.Index(fields=["mobile"], condition=~Q(mobile=""), name="contact_mobile_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Contact {self.pk}"

    def save(self, *args, **kwargs):
        self.full_name = self.compute_full_name()
        super().save(*args, **kwargs)

    def compute_full_name(self) -> str:
        return self.full_name_of(self.first_name, self.last_name, self.email)

    @staticmethod
    def full_name_of(first_name: str, last_name: str, email: str) -> str:
        """The derived full name: first and last name, else the email (bulk writers call it on plain values)."""
        return " ".join(p for p in [first_name.strip(), last_name.strip()] if p) or email

    def get_absolute_url(self) -> str:
        return reverse("web:contact_detail", args=[self.pk])

    def restore_conflicts(self) -> dict[str, list[str]] | None:
        if self.email and Contact.objects.keyed("email", self.email).exists():
            return {"email": [f"A live contact already has {self.email}; change or trash it first."]}
        return None

    def search_document(self) -> tuple[str, str]:
        phones = [p.lstrip("+") for p in (self.phone, self.mobile) if p]
        parts = [self.email, *self.additional_emails, *phones, self.job_title]
        if self.company_id:
            parts.append(self.company.name)
        return self.full_name, " ".join(p for p in parts if p)
