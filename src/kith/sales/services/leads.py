"""Leads: capture (UI, API, web forms), assignment, first response, conversion."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kith.contacts import services as contact_services
from kith.contacts.models import Company, Contact
from kith.contacts.services import _Collector, _owner, normalise_email, normalise_phone
from kith.core import audit, customfields, notifications, permissions, records
from kith.core.countries import normalise_country
from kith.core.errors import ValidationError
from kith.core.models import AuditEntry

from ..choices import LeadStatus
from ..models import Lead
from . import assignment

LEAD_FIELDS = {
    "first_name", "last_name", "email", "phone", "company_name", "title", "source", "status", "score", "notes",
    "country", "owner_id", "tags", "custom_fields", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "referrer", "landing_page", "external_id",
}
TEXT = {"first_name": 100, "last_name": 100, "company_name": 200, "title": 200, "source": 100, "notes": 20000,
        "utm_source": 200, "utm_medium": 200, "utm_campaign": 200, "utm_term": 200, "utm_content": 200,
        "referrer": 1000, "landing_page": 1000, "external_id": 200}
FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "icloud.com", "me.com",
    "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "mail.com", "yandex.ru", "qq.com",
}


def _apply(lead: Lead, data: dict[str, Any]) -> tuple[list[str] | None, list[dict], bool, bool]:
    unknown = sorted(set(data) - LEAD_FIELDS - {"version"})
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    c = _Collector(data)
    for name, limit in TEXT.items():
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > limit:
                c.errors[name] = [f"Must be at most {limit} characters (it has {len(text)})."]
            else:
                setattr(lead, name, text)
    c.apply(lead, "email", normalise_email)
    c.apply(lead, "country", lambda v: normalise_country(str(v or "")))
    if "phone" in data:
        try:
            lead.phone, warning = normalise_phone(data["phone"], lead.country or None)
            if warning:
                c.warnings.append({"field": "phone", "message": warning})
        except ValueError as exc:
            c.errors["phone"] = [str(exc)]
    status_changed = False
    if "status" in data:
        if data["status"] not in LeadStatus.values:
            c.errors["status"] = [f"Must be one of: {', '.join(LeadStatus.values)}."]
        elif data["status"] == LeadStatus.CONVERTED and lead.status != LeadStatus.CONVERTED:
            c.errors["status"] = ["Convert the lead to mark it converted."]
        elif lead.status == LeadStatus.CONVERTED and data["status"] != LeadStatus.CONVERTED:
            c.errors["status"] = ["This lead is converted; its status can no longer change."]
        else:
            status_changed = data["status"] != lead.status
            lead.status = data["status"]
    if "score" in data:
        if data["score"] in (None, ""):
            lead.score = None
        else:
            try:
                lead.score = int(data["score"])
                if not -1000 <= lead.score <= 1000:
                    raise ValueError
            except (TypeError, ValueError):
                c.errors["score"] = ["Enter a whole number from -1000 to 1000."]
    owner_changed = False
    if "owner_id" in data:
        try:
            new_owner = _owner(data["owner_id"])
            owner_changed = (new_owner.pk if new_owner else None) != lead.owner_id
            lead.owner = new_owner
        except ValueError as exc:
            c.errors["owner_id"] = [str(exc)]
    if "custom_fields" in data or lead.pk is None:
        try:
            lead.custom_fields = customfields.clean_values(
                "lead", data.get("custom_fields", {}), lead.custom_fields, creating=lead.pk is None
            )
        except ValidationError as exc:
            c.errors.update(exc.message_dict)
    tags = None
    if "tags" in data:
        try:
            tags = records.clean_tags(data["tags"])
        except ValidationError as exc:
            c.errors.update(exc.message_dict)
    if not (lead.first_name or lead.last_name or lead.email) and not ({"first_name", "last_name", "email"} & set(c.errors)):
        c.errors["first_name" if "first_name" in data or "email" not in data else "email"] = [
            "Enter a name or an email."
        ]
    c.raise_if_errors()
    return tags, c.warnings, status_changed, owner_changed


def _notify_owner(lead: Lead, *, actor, reason: str = "") -> None:
    if lead.owner_id:
        notifications.notify(
            user=lead.owner, kind="lead.assigned", actor=actor,
            title=f"New lead assigned to you: {lead}" + (f" ({reason})" if reason else ""),
            url=lead.get_absolute_url(),
        )


def create_lead(*, actor, data: dict[str, Any], form=None, consent_text: str = "") -> Lead:
    """actor=None for public web-form submissions. Without an owner, assignment rules choose one."""
    if actor is not None:
        permissions.require_write(actor)
    with transaction.atomic():
        now = timezone.now()
        lead = Lead(created_at=now, updated_at=now, form=form)
        tags, warnings, _, _ = _apply(lead, data)
        if consent_text:
            lead.consent_text, lead.consent_at = consent_text[:500], now
        reason = ""
        if "owner_id" not in data:
            user, reason = assignment.choose_owner(lead)
            if user is not None:
                lead.owner = user
        if lead.owner_id:
            lead.assigned_at = now
        lead.save()
        if tags:
            records.set_tags(lead, tags, new=True)
        records.finish_write(lead, action=AuditEntry.Action.CREATE, actor=actor, before={})
        if reason:
            entry = audit.history(lead).first()
            entry.changes["owner"]["reason"] = f"assigned by {reason}"
            entry.save(update_fields=["changes"])
        _notify_owner(lead, actor=actor, reason=reason)
    lead.warnings = warnings
    return lead


def update_lead(*, actor, lead: Lead, data: dict[str, Any], expected_version: int | None = None) -> Lead:
    permissions.require_write(actor, lead)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        records.check_version(lead, expected_version)
        before = audit.snapshot(lead)
        tags, warnings, status_changed, owner_changed = _apply(lead, data)
        if tags is not None:
            records.set_tags(lead, tags)
        if status_changed and lead.first_response_at is None:
            lead.first_response_at = timezone.now()
        if owner_changed and lead.owner_id:
            lead.assigned_at = timezone.now()
        if audit.diff(before, audit.snapshot(lead), lead):
            records.bump(lead)
            lead.save()
            records.finish_write(lead, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
            if owner_changed:
                _notify_owner(lead, actor=actor)
    lead.warnings = warnings
    return lead


def assign_lead(*, actor, lead: Lead, user) -> Lead:
    return update_lead(actor=actor, lead=lead, data={"owner_id": user.pk if user else None})


def record_first_response(*, lead_id: int) -> bool:
    """Mark a lead as responded to (a logged activity). Returns True when this was the first response."""
    return bool(
        Lead.objects.filter(pk=lead_id, first_response_at__isnull=True).update(first_response_at=timezone.now())
    )


def delete_lead(*, actor, lead: Lead, expected_version: int | None = None) -> Lead:
    return records.trash_record(lead, actor=actor, expected_version=expected_version)


def restore_lead(*, actor, lead: Lead) -> Lead:
    return records.restore_record(lead, actor=actor)


def email_domain(email: str) -> str:
    domain = email.rsplit("@", 1)[-1].lower() if "@" in email else ""
    return "" if domain in FREE_MAIL else domain


def conversion_suggestions(lead: Lead, *, actor) -> dict[str, Any]:
    """Existing records the lead probably is: a contact with its email, a company with its domain or name."""
    contact = None
    if lead.email:
        contact = permissions.visible(Contact, actor).keyed("email", lead.email).select_related("company").first()
    company = None
    domain = email_domain(lead.email)
    companies = permissions.visible(Company, actor)
    if domain:
        company = companies.keyed("domain", domain).first()
    if company is None and lead.company_name:
        company = companies.filter(name__iexact=lead.company_name.strip()).first()
    if company is None and contact is not None and contact.company_id:
        company = contact.company
    return {"contact": contact, "company": company}


def convert_lead(
    *,
    actor,
    lead: Lead,
    contact_id: int | None = None,
    company_id: int | None = None,
    create_company: bool = True,
    deal: dict[str, Any] | None = None,
):
    """Turn a lead into a contact (new, or the one given), a company (new from its company name, the one
    given, or none) and optionally a deal — in one transaction. Returns (contact, company, deal)."""
    from .deals import create_deal

    permissions.require_write(actor, lead)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status == LeadStatus.CONVERTED:
            raise ValidationError({"status": ["This lead is already converted."]})
        before = audit.snapshot(lead)
        errors: dict[str, list[str]] = {}
        company = None
        if company_id not in (None, ""):
            try:
                company = permissions.visible(Company, actor).get(pk=int(company_id))
            except (Company.DoesNotExist, TypeError, ValueError):
                errors["company_id"] = [f"No company with id {company_id}."]
        contact = None
        if contact_id not in (None, ""):
            try:
                contact = permissions.visible(Contact, actor).get(pk=int(contact_id))
            except (Contact.DoesNotExist, TypeError, ValueError):
                errors["contact_id"] = [f"No contact with id {contact_id}."]
        if errors:
            raise ValidationError(errors)
        owner_id = lead.owner_id or getattr(actor, "pk", None)
        if company is None and create_company and lead.company_name:
            domain = email_domain(lead.email)
            data = {"name": lead.company_name, "owner_id": owner_id, "country": lead.country}
            if domain and not Company.objects.keyed("domain", domain).exists():
                data["domain"] = domain
            company = contact_services.create_company(actor=actor, data=data)
        if contact is None:
            data = {
                "first_name": lead.first_name, "last_name": lead.last_name, "email": lead.email,
                "phone": lead.phone, "job_title": lead.title, "lead_source": lead.source,
                "lifecycle_stage": "sales_qualified" if deal else "lead", "country": lead.country,
                "owner_id": owner_id, "company_id": company.pk if company else None,
            }
            try:
                contact = contact_services.create_contact(actor=actor, data=data)
            except ValidationError as exc:
                # e.g. a contact with this email exists but was not chosen: say so on the lead's terms
                raise ValidationError({f"contact.{k}": v for k, v in exc.message_dict.items()}) from None
        elif company is not None and contact.company_id is None:
            contact = contact_services.update_contact(actor=actor, contact=contact, data={"company_id": company.pk})
        new_deal = None
        if deal is not None:
            deal_data = {"name": deal.get("name") or f"{company or contact} deal", "owner_id": owner_id,
                         "company_id": company.pk if company else None, "contact_ids": [contact.pk]}
            deal_data.update({k: v for k, v in deal.items() if k != "name" and v not in (None, "")})
            try:
                new_deal = create_deal(actor=actor, data=deal_data)
            except ValidationError as exc:
                raise ValidationError({f"deal.{k}": v for k, v in exc.message_dict.items()}) from None
        now = timezone.now()
        lead.status = LeadStatus.CONVERTED
        lead.converted_at = now
        lead.first_response_at = lead.first_response_at or now
        lead.converted_contact, lead.converted_company, lead.converted_deal = contact, company, new_deal
        records.bump(lead)
        lead.save()
        records.finish_write(lead, action=AuditEntry.Action.UPDATE, actor=actor, before=before)
    return contact, company, new_deal
