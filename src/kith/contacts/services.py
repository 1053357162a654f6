"""Writes for contacts and companies. Views, the API, the CLI and the demo all call these.

Each function is keyword-only, takes the acting user, runs in one transaction, records the change in
history, keeps the search index in sync and emits a domain event after commit. Bad input raises
ValidationError naming the field; a stale version raises ConflictError; nothing is written on error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from email_validator import EmailNotValidError, validate_email

from kith.core import audit, customfields, permissions, records
from kith.core.countries import normalise_country
from kith.core.errors import ValidationError
from kith.core.models import AuditEntry, User
from kith.core.phones import phonenumbers

from .choices import LifecycleStage
from .models import Company, Contact

CONTACT_FIELDS = {
    "first_name", "last_name", "email", "additional_emails", "phone", "mobile", "job_title", "company_id",
    "lifecycle_stage", "lead_source", "street", "city", "region", "postal_code", "country", "owner_id",
    "tags", "custom_fields", "external_id",
}
COMPANY_FIELDS = {
    "name", "domain", "website", "industry", "size", "annual_revenue", "phone", "street", "city", "region",
    "postal_code", "country", "description", "owner_id", "tags", "custom_fields", "external_id",
}
TEXT_LIMITS = {
    "first_name": 100, "last_name": 100, "job_title": 200, "lead_source": 100, "street": 200, "city": 100,
    "region": 100, "postal_code": 20, "name": 200, "industry": 100, "description": 20000,
}
MAX_URL_LENGTH = 500  # Company.website
MAX_SIZE = 2_147_483_647  # Company.size: the largest integer every supported database stores


# --- normalisers (each returns the clean value or raises ValueError with the user's message) -----------


def normalise_email(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"“{text}” is not a valid email address: {exc}") from None


def parse_phone(value: Any, region: str | None = None) -> tuple[str, phonenumbers.PhoneNumber | None]:
    """(the input with spaces collapsed, the parsed number when it is a valid one, else None).
    The one place the phone rules live: normalise_phone and the import engine both use it."""
    raw = " ".join(str(value or "").split())
    if not raw:
        return "", None
    if len(raw) > 40:
        raise ValueError("A phone number can be at most 40 characters.")
    try:
        parsed = phonenumbers.parse(raw, region or settings.KITH_DEFAULT_REGION)
        if phonenumbers.is_possible_number(parsed) and phonenumbers.is_valid_number(parsed):
            return raw, parsed
    except phonenumbers.NumberParseException:
        pass
    return raw, None


def normalise_phone(value: Any, region: str | None = None) -> tuple[str, str | None]:
    """(stored value, warning). Parsed numbers are stored in E.164; unparseable input is kept as typed."""
    raw, parsed = parse_phone(value, region)
    if parsed is not None:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None
    if not raw:
        return "", None
    return raw, f"“{raw}” could not be read as a phone number; it was kept as entered."


def normalise_domain(value: Any) -> str:
    text = str(value or "").strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    host = (urlparse(text).hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"“{value}” is not a valid domain.") from None
    if not re.fullmatch(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}", host):
        raise ValueError(f"“{value}” is not a valid domain such as example.com.")
    return host


def normalise_url(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    if "://" not in text:
        text = "https://" + text
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"A web address can be at most {MAX_URL_LENGTH} characters (it has {len(text)}).")
    try:
        URLValidator(schemes=["http", "https"])(text)
    except Exception:
        raise ValueError(f"“{value}” is not a valid web address.") from None
    return text


class _Collector:
    """Collects field errors so one request reports all of them."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.errors: dict[str, list[str]] = {}
        self.warnings: list[dict[str, str]] = []

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, obj, name: str) -> None:
        if name not in self.data:
            return
        value = self.data[name]
        if value is not None and not isinstance(value, str | int | float):
            self.errors[name] = ["Must be text."]
            return
        text = str(value or "").strip()
        limit = TEXT_LIMITS.get(name, 200)
        if len(text) > limit:
            self.errors[name] = [f"Must be at most {limit} characters (it has {len(text)})."]
            return
        setattr(obj, name, text)

    def apply(self, obj, name: str, fn) -> None:
        if name not in self.data:
            return
        try:
            setattr(obj, name, fn(self.data[name]))
        except ValueError as exc:
            self.errors[name] = [str(exc)]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _unknown_fields(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed - {"version"})
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})


