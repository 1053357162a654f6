"""Web forms that capture leads: the builder (admins and managers) and public submissions.

A form lists lead fields [{"field", "label", "required"}] in the order shown. A submission is checked
against them (required fields, the consent box when the form asks for consent, then the lead service's own
checks: email, phone, country, lengths), protected by a honeypot field and a per-IP rate limit, and becomes
a Lead with its attribution (UTM parameters, referrer, landing page) through create_lead(actor=None), which
runs the assignment rules. Nothing is written when anything is wrong.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from kith.contacts.services import normalise_url
from kith.core import permissions
from kith.core.errors import ValidationError

from ..models import FormSubmission, Lead, LeadForm
from .leads import create_lead

# The lead fields a web form may ask for, with their default labels.
FORM_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company_name": "Company",
    "title": "Job title",
    "country": "Country",
    "notes": "Message",
}
NAME_FIELDS = {"first_name", "last_name", "email"}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
HONEYPOT = "website"
CONSENT = "consent"
FORM_DATA_FIELDS = {"name", "slug", "fields", "consent_text", "redirect_url", "thank_you_text", "source", "active"}
RESERVED_SLUGS = {"new", "static", "api"}
TRUE_VALUES = {"on", "true", "1", "yes", "y"}


class TooManySubmissions(Exception):
    """The same address sent this form too often within the rate-limit window (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


# --- the builder -----------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_VALUES


def _clean_fields(value: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        errors["fields"] = ["Choose at least one field for the form."]
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"fields.{i}"] = ["Must be an object with field, label and required."]
            continue
        name = item.get("field")
        if name not in FORM_FIELDS:
            errors[f"fields.{i}.field"] = [f"Use one of: {', '.join(FORM_FIELDS)}."]
            continue
        if name in seen:
            errors[f"fields.{i}.field"] = [f"{FORM_FIELDS[name]} is on the form twice."]
            continue
        seen.add(name)
        label = " ".join(str(item.get("label") or "").split()) or FORM_FIELDS[name]
        if len(label) > 100:
            errors[f"fields.{i}.label"] = ["A label can be at most 100 characters."]
            continue
        out.append({"field": name, "label": label, "required": _truthy(item.get("required"))})
    if out and not (seen & NAME_FIELDS) and "fields" not in errors:
        errors["fields"] = ["Include a name or an email field: a lead needs one of them."]
    return out


def _apply_form(form: LeadForm, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - FORM_DATA_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    errors: dict[str, list[str]] = {}
    if "name" in data or form.pk is None:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = ["Give the form a name."]
        elif len(name) > 100:
            errors["name"] = ["Must be at most 100 characters."]
        form.name = name
    if "slug" in data or form.pk is None:
        raw = str(data.get("slug") or "").strip()
        slug = slugify(raw or form.name)[:60].strip("-")
        if raw and slugify(raw) != raw.lower():
            errors["slug"] = ["Use only letters, digits and hyphens, e.g. “contact-sales”."]
        elif not slug:
            errors["slug"] = ["Enter a web address for the form, e.g. “contact-sales”."]
        elif slug in RESERVED_SLUGS:
            errors["slug"] = [f"“{slug}” is reserved; choose another."]
        elif LeadForm.objects.filter(slug=slug).exclude(pk=form.pk).exists():
            errors["slug"] = [f"Another form already uses /f/{slug}."]
        form.slug = slug
    if "fields" in data or form.pk is None:
        form.fields = _clean_fields(data.get("fields"), errors)
    for name, limit in (("consent_text", 500), ("thank_you_text", 500), ("source", 100)):
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > limit:
                errors[name] = [f"Must be at most {limit} characters (it has {len(text)})."]
            else:
                setattr(form, name, text)
    if "source" in data and not form.source and "source" not in errors:
        form.source = "Web form"
    if "redirect_url" in data:
        try:
            form.redirect_url = normalise_url(data["redirect_url"])
        except ValueError as exc:
            errors["redirect_url"] = [str(exc)]
    if not form.redirect_url and not form.thank_you_text and "thank_you_text" not in errors:
        errors["thank_you_text"] = ["Enter a thank-you message, or a page to send people to."]
    if "active" in data:
        form.active = _truthy(data["active"])
    if errors:
        raise ValidationError(errors)


def create_form(*, actor, data: dict[str, Any]) -> LeadForm:
    permissions.require_settings(actor)
    with transaction.atomic():
        form = LeadForm()
        _apply_form(form, data)
        form.save()
    return form


def update_form(*, actor, form: LeadForm, data: dict[str, Any]) -> LeadForm:
    permissions.require_settings(actor)
    with transaction.atomic():
        form = LeadForm.objects.select_for_update().get(pk=form.pk)
        _apply_form(form, data)
        form.updated_at = timezone.now()
        form.save()
    return form


def delete_form(*, actor, form: LeadForm) -> None:
    """Delete a form; its leads stay (they lose the link to the form, not their attribution)."""
    permissions.require_settings(actor)
    form.delete()


# --- submissions ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    if isinstance(value, dict):
        return ""
    return str(value if value is not None else "").strip()


def _query_values(meta: dict[str, Any]) -> dict[str, str]:
    """UTM parameters of the page the form was on: its query string, or the referring URL's."""
    out: dict[str, str] = {}
    sources = [meta.get("query") or {}]
    for url in (meta.get("landing_page"), meta.get("referrer")):
        if url:
            sources.append({k: v[-1] for k, v in parse_qs(urlparse(str(url)).query).items() if v})
    for source in sources:
        for name in UTM_FIELDS:
            if not out.get(name):
                out[name] = _text(source.get(name))
    return out


def _check_rate(form: LeadForm, ip: str | None) -> None:
    limit = int(getattr(settings, "KITH_FORM_RATE_LIMIT", 10))
    window = int(getattr(settings, "KITH_FORM_RATE_WINDOW_SECONDS", 600))
    since = timezone.now() - timedelta(seconds=window)
    recent = FormSubmission.objects.filter(form=form, ip=ip or None, created_at__gte=since)
    if recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        if oldest is None:  # a limit of 0: nothing in the window to wait for, so a whole window
            retry = max(1, window)
        else:
            retry = max(1, int((oldest + timedelta(seconds=window) - timezone.now()).total_seconds()) + 1)
        minutes = max(1, round(retry / 60))
        raise TooManySubmissions(
            f"Too many submissions from your address. Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=retry,
        )


class _Rollback(Exception):
    pass


def submit_form(*, form: LeadForm, data: dict[str, Any], ip: str | None, meta: dict[str, Any] | None = None) -> Lead | None:
    """A public submission → the new Lead; None when the honeypot was filled (pretend success, keep nothing).

    data: the submitted fields (form fields, "consent", "website" honeypot, optional utm_* / referrer /
    landing_page). meta: {"referrer": HTTP Referer, "landing_page": URL, "query": {utm_*: …}}.
    Raises ValidationError keyed by form field, TooManySubmissions for the rate limit.
    """
    meta = meta or {}
    if _text(data.get(HONEYPOT)):
        return None
    with transaction.atomic():
        form = LeadForm.objects.select_for_update().get(pk=form.pk)  # one submission of a form at a time
        if not form.active:
            raise ValidationError({"__all__": ["This form is not accepting submissions."]})
        _check_rate(form, ip)
        errors: dict[str, list[str]] = {}
        lead_data: dict[str, Any] = {}
        labels = {}
        for item in form.fields:
            name = item["field"]
            labels[name] = item.get("label") or FORM_FIELDS.get(name, name)
            raw = data.get(name)
            if raw is not None and not isinstance(raw, str | int | float | list):
                errors[name] = ["Must be text."]
                continue
            value = _text(raw)
            if item.get("required") and not value:
                errors[name] = [f"{labels[name]} is required."]
            lead_data[name] = value
        if form.consent_text and not _truthy(data.get(CONSENT)):
            errors[CONSENT] = ["Please tick the box to give your consent."]
        utm = _query_values(meta)
        for name in UTM_FIELDS:
            value = _text(data.get(name)) or utm.get(name, "")
            if value:
                lead_data[name] = value[:200]
        referrer = _text(data.get("referrer")) or _text(meta.get("referrer"))
        landing = _text(data.get("landing_page")) or _text(meta.get("landing_page"))
        lead_data.update({"referrer": referrer[:1000], "landing_page": landing[:1000], "source": form.source})
        lead = None
        try:
            with transaction.atomic():
                lead = create_lead(actor=None, data=lead_data, form=form,
                                   consent_text=form.consent_text if _truthy(data.get(CONSENT)) else "")
                if errors:
                    raise _Rollback
        except _Rollback:
            lead = None
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in labels:
                    errors.setdefault(key, messages)
                else:
                    errors.setdefault("__all__", []).extend(messages)
        if errors:
            raise ValidationError(errors)
        FormSubmission.objects.create(form=form, ip=ip or None)
        LeadForm.objects.filter(pk=form.pk).update(submissions=F("submissions") + 1)
    return lead
