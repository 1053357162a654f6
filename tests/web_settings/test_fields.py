import pytest
from django.urls import reverse

from kith.core.customfields import definitions
from kith.core.models import CustomField

pytestmark = pytest.mark.django_db

LIST = reverse("web:settings_fields")
NEW = reverse("web:settings_field_create")


def make_field(**kw):
    data = {"object_type": "contact", "key": "tier", "label": "Tier", "field_type": "select",
            "choices": ["Gold", "Silver"]}
    data.update(kw)
    return CustomField.objects.create(**data)


@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_members_and_viewers_get_403_everywhere(request, as_user, persona):
    client = as_user(request.getfixturevalue(persona))
    field = make_field()
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"object_type": "contact", "label": "X", "field_type": "text"}).status_code == 403
    assert client.get(reverse("web:settings_field_edit", args=[field.pk])).status_code == 403
    assert client.post(reverse("web:settings_field_edit", args=[field.pk]), {"label": "Y"}).status_code == 403
    assert client.post(reverse("web:settings_field_delete", args=[field.pk])).status_code == 403
    assert CustomField.objects.count() == 1
    assert CustomField.objects.get().label == "Tier"
    assert reverse("web:settings_fields") not in client.get(reverse("web:settings")).content.decode()


@pytest.mark.parametrize("persona", ["admin", "manager"])
def test_list_groups_fields_by_record_type(request, as_user, persona):
    client = as_user(request.getfixturevalue(persona))
    make_field()
    make_field(object_type="company", key="arr", label="ARR", field_type="currency", currency="EUR", choices=[],
               required=True)
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    contacts, companies = html.split('id="company-fields"')
    assert "Tier" in contacts and "<code>tier</code>" in contacts and "Single select" in contacts
    assert "ARR" in companies and "Currency amount (EUR)" in companies and "Required" in companies
    assert "Add contact field" in html and "Add company field" in html


def test_create_form_offers_every_type_with_labels(as_user, manager):
    html = as_user(manager).get(NEW + "?object_type=company").content.decode()
    for label in ["Text", "Number", "Date", "Yes / no", "Single select", "Multi select", "URL", "Email",
                  "Currency amount"]:
        assert f">{label}</option>" in html
    for field_id in ["id_object_type", "id_label", "id_key", "id_field_type", "id_choices", "id_currency",
                     "id_required", "id_help_text"]:
        assert f'for="{field_id}"' in html, field_id
    assert '<option value="company" selected>' in html


def test_create_single_select_field(as_user, manager):
    client = as_user(manager)
    response = client.post(NEW, {
        "object_type": "contact", "label": "Customer tier", "key": "", "field_type": "select",
        "choices": "Gold\r\nSilver\r\n\r\n  Bronze  \r\n", "required": "on", "help_text": "Their plan",
    })
    assert response.status_code == 302
    assert response["Location"].endswith("#contact-fields")
    field = CustomField.objects.get()
    assert (field.key, field.label, field.field_type) == ("customer_tier", "Customer tier", "select")
    assert field.choices == ["Gold", "Silver", "Bronze"]
    assert field.required is True and field.help_text == "Their plan"
    assert [f.key for f in definitions("contact")] == ["customer_tier"]
    page = client.get(response["Location"]).content.decode()
    assert "Custom field “Customer tier” was added to contacts." in page


def test_create_currency_field_with_explicit_key(as_user, admin):
    client = as_user(admin)
    response = client.post(NEW, {"object_type": "company", "label": "Contract value", "key": "acv",
                                 "field_type": "currency", "currency": "eur", "choices": "ignored"})
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert (field.object_type, field.key, field.currency, field.choices) == ("company", "acv", "EUR", [])


def test_create_shows_errors_next_to_fields_and_in_a_summary(as_user, admin):
    client = as_user(admin)
    response = client.post(NEW, {"object_type": "contact", "label": "", "field_type": "select", "choices": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'id="id_label_error"' in html and 'aria-invalid="true"' in html
    assert "There are 2 problems" in html  # every problem at once: the label and the missing choices
    assert "Enter a label." in html and "A select field needs at least one choice." in html
    assert CustomField.objects.count() == 0

    response = client.post(NEW, {"object_type": "contact", "label": "Tier", "field_type": "select", "choices": ""})
    html = response.content.decode()
    assert "A select field needs at least one choice." in html
    assert 'id="id_choices_error"' in html
    assert 'href="#id_choices"' in html  # the summary links to the field

    response = client.post(NEW, {"object_type": "contact", "label": "Value", "field_type": "currency",
                                 "currency": "EU"})
    assert 'id="id_currency_error"' in response.content.decode()
    assert CustomField.objects.count() == 0


def test_duplicate_and_bad_keys_are_refused(as_user, admin):
    client = as_user(admin)
    make_field()
    html = client.post(NEW, {"object_type": "contact", "label": "Tier", "field_type": "text"}).content.decode()
    assert "A contact field with key “tier” already exists." in html
    assert 'id="id_key_error"' in html
    html = client.post(NEW, {"object_type": "contact", "label": "X", "key": "Bad Key!",
                             "field_type": "text"}).content.decode()
    assert "Use lower-case letters" in html
    # the same key on another record type is fine
    assert client.post(NEW, {"object_type": "company", "label": "Tier", "field_type": "text"}).status_code == 302


def test_edit_changes_label_choices_required_help_but_not_key_or_type(as_user, manager):
    client = as_user(manager)
    field = make_field()
    url = reverse("web:settings_field_edit", args=[field.pk])
    html = client.get(url).content.decode()
    assert "Gold\nSilver</textarea>" in html
    assert "<code>tier</code>" in html and 'name="key"' not in html and 'name="field_type"' not in html
    response = client.post(url, {"label": "Level", "choices": "Gold\nPlatinum", "required": "on",
                                 "help_text": "h", "key": "hacked", "field_type": "text"})
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.choices, field.required, field.help_text) == ("Level", ["Gold", "Platinum"], True, "h")
    assert (field.key, field.field_type) == ("tier", "select")


def test_edit_errors(as_user, manager):
    client = as_user(manager)
    field = make_field()
    url = reverse("web:settings_field_edit", args=[field.pk])
    html = client.post(url, {"label": "", "choices": ""}).content.decode()
    assert 'id="id_label_error"' in html
    html = client.post(url, {"label": "Tier", "choices": ""}).content.decode()
    assert "A select field needs at least one choice." in html
    field.refresh_from_db()
    assert field.choices == ["Gold", "Silver"]


def test_edit_text_field_has_no_choices(as_user, manager):
    field = make_field(key="nick", label="Nickname", field_type="text", choices=[])
    html = as_user(manager).get(reverse("web:settings_field_edit", args=[field.pk])).content.decode()
    assert 'name="choices"' not in html


def test_delete_asks_then_deletes(as_user, admin):
    client = as_user(admin)
    field = make_field()
    url = reverse("web:settings_field_delete", args=[field.pk])
    html = client.get(url).content.decode()
    assert "Delete “Tier” from contacts?" in html
    assert CustomField.objects.count() == 1
    response = client.post(url)
    assert response.status_code == 302
    assert CustomField.objects.count() == 0
    assert definitions("contact") == []
    assert client.get(url).status_code == 404


def test_unknown_field_is_404(as_user, admin):
    assert as_user(admin).get(reverse("web:settings_field_edit", args=[999])).status_code == 404
