"""Request and response shapes of the API, and the functions that turn records into them.

Input schemas forbid unknown keys and make every field optional: what a client sends is passed to the
service as is (model_dump(exclude_unset=True)), so a PATCH changes only the keys it names and the
service decides what is required.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kith.contacts.choices import LifecycleStage
from kith.core.models import AuditEntry, CustomField, Role

# --- errors --------------------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    field: str = Field(description="the offending field, e.g. “email” or “custom_fields.region”; empty for "
                       "the request as a whole")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


class ConflictOut(ErrorOut):
    current_version: int | None = Field(None, description="the record's version now; reload and retry")


def with_errors(ok: dict[int, Any], codes: tuple[int, ...]) -> dict[int, Any]:
    """A response mapping: the success codes plus the documented error answers."""
    out = dict(ok)
    for code in codes:
        out[code] = ConflictOut if code == 409 else ErrorOut
    return out


class WarningOut(Schema):
    field: str
    message: str


class DuplicateHintOut(Schema):
    """An existing record that looks like the one just written (kith.duplicates)."""

    id: int
    name: str
    confidence: int = Field(description="0–100")
    reasons: list[str] = Field(description='e.g. "same email (jon@acme.com)", "similar name (92%) at the same company"')


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- contacts ------------------------------------------------------------------------------------------


class ContactIn(Input):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(None, description="unique among live contacts")
    additional_emails: list[str] | None = None
    phone: str | None = Field(None, description="stored in E.164 when it can be read; kept as typed otherwise "
                              "(with a warning)")
    mobile: str | None = None
    job_title: str | None = None
    company_id: int | None = None
    lifecycle_stage: str | None = Field(None, description="one of: " + ", ".join(LifecycleStage.values))
    lead_source: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2 code or country name")
    owner_id: int | None = Field(None, description="defaults to you on create; null for nobody")
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = Field(None, description="custom field key → value; null clears one")


class ContactPatch(ContactIn):
    version: int | None = Field(None, description="the version you read; a stale one answers 409 "
                                "(or send If-Match)")


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    email: str
    additional_emails: list[str]
    phone: str
    mobile: str
    job_title: str
    company_id: int | None
    company_name: str | None
    lifecycle_stage: str
    lead_source: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    owner_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class ContactWriteOut(ContactOut):
    warnings: list[WarningOut] = []
    duplicates: list[DuplicateHintOut] = Field(
        default_factory=list, description="existing contacts that look like this one (a hint; nothing is blocked)"
    )


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


# --- companies -----------------------------------------------------------------------------------------


class CompanyIn(Input):
    name: str | None = None
    domain: str | None = Field(None, description="unique among live companies, e.g. example.com")
    website: str | None = None
    industry: str | None = None
    size: int | None = Field(None, description="number of employees")
    annual_revenue: decimal.Decimal | None = Field(None, description="amount, e.g. \"2500000.00\"")
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    description: str | None = None
    owner_id: int | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class CompanyPatch(CompanyIn):
    version: int | None = Field(None, description="the version you read; a stale one answers 409 "
                                "(or send If-Match)")


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    website: str
    industry: str
    size: int | None
    annual_revenue: str | None = Field(description="decimal amount as a string, e.g. \"2500000.00\"")
    phone: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    description: str
    owner_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class CompanyDetailOut(CompanyOut):
    contacts_count: int = Field(description="live contacts at this company that you can see")


class CompanyWriteOut(CompanyOut):
    warnings: list[WarningOut] = []
    duplicates: list[DuplicateHintOut] = Field(
        default_factory=list, description="existing companies that look like this one (a hint; nothing is blocked)"
    )


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


# --- history -------------------------------------------------------------------------------------------


class ActorOut(Schema):
    id: int
    email: str


class ChangeOut(Schema):
    old: Any = None
    new: Any = None
    label: str


class HistoryEntryOut(Schema):
    id: int
    action: str = Field(description="one of: " + ", ".join(AuditEntry.Action.values))
    actor: ActorOut | None
    actor_label: str
    created_at: dt.datetime
    request_id: str
    changes: dict[str, ChangeOut]


class HistoryPage(Schema):
    items: list[HistoryEntryOut]
    next_cursor: str | None


# --- users ---------------------------------------------------------------------------------------------

class UserOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    is_active: bool
    date_joined: dt.datetime
    last_login: dt.datetime | None


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class UserIn(Input):
    email: str
    password: str | None = Field(None, description="optional; without one the user cannot sign in with a "
                                 "password until it is set")
    role: str = Field("member", description="one of: " + ", ".join(Role.values))
    full_name: str = ""


class UserPatch(Input):
    role: str | None = Field(None, description="admins only; one of: " + ", ".join(Role.values))
    full_name: str | None = Field(None, description="admins, or the user themself")
    is_active: bool | None = Field(None, description="admins only")


# --- custom fields -------------------------------------------------------------------------------------


class CustomFieldOut(Schema):
    id: int
    object_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    currency: str
    required: bool
    help_text: str
    position: int


class CustomFieldPage(Schema):
    items: list[CustomFieldOut]
    next_cursor: str | None = None


class CustomFieldIn(Input):
    object_type: str = Field(description="one of: " + ", ".join(CustomField.ObjectType.values))
    label: str
    key: str | None = Field(None, description="used in the API and filters (cf_<key>); derived from the "
                            "label when left out")
    field_type: str = Field(description="one of: " + ", ".join(CustomField.FieldType.values))
    choices: list[str] | None = Field(None, description="for select and multiselect fields")
    currency: str | None = Field(None, description="ISO 4217 code, for currency fields")
    required: bool | None = None
    help_text: str | None = None
    position: int | None = None


class CustomFieldPatch(Input):
    label: str | None = None
    choices: list[str] | None = None
    currency: str | None = None
    required: bool | None = None
    help_text: str | None = None
    position: int | None = None
    # Accepted so the service can say why they cannot change.
    key: str | None = Field(None, description="cannot be changed")
    field_type: str | None = Field(None, description="cannot be changed")
    object_type: str | None = Field(None, description="cannot be changed")


# --- search --------------------------------------------------------------------------------------------


class SearchResultOut(Schema):
    type: str
    id: int
    title: str
    subtitle: str
    url: str = Field(description="the record's page in the web app")
    score: float


# --- serialisers ---------------------------------------------------------------------------------------


def _custom(obj, cf_keys: set[str] | None) -> dict[str, Any]:
    values = obj.custom_fields or {}
    if cf_keys is None:
        return dict(values)
    # Values of deleted definitions stay in the JSON but are no longer served.
    return {k: v for k, v in values.items() if k in cf_keys}


def _tags(obj) -> list[str]:
    return obj.tag_names if obj.pk else []


def _company_name(obj) -> str | None:
    if not obj.company_id:
        return None
    annotated = getattr(obj, "company_name_value", None)
    return annotated if annotated is not None else obj.company.name


def contact_dict(obj, cf_keys: set[str] | None = None) -> dict[str, Any]:
    return {
        "id": obj.pk,
        "first_name": obj.first_name,
        "last_name": obj.last_name,
        "full_name": obj.full_name,
        "email": obj.email,
        "additional_emails": list(obj.additional_emails or []),
        "phone": obj.phone,
        "mobile": obj.mobile,
        "job_title": obj.job_title,
        "company_id": obj.company_id,
        "company_name": _company_name(obj),
        "lifecycle_stage": obj.lifecycle_stage,
        "lead_source": obj.lead_source,
        "street": obj.street,
        "city": obj.city,
        "region": obj.region,
        "postal_code": obj.postal_code,
        "country": obj.country,
        "owner_id": obj.owner_id,
        "tags": _tags(obj),
        "custom_fields": _custom(obj, cf_keys),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        "deleted_at": obj.deleted_at,
    }


def company_dict(obj, cf_keys: set[str] | None = None) -> dict[str, Any]:
    return {
        "id": obj.pk,
        "name": obj.name,
        "domain": obj.domain,
        "website": obj.website,
        "industry": obj.industry,
        "size": obj.size,
        "annual_revenue": None if obj.annual_revenue is None else str(obj.annual_revenue),
        "phone": obj.phone,
        "street": obj.street,
        "city": obj.city,
        "region": obj.region,
        "postal_code": obj.postal_code,
        "country": obj.country,
        "description": obj.description,
        "owner_id": obj.owner_id,
        "tags": _tags(obj),
        "custom_fields": _custom(obj, cf_keys),
        "version": obj.version,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        "deleted_at": obj.deleted_at,
    }


def history_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "action": entry.action,
        "actor": {"id": entry.actor.pk, "email": entry.actor.email} if entry.actor_id else None,
        "actor_label": entry.actor_label,
        "created_at": entry.created_at,
        "request_id": entry.request_id,
        "changes": entry.changes or {},
    }


def user_dict(user) -> dict[str, Any]:
    # Never the password hash.
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def custom_field_dict(field: CustomField) -> dict[str, Any]:
    return {
        "id": field.pk,
        "object_type": field.object_type,
        "key": field.key,
        "label": field.label,
        "field_type": field.field_type,
        "choices": list(field.choices or []),
        "currency": field.currency,
        "required": field.required,
        "help_text": field.help_text,
        "position": field.position,
    }
