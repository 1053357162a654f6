"""/api/v1/users: anyone lists and reads; admins create and change; own full_name; never a password hash."""

from __future__ import annotations

import json

import pytest

from kith.core.models import User

from .conftest import assert_error_shape, error_fields

USER_KEYS = {"id", "email", "full_name", "role", "is_active", "date_joined", "last_login"}


@pytest.mark.django_db
class TestRead:
    @pytest.mark.parametrize("role", ["admin", "manager", "member", "viewer"])
    def test_everyone_lists_users(self, api_for, request, admin, role):
        user = request.getfixturevalue(role)
        r = api_for(user).get("users")
        assert r.status_code == 200
        body = r.json()
        assert body["next_cursor"] is None
        assert {u["email"] for u in body["items"]} == {admin.email, user.email}
        for u in body["items"]:
            assert set(u) == USER_KEYS
        assert "pbkdf2" not in r.content.decode() and "md5" not in r.content.decode()

    def test_list_pages_filters_and_order(self, api, admin, manager, member, viewer):
        emails = [u["email"] for u in api.get("users").json()["items"]]
        assert emails == sorted(emails)
        first = api.get("users", limit=2).json()
        second = api.get("users", limit=2, cursor=first["next_cursor"]).json()
        assert [u["email"] for u in first["items"] + second["items"]] == emails
        assert second["next_cursor"] is None
        assert [u["email"] for u in api.get("users", role="viewer").json()["items"]] == [viewer.email]
        assert [u["email"] for u in api.get("users", q="maria").json()["items"]] == [manager.email]
        member.is_active = False
        member.save()
        assert member.email not in {u["email"] for u in api.get("users", is_active="true").json()["items"]}
        assert [u["email"] for u in api.get("users", is_active="false").json()["items"]] == [member.email]
        assert error_fields(api.get("users", limit=0)) == {"limit"}

    def test_me_and_detail(self, api_for, admin, member):
        m = api_for(member)
        me = m.get("users/me").json()
        assert me["email"] == member.email and me["role"] == "member"
        assert set(me) == USER_KEYS
        assert m.get(f"users/{admin.pk}").json()["full_name"] == "Alice Admin"
        assert_error_shape(m.get("users/9999"), 404)


@pytest.mark.django_db
class TestCreate:
    def test_admin_creates_a_user(self, api):
        r = api.post("users", {"email": "New@Example.com", "full_name": "New Person", "role": "manager",
                               "password": "Sturdy-Password-1"})
        assert r.status_code == 201, r.content
        body = r.json()
        assert set(body) == USER_KEYS
        assert (body["email"], body["role"], body["is_active"]) == ("new@example.com", "manager", True)
        assert "password" not in json.dumps(body)
        assert User.objects.get(email="new@example.com").check_password("Sturdy-Password-1")

    def test_without_password(self, api):
        r = api.post("users", {"email": "nopw@example.com"})
        assert r.status_code == 201
        assert r.json()["role"] == "member"
        assert not User.objects.get(email="nopw@example.com").has_usable_password()

    @pytest.mark.parametrize("role", ["manager", "member", "viewer"])
    def test_only_admins_create_users(self, api_for, request, role):
        r = api_for(request.getfixturevalue(role)).post("users", {"email": "x@example.com"})
        assert_error_shape(r, 403)
        assert not User.objects.filter(email="x@example.com").exists()

    def test_errors(self, api, member):
        r = api.post("users", {"email": "bob@example.com", "role": "emperor", "password": "short"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"email", "role", "password"}
        assert error_fields(api.post("users", {"full_name": "No Email"})) == {"email"}
        assert error_fields(api.post("users", {"email": "a@example.com", "is_staff": True})) == {"is_staff"}
        assert User.objects.count() == 2


@pytest.mark.django_db
class TestUpdate:
    def test_admin_changes_role_name_and_active(self, api, member):
        r = api.patch(f"users/{member.pk}", {"role": "manager", "full_name": "Robert"})
        assert r.status_code == 200, r.content
        assert (r.json()["role"], r.json()["full_name"], r.json()["email"]) == ("manager", "Robert", member.email)
        r = api.patch(f"users/{member.pk}", {"is_active": False})
        assert r.json()["is_active"] is False
        member.refresh_from_db()
        assert not member.is_active

    def test_deactivated_users_tokens_stop_working(self, api, api_for, member):
        m = api_for(member)
        assert m.get("users/me").status_code == 200
        api.patch(f"users/{member.pk}", {"is_active": False})
        assert_error_shape(m.get("users/me"), 401)

    def test_a_user_changes_their_own_name_only(self, api_for, admin, member, viewer):
        for user in (member, viewer):
            a = api_for(user)
            r = a.patch(f"users/{user.pk}", {"full_name": "Renamed"})
            assert r.status_code == 200
            assert r.json()["full_name"] == "Renamed"
            assert_error_shape(a.patch(f"users/{user.pk}", {"role": "admin"}), 403)
            assert_error_shape(a.patch(f"users/{admin.pk}", {"full_name": "Hacked"}), 403)
        admin.refresh_from_db()
        member.refresh_from_db()
        assert (admin.full_name, member.role) == ("Alice Admin", "member")

    def test_manager_cannot_change_others(self, api_for, manager, member):
        assert_error_shape(api_for(manager).patch(f"users/{member.pk}", {"role": "viewer"}), 403)

    def test_last_admin_is_protected(self, api, admin):
        r = api.patch(f"users/{admin.pk}", {"role": "member"})
        assert_error_shape(r, 422)
        assert error_fields(r) == {"role"}
        admin.refresh_from_db()
        assert admin.role == "admin"

    def test_errors(self, api, member):
        assert error_fields(api.patch(f"users/{member.pk}", {"role": "boss"})) == {"role"}
        assert error_fields(api.patch(f"users/{member.pk}", {"password": "x"})) == {"password"}
        assert error_fields(api.patch(f"users/{member.pk}", {"is_active": "sometimes"})) == {"is_active"}
        assert_error_shape(api.patch("users/9999", {"full_name": "X"}), 404)
