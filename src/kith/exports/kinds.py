"""What can be exported: the four record lists, their filter sets, and their columns.

Two column sets per kind:
  "shown"  the columns of the list page, in its order, with the values as the list shows them
           (labels as headers; the lead list's running "Waiting" clock as text);
  "all"    every field a user can put back in with an import or the bulk API, with machine values
           and field names as headers (first_name, lifecycle_stage, owner_email, company_name,
           external_id, tags, cf_<key> for each custom field …).
Values are Python values (str, int, Decimal, date, datetime, bool, list, None); the writers format them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from kith.core import customfields

SHOWN, ALL = "shown", "all"
COLUMN_CHOICES = {SHOWN: "Columns as shown", ALL: "All columns"}


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    get: Callable[[Any], Any]


@dataclass
class Kind:
    name: str  # "contacts"
    noun: str  # "contact"
    noun_plural: str
    object_type: str
    model: Callable[[], Any]
    filterset: Callable[[], Any]
    list_spec: Callable[[], Any]  # the web list's ListSpec (its columns are "columns as shown")
    shown: dict[str, Callable[[Any], Any]]  # list column label -> value
    all: list[Col]
    select_related: tuple[str, ...] = ()
    # the fields the columns read of each related record (the others are not loaded: a contact's company
    # or owner, loaded whole, cost a third of an export's time); a column reading another one would cost a
    # query per row, which tests/exports/test_export_cli.py would catch
    related_fields: dict[str, tuple[str, ...]] | None = None
    prepare: Callable[[Any], Any] | None = None  # (queryset) -> queryset: prefetches, annotations
    formats: tuple[str, ...] = ("csv", "xlsx")

    def columns(self, which: str) -> list[Col]:
        if which == SHOWN:
            out = []
            for col in self.list_spec().columns:
                get = self.shown.get(col.label)
                if get is not None:
                    out.append(Col(col.label, col.label, get))
                    if self.name == "deals" and col.label == "Amount":
                        # An amount means little without its currency when deals mix currencies.
                        out.append(Col("Currency", "Currency", lambda d: d.currency))
            return out
        cols = list(self.all)
        for cf in customfields.definitions(self.object_type):
            cols.append(Col(f"cf_{cf.key}", cf.label, _custom(cf.key)))
        return cols


def _custom(key: str) -> Callable[[Any], Any]:
    return lambda obj: (obj.custom_fields or {}).get(key)


def _owner_name(obj) -> str:
    return obj.owner.display_name if obj.owner_id else ""


def _owner_email(obj) -> str:
    return obj.owner.email if obj.owner_id else ""


def _company_name(obj) -> str:
    return obj.company.name if obj.company_id else ""


def _tags(obj) -> list[str]:
    return obj.tag_names


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, name)


def _attrs(*names: str) -> list[Col]:
    return [Col(n, n, _attr(n)) for n in names]


ADDRESS = ("street", "city", "region", "postal_code", "country")
OWNER_FIELDS = ("email", "full_name")  # its display name
TAIL = [
    Col("owner_email", "owner_email", _owner_email),
    Col("tags", "tags", _tags),
    Col("external_id", "external_id", _attr("external_id")),
    Col("created_at", "created_at", _attr("created_at")),
    Col("updated_at", "updated_at", _attr("updated_at")),
]


# --- contacts and companies ----------------------------------------------------------------------------


def _contact_model():
    from kith.contacts.models import Contact

    return Contact


def _company_model():
    from kith.contacts.models import Company

    return Company


def _contact_fs():
    from kith.contacts.filtersets import ContactFilterSet

    return ContactFilterSet


def _company_fs():
    from kith.contacts.filtersets import CompanyFilterSet

    return CompanyFilterSet


def _contact_spec():
    from kith.web.views_contacts import CONTACT_LIST

    return CONTACT_LIST


def _company_spec():
    from kith.web.views_companies import COMPANY_LIST

    return COMPANY_LIST


CONTACTS = Kind(
    name="contacts", noun="contact", noun_plural="contacts", object_type="contact",
    model=_contact_model, filterset=_contact_fs, list_spec=_contact_spec,
    shown={
        "Name": lambda c: str(c),
        "Email": _attr("email"),
        "Phone": _attr("phone"),
        "Company": _company_name,
        "Job title": _attr("job_title"),
        "Lifecycle stage": lambda c: c.get_lifecycle_stage_display(),
        "Owner": _owner_name,
        "Updated": _attr("updated_at"),
    },
    all=[
        Col("id", "id", _attr("pk")),
        *_attrs("first_name", "last_name", "email"),
        Col("additional_emails", "additional_emails", lambda c: list(c.additional_emails or [])),
        *_attrs("phone", "mobile", "job_title"),
        Col("company_name", "company_name", _company_name),
        Col("company_domain", "company_domain", lambda c: c.company.domain if c.company_id else ""),
        *_attrs("lifecycle_stage", "lead_source", *ADDRESS),
        *TAIL,
    ],
    select_related=("company", "owner"),
    related_fields={"company": ("name", "domain"), "owner": OWNER_FIELDS},
    formats=("csv", "xlsx", "vcf"),
)

COMPANIES = Kind(
    name="companies", noun="company", noun_plural="companies", object_type="company",
    model=_company_model, filterset=_company_fs, list_spec=_company_spec,
    shown={
        "Name": _attr("name"),
        "Domain": _attr("domain"),
        "Industry": _attr("industry"),
        "Employees": _attr("size"),
        "City": _attr("city"),
        "Owner": _owner_name,
        "Updated": _attr("updated_at"),
    },
    all=[
        Col("id", "id", _attr("pk")),
        *_attrs("name", "domain", "website", "industry", "size", "annual_revenue", "phone", *ADDRESS, "description"),
        *TAIL,
    ],
    select_related=("owner",),
    related_fields={"owner": OWNER_FIELDS},
)


# --- leads and deals -----------------------------------------------------------------------------------


def _lead_model():
    from kith.sales.models import Lead

    return Lead


def _deal_model():
    from kith.sales.models import Deal

    return Deal


def _lead_fs():
    from kith.sales.filtersets import LeadFilterSet

    return LeadFilterSet


def _deal_fs():
    from kith.sales.filtersets import DealFilterSet

    return DealFilterSet


def _lead_spec():
    from kith.sales.views.leads import LEAD_LIST

    return LEAD_LIST


def _deal_spec():
    from kith.sales.views.board import DEAL_LIST

    return DEAL_LIST


def _waiting(lead) -> str:
    """The list's "Waiting" cell in words: "Responded in 2 h", "Overdue 3 h 10 min", "Waiting 5 min"."""
    from kith.sales.models import SalesSettings
    from kith.sales.templatetags.leads_ui import waiting_state

    minutes = getattr(lead, "_first_response_minutes", None)
    if minutes is None:
        minutes = SalesSettings.get().first_response_minutes
    state = waiting_state(lead, minutes)
    prefix = {"responded": "Responded in", "overdue": "Overdue", "waiting": "Waiting"}.get(state["kind"])
    return f"{prefix} {state['text']}" if prefix else ""


