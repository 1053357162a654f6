"""Shared test set-up: personas, an API client with a real token, and a real Chromium for browser tests.

Run the whole suite on SQLite (default) or PostgreSQL (DATABASE_URL=postgresql://postgres@127.0.0.1:5432/kith).
"""

from __future__ import annotations

import json
import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls there are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-Horse-42"
CHROMIUM = os.environ.get("KITH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and on PostgreSQL, before it is dropped: the connections threads of
    this run left open (live-server request threads, pooled connections checked out when Django re-made
    its pool) are closed, so DROP DATABASE does not fail with "being accessed by other users". The test
    database is this run's alone."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Argon2 is the production hasher (tested in test_users.py); tests log in many times.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


def make_user(email: str, role: str, **extra):
    from kith.core.models import User

    return User.objects.create_user(email, PASSWORD, role=role, **extra)


@pytest.fixture
def admin(db):
    return make_user("alice@example.com", "admin", full_name="Alice Admin")


@pytest.fixture
def manager(db):
    return make_user("maria@example.com", "manager", full_name="Maria Manager")


@pytest.fixture
def member(db):
    return make_user("bob@example.com", "member", full_name="Bob Member")


@pytest.fixture
def viewer(db):
    return make_user("victor@example.com", "viewer", full_name="Victor Viewer")


class ApiClient:
    """Talks to /api/v1 over Django's test client with a real Bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, data=None, headers: dict | None = None, **params):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        extra = {**self.headers, **(headers or {})}
        fn = getattr(self.client, method)
        if method in ("get", "delete") and data is None:
            return fn(url, params or None, **extra)
        return fn(url, data=json.dumps(data) if data is not None else None, content_type="application/json", **extra)

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, data=None, **kw):
        return self._call("post", path, data if data is not None else {}, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data if data is not None else {}, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


def signed_in(user):
    """A test client signed in as the user (a session, as after the login form)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def token_for(user) -> str:
    from kith.core.tokens import create_token

    _, secret = create_token(user=user, name="tests")
    return secret


@pytest.fixture
def api_for(client):
    def make(user):
        from django.test import Client

        return ApiClient(Client(), token_for(user) if user is not None else None)

    return make


@pytest.fixture
def api(api_for, admin):
    return api_for(admin)


@pytest.fixture
def query_plan():
    """The database's plan for a captured query, as text (on PostgreSQL with sequential scans discouraged,
    as on a big table: a tiny test table would be scanned whatever the indexes)."""
    from django.db import connection

    def plan(sql: str) -> str:
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute("EXPLAIN QUERY PLAN " + sql)
                return " ".join(str(r[-1]) for r in cur.fetchall())
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + sql)
            return " ".join(r[0] for r in cur.fetchall())

    return plan


@pytest.fixture(autouse=True)
def _clean_search_index(request):
    """Transactional tests (browser tests) truncate tables but not the raw search index; clear it."""
    yield
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        from kith.core import search

        search.clear()


# --- browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def console_errors(page):
    """Console errors and uncaught exceptions of the page (a CSP violation or a missing asset shows up here).
    Forms answering 400 (field errors) or 409 (a stale version) on purpose are not errors."""
    import re

    errors: list[str] = []
    expected = re.compile(r"Failed to load resource: the server responded with a status of (400|409)")

    def on_console(m):
        if m.type == "error" and not expected.search(m.text):
            errors.append(m.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def login(page, user, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
