import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from kith.core.models import User

pytestmark = pytest.mark.django_db

LIST = reverse("web:settings_users")
NEW = reverse("web:settings_user_create")


def edit_url(user):
    return reverse("web:settings_user_edit", args=[user.pk])


def active_url(user):
    return reverse("web:settings_user_active", args=[user.pk])


def password_url(user):
    return reverse("web:settings_user_password", args=[user.pk])


@pytest.mark.parametrize("persona", ["manager", "member", "viewer"])
def test_only_admins(request, as_user, persona, admin):
    client = as_user(request.getfixturevalue(persona))
    for url in (LIST, NEW, edit_url(admin), password_url(admin)):
        assert client.get(url).status_code == 403, url
    assert client.post(NEW, {"email": "x@example.com", "role": "admin", "password": PASSWORD}).status_code == 403
    assert client.post(edit_url(admin), {"full_name": "Hacked", "role": "viewer"}).status_code == 403
    assert client.post(active_url(admin), {"is_active": "0"}).status_code == 403
    assert client.post(password_url(admin), {"new_password": "x" * 12, "confirm_password": "x" * 12}).status_code == 403
    admin.refresh_from_db()
    assert (admin.role, admin.is_active, admin.full_name) == ("admin", True, "Alice Admin")
    assert not User.objects.filter(email="x@example.com").exists()
    assert LIST not in client.get(reverse("web:settings")).content.decode()


def test_list_shows_email_name_role_status_last_login(as_user, admin, member, viewer):
    viewer.is_active = False
    viewer.save()
    client = as_user(admin)
    html = client.get(LIST).content.decode()
    for text in ("alice@example.com", "Alice Admin", "bob@example.com", "Bob Member", "Member", "Viewer",
                 "Deactivated", "Never", "(you)"):
        assert text in html, text


def test_create_user_who_can_then_sign_in(as_user, admin):
    client = as_user(admin)
    html = client.get(NEW).content.decode()
    for field_id in ("id_email", "id_full_name", "id_role", "id_password"):
        assert f'for="{field_id}"' in html
    response = client.post(NEW, {"email": "New.Person@Example.com", "full_name": "New Person", "role": "manager",
                                 "password": "Another-Secret-9"})
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert (user.full_name, user.role, user.is_active) == ("New Person", "manager", True)
    assert Client().login(email="new.person@example.com", password="Another-Secret-9")
    assert "new.person@example.com" in client.get(LIST).content.decode()


def test_create_user_errors(as_user, admin, member):
    client = as_user(admin)
    html = client.post(NEW, {"email": "bob@example.com", "role": "member", "password": PASSWORD}).content.decode()
    assert "A user with this email already exists." in html and 'id="id_email_error"' in html
    html = client.post(NEW, {"email": "carol@example.com", "role": "member", "password": "short"}).content.decode()
    assert 'id="id_password_error"' in html and 'class="error-summary"' in html
    html = client.post(NEW, {"email": "not-an-email", "role": "member", "password": PASSWORD}).content.decode()
    assert 'id="id_email_error"' in html
    html = client.post(NEW, {"email": "dan@example.com", "role": "boss", "password": PASSWORD}).content.decode()
    assert 'id="id_role_error"' in html
    assert User.objects.count() == 2


def test_change_role_and_name(as_user, admin, member):
    client = as_user(admin)
    html = client.get(edit_url(member)).content.decode()
    assert '<option value="member" selected>' in html
    response = client.post(edit_url(member), {"full_name": "Robert", "role": "manager"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.full_name, member.role) == ("Robert", "manager")


def test_last_admin_cannot_demote_themselves(as_user, admin):
    client = as_user(admin)
    response = client.post(edit_url(admin), {"full_name": "Alice", "role": "member"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This is the last active admin" in html and 'id="id_role_error"' in html
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_admin_demoting_themselves_lands_on_settings(as_user, admin, manager):
    manager.role = "admin"
    manager.save()
    client = as_user(admin)
    response = client.post(edit_url(admin), {"full_name": "Alice", "role": "member"})
    assert response["Location"] == reverse("web:settings")
    assert client.get(LIST).status_code == 403


def test_deactivate_and_reactivate(as_user, admin, member):
    client = as_user(admin)
    html = client.get(edit_url(member)).content.decode()
    assert "Deactivate user" in html
    response = client.post(active_url(member), {"is_active": "0"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_active is False
    assert not Client().login(email=member.email, password=PASSWORD)
    html = client.get(edit_url(member)).content.decode()
    assert "Reactivate user" in html
    client.post(active_url(member), {"is_active": "1"})
    member.refresh_from_db()
    assert member.is_active is True
    assert Client().login(email=member.email, password=PASSWORD)


def test_cannot_deactivate_yourself(as_user, admin, manager):
    manager.role = "admin"
    manager.save()
    client = as_user(admin)
    html = client.get(edit_url(admin)).content.decode()
    assert "Deactivate user" not in html and "You cannot deactivate yourself" in html
    response = client.post(active_url(admin), {"is_active": "0"})
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_cannot_leave_no_active_admin(as_user, admin, manager):
    # with two active admins one may be deactivated; then the remaining one cannot step down
    other = manager
    other.role = "admin"
    other.save()
    client = as_user(admin)
    client.post(active_url(other), {"is_active": "0"})
    other.refresh_from_db()
    assert other.is_active is False
    response = client.post(edit_url(admin), {"full_name": "", "role": "viewer"})
    assert "last active admin" in response.content.decode()


def test_reset_password(as_user, admin, member):
    client = as_user(admin)
    assert 'for="id_new_password"' in client.get(password_url(member)).content.decode()
    html = client.post(password_url(member), {"new_password": "Fresh-Secret-77",
                                              "confirm_password": "Other-Secret-77"}).content.decode()
    assert "The two passwords do not match." in html and 'id="id_confirm_password_error"' in html
    html = client.post(password_url(member), {"new_password": "password", "confirm_password": "password"}).content.decode()
    assert 'id="id_new_password_error"' in html
    response = client.post(password_url(member), {"new_password": "Fresh-Secret-77",
                                                  "confirm_password": "Fresh-Secret-77"})
    assert response.status_code == 302
    assert Client().login(email=member.email, password="Fresh-Secret-77")
    assert not Client().login(email=member.email, password=PASSWORD)


def test_unknown_user_404(as_user, admin):
    assert as_user(admin).get(reverse("web:settings_user_edit", args=[9999])).status_code == 404
