"""Forms of the workspace settings pages. They parse and render; the kith.core services validate and write."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kith.core.models import CustomField, Role

SELECT_TYPES = ("select", "multiselect")


class SettingsForm(forms.Form):
    """Adds service errors to the form, on the matching field when there is one."""

    label_suffix = ""
    # service field name -> form field name, where they differ
    service_field_names: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for name, messages in exc.message_dict.items():
            target = self.service_field_names.get(name, name)
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)

    def error_summary(self) -> list[tuple[str | None, str, str]]:
        """(field id or None, label, message) for the summary at the top of a form."""
        out: list[tuple[str | None, str, str]] = []
        for message in self.non_field_errors():
            out.append((None, "", message))
        for bound in self:
            for message in bound.errors:
                out.append((bound.id_for_label or bound.auto_id, str(bound.label), message))
        return out


def _choices_text(choices: list[str]) -> str:
    return "\n".join(choices)


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CustomFieldCreateForm(SettingsForm):
    object_type = forms.ChoiceField(label="Applies to", choices=[
        (CustomField.ObjectType.CONTACT, "Contacts"), (CustomField.ObjectType.COMPANY, "Companies"),
        (CustomField.ObjectType.LEAD, "Leads"), (CustomField.ObjectType.DEAL, "Deals"),
    ])
    label = forms.CharField(
        label="Label",
        max_length=100,
        help_text="Shown on forms and record pages.",
        error_messages={"required": "Enter a label."},
    )
    key = forms.CharField(
        label="Key",
        max_length=50,
        required=False,
        help_text="Used in the API and filters as cf_<key>; made from the label when empty. "
        "Cannot be changed later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    )
    field_type = forms.ChoiceField(
        label="Type",
        choices=CustomField.FieldType.choices,
        help_text="Cannot be changed later.",
        widget=forms.Select(attrs={"data-field-type": ""}),
    )
    choices = forms.CharField(
        label="Choices",
        required=False,
        help_text="For single and multi select fields: one choice per line.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    currency = forms.CharField(
        label="Currency code",
        required=False,
        max_length=3,
        help_text="For currency amounts: a 3-letter ISO 4217 code such as EUR or USD.",
        widget=forms.TextInput(attrs={"size": 4, "autocomplete": "off", "class": "mono"}),
    )
    required = forms.BooleanField(label="Required", required=False, help_text="Records cannot be saved without a value.")
    help_text = forms.CharField(
        label="Help text", max_length=200, required=False, help_text="Optional hint shown under the field on forms."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Needed only for some types: not marked "(optional)"; clean() asks for them when they apply.
        self.fields["choices"].kith_conditional = True
        self.fields["currency"].kith_conditional = True

    def clean(self):
        cleaned = super().clean()
        field_type = cleaned.get("field_type")
        if field_type in SELECT_TYPES and not _split_lines(cleaned.get("choices", "")):
            self.add_error("choices", "A select field needs at least one choice.")
        if field_type == CustomField.FieldType.CURRENCY and not (cleaned.get("currency") or "").strip():
            self.add_error("currency", "A currency field needs a currency code such as EUR.")
        return cleaned

    def service_data(self) -> dict:
        d = self.cleaned_data
        data = {
            "object_type": d["object_type"],
            "label": d["label"],
            "key": d["key"].strip(),
            "field_type": d["field_type"],
            "required": d["required"],
            "help_text": d["help_text"],
        }
        if d["field_type"] in SELECT_TYPES:
            data["choices"] = _split_lines(d["choices"])
        if d["field_type"] == CustomField.FieldType.CURRENCY:
            data["currency"] = d["currency"]
        return data


class CustomFieldEditForm(SettingsForm):
    label = forms.CharField(
        label="Label",
        max_length=100,
        help_text="Shown on forms and record pages.",
        error_messages={"required": "Enter a label."},
    )
    choices = forms.CharField(
        label="Choices",
        required=False,
        help_text="One choice per line. Records keep values of choices you remove.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    required = forms.BooleanField(label="Required", required=False, help_text="Records cannot be saved without a value.")
    help_text = forms.CharField(
        label="Help text", max_length=200, required=False, help_text="Optional hint shown under the field on forms."
    )

    def __init__(self, *args, field: CustomField, **kwargs):
        self.custom_field = field
        kwargs.setdefault(
            "initial",
            {
                "label": field.label,
                "choices": _choices_text(field.choices or []),
                "required": field.required,
                "help_text": field.help_text,
            },
        )
        super().__init__(*args, **kwargs)
        if field.field_type not in SELECT_TYPES:
            del self.fields["choices"]
        else:
            self.fields["choices"].kith_conditional = True

    def clean(self):
        cleaned = super().clean()
        if "choices" in self.fields and "choices" in cleaned and not _split_lines(cleaned["choices"]):
            self.add_error("choices", "A select field needs at least one choice.")
        return cleaned

    def service_data(self) -> dict:
        d = self.cleaned_data
        data = {"label": d["label"], "required": d["required"], "help_text": d["help_text"]}
        if "choices" in self.fields:
            data["choices"] = _split_lines(d["choices"])
        return data


class TokenCreateForm(SettingsForm):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, such as “Zapier” or “Nightly export”.",
        error_messages={"required": "Enter a name for the token."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


ROLE_CHOICES = [
    (Role.ADMIN, "Admin — everything, including users and jobs"),
    (Role.MANAGER, "Manager — all records and custom fields"),
    (Role.MEMBER, "Member — reads and writes records"),
    (Role.VIEWER, "Viewer — reads records only"),
]


class NewPasswordMixin(SettingsForm):
    """new_password + confirm_password; the service checks strength."""

    service_field_names = {"password": "new_password"}

    def clean(self):
        cleaned = super().clean()
        new, again = cleaned.get("new_password"), cleaned.get("confirm_password")
        if new and again and new != again:
            self.add_error("confirm_password", "The two passwords do not match.")
        return cleaned


def _password_field(label: str, help_text: str = "", autocomplete: str = "new-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class UserCreateForm(SettingsForm):
    service_field_names = {"password": "password"}

    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    full_name = forms.CharField(label="Name", max_length=200, required=False)
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES, initial=Role.MEMBER)
    password = _password_field(
        "Initial password", "At least 8 characters. Share it with the person safely; they can change it in Profile."
    )


class UserEditForm(SettingsForm):
    full_name = forms.CharField(label="Name", max_length=200, required=False)
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)


class PasswordResetForm(NewPasswordMixin):
    new_password = _password_field("New password", "At least 8 characters.")
    confirm_password = _password_field("Repeat new password")


class ProfileForm(SettingsForm):
    full_name = forms.CharField(
        label="Name", max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )


class PasswordChangeForm(NewPasswordMixin):
    current_password = _password_field("Current password", autocomplete="current-password")
    new_password = _password_field("New password", "At least 8 characters.")
    confirm_password = _password_field("Repeat new password")

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self):
        value = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise ValidationError("This is not your current password.")
        return value
