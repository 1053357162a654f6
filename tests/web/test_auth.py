"""Sign in, sign out, the login requirement and login throttling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from kith.core.models import LoginFailure

from .conftest import text

pytestmark = pytest.mark.django_db


def test_login_page_has_labelled_fields_and_button(client):
    r = client.get("/login/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<label class="label" for="id_email">Email</label>' in html
    assert '<label class="label" for="id_password">Password</label>' in html
    assert ">Sign in</button>" in html


def test_pages_require_sign_in(client):
    for url in ["/", "/contacts/", "/companies/", "/trash/", "/search/?q=a", "/contacts/new/", "/companies/lookup/"]:
        r = client.get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith("/login/?next="), url


def test_sign_in_goes_home_and_shows_the_user(client, admin):
    r = client.post("/login/", {"email": "Alice@Example.com", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/"
    home = client.get("/")
    assert "Alice Admin" in text(home)


def test_sign_in_follows_a_safe_next_only(client, admin):
    r = client.post("/login/?next=/companies/", {"email": admin.email, "password": PASSWORD, "next": "/companies/"})
    assert r["Location"] == "/companies/"
    client.logout()
    r = client.post("/login/", {"email": admin.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(client, admin):
    r = client.post("/login/", {"email": admin.email, "password": "nope-nope"})
    assert r.status_code == 200
    assert "The email or password is not correct." in text(r)
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(key=f"account:{admin.email}").count() == 1


def test_inactive_user_cannot_sign_in(client, member):
    member.is_active = False
    member.save()
    r = client.post("/login/", {"email": member.email, "password": PASSWORD})
    assert "The email or password is not correct." in text(r)


def test_throttle_per_account_refuses_even_the_right_password(client, admin, settings):
    settings.KITH_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        r = client.post("/login/", {"email": admin.email, "password": "wrong-password"})
        assert "not correct" in text(r)
    r = client.post("/login/", {"email": admin.email, "password": "wrong-password"})
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in text(r)
    # From another address too: the account itself is paused.
    other = Client(REMOTE_ADDR="10.9.9.9")
    r = other.post("/login/", {"email": admin.email, "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in text(r)
    assert "_auth_user_id" not in other.session


def test_throttle_per_ip_address_across_accounts(admin, member, settings):
    settings.KITH_LOGIN_MAX_FAILURES = 3
    c = Client(REMOTE_ADDR="10.1.2.3")
    for i in range(3):
        c.post("/login/", {"email": f"nobody{i}@example.com", "password": "x-wrong-x"})
    r = c.post("/login/", {"email": member.email, "password": PASSWORD})
    assert r.status_code == 429
    # Another address is not affected.
    r = Client(REMOTE_ADDR="10.1.2.4").post("/login/", {"email": member.email, "password": PASSWORD})
    assert r.status_code == 302


def test_failures_outside_the_window_do_not_count(client, admin, settings):
    settings.KITH_LOGIN_MAX_FAILURES = 2
    settings.KITH_LOGIN_WINDOW_SECONDS = 60
    old = timezone.now() - dt.timedelta(seconds=120)
    LoginFailure.objects.bulk_create([LoginFailure(key=f"account:{admin.email}", created_at=old) for _ in range(5)])
    r = client.post("/login/", {"email": admin.email, "password": PASSWORD})
    assert r.status_code == 302


def test_successful_sign_in_clears_the_account_failures(client, admin, settings):
    settings.KITH_LOGIN_MAX_FAILURES = 3
    client.post("/login/", {"email": admin.email, "password": "wrong-password"})
    client.post("/login/", {"email": admin.email, "password": "wrong-password"})
    assert client.post("/login/", {"email": admin.email, "password": PASSWORD}).status_code == 302
    assert not LoginFailure.objects.filter(key=f"account:{admin.email}").exists()


def test_sign_out_is_a_post(admin_client):
    assert admin_client.get("/logout/").status_code == 405
    r = admin_client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert admin_client.get("/").status_code == 302


def test_pages_send_a_strict_content_security_policy(admin_client):
    r = admin_client.get("/contacts/")
    assert "script-src 'self'" in r["Content-Security-Policy"]
    html = r.content.decode()
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
