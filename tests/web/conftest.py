"""Helpers for the web UI tests: signed-in clients and records made through the services."""

from __future__ import annotations

import re

import pytest

from conftest import signed_in as signed_in_as
from kith.contacts import services


@pytest.fixture
def signed_in():
    return signed_in_as


@pytest.fixture
def admin_client(signed_in, admin):
    return signed_in(admin)


@pytest.fixture
def make_contact(admin):
    def make(actor=None, **data):
        return services.create_contact(actor=actor or admin, data=data)

    return make


@pytest.fixture
def make_company(admin):
    def make(actor=None, **data):
        return services.create_company(actor=actor or admin, data=data)

    return make


def text(response) -> str:
    """The page's visible text, roughly: tags removed, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    import html as html_lib

    return " ".join(html_lib.unescape(html).split())


def names_in_table(response) -> list[str]:
    """Record names in the order the list shows them."""
    html = response.content.decode()
    return re.findall(r'class="record-link"[^>]*>(?:<span[^>]*>[^<]*</span>)?<span>([^<]+)</span>', html)
