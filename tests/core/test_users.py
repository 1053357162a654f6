"""User management (kith.core.users): create, roles, the last admin, self-service, Argon2 password hashes."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import PermissionDenied, ValidationError

from kith.core import users
from kith.core.models import User

GOOD_PASSWORD = "Purple-Otter-Lamp-93"


def user_rows():
    return list(User.objects.order_by("id").values_list("id", "email", "role", "is_active", "full_name", "password"))


def refused(fn, **kwargs) -> dict[str, list[str]]:
    before = user_rows()
    with pytest.raises(ValidationError) as excinfo:
        fn(**kwargs)
    assert user_rows() == before
    return excinfo.value.message_dict


# --- create ----------------------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_role(admin):
    user = users.create_user(actor=admin, email="  Grace@Example.COM ", password=GOOD_PASSWORD, role="manager",
                             full_name="  Grace Hopper ")
    user = User.objects.get(pk=user.pk)
    assert (user.email, user.role, user.full_name) == ("grace@example.com", "manager", "Grace Hopper")
    assert user.is_active and not user.is_staff
    assert user.check_password(GOOD_PASSWORD)
    assert user.password != GOOD_PASSWORD


def test_default_role_is_member_and_admins_are_staff(admin):
    assert users.create_user(actor=admin, email="m@example.com", password=GOOD_PASSWORD).role == "member"
    assert users.create_user(actor=admin, email="a@example.com", password=GOOD_PASSWORD, role="admin").is_staff


def test_command_line_creates_without_an_actor(db):
    user = users.create_user(actor=None, email="root@example.com", password=GOOD_PASSWORD, role="admin")
    assert user.is_admin


def test_user_without_password_cannot_log_in(admin):
    user = users.create_user(actor=admin, email="invited@example.com")
    assert not user.has_usable_password()


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "two@@example.com"])
def test_invalid_email_is_refused(admin, email):
    errors = refused(users.create_user, actor=admin, email=email, password=GOOD_PASSWORD)
    assert list(errors) == ["email"]


def test_duplicate_email_is_refused_whatever_its_case(admin):
    errors = refused(users.create_user, actor=admin, email="ALICE@example.com", password=GOOD_PASSWORD)
    assert errors["email"] == ["A user with this email already exists."]


@pytest.mark.parametrize("role", ["owner", "", None, "Admin"])
def test_unknown_role_is_refused(admin, role):
    errors = refused(users.create_user, actor=admin, email="x@example.com", password=GOOD_PASSWORD, role=role)
    assert list(errors) == ["role"]
    assert "viewer" in errors["role"][0]


@pytest.mark.parametrize("password", ["short", "password123", "12345678"])
def test_weak_password_is_refused(admin, password):
    errors = refused(users.create_user, actor=admin, email="x@example.com", password=password)
    assert list(errors) == ["password"]


def test_all_create_errors_at_once(admin):
    errors = refused(users.create_user, actor=admin, email="bad", password="short", role="boss", full_name="x" * 201)
    assert set(errors) == {"email", "password", "role", "full_name"}


@pytest.mark.parametrize("role", ["manager", "member", "viewer"])
def test_only_admins_create_users(request, role):
    actor = request.getfixturevalue(role)
    before = user_rows()
    with pytest.raises(PermissionDenied):
        users.create_user(actor=actor, email="x@example.com", password=GOOD_PASSWORD)
    assert user_rows() == before


# --- update ----------------------------------------------------------------------------------------------------


def test_admin_changes_role_name_email_and_active_flag(admin, member):
    user = users.update_user(actor=admin, user=member, data={
        "role": "admin", "full_name": "Robert", "email": "Robert@Example.com", "is_active": True,
    })
    user = User.objects.get(pk=member.pk)
    assert (user.role, user.full_name, user.email, user.is_staff) == ("admin", "Robert", "robert@example.com", True)
    users.update_user(actor=admin, user=user, data={"role": "viewer", "is_active": False})
    user = User.objects.get(pk=member.pk)
    assert (user.role, user.is_active, user.is_staff) == ("viewer", False, False)


def test_update_refuses_unknown_fields_bad_values_and_taken_emails(admin, member, manager):
    assert list(refused(users.update_user, actor=admin, user=member, data={"is_superuser": True})) == ["is_superuser"]
    assert list(refused(users.update_user, actor=admin, user=member, data={"role": "god"})) == ["role"]
    assert list(refused(users.update_user, actor=admin, user=member, data={"is_active": "no"})) == ["is_active"]
    errors = refused(users.update_user, actor=admin, user=member, data={"email": "Maria@example.com"})
    assert errors["email"] == ["A user with this email already exists."]
    errors = refused(users.update_user, actor=admin, user=member, data={"full_name": "Ok", "password": "short"})
    assert list(errors) == ["password"]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin, member):
    errors = refused(users.update_user, actor=None, user=admin, data={"role": "manager"})
    assert "last active admin" in errors["role"][0]
    errors = refused(users.update_user, actor=None, user=admin, data={"is_active": False})
    assert "last active admin" in errors["is_active"][0]
    errors = refused(users.update_user, actor=admin, user=admin, data={"role": "member"})
    assert "last active admin" in errors["role"][0]


def test_an_inactive_admin_does_not_count(admin, db):
    other = users.create_user(actor=admin, email="other@example.com", password=GOOD_PASSWORD, role="admin")
    users.update_user(actor=admin, user=other, data={"is_active": False})
    assert "role" in refused(users.update_user, actor=None, user=admin, data={"role": "member"})


def test_with_another_active_admin_one_can_step_down(admin):
    other = users.create_user(actor=admin, email="other@example.com", password=GOOD_PASSWORD, role="admin")
    users.update_user(actor=admin, user=admin, data={"role": "member"})
    assert User.objects.get(pk=admin.pk).role == "member"
    # Now `other` is the last one.
    assert "role" in refused(users.update_user, actor=other, user=other, data={"role": "viewer"})


def test_admins_cannot_deactivate_themselves(admin):
    users.create_user(actor=admin, email="other@example.com", password=GOOD_PASSWORD, role="admin")
    errors = refused(users.update_user, actor=admin, user=admin, data={"is_active": False})
    assert errors["is_active"] == ["You cannot deactivate yourself."]


def test_self_service_name_and_password_only(member, manager):
    users.update_user(actor=member, user=member, data={"full_name": "Bobby", "password": GOOD_PASSWORD})
    user = User.objects.get(pk=member.pk)
    assert user.full_name == "Bobby"
    assert user.check_password(GOOD_PASSWORD)

    before = user_rows()
    for data in ({"role": "admin"}, {"email": "new@example.com"}, {"is_active": True},
                 {"full_name": "B", "role": "admin"}):
        with pytest.raises(PermissionDenied):
            users.update_user(actor=member, user=member, data=data)
    with pytest.raises(PermissionDenied):
        users.update_user(actor=member, user=manager, data={"full_name": "Not mine"})
    assert user_rows() == before


def test_self_service_password_is_validated(viewer):
    errors = refused(users.update_user, actor=viewer, user=viewer, data={"password": "password"})
    assert list(errors) == ["password"]


# --- password hashing ------------------------------------------------------------------------------------------


def test_production_settings_hash_passwords_with_argon2(settings):
    import kith.settings

    # The settings module as shipped; the suite's conftest swaps in MD5 on django.conf.settings only.
    assert kith.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS[0] != kith.settings.PASSWORD_HASHERS[0]


def test_a_new_users_password_is_stored_as_an_argon2_hash(admin, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = users.create_user(actor=admin, email="grace@example.com", password=GOOD_PASSWORD)
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert identify_hasher(stored).algorithm == "argon2"
    assert GOOD_PASSWORD not in stored
    assert User.objects.get(pk=user.pk).check_password(GOOD_PASSWORD)
