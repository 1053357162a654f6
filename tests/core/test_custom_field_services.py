"""Custom field definitions (kith.core.custom_field_services): keys, validation, immutability, who may change them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kith.core.custom_field_services import create_custom_field, delete_custom_field, update_custom_field
from kith.core.models import CustomField


def rows():
    return list(CustomField.objects.order_by("id").values())


def create(actor, **data):
    return create_custom_field(actor=actor, data={"object_type": "contact", "field_type": "text", **data})


def refused_create(actor, **data) -> dict[str, list[str]]:
    before = rows()
    with pytest.raises(ValidationError) as excinfo:
        create(actor, **data)
    assert rows() == before
    return excinfo.value.message_dict


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Region", "region"),
        ("Sales Region", "sales_region"),
        ("  Annual   contract value (€) ", "annual_contract_value"),
        ("Zoë's Score", "zoes_score"),
        ("2nd Phone", "f_2nd_phone"),
        ("Deal-size", "deal_size"),
    ],
)
def test_key_is_derived_from_the_label(admin, label, key):
    field = create(admin, label=label)
    assert field.key == key
    assert field.label == " ".join(label.split())


def test_explicit_key_is_kept(admin):
    assert create(admin, label="Region", key="sales_area").key == "sales_area"


@pytest.mark.parametrize("key", ["Region", "has space", "_x", "x-y", "a" * 51, "ümlaut"])
def test_malformed_key_is_refused(admin, key):
    assert list(refused_create(admin, label="Region", key=key)) == ["key"]


def test_label_without_letters_or_digits_is_refused(admin):
    errors = refused_create(admin, label="€€€")
    assert "key" in errors


@pytest.mark.parametrize("key", ["id", "q", "cursor", "limit", "ordering"])
def test_reserved_keys_are_refused(admin, key):
    errors = refused_create(admin, label=key.capitalize(), key=key)
    assert "reserved" in errors["key"][0]


def test_reserved_key_derived_from_a_label_is_refused_too(admin):
    assert "reserved" in refused_create(admin, label="Ordering")["key"][0]


def test_duplicate_key_is_refused_per_object_type(admin):
    create(admin, label="Region")
    errors = refused_create(admin, label="region")
    assert "already exists" in errors["key"][0]
    # The same key on companies is fine.
    assert create_custom_field(actor=admin, data={"object_type": "company", "field_type": "text", "label": "Region"})


def test_label_is_required_and_limited(admin):
    assert "label" in refused_create(admin, label="   ", key="x")
    assert "label" in refused_create(admin, label="L" * 101, key="x")


def test_object_type_and_field_type_must_be_known(admin):
    errors = refused_create(admin, label="X", object_type="ticket", field_type="color")
    assert {"object_type", "field_type"} <= set(errors)


def test_unknown_attributes_are_refused(admin):
    assert list(refused_create(admin, label="X", default="1")) == ["default"]


@pytest.mark.parametrize("field_type", ["select", "multiselect"])
def test_select_needs_choices(admin, field_type):
    assert "choices" in refused_create(admin, label="Region", field_type=field_type)
    assert "choices" in refused_create(admin, label="Region", field_type=field_type, choices=["", "  "])
    field = create(admin, label="Region", field_type=field_type, choices="EMEA\n Americas \n\nEMEA")
    assert field.choices == ["EMEA", "Americas"]


def test_choices_cannot_hold_commas_or_be_too_long(admin):
    assert "choices" in refused_create(admin, label="R", field_type="select", choices=["a,b"])
    assert "choices" in refused_create(admin, label="R", field_type="select", choices=["x" * 101])
    assert "choices" in refused_create(admin, label="R", field_type="select", choices=[1, 2])


def test_currency_needs_a_code(admin):
    assert "currency" in refused_create(admin, label="Budget", field_type="currency")
    assert "currency" in refused_create(admin, label="Budget", field_type="currency", currency="euro")
    assert create(admin, label="Budget", field_type="currency", currency="eur").currency == "EUR"


def test_new_fields_go_last_unless_positioned(admin):
    a = create(admin, label="A")
    b = create(admin, label="B")
    c = create(admin, label="C", position=0)
    assert b.position > a.position
    assert c.position == 0
    assert [f.key for f in CustomField.objects.filter(object_type="contact")] == ["c", "a", "b"]


def test_update_label_choices_required_and_help_text(admin):
    field = create(admin, label="Region", field_type="select", choices=["EMEA"])
    field = update_custom_field(actor=admin, field=field, data={
        "label": "Sales region", "choices": ["EMEA", "APAC"], "required": True, "help_text": "Where they buy",
    })
    stored = CustomField.objects.get(pk=field.pk)
    assert (stored.label, stored.choices, stored.required, stored.help_text) == (
        "Sales region", ["EMEA", "APAC"], True, "Where they buy")
    assert stored.key == "region"


def test_key_type_and_object_type_are_immutable(admin):
    field = create(admin, label="Region")
    before = rows()
    for change in ({"key": "area"}, {"field_type": "number"}, {"object_type": "company"}):
        with pytest.raises(ValidationError) as excinfo:
            update_custom_field(actor=admin, field=field, data={"label": "New", **change})
        assert list(excinfo.value.message_dict) == list(change)
        assert "Cannot be changed" in excinfo.value.message_dict[next(iter(change))][0]
    assert rows() == before
    # Sending the unchanged values is fine (forms post every field).
    update_custom_field(actor=admin, field=field, data={"key": "region", "field_type": "text", "label": "Area"})
    assert CustomField.objects.get(pk=field.pk).label == "Area"


def test_update_cannot_remove_every_choice_or_the_currency(admin):
    select = create(admin, label="Region", field_type="select", choices=["EMEA"])
    money = create(admin, label="Budget", field_type="currency", currency="EUR")
    before = rows()
    with pytest.raises(ValidationError) as excinfo:
        update_custom_field(actor=admin, field=select, data={"choices": []})
    assert "choices" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        update_custom_field(actor=admin, field=money, data={"currency": ""})
    assert "currency" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        update_custom_field(actor=admin, field=money, data={"nope": 1})
    assert "nope" in excinfo.value.message_dict
    assert rows() == before


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_and_managers_manage_fields(request, manager, role):
    actor = request.getfixturevalue(role)
    field = create(manager, label="Region")
    before = rows()
    with pytest.raises(PermissionDenied):
        create(actor, label="Other")
    with pytest.raises(PermissionDenied):
        update_custom_field(actor=actor, field=field, data={"label": "x"})
    with pytest.raises(PermissionDenied):
        delete_custom_field(actor=actor, field=field)
    assert rows() == before


def test_delete_removes_the_definition_but_not_record_values(admin):
    from kith.contacts import services
    from kith.contacts.models import Contact

    field = create(admin, label="Region")
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"region": "EMEA"}})
    delete_custom_field(actor=admin, field=field)
    assert not CustomField.objects.filter(pk=field.pk).exists()
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"region": "EMEA"}
    # The key is free again.
    assert create(admin, label="Region").key == "region"
