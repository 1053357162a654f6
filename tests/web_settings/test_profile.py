import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = reverse("web:settings_profile")
NAME = reverse("web:settings_profile_update")
PASSWORD_URL = reverse("web:settings_password_change")


def login(user):
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.mark.parametrize("persona", ["admin", "manager", "member", "viewer"])
def test_everyone_changes_their_own_name(request, persona):
    user = request.getfixturevalue(persona)
    client = login(user)
    html = client.get(PROFILE).content.decode()
    assert user.email in html and 'for="id_profile-full_name"' in html
    response = client.post(NAME, {"profile-full_name": "  New Name "})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "New Name"
    assert "Your name was saved." in client.get(PROFILE).content.decode()


def test_name_too_long(member):
    html = login(member).post(NAME, {"profile-full_name": "x" * 201}).content.decode()
    assert 'id="id_profile-full_name_error"' in html


def test_change_password_needs_the_current_one(viewer):
    client = login(viewer)
    html = client.post(PASSWORD_URL, {"password-current_password": "wrong", "password-new_password": "Brand-New-55",
                                      "password-confirm_password": "Brand-New-55"}).content.decode()
    assert "This is not your current password." in html
    assert 'id="id_password-current_password_error"' in html and 'class="error-summary"' in html
    viewer.refresh_from_db()
    assert viewer.check_password(PASSWORD)


def test_change_password_mismatch_and_weak(viewer):
    client = login(viewer)
    html = client.post(PASSWORD_URL, {"password-current_password": PASSWORD, "password-new_password": "Brand-New-55",
                                      "password-confirm_password": "Brand-New-56"}).content.decode()
    assert "The two passwords do not match." in html
    html = client.post(PASSWORD_URL, {"password-current_password": PASSWORD, "password-new_password": "short",
                                      "password-confirm_password": "short"}).content.decode()
    assert 'id="id_password-new_password_error"' in html
    viewer.refresh_from_db()
    assert viewer.check_password(PASSWORD)


def test_change_password_keeps_this_session_and_ends_others(member):
    client, other = login(member), login(member)
    response = client.post(PASSWORD_URL, {"password-current_password": PASSWORD,
                                          "password-new_password": "Brand-New-55",
                                          "password-confirm_password": "Brand-New-55"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("Brand-New-55")
    page = client.get(PROFILE)
    assert page.status_code == 200 and "Your password was changed." in page.content.decode()
    assert other.get(PROFILE).status_code == 302  # signed out


def test_profile_needs_sign_in(client):
    assert client.get(PROFILE).status_code == 302
    assert client.post(NAME, {"profile-full_name": "x"}).status_code == 302
