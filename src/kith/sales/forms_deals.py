"""Forms of the deal pages. They present and collect; kith.sales.services validates and writes.

DealForm reuses the record form machinery of kith.web.forms (service error mapping, the error summary,
the conflict report and the custom field controls), with the deal's own fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from kith.contacts.models import Contact
from kith.core import customfields
from kith.core.models import User
from kith.core.permissions import visible
from kith.web.forms import RecordForm, _text, company_choices, custom_form_field

from .choices import StageKind
from .models import ExchangeRate, Pipeline, Product, SalesSettings

COMMON_CURRENCIES = [
    "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "CNY", "INR", "SEK", "NOK", "DKK", "PLN", "CZK",
    "BRL", "MXN", "ZAR", "SGD", "HKD",
]
CONTACT_CHOICES_LIMIT = 30


def currency_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The default currency first, then those with an exchange rate, then common ISO codes."""
    default = SalesSettings.get().default_currency
    codes = [default]
    codes += [c for c in ExchangeRate.objects.values_list("currency", flat=True) if c not in codes]
    if current and current not in codes:
        codes.append(current)
    codes += [c for c in COMMON_CURRENCIES if c not in codes]
    return [(c, f"{c} (default)" if c == default else c) for c in codes]


class StageSelect(forms.Select):
    """A stage <select> whose options carry data-kind (open/won/lost), so the page can ask for a lost reason."""

    def __init__(self, *args, kinds: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        kind = self.kinds.get(str(value))
        if kind:
            option["attrs"]["data-kind"] = kind
        return option


def stage_choices(pipeline: Pipeline | None) -> tuple[list[tuple[str, str]], dict[str, str]]:
    if pipeline is None:
        return [], {}
    stages = list(pipeline.stages.order_by("position", "id"))
    choices = []
    for s in stages:
        label = s.name if s.kind == StageKind.OPEN else f"{s.name} ({s.get_kind_display().lower()})"
        choices.append((str(s.pk), f"{label} · {s.probability}%"))
    return choices, {str(s.pk): s.kind for s in stages}


def _pipeline_from(value: Any) -> Pipeline | None:
    if value not in (None, "") and str(value).isdigit():
        return Pipeline.objects.filter(pk=int(value)).first()
    return None


def _first_pipeline() -> Pipeline | None:
    from .services import ensure_default_pipeline

    return ensure_default_pipeline()


class DealForm(RecordForm):
    object_type = "deal"
    required_fields = {"name"}
    sections = [
        ("Deal", ["name", "amount", "currency", "expected_close_date", "pipeline_id", "stage_id", "lost_reason",
                  "next_step", "is_commit"]),
        ("Company and contacts", ["company_id", "contact_ids", "add_contact_id", "primary_contact_id"]),
        ("Ownership and tags", ["owner_id", "tags"]),
    ]

    name = _text("Name", autocomplete="off", placeholder="e.g. Acme — 50 seats")
    amount = _text("Amount", inputmode="decimal", placeholder="0.00", autocomplete="off")
    currency = forms.ChoiceField(label="Currency", choices=[])
    expected_close_date = forms.CharField(
        label="Expected close", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    pipeline_id = forms.ChoiceField(label="Pipeline", choices=[],
                                    error_messages={"invalid_choice": "Choose one of the pipelines."})
    stage_id = forms.ChoiceField(label="Stage", choices=[], widget=StageSelect(),
                                 error_messages={"invalid_choice": "Choose a stage of the selected pipeline.",
                                                 "required": "Choose a stage."})
    lost_reason = _text("Lost reason", help_text="Required when the stage is a lost stage.", max_length=300)
    next_step = _text("Next step", placeholder="e.g. Send the proposal by Friday", max_length=300)
    is_commit = forms.BooleanField(label="Commit: I expect to close it in its period", required=False)
    company_id = forms.CharField(label="Company", required=False, widget=forms.Select())
    contact_ids = forms.MultipleChoiceField(label="Contacts", required=False, choices=[],
                                            widget=forms.CheckboxSelectMultiple)
    add_contact_id = forms.CharField(label="Add a contact", required=False, widget=forms.Select(),
                                     help_text="Search by name or email; it is added when you save.")
    primary_contact_id = forms.ChoiceField(label="Primary contact", required=False, choices=[])
    owner_id = forms.CharField(label="Owner", required=False, widget=forms.Select())
    tags = _text("Tags", help_text="Separate several with commas.")

    def __init__(self, *args, user, instance=None, **kwargs):
        # RecordForm.__init__ sets up address controls deals do not have: build the form here instead.
        self.user = user
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        forms.Form.__init__(self, *args, **kwargs)
        self.fields["owner_id"].widget.choices = [("", "No owner")] + [
            (str(u.pk), u.display_name) for u in User.objects.filter(is_active=True).order_by("full_name", "email")
        ]
        self.custom_defs = customfields.definitions(self.object_type)
        for cf in self.custom_defs:
            field = custom_form_field(cf)
            if cf.required:
                field.kith_required = True
                if not isinstance(field.widget, forms.CheckboxSelectMultiple):
                    field.widget.attrs["aria-required"] = "true"
            self.fields[f"cf_{cf.key}"] = field
        for name in self.required_fields:
            self.fields[name].kith_required = True
            self.fields[name].widget.attrs["aria-required"] = "true"

        current_currency = self._value("currency") or (instance.currency if instance else None)
        self.fields["currency"].choices = currency_choices(current_currency)
        if not self._value("currency"):
            self.initial.setdefault("currency", SalesSettings.get().default_currency)

        pipelines = list(Pipeline.objects.order_by("position", "id")) or [_first_pipeline()]
        self.fields["pipeline_id"].choices = [(str(p.pk), p.name) for p in pipelines]
        pipeline = _pipeline_from(self._value("pipeline_id")) or pipelines[0]
        if pipeline is not None and not self._value("pipeline_id"):
            self.initial["pipeline_id"] = str(pipeline.pk)
        self.pipeline = pipeline
        choices, kinds = stage_choices(pipeline)
        self.fields["stage_id"].widget = StageSelect(kinds=kinds)
        self.fields["stage_id"].choices = choices  # after the widget: the field passes them on to it
        self.fields["stage_id"].widget.attrs.update({"data-stage-select": ""})
        self.fields["pipeline_id"].widget.attrs.update({
            "data-pipeline-select": "", "hx-get": _url("web:deal_stage_options"), "hx-trigger": "change",
            "hx-target": "#id_stage_id", "hx-swap": "outerHTML",
        })
        self.fields["lost_reason"].widget.attrs.update({"data-lost-reason": ""})
        if not self.is_bound and self.initial.get("stage_id") not in kinds:
            self.initial["stage_id"] = next((k for k, v in kinds.items() if v == StageKind.OPEN), "")

        if instance is not None and instance.pk and instance.line_items.exists():
            self.fields["amount"].disabled = True
            self.fields["amount"].help_text = "The total of the line items below the deal; change those instead."
            self.has_line_items = True
        else:
            self.has_line_items = False

        selected_company = self._value("company_id")
        self.fields["company_id"].widget.choices = company_choices(self.user, selected_company)
        self.fields["company_id"].widget.attrs["data-combobox"] = ""

        # Contacts: those linked or chosen, plus the company's people, as tick boxes.
        contacts = self._contact_options(selected_company)
        self.fields["contact_ids"].choices = contacts
        if not contacts:
            self.fields["contact_ids"].help_text = "None yet: choose a company to tick its people, or add a contact."
        self.fields["primary_contact_id"].choices = [("", "The first contact"), *contacts]
        add_value = self._value("add_contact_id")
        add_choices = [("", "No contact")]
        if add_value and str(add_value).isdigit():
            found = visible(Contact, self.user).filter(pk=int(add_value)).first()
            if found is not None:
                add_choices.append((str(found.pk), str(found)))
        self.fields["add_contact_id"].widget.choices = add_choices
        self.fields["add_contact_id"].widget.attrs.update({
            "data-combobox": "", "data-lookup": _url("web:deal_contact_lookup"), "data-placeholder": "Search contacts…",
        })

    # -- helpers --

    def _value(self, name: str) -> Any:
        if self.is_bound:
            if name == "contact_ids":
                return self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name, [])
            return self.data.get(name)
        return self.initial.get(name)

    def _contact_options(self, company_id: Any) -> list[tuple[str, str]]:
        wanted = [str(v) for v in (self._value("contact_ids") or []) if str(v).isdigit()]
        for extra in (self._value("primary_contact_id"), self._value("add_contact_id")):
            if extra and str(extra).isdigit() and str(extra) not in wanted:
                wanted.append(str(extra))
        qs = visible(Contact, self.user)
        chosen = {str(c.pk): c for c in qs.filter(pk__in=[int(w) for w in wanted])}
        options = [(w, str(chosen[w])) for w in wanted if w in chosen]
        if company_id and str(company_id).isdigit():
            for c in qs.filter(company_id=int(company_id)).order_by("full_name", "id")[:CONTACT_CHOICES_LIMIT]:
                if str(c.pk) not in chosen:
                    options.append((str(c.pk), str(c)))
        return options

    def stage_kind(self) -> str:
        value = str(self._value("stage_id") or "")
        return self.fields["stage_id"].widget.kinds.get(value, "")

    # -- initial values --

    def initial_from(self, obj) -> dict[str, Any]:
        links = list(obj.deal_contacts.select_related("contact").order_by("-is_primary", "id")) if obj.pk else []
        primary = next((str(link.contact_id) for link in links if link.is_primary), "")
        initial = {
            "version": obj.version,
            "name": obj.name,
            "amount": str(obj.amount) if obj.amount is not None else "",
            "currency": obj.currency,
            "expected_close_date": obj.expected_close_date.isoformat() if obj.expected_close_date else "",
            "pipeline_id": str(obj.pipeline_id or ""),
            "stage_id": str(obj.stage_id or ""),
            "lost_reason": obj.lost_reason,
            "next_step": obj.next_step,
            "is_commit": obj.is_commit,
            "company_id": str(obj.company_id or ""),
            "contact_ids": [str(link.contact_id) for link in links],
            "primary_contact_id": primary,
            "owner_id": str(obj.owner_id or ""),
            "tags": ", ".join(obj.tag_names) if obj.pk else "",
        }
        for key, value in (obj.custom_fields or {}).items():
            initial[f"cf_{key}"] = value
        return initial

    # -- data for the service --

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        data: dict[str, Any] = {
            "name": cd.get("name", ""),
            "currency": cd.get("currency", ""),
            "expected_close_date": cd.get("expected_close_date", ""),
            "pipeline_id": cd.get("pipeline_id", ""),
            "stage_id": cd.get("stage_id", ""),
            "next_step": cd.get("next_step", ""),
            "is_commit": bool(cd.get("is_commit")),
            "company_id": cd.get("company_id", ""),
            "owner_id": cd.get("owner_id", ""),
            "tags": cd.get("tags", ""),
        }
        if not self.has_line_items:
            data["amount"] = cd.get("amount") or "0"
        kind = self.stage_kind()
        if kind == StageKind.LOST or cd.get("lost_reason"):
            data["lost_reason"] = cd.get("lost_reason", "") if kind == StageKind.LOST else ""
        ids = [i for i in (cd.get("contact_ids") or []) if str(i).isdigit()]
        added = cd.get("add_contact_id") or ""
        if str(added).isdigit() and added not in ids:
            ids.append(added)
        primary = cd.get("primary_contact_id") or ""
        if primary and primary not in ids:
            primary = ""
        data["contact_ids"] = ids
        data["primary_contact_id"] = primary or None
        cf_values: dict[str, Any] = {}
        for cf in self.custom_defs:
            value = cd.get(f"cf_{cf.key}")
            if cf.field_type == "boolean":
                value = True if value else (False if cf.required else None)
            elif cf.field_type == "multiselect":
                value = list(value or [])
            cf_values[cf.key] = value
        if cf_values:
            data["custom_fields"] = cf_values
        return data


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


# --- line items ---------------------------------------------------------------------------------------

LINE_KEYS = ("product_id", "name", "quantity", "unit_price", "discount_pct")


def product_choices(currency: str | None = None) -> list[tuple[str, str]]:
    out = [("", "Free line (no product)")]
    for p in Product.objects.filter(active=True).order_by("name", "id")[:500]:
        price = f"{p.currency} {p.unit_price:,.2f}"
        out.append((str(p.pk), f"{p} — {price}"))
    return out


def line_rows_from_post(post) -> list[dict[str, str]]:
    """The editor's rows as typed: line-<i>-<key>; a row with remove ticked is dropped."""
    try:
        count = min(int(post.get("line-count", "0")), 200)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        if post.get(f"line-{i}-remove"):
            continue
        rows.append({k: (post.get(f"line-{i}-{k}") or "").strip() for k in LINE_KEYS})
    return rows


def line_rows_from_items(items) -> list[dict[str, str]]:
    return [
        {
            "product_id": str(li.product_id or ""),
            "name": li.name,
            "quantity": _plain_decimal(li.quantity),
            "unit_price": str(li.unit_price),
            "discount_pct": _plain_decimal(li.discount_pct),
        }
        for li in items
    ]


def _plain_decimal(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def is_blank(row: dict[str, str]) -> bool:
    return not (row.get("product_id") or row.get("name") or row.get("unit_price"))


def service_items(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows to set_line_items' items, skipping blank rows; with the row index of each item."""
    items, index = [], []
    for i, row in enumerate(rows):
        if is_blank(row):
            continue
        item: dict[str, Any] = {}
        for key in LINE_KEYS:
            if row.get(key):
                item[key] = row[key]
        items.append(item)
        index.append(i)
    return items, index