def _owner(value: Any) -> User | None:
    if value in (None, ""):
        return None
    try:
        return User.objects.get(pk=int(value), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        raise ValueError(f"No active user with id {value}.") from None


def _common(c: _Collector, obj) -> None:
    for name in ("street", "city", "region", "postal_code", "external_id"):
        c.text(obj, name)
    c.apply(obj, "country", lambda v: normalise_country(str(v or "")))
    if c.has("owner_id"):
        try:
            obj.owner = _owner(c.data["owner_id"])
        except ValueError as exc:
            c.errors["owner_id"] = [str(exc)]
    if c.has("custom_fields"):
        try:
            obj.custom_fields = customfields.clean_values(
                obj.object_type, c.data["custom_fields"], obj.custom_fields, creating=obj.pk is None
            )
        except ValidationError as exc:
            c.errors.update(exc.message_dict)
    elif obj.pk is None:
        try:
            obj.custom_fields = customfields.clean_values(obj.object_type, {}, {}, creating=True)
        except ValidationError as exc:
            c.errors.update(exc.message_dict)


def _phone_field(c: _Collector, obj, name: str, region: str | None) -> None:
    if not c.has(name):
        return
    try:
        value, warning = normalise_phone(c.data[name], region)
    except ValueError as exc:
        c.errors[name] = [str(exc)]
        return
    setattr(obj, name, value)
    if warning:
        c.warnings.append({"field": name, "message": warning})


# --- contacts ------------------------------------------------------------------------------------------


def _apply_contact(contact: Contact, data: dict[str, Any], *, actor) -> tuple[list[str] | None, list[dict]]:
    _unknown_fields(data, CONTACT_FIELDS)
    c = _Collector(data)
    for name in ("first_name", "last_name", "job_title", "lead_source"):
        c.text(contact, name)
    c.apply(contact, "email", normalise_email)
    if c.has("additional_emails"):
        value = data["additional_emails"] or []
        if isinstance(value, str):
            value = [v for v in re.split(r"[,;\s]+", value) if v]
        if not isinstance(value, list):
            c.errors["additional_emails"] = ["Must be a list of email addresses."]
        else:
            cleaned: list[str] = []
            for item in value:
                try:
                    email = normalise_email(item)
                except ValueError as exc:
                    c.errors["additional_emails"] = [str(exc)]
                    break
                if email and email != contact.email and email not in cleaned:
                    cleaned.append(email)
            contact.additional_emails = cleaned
    _common(c, contact)
    region = contact.country or None
    _phone_field(c, contact, "phone", region)
    _phone_field(c, contact, "mobile", region)
    if c.has("company_id"):
        value = data["company_id"]
        if value in (None, ""):
            contact.company = None
        else:
            try:
                contact.company = permissions.visible(Company, actor).get(pk=int(value))
            except (Company.DoesNotExist, TypeError, ValueError):
                c.errors["company_id"] = [f"No company with id {value}."]
    if c.has("lifecycle_stage"):
        stage = data["lifecycle_stage"] or LifecycleStage.LEAD
        if stage not in LifecycleStage.values:
            c.errors["lifecycle_stage"] = [f"Must be one of: {', '.join(LifecycleStage.values)}."]
        else:
            contact.lifecycle_stage = stage
    tags = None
    if c.has("tags"):
        try:
            tags = records.clean_tags(data["tags"])
        except ValidationError as exc:
            c.errors.update(exc.message_dict)
    if not (contact.first_name or contact.last_name or contact.email) and not (
        {"first_name", "last_name", "email"} & set(c.errors)
    ):
        c.errors["first_name"] = ["Enter a first name, a last name or an email."]
    if contact.email and "email" not in c.errors:
        clash = Contact.objects.keyed("email", contact.email).exclude(pk=contact.pk).first()
        if clash:
            c.errors["email"] = [f"Another contact already has this email ({clash})."]
    c.raise_if_errors()
    return tags, c.warnings


def create_contact(*, actor, data: dict[str, Any]) -> Contact:
    permissions.require_write(actor)
    with transaction.atomic():
        contact = Contact(owner=actor if "owner_id" not in data else None)
        tags, warnings = _apply_contact(contact, data, actor=actor)
        contact.created_at = contact.updated_at = timezone.now()
        _save_unique(contact)
        if tags:
            records.set_tags(contact, tags, new=True)
        records.finish_write(contact, action=AuditEntry.Action.CREATE, actor=actor, before={})
    contact.warnings = warnings
    return contact


def update_contact(*, actor, contact: Contact, data: dict[str, Any], expected_version: int | None = None) -> Contact:
    permissions.require_write(actor, contact)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        records.check_version(contact, expected_version)
        before = audit.snapshot(contact)
        tags, warnings = _apply_contact(contact, data, actor=actor)
        if tags is not None:
            records.set_tags(contact, tags)
        contact.full_name = contact.compute_full_name()
        if audit.diff(before, audit.snapshot(contact), contact):
            records.bump(contact)
            _save_unique(contact)
            records.finish_write(contact, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
    contact.warnings = warnings
    return contact


def _save_unique(obj) -> None:
    """Save; a unique-constraint race (two writers, one email or domain) becomes a field error."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        field = "email" if isinstance(obj, Contact) else "domain"
        raise ValidationError({field: [f"Another {obj.object_type} already has this {field}."]}) from exc


def delete_contact(*, actor, contact: Contact, expected_version: int | None = None) -> Contact:
    """Move to the trash (restorable)."""
    return records.trash_record(contact, actor=actor, expected_version=expected_version)


def restore_contact(*, actor, contact: Contact) -> Contact:
    return records.restore_record(contact, actor=actor)


# --- companies -----------------------------------------------------------------------------------------


def _apply_company(company: Company, data: dict[str, Any]) -> tuple[list[str] | None, list[dict]]:
    _unknown_fields(data, COMPANY_FIELDS)
    c = _Collector(data)
    for name in ("name", "industry", "description"):
        c.text(company, name)
    c.apply(company, "domain", normalise_domain)
    c.apply(company, "website", normalise_url)
    if c.has("size"):
        value = data["size"]
        if value in (None, ""):
            company.size = None
        else:
            try:
                size = int(str(value).replace(",", "").strip())
                if size < 0 or size > MAX_SIZE:
                    raise ValueError
                company.size = size
            except (TypeError, ValueError):
                c.errors["size"] = ["Enter a whole number of employees (0 or more)."]
    if c.has("annual_revenue"):
        value = data["annual_revenue"]
        if value in (None, ""):
            company.annual_revenue = None
        else:
            try:
                amount = decimal.Decimal(str(value).replace(",", "").strip())
                if not amount.is_finite() or amount < 0 or amount >= 10**16:
                    raise decimal.InvalidOperation
                company.annual_revenue = amount.quantize(decimal.Decimal("0.01"))
            except decimal.InvalidOperation:
                c.errors["annual_revenue"] = ["Enter an amount such as 2500000 or 2500000.00."]
    _common(c, company)
    _phone_field(c, company, "phone", company.country or None)
    if not company.website and company.domain and "website" not in data:
        company.website = f"https://{company.domain}"
    if not company.domain and company.website and "domain" not in data:
        try:
            company.domain = normalise_domain(company.website)
        except ValueError:
            pass
    tags = None
    if c.has("tags"):
        try:
            tags = records.clean_tags(data["tags"])
        except ValidationError as exc:
            c.errors.update(exc.message_dict)
    if not company.name and "name" not in c.errors:
        c.errors["name"] = ["A company needs a name."]
    if company.domain and "domain" not in c.errors:
        clash = Company.objects.keyed("domain", company.domain).exclude(pk=company.pk).first()
        if clash:
            c.errors["domain"] = [f"Another company already has this domain ({clash})."]
    c.raise_if_errors()
    return tags, c.warnings


def create_company(*, actor, data: dict[str, Any]) -> Company:
    permissions.require_write(actor)
    with transaction.atomic():
        company = Company(owner=actor if "owner_id" not in data else None)
        tags, warnings = _apply_company(company, data)
        company.created_at = company.updated_at = timezone.now()
        _save_unique(company)
        if tags:
            records.set_tags(company, tags, new=True)
        records.finish_write(company, action=AuditEntry.Action.CREATE, actor=actor, before={})
    company.warnings = warnings
    return company


def update_company(*, actor, company: Company, data: dict[str, Any], expected_version: int | None = None) -> Company:
    permissions.require_write(actor, company)
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        records.check_version(company, expected_version)
        before = audit.snapshot(company)
        old_name = company.name
        tags, warnings = _apply_company(company, data)
        if tags is not None:
            records.set_tags(company, tags)
        if audit.diff(before, audit.snapshot(company), company):
            records.bump(company)
            _save_unique(company)
            records.finish_write(company, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
            if company.name != old_name:
                # Contacts are found by their company's name too.
                from kith.core import search

                search.index_many("contact", company.contacts.select_related("company"))
    company.warnings = warnings
    return company


def delete_company(*, actor, company: Company, expected_version: int | None = None) -> Company:
    """Move to the trash (restorable). Its contacts stay and keep the link, shown as in the trash."""
    return records.trash_record(company, actor=actor, expected_version=expected_version)


def restore_company(*, actor, company: Company) -> Company:
    return records.restore_record(company, actor=actor)


def purge_trash(*, older_than_days: int | None = None) -> int:
    """Delete for good what has been in the trash longer than KITH_TRASH_DAYS. Returns how many."""
    days = records.trash_days() if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    from kith.sales.models import Deal, Lead

    count = 0
    for model in (Lead, Deal, Contact, Company):
        for obj in model.all_objects.filter(deleted_at__lt=cutoff).iterator():
            with transaction.atomic():
                obj.delete()
            count += 1
    return count
