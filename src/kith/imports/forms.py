"""Forms of the import pages. They parse and render; kith.imports.services validates and writes.

The mapping form is built from the import's preview: one select per column of the file (named by the
column's position, since headers can be anything, even repeated), plus the duplicates policy and the
saved-mapping controls.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from kith.web.forms_settings import SettingsForm

from .models import Import, ObjectType, SavedMapping

ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".vcf", ".vcard")
IGNORE = ""  # the select value of "Ignore this column" (stored as None in the mapping)


class UploadForm(SettingsForm):
    object_type = forms.ChoiceField(
        label="The rows are", choices=ObjectType.choices, initial=ObjectType.CONTACT, widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="File",
        help_text="CSV (any delimiter; UTF-8, UTF-16 or Windows-1252), Excel .xlsx, or vCard .vcf for contacts.",
        error_messages={"required": "Choose a file to import.", "empty": "The file is empty.",
                        "invalid": "This is not a file."},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        suffix = PurePath(f.name or "").suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                f"Kith imports CSV, Excel (.xlsx) and vCard (.vcf) files, not “{suffix or f.name}”."
            )
        return f

    def clean(self):
        cd = super().clean()
        f, object_type = cd.get("file"), cd.get("object_type")
        if f is not None and object_type and object_type != ObjectType.CONTACT \
                and PurePath(f.name or "").suffix.lower() in (".vcf", ".vcard"):
            self.add_error("file", "vCard files hold people: import them as contacts.")
        return cd


def _target_parts(t: Any) -> tuple[Any, str]:
    if isinstance(t, dict):
        return t.get("key"), str(t.get("label") or t.get("key"))
    if isinstance(t, list | tuple):
        return t[0], str(t[1])
    return getattr(t, "key", None), str(getattr(t, "label", "") or getattr(t, "key", ""))


def target_choices(targets: list[Any]) -> list[tuple[str, Any]]:
    """Select choices from the import's targets: “Ignore this column” first, then the record's fields,
    then its custom fields (keys “cf_<key>”). A target is a mapping.Target, a dict or a (key, label) pair;
    the ignore target (key None) is the first option."""
    fields: list[tuple[str, str]] = []
    custom: list[tuple[str, str]] = []
    for t in targets:
        key, label = _target_parts(t)
        if key in (None, ""):
            continue
        (custom if str(key).startswith("cf_") else fields).append((str(key), label))
    out: list[tuple[str, Any]] = [(IGNORE, "Ignore this column")]
    if fields:
        out.append(("Fields", fields))
    if custom:
        out.append(("Custom fields", custom))
    return out


class MappingForm(SettingsForm):
    """The column selects (col_0 … col_n), match-on, on-duplicate and “save this mapping as”."""

    match_on = forms.ChoiceField(
        label="Find existing records by", required=False, choices=Import.MatchOn.choices,
        help_text="A row that matches an existing record is a duplicate.",
    )
    on_duplicate = forms.ChoiceField(
        label="When a row matches an existing record", choices=Import.OnDuplicate.choices,
    )
    save_as = forms.CharField(
        label="Save this mapping as", required=False, max_length=100,
        help_text="Reuse it for the next file of the same shape.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. HubSpot contacts"}),
    )

    def __init__(self, *args, columns: list[dict[str, Any]], targets: list[Any],
                 match_on_choices: list[tuple[str, str]] | None = None, **kw):
        super().__init__(*args, **kw)
        self.columns = columns
        if match_on_choices:
            # The record type's own keys first, "Do not match" last (as the service lists them).
            self.fields["match_on"].choices = match_on_choices
        choices = target_choices(targets)
        self.column_fields = []
        for i, col in enumerate(columns):
            name = f"col_{i}"
            self.fields[name] = forms.ChoiceField(label=f"Import column “{col['header']}” into", choices=choices,
                                                  required=False)
            self.column_fields.append(name)

    def mapping(self) -> dict[str, str | None]:
        """{column key: target key or None} for services.set_mapping."""
        return {col["key"]: (self.cleaned_data.get(f"col_{i}") or None) for i, col in enumerate(self.columns)}

    def add_service_errors(self, exc) -> None:
        """Errors on "mapping.<column>" go next to that column's select."""
        if not hasattr(exc, "error_dict"):
            super().add_service_errors(exc)
            return
        by_key = {f"mapping.{col['key']}": f"col_{i}" for i, col in enumerate(self.columns)}
        rest: dict[str, list[str]] = {}
        for name, messages in exc.message_dict.items():
            if name in by_key:
                for m in messages:
                    self.add_error(by_key[name], m)
            else:
                rest[name] = messages
        if rest:
            super().add_service_errors(ValidationError(rest))


class LoadMappingForm(forms.Form):
    saved_mapping = forms.ModelChoiceField(
        label="Saved mapping", queryset=SavedMapping.objects.none(), empty_label="Choose a saved mapping",
        error_messages={"required": "Choose a saved mapping to load.",
                        "invalid_choice": "That saved mapping does not exist any more."},
    )

    def __init__(self, *args, object_type: str, **kw):
        super().__init__(*args, **kw)
        self.fields["saved_mapping"].queryset = SavedMapping.objects.filter(object_type=object_type).order_by("name")