def _lead_prepare(qs):
    # The first-response time decides "Overdue": read once, in the same query as the leads.
    from django.db.models import Subquery

    from kith.sales.models import SalesSettings

    minutes = SalesSettings.objects.filter(pk=1).values("first_response_minutes")[:1]
    return qs.annotate(_first_response_minutes=Subquery(minutes))


LEADS = Kind(
    name="leads", noun="lead", noun_plural="leads", object_type="lead",
    model=_lead_model, filterset=_lead_fs, list_spec=_lead_spec,
    shown={
        "Name": lambda x: str(x),
        "Email": _attr("email"),
        "Company": _attr("company_name"),
        "Source": _attr("source"),
        "Status": lambda x: x.get_status_display(),
        "Owner": _owner_name,
        "Created": _attr("created_at"),
        "Waiting": _waiting,
    },
    all=[
        Col("id", "id", _attr("pk")),
        *_attrs("first_name", "last_name", "email", "phone", "company_name", "title", "source", "status", "score",
                "notes", "country", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                "referrer", "landing_page", "first_response_at", "converted_at"),
        *TAIL,
    ],
    select_related=("owner",),
    related_fields={"owner": OWNER_FIELDS},
    prepare=_lead_prepare,
)


def _deal_contacts(deal) -> list[str]:
    links = sorted(deal.deal_contacts.all(), key=lambda dc: (not dc.is_primary, dc.pk))
    return [dc.contact.email or str(dc.contact) for dc in links]


def _deal_prepare(qs):
    from kith.sales.models import DealContact

    return qs.prefetch_related(Prefetch("deal_contacts", queryset=DealContact.objects.select_related("contact")))


DEALS = Kind(
    name="deals", noun="deal", noun_plural="deals", object_type="deal",
    model=_deal_model, filterset=_deal_fs, list_spec=_deal_spec,
    shown={
        "Name": _attr("name"),
        "Company": _company_name,
        "Amount": _attr("amount"),
        "Stage": lambda d: d.stage.name,
        "Expected close": _attr("expected_close_date"),
        "Owner": _owner_name,
        "Updated": _attr("updated_at"),
    },
    all=[
        Col("id", "id", _attr("pk")),
        *_attrs("name", "amount", "currency", "amount_default", "expected_close_date"),
        Col("pipeline", "pipeline", lambda d: d.pipeline.name),
        Col("stage", "stage", lambda d: d.stage.name),
        Col("stage_kind", "stage_kind", lambda d: d.stage.kind),
        Col("company_name", "company_name", _company_name),
        Col("contacts", "contacts", _deal_contacts),
        *_attrs("lost_reason", "next_step", "is_commit", "closed_at"),
        *TAIL,
    ],
    select_related=("company", "owner", "stage", "pipeline"),
    related_fields={"company": ("name",), "owner": OWNER_FIELDS, "stage": ("name", "kind"), "pipeline": ("name",)},
    prepare=_deal_prepare,
)

KINDS: dict[str, Kind] = {k.name: k for k in (CONTACTS, COMPANIES, LEADS, DEALS)}
FORMATS = {"csv": "CSV", "xlsx": "Excel (.xlsx)", "vcf": "vCard (.vcf)"}


def get(name: str) -> Kind | None:
    return KINDS.get(name)
