"""kith user … and kith token …, called as Django commands against the test database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kith.core.models import ApiToken, User


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def fails(*args: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        run(*args)
    return info.value


pytestmark = pytest.mark.django_db


class TestUser:
    def test_create_list_set_role_and_password(self):
        out = run("user", "create", "Ada@Example.com", "--password", "Analytical-Engine-1", "--role", "admin",
                  "--name", "Ada Lovelace")
        assert "ada@example.com" in out
        ada = User.objects.get(email="ada@example.com")
        assert ada.role == "admin" and ada.full_name == "Ada Lovelace" and ada.is_staff
        assert ada.check_password("Analytical-Engine-1")

        run("user", "create", "bob@example.com", "--password", "Difference-Engine-2")
        assert User.objects.get(email="bob@example.com").role == "member"

        listing = run("user", "list")
        lines = listing.strip().splitlines()
        assert lines[0].split()[:3] == ["EMAIL", "NAME", "ROLE"]
        assert any(line.startswith("ada@example.com") and " admin " in line for line in lines)
        assert any(line.startswith("bob@example.com") and " member " in line for line in lines)

        assert "now manager" in run("user", "set-role", "bob@example.com", "manager")
        assert User.objects.get(email="bob@example.com").role == "manager"

        run("user", "set-password", "bob@example.com", "--password", "Another-secret-3")
        assert User.objects.get(email="bob@example.com").check_password("Another-secret-3")

    def test_create_without_password_cannot_sign_in_yet(self):
        out = run("user", "create", "nopass@example.com", "--role", "viewer")
        assert "set-password" in out
        assert not User.objects.get(email="nopass@example.com").has_usable_password()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("user", "create", "x@example.com", "--role", "boss", "--password", "Long-enough-1"), "Unknown role"),
            (("user", "create", "not-an-email", "--password", "Long-enough-1"), "email"),
            (("user", "create", "x@example.com", "--password", "short"), "too short"),
            (("user", "set-role", "ghost@example.com", "admin"), "No user with email ghost@example.com"),
            (("user", "set-password", "ghost@example.com", "--password", "Long-enough-1"), "No user"),
        ],
    )
    def test_errors_are_one_line_with_exit_code_2(self, args, message):
        error = fails(*args)
        assert error.returncode == 2
        assert message in str(error)
        assert "\n" not in str(error)

    def test_duplicate_email_is_refused(self):
        run("user", "create", "dup@example.com", "--password", "Long-enough-1")
        error = fails("user", "create", "DUP@example.com", "--password", "Long-enough-1")
        assert error.returncode == 2
        assert "already exists" in str(error)
        assert User.objects.filter(email="dup@example.com").count() == 1

    def test_set_role_rejects_unknown_role_and_keeps_the_last_admin(self):
        run("user", "create", "boss@example.com", "--password", "Long-enough-1", "--role", "admin")
        assert fails("user", "set-role", "boss@example.com", "emperor").returncode == 2
        error = fails("user", "set-role", "boss@example.com", "member")
        assert error.returncode == 2 and "last active admin" in str(error)
        assert User.objects.get(email="boss@example.com").role == "admin"


class TestToken:
    @pytest.fixture
    def ada(self):
        return User.objects.create_user("ada@example.com", "Analytical-Engine-1", role="admin")

    def test_create_prints_the_secret_last_and_it_authenticates(self, ada):
        out = run("token", "create", "ada@example.com", "--name", "ci")
        secret = out.strip().splitlines()[-1].split()[-1]
        assert secret.startswith("kith_")
        token = ApiToken.objects.get(user=ada)
        assert token.name == "ci" and token.key_hash == ApiToken.hash(secret)

        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert client.get("/api/v1/contacts").status_code == 200
        created = client.post("/api/v1/contacts", {"first_name": "Grace", "last_name": "Hopper"},
                              content_type="application/json")
        assert created.status_code == 201, created.content

    def test_list_shows_hint_not_secret(self, ada):
        secret = run("token", "create", "ada@example.com").strip().splitlines()[-1]
        listing = run("token", "list", "ada@example.com")
        assert secret[:9] in listing and secret not in listing
        assert "active" in listing

    def test_revoke_by_id_and_by_secret(self, ada):
        first = run("token", "create", "ada@example.com", "--name", "one").strip().splitlines()[-1]
        second = run("token", "create", "ada@example.com", "--name", "two").strip().splitlines()[-1]
        one = ApiToken.objects.get(name="one")

        assert "Revoked" in run("token", "revoke", str(one.pk))
        assert Client(HTTP_AUTHORIZATION=f"Bearer {first}").get("/api/v1/contacts").status_code == 401
        assert Client(HTTP_AUTHORIZATION=f"Bearer {second}").get("/api/v1/contacts").status_code == 200

        assert "Revoked" in run("token", "revoke", second)
        assert Client(HTTP_AUTHORIZATION=f"Bearer {second}").get("/api/v1/contacts").status_code == 401
        assert "already revoked" in run("token", "revoke", second)
        assert "revoked" in run("token", "list", "ada@example.com")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("token", "create", "ghost@example.com"), "No user with email"),
            (("token", "list", "ghost@example.com"), "No user with email"),
            (("token", "revoke", "999999"), "No token 999999"),
            (("token", "revoke", "kith_not-a-real-token"), "No token"),
            (("token", "revoke", "nonsense"), "token id"),
        ],
    )
    def test_errors(self, ada, args, message):
        error = fails(*args)
        assert error.returncode == 2 and message in str(error)

    def test_no_token_for_a_deactivated_user(self, ada):
        User.objects.create_user("old@example.com", "Long-enough-1", is_active=False)
        assert "deactivated" in str(fails("token", "create", "old@example.com"))
