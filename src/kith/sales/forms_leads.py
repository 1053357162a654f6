"""Forms of the lead pages, the web form builder and the assignment settings.

They present and collect; kith.sales.services validates and writes. Service errors (message_dict keyed by
field, nested like "deal.amount" or "conditions.0.value") are mapped back next to the controls.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from kith.core.models import User
from kith.web.forms import RecordForm, _text, company_choices

from .choices import LeadStatus
from .models import AssignmentRule, ExchangeRate, LeadForm, Pipeline, SalesSettings, Team
from .services.assignment import CONDITION_FIELDS, OPS
from .services.webforms import FORM_FIELDS

AUTO = "auto"
COMMON_CURRENCIES = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "INR", "SEK", "NOK", "DKK", "PLN", "BRL"]


def active_users() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("full_name", "email"))


class ErrorMappingMixin:
    """add_service_errors(exc, mapping) and an error summary like the record forms'."""

    def map_key(self, key: str) -> str | None:
        return key if key in self.fields else None

    def apply_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            name = self.map_key(key)
            for message in messages:
                if name and name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, message)

    def error_summary(self) -> list[dict[str, str]]:
        out = [{"label": "", "message": m, "anchor": ""} for m in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__" or name not in self.fields:
                continue
            bf = self[name]
            anchor = bf.id_for_label or bf.auto_id
            if isinstance(bf.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                anchor = f"{bf.auto_id}_0"
            for message in errors:
                out.append({"label": str(bf.label), "message": message, "anchor": anchor})
        return out


# --- the lead record form ---------------------------------------------------------------------------------


class LeadRecordForm(RecordForm):
    object_type = "lead"
    sections = [
        ("Person", ["first_name", "last_name", "title", "company_name"]),
        ("Contact details", ["email", "phone", "country"]),
        ("Qualification", ["status", "source", "score", "owner_id", "tags"]),
        ("Campaign", ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]),
        ("Notes", ["notes"]),
    ]
    TEXT_FIELDS = ["first_name", "last_name", "title", "company_name", "email", "phone", "country", "source",
                   "score", "notes", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]

    first_name = _text("First name", autocomplete="off")
    last_name = _text("Last name", autocomplete="off")
    title = _text("Job title")
    company_name = _text("Company", help_text="As the lead gave it; linked to a company record on conversion.")
    email = _text("Email", widget=forms.EmailInput(), autocomplete="off")
    phone = _text("Phone", widget=forms.TextInput(attrs={"type": "tel"}),
                  help_text="With +country code, or a number of your default region.")
    country = forms.CharField(label="Country", required=False, widget=forms.Select())
    status = forms.ChoiceField(label="Status", choices=[], required=False)
    source = _text("Source", placeholder="e.g. Website, Event, Referral")
    score = _text("Score", widget=forms.NumberInput(attrs={"min": "-1000", "max": "1000", "step": "1"}),
                  help_text="A whole number from -1000 to 1000.")
    owner_id = forms.CharField(label="Owner", required=False, widget=forms.Select())
    tags = _text("Tags", help_text="Separate several with commas.")
    utm_source = _text("UTM source")
    utm_medium = _text("UTM medium")
    utm_campaign = _text("UTM campaign")
    utm_term = _text("UTM term")
    utm_content = _text("UTM content")
    notes = _text("Notes", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        converted = self.instance is not None and self.instance.status == LeadStatus.CONVERTED
        if converted:
            status.choices = [(LeadStatus.CONVERTED.value, LeadStatus.CONVERTED.label)]
            status.disabled = True
            status.help_text = "A converted lead keeps its status."
        else:
            status.choices = [(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED]
            status.help_text = "Changing it from New records the first response."
        status.initial = self.initial.get("status") or LeadStatus.NEW
        if self.instance is None:
            owner = self.fields["owner_id"]
            owner.widget.choices = [(AUTO, "Assign by the assignment rules"), *owner.widget.choices]
            owner.initial = AUTO
            owner.help_text = "Rules choose an owner (and notify them) unless you pick one."

    def initial_from(self, obj) -> dict[str, Any]:
        initial = {name: getattr(obj, name) for name in self.TEXT_FIELDS}
        initial["score"] = "" if obj.score is None else str(obj.score)
        initial.update({
            "version": obj.version,
            "status": obj.status,
            "owner_id": str(obj.owner_id or ""),
            "tags": ", ".join(obj.tag_names),
        })
        for key, value in (obj.custom_fields or {}).items():
            initial[f"cf_{key}"] = value
        return initial

    def base_data(self, cd: dict[str, Any]) -> dict[str, Any]:
        data = {name: cd.get(name, "") for name in self.TEXT_FIELDS}
        if not self.fields["status"].disabled:
            data["status"] = cd.get("status") or LeadStatus.NEW
        return data

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        for name in ("street", "city", "region", "postal_code"):
            data.pop(name, None)
        if self.instance is None and data.get("owner_id") == AUTO:
            data.pop("owner_id")
        return data


# --- convert ----------------------------------------------------------------------------------------------


def currency_choices() -> list[tuple[str, str]]:
    default = SalesSettings.get().default_currency
    codes = [default, *ExchangeRate.objects.values_list("currency", flat=True)]
    codes += COMMON_CURRENCIES
    codes = list(dict.fromkeys(codes))
    return [(c, f"{c} (default)" if c == default else c) for c in codes]


def stage_choices() -> list[tuple[str, Any]]:
    groups: list[tuple[str, Any]] = [("", "First open stage")]
    for pipeline in Pipeline.objects.prefetch_related("stages").order_by("position", "id"):
        stages = [(str(s.pk), s.name) for s in pipeline.stages.all() if s.kind == "open"]
        if stages:
            groups.append((pipeline.name, stages))
    return groups


DEAL_KEYS = {"name", "amount", "currency", "pipeline_id", "stage_id", "expected_close_date"}


class ConvertForm(ErrorMappingMixin, forms.Form):
    contact_mode = forms.ChoiceField(label="Contact", widget=forms.RadioSelect)
    company_mode = forms.ChoiceField(label="Company", widget=forms.RadioSelect)
    company_id = forms.CharField(label="Choose a company", required=False, widget=forms.Select())
    create_deal = forms.BooleanField(label="Also create a deal", required=False)
    deal_name = _text("Deal name")
    deal_amount = _text("Amount", inputmode="decimal", placeholder="0.00")
    deal_currency = forms.ChoiceField(label="Currency", choices=[], required=False)
    deal_pipeline_id = forms.ChoiceField(label="Pipeline", choices=[], required=False)
    deal_stage_id = forms.ChoiceField(label="Stage", choices=[], required=False)
    deal_expected_close_date = forms.CharField(label="Expected close", required=False,
                                               widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, lead, suggestions, user, **kwargs):
        self.lead = lead
        self.suggestions = suggestions
        contact, company = suggestions.get("contact"), suggestions.get("company")
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("contact_mode", "existing" if contact else "new")
        if company:
            initial.setdefault("company_mode", "existing")
        else:
            initial.setdefault("company_mode", "new" if lead.company_name else "none")
        initial.setdefault("deal_name", f"{lead.company_name or lead} deal")
        initial.setdefault("deal_currency", SalesSettings.get().default_currency)
        super().__init__(*args, **kwargs)
        contact_choices = []
        if contact:
            detail = f" ({contact.email})" if contact.email else ""
            contact_choices.append(("existing", f"Link to the existing contact {contact}{detail}"))
        contact_choices.append(("new", f"Create a new contact “{lead}”"))
        self.fields["contact_mode"].choices = contact_choices
        company_choices_ = []
        if company:
            company_choices_.append(("existing", f"Link to the existing company {company}"))
        if lead.company_name:
            company_choices_.append(("new", f"Create a new company “{lead.company_name}”"))
        company_choices_ += [("other", "Link to another company"), ("none", "No company")]
        self.fields["company_mode"].choices = company_choices_
        selected = self.data.get("company_id") if self.is_bound else None
        self.fields["company_id"].widget.choices = company_choices(user, selected)
        self.fields["company_id"].widget.attrs.update({"data-combobox": "", "data-lookup": reverse("web:company_lookup")})
        self.fields["deal_currency"].choices = currency_choices()
        pipelines = list(Pipeline.objects.order_by("position", "id"))
        if pipelines:
            self.fields["deal_pipeline_id"].choices = [(str(p.pk), p.name) for p in pipelines]
        else:
            self.fields["deal_pipeline_id"].choices = [("", "New business (created with this deal)")]
        self.fields["deal_stage_id"].choices = stage_choices()
        self.fields["deal_stage_id"].help_text = "Leave as is to start in the pipeline's first stage."

    def clean(self):
        cd = super().clean()
        if cd.get("company_mode") == "other" and not cd.get("company_id"):
            self.add_error("company_id", "Choose the company to link to.")
        if cd.get("create_deal") and not (cd.get("deal_name") or "").strip():
            self.add_error("deal_name", "A deal needs a name.")
        return cd

    def convert_kwargs(self) -> dict[str, Any]:
        cd = self.cleaned_data
        kwargs: dict[str, Any] = {}
        contact, company = self.suggestions.get("contact"), self.suggestions.get("company")
        if cd["contact_mode"] == "existing" and contact:
            kwargs["contact_id"] = contact.pk
        mode = cd["company_mode"]
        if mode == "existing" and company:
            kwargs["company_id"] = company.pk
        elif mode == "other":
            kwargs["company_id"] = cd.get("company_id")
        kwargs["create_company"] = mode == "new"
        if cd.get("create_deal"):
            kwargs["deal"] = {
                "name": cd.get("deal_name", ""),
                "amount": cd.get("deal_amount") or "0",
                "currency": cd.get("deal_currency") or "",
                "pipeline_id": cd.get("deal_pipeline_id") or None,
                "stage_id": cd.get("deal_stage_id") or None,
                "expected_close_date": cd.get("deal_expected_close_date") or None,
            }
        return kwargs

    def map_key(self, key: str) -> str | None:
        if key.startswith("deal."):
            rest = key.split(".", 1)[1]
            return f"deal_{rest}" if rest in DEAL_KEYS else "create_deal"
        if key.startswith("contact.") or key == "contact_id":
            return "contact_mode"
        if key.startswith("company.") or key == "company_id":
            return "company_id" if self.cleaned_data.get("company_mode") == "other" else "company_mode"
        return None

    def deal_fields(self):
        return [self[n] for n in ("deal_name", "deal_amount", "deal_currency", "deal_pipeline_id", "deal_stage_id",
                                  "deal_expected_close_date")]


# --- web form builder ---------------------------------------------------------------------------------------


class WebFormForm(ErrorMappingMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False,
                           help_text="For you; visitors see the field labels, not this name.")
    slug = forms.CharField(label="Web address", max_length=60, required=False,
                           help_text="The form lives at /f/<this>. Letters, digits and hyphens; "
                                     "left empty, it is made from the name.")
    source = forms.CharField(label="Lead source", max_length=100, required=False, initial="Web form",
                             help_text="Stored on every lead from this form.")
    active = forms.BooleanField(label="Accepting submissions", required=False, initial=True)
    consent_text = forms.CharField(label="Consent checkbox text", max_length=500, required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text="Optional. When set, visitors must tick a box with this text; "
                                             "the text and the time are kept on the lead.")
    redirect_url = forms.CharField(label="After sending, go to", max_length=500, required=False,
                                   widget=forms.URLInput(attrs={"placeholder": "https://example.com/thanks"}),
                                   help_text="Optional. Without it, the thank-you message is shown.")
    thank_you_text = forms.CharField(label="Thank-you message", max_length=500, required=False,
                                     initial="Thank you! We will be in touch soon.",
                                     widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, instance: LeadForm | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name, "slug": instance.slug, "source": instance.source, "active": instance.active,
                "consent_text": instance.consent_text, "redirect_url": instance.redirect_url,
                "thank_you_text": instance.thank_you_text,
            }
        super().__init__(*args, **kwargs)
        chosen = {f["field"]: (i, f) for i, f in enumerate(instance.fields)} if instance else {
            "first_name": (0, {"label": "First name", "required": True}),
            "last_name": (1, {"label": "Last name", "required": False}),
            "email": (2, {"label": "Email", "required": True}),
            "company_name": (3, {"label": "Company", "required": False}),
            "notes": (4, {"label": "Message", "required": False}),
        }
        self.field_names = list(FORM_FIELDS)
        # Chosen fields first, in their order, then the rest.
        self.field_names.sort(key=lambda n: (chosen[n][0] if n in chosen else 100 + list(FORM_FIELDS).index(n)))
        for n in self.field_names:
            default_label = FORM_FIELDS[n]
            pos, conf = chosen.get(n, (None, {}))
            self.fields[f"use_{n}"] = forms.BooleanField(label=f"Ask for {default_label.lower()}", required=False,
                                                         initial=n in chosen)
            self.fields[f"label_{n}"] = forms.CharField(label=f"Label of {default_label.lower()}", required=False,
                                                        max_length=100, initial=conf.get("label") or default_label)
            self.fields[f"required_{n}"] = forms.BooleanField(label=f"{default_label} required", required=False,
                                                              initial=bool(conf.get("required")))
            self.fields[f"order_{n}"] = forms.IntegerField(
                label=f"Position of {default_label.lower()}", required=False, min_value=1, max_value=99,
                initial=(pos + 1) if pos is not None else None,
                widget=forms.NumberInput(attrs={"class": "input-order"}))

    def field_rows(self) -> list[dict[str, Any]]:
        return [{"name": n, "default_label": FORM_FIELDS[n], "use": self[f"use_{n}"], "label": self[f"label_{n}"],
                 "required": self[f"required_{n}"], "order": self[f"order_{n}"]} for n in self.field_names]

    def _chosen_fields(self) -> list[dict[str, Any]]:
        cd = self.cleaned_data
        rows = []
        for i, n in enumerate(self.field_names):
            if cd.get(f"use_{n}"):
                order = cd.get(f"order_{n}")
                rows.append((order if order is not None else 1000 + i, i, n))
        rows.sort()
        return [{"field": n, "label": cd.get(f"label_{n}") or FORM_FIELDS[n], "required": bool(cd.get(f"required_{n}"))}
                for _, _, n in rows]

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        data = {k: cd.get(k) for k in ("name", "slug", "source", "active", "consent_text", "redirect_url",
                                        "thank_you_text")}
        data["fields"] = self._chosen_fields()
        self._sent_fields = data["fields"]
        return data

    def map_key(self, key: str) -> str | None:
        parts = key.split(".")
        if parts[0] == "fields" and len(parts) == 3:
            try:
                name = self._sent_fields[int(parts[1])]["field"]
            except (AttributeError, IndexError, ValueError, KeyError):
                return None
            return f"label_{name}" if parts[2] == "label" else f"use_{name}"
        return key if key in self.fields else None


# --- assignment rules and teams ---------------------------------------------------------------------------

BLANK_CONDITIONS = 2


class RuleForm(ErrorMappingMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False)
    target = forms.ChoiceField(label="Assign to", required=False,
                               help_text="A person, or a team: its active members take turns (round-robin).")
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, instance: AssignmentRule | None = None, **kwargs):
        self.instance = instance
        conditions = list(instance.conditions) if instance else []
        if instance is not None and "initial" not in kwargs:
            target = f"u:{instance.user_id}" if instance.user_id else (f"t:{instance.team_id}" if instance.team_id else "")
            kwargs["initial"] = {"name": instance.name, "active": instance.active, "target": target}
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            ("", "Choose…"),
            ("People", [(f"u:{u.pk}", u.display_name) for u in active_users()]),
            ("Teams (round-robin)", [(f"t:{t.pk}", t.name) for t in Team.objects.order_by("name")]),
        ]
        count = len(conditions) + BLANK_CONDITIONS
        if self.is_bound:
            posted = [k for k in self.data if k.startswith("cond_field_")]
            count = max(count, len(posted))
        self.condition_count = count
        for i in range(count):
            cond = conditions[i] if i < len(conditions) else {}
            n = i + 1
            self.fields[f"cond_field_{i}"] = forms.ChoiceField(
                label=f"Condition {n}: field", required=False,
                choices=[("", "—"), *CONDITION_FIELDS.items()], initial=cond.get("field", ""))
            self.fields[f"cond_op_{i}"] = forms.ChoiceField(
                label=f"Condition {n}: comparison", required=False, choices=list(OPS.items()),
                initial=cond.get("op", "equals"))
            self.fields[f"cond_value_{i}"] = forms.CharField(
                label=f"Condition {n}: value", required=False, max_length=200, initial=cond.get("value", ""))

    def condition_rows(self):
        return [{"n": i + 1, "field": self[f"cond_field_{i}"], "op": self[f"cond_op_{i}"],
                 "value": self[f"cond_value_{i}"]} for i in range(self.condition_count)]

    def service_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        conditions, self._rows = [], []
        for i in range(self.condition_count):
            field = cd.get(f"cond_field_{i}")
            if not field:
                continue
            conditions.append({"field": field, "op": cd.get(f"cond_op_{i}") or "equals",
                               "value": cd.get(f"cond_value_{i}") or ""})
            self._rows.append(i)
        target = cd.get("target") or ""
        return {
            "name": cd.get("name", ""), "active": bool(cd.get("active")), "conditions": conditions,
            "user_id": target[2:] if target.startswith("u:") else None,
            "team_id": target[2:] if target.startswith("t:") else None,
        }

    def map_key(self, key: str) -> str | None:
        if key in ("user_id", "team_id"):
            return "target"
        parts = key.split(".")
        if parts[0] == "conditions" and len(parts) >= 2:
            try:
                row = self._rows[int(parts[1])]
            except (AttributeError, IndexError, ValueError):
                return None
            part = parts[2] if len(parts) == 3 else "field"
            return {"field": f"cond_field_{row}", "op": f"cond_op_{row}"}.get(part, f"cond_value_{row}")
        return key if key in self.fields else None


class TeamForm(ErrorMappingMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False)
    member_ids = forms.MultipleChoiceField(label="Members", required=False, widget=forms.CheckboxSelectMultiple,
                                           help_text="Leads for the team go to its active members in turn.")

    def __init__(self, *args, instance: Team | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name,
                                 "member_ids": [str(pk) for pk in instance.members.values_list("pk", flat=True)]}
        super().__init__(*args, **kwargs)
        self.fields["member_ids"].choices = [(str(u.pk), u.display_name) for u in active_users()]

    def service_data(self) -> dict[str, Any]:
        return {"name": self.cleaned_data.get("name", ""), "member_ids": self.cleaned_data.get("member_ids") or []}
