"""Forms of the web UI. They present and collect; the services validate and write.

A record form's data goes to kith.contacts.services as a plain dict. The service's ValidationError
(message_dict keyed by field, custom fields as "custom_fields.<key>") is mapped back onto these
fields with apply_service_errors(), so every message shows next to its control.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from kith.contacts.choices import LifecycleStage
from kith.contacts.models import Company, Contact
from kith.core import customfields
from kith.core.countries import countries
from kith.core.models import CustomField, User
from kith.core.permissions import visible

COMPANY_CHOICES_LIMIT = 100


class LoginForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def _text(label: str, *, widget=None, help_text: str = "", max_length: int | None = None, **attrs) -> forms.CharField:
    widget = widget or forms.TextInput()
    widget.attrs.update(attrs)
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text, max_length=max_length)


def custom_form_field(cf: CustomField) -> forms.Field:
    label = cf.label
    t = cf.field_type
    common: dict[str, Any] = {"label": label, "required": False, "help_text": cf.help_text}
    if t == "number":
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if t == "currency":
        if cf.currency:
            common["label"] = f"{label} ({cf.currency})"
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if t == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if t == "boolean":
        return forms.BooleanField(**common)
    if t == "select":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in cf.choices]], **common)
    if t == "multiselect":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in cf.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if t == "url":
        return forms.CharField(widget=forms.URLInput(attrs={"placeholder": "https://"}), **common)
    if t == "email":
        return forms.CharField(widget=forms.EmailInput(), **common)
    return forms.CharField(widget=forms.TextInput(), **common)


class RecordForm(forms.Form):
    """Shared parts of the contact and company forms: owner, tags, address, custom fields, version."""

    object_type = ""
    sections: list[tuple[str, list[str]]] = []
    required_fields: set[str] = set()

    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user = user
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        owners = [("", "No owner")] + [
            (str(u.pk), u.display_name) for u in User.objects.filter(is_active=True).order_by("full_name", "email")
        ]
        owner = getattr(instance, "owner", None)
        if owner is not None and not owner.is_active:
            owners.append((str(owner.pk), f"{owner.display_name} (deactivated)"))
        self.fields["owner_id"].widget.choices = owners
        self.fields["country"].widget.choices = [("", "—"), *countries()]
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

    # -- initial values --

    def initial_from(self, obj) -> dict[str, Any]:
        initial = {
            "version": obj.version,
            "owner_id": str(obj.owner_id or ""),
            "tags": ", ".join(obj.tag_names),
            "street": obj.street,
            "city": obj.city,
            "region": obj.region,
            "postal_code": obj.postal_code,
            "country": obj.country,
        }
        for key, value in (obj.custom_fields or {}).items():
            initial[f"cf_{key}"] = value
        return initial

    # -- data for the service --

    def base_data(self, cd: dict[str, Any]) -> dict[str, Any]:
        return {}

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        data = self.base_data(cd)
        for name in ("street", "city", "region", "postal_code", "country", "owner_id", "tags"):
            data[name] = cd.get(name, "")
        cf_values: dict[str, Any] = {}
        for cf in self.custom_defs:
            value = cd.get(f"cf_{cf.key}")
            if cf.field_type == "boolean":
                # Unticked means "no": stored as nothing, unless the field is required (then an explicit False).
                value = True if value else (False if cf.required else None)
            elif cf.field_type == "multiselect":
                value = list(value or [])
            cf_values[cf.key] = value
        if cf_values:
            data["custom_fields"] = cf_values
        if self.instance is not None:
            # Links left as they were are not sent: a deactivated owner or a trashed company stays linked
            # instead of failing validation on an unrelated edit.
            for name in ("owner_id", "company_id"):
                current = getattr(self.instance, name, None)
                if name in data and str(data[name] or "") == str(current or ""):
                    del data[name]
        return data

    def expected_version(self) -> int | None:
        value = (self.cleaned_data.get("version") or "").strip()
        return int(value) if value.isdigit() else None

    # -- errors from the service --

    def apply_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            name = key
            if key.startswith("custom_fields."):
                name = "cf_" + key.split(".", 1)[1]
            for message in messages:
                if name in self.fields and name != "version":
                    self.add_error(name, message)
                elif key == "__all__":
                    self.add_error(None, message)
                else:
                    self.add_error(None, f"{key.replace('_', ' ').capitalize()}: {message}")

    def error_summary(self) -> list[dict[str, str]]:
        """[{"label", "message", "anchor"}] for the summary at the top of the form."""
        out = []
        for message in self.non_field_errors():
            out.append({"label": "", "message": message, "anchor": ""})
        for name, errors in self.errors.items():
            if name == "__all__" or name not in self.fields:
                continue
            bf = self[name]
            anchor = bf.id_for_label or bf.auto_id
            if isinstance(bf.field.widget, forms.CheckboxSelectMultiple):
                anchor = f"{bf.auto_id}_0"
            for message in errors:
                out.append({"label": str(bf.label), "message": message, "anchor": anchor})
        return out

    # -- layout --

    def layout(self) -> list[dict[str, Any]]:
        out = []
        for title, names in self.sections:
            out.append({"title": title, "fields": [self[n] for n in names if n in self.fields]})
        if self.custom_defs:
            out.append({"title": "Custom fields", "fields": [self[f"cf_{cf.key}"] for cf in self.custom_defs]})
        return out

    def changed_values(self) -> list[dict[str, str]]:
        """What the user typed that differs from the record as it is now (shown after a conflict)."""
        out = []
        if not self.is_bound:
            return out
        current = self.initial_from(self.instance) if self.instance is not None else {}
        for name, field in self.fields.items():
            if name == "version":
                continue
            typed = self.data.getlist(name) if isinstance(field, forms.MultipleChoiceField) else self.data.get(name, "")
            now = current.get(name, "")
            if isinstance(field, forms.BooleanField):
                typed_b, now_b = bool(typed), bool(now)
                if typed_b != now_b:
                    out.append({"label": str(field.label), "value": "Yes" if typed_b else "No"})
                continue
            if isinstance(typed, list):
                if sorted(typed) != sorted(now or []):
                    out.append({"label": str(field.label), "value": ", ".join(typed)})
                continue
            if str(typed or "").strip() != str(now if now is not None else "").strip():
                shown = typed
                choices = getattr(field.widget, "choices", None)
                if choices:
                    shown = {str(k): str(v) for k, v in choices}.get(str(typed), typed)
                out.append({"label": str(field.label), "value": shown or "(empty)"})
        return out


def company_choices(user, selected_id: Any = None) -> list[tuple[str, str]]:
    """The first companies by name plus the selected one; the combobox in kith.js searches the rest."""
    qs = visible(Company, user).order_by("name", "id").only("id", "name")
    choices = [(str(c.pk), c.name) for c in qs[:COMPANY_CHOICES_LIMIT]]
    if selected_id and str(selected_id).isdigit() and str(selected_id) not in {k for k, _ in choices}:
        selected = Company.all_objects.filter(pk=int(selected_id)).only("id", "name").first()
        if selected is not None:
            choices.insert(0, (str(selected.pk), selected.name))
    return [("", "No company"), *choices]


class ContactForm(RecordForm):
    object_type = "contact"
    sections = [
        ("Person", ["first_name", "last_name", "job_title", "company_id", "lifecycle_stage", "lead_source"]),
        ("Contact details", ["email", "additional_emails", "phone", "mobile"]),
        ("Address", ["street", "postal_code", "city", "region", "country"]),
        ("Ownership and tags", ["owner_id", "tags"]),
    ]

    first_name = _text("First name", autocomplete="off")
    last_name = _text("Last name", autocomplete="off")
    email = _text("Email", widget=forms.EmailInput(), autocomplete="off")
    additional_emails = _text("Additional emails", help_text="Separate several with commas.")
    phone = _text("Phone", widget=forms.TextInput(attrs={"type": "tel"}),
                  help_text="With +country code, or a number of your default region.")
    mobile = _text("Mobile", widget=forms.TextInput(attrs={"type": "tel"}))
    job_title = _text("Job title")
    company_id = forms.CharField(label="Company", required=False, widget=forms.Select())
    lifecycle_stage = forms.ChoiceField(label="Lifecycle stage", choices=LifecycleStage.choices,
                                        initial=LifecycleStage.LEAD)
    lead_source = _text("Lead source", placeholder="e.g. Website, Referral, Event")
    street = _text("Street")
    city = _text("City")
    region = _text("Region / state")
    postal_code = _text("Postal code")
    country = forms.CharField(label="Country", required=False, widget=forms.Select())
    owner_id = forms.CharField(label="Owner", required=False, widget=forms.Select())
    tags = _text("Tags", help_text="Separate several with commas.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        selected = self.data.get("company_id") if self.is_bound else self.initial.get("company_id")
        self.fields["company_id"].widget.choices = company_choices(self.user, selected)
        self.fields["company_id"].widget.attrs["data-combobox"] = ""

    def initial_from(self, obj: Contact) -> dict[str, Any]:
        initial = super().initial_from(obj)
        initial.update({
            "first_name": obj.first_name,
            "last_name": obj.last_name,
            "email": obj.email,
            "additional_emails": ", ".join(obj.additional_emails or []),
            "phone": obj.phone,
            "mobile": obj.mobile,
            "job_title": obj.job_title,
            "company_id": str(obj.company_id or ""),
            "lifecycle_stage": obj.lifecycle_stage,
            "lead_source": obj.lead_source,
        })
        return initial

    def base_data(self, cd: dict[str, Any]) -> dict[str, Any]:
        names = ["first_name", "last_name", "email", "additional_emails", "phone", "mobile", "job_title",
                 "company_id", "lifecycle_stage", "lead_source"]
        return {n: cd.get(n, "") for n in names}


class CompanyForm(RecordForm):
    object_type = "company"
    required_fields = {"name"}
    sections = [
        ("Company", ["name", "domain", "website", "industry", "size", "annual_revenue", "phone"]),
        ("Address", ["street", "postal_code", "city", "region", "country"]),
        ("About", ["description"]),
        ("Ownership and tags", ["owner_id", "tags"]),
    ]

    name = _text("Name", autocomplete="off")
    domain = _text("Domain", placeholder="example.com", autocomplete="off")
    website = _text("Website", widget=forms.URLInput(), placeholder="https://")
    industry = _text("Industry")
    size = _text("Employees", widget=forms.NumberInput(attrs={"min": "0", "step": "1"}))
    annual_revenue = _text("Annual revenue", inputmode="decimal")
    phone = _text("Phone", widget=forms.TextInput(attrs={"type": "tel"}))
    street = _text("Street")
    city = _text("City")
    region = _text("Region / state")
    postal_code = _text("Postal code")
    country = forms.CharField(label="Country", required=False, widget=forms.Select())
    description = _text("Description", widget=forms.Textarea(attrs={"rows": 4}))
    owner_id = forms.CharField(label="Owner", required=False, widget=forms.Select())
    tags = _text("Tags", help_text="Separate several with commas.")

    def initial_from(self, obj: Company) -> dict[str, Any]:
        initial = super().initial_from(obj)
        initial.update({
            "name": obj.name,
            "domain": obj.domain,
            "website": obj.website,
            "industry": obj.industry,
            "size": "" if obj.size is None else str(obj.size),
            "annual_revenue": "" if obj.annual_revenue is None else str(obj.annual_revenue),
            "phone": obj.phone,
            "description": obj.description,
        })
        return initial

    def base_data(self, cd: dict[str, Any]) -> dict[str, Any]:
        names = ["name", "domain", "website", "industry", "size", "annual_revenue", "phone", "description"]
        return {n: cd.get(n, "") for n in names}
