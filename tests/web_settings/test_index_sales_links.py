"""The settings index links the sales settings pages to the roles that may use them."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _index(user) -> str:
    c = Client()
    c.force_login(user)
    return c.get("/settings/").content.decode()


def test_admin_sees_every_sales_page(admin):
    html = _index(admin)
    for path in ("/sales/settings/", "/sales/pipelines/", "/sales/quotas/", "/leads/forms/", "/leads/assignment/"):
        assert path in html


def test_manager_sees_sales_pages_but_not_sales_settings(manager):
    html = _index(manager)
    assert "/sales/pipelines/" in html and "/leads/forms/" in html
    assert "/sales/settings/" not in html


def test_member_sees_none(member):
    html = _index(member)
    assert "/sales/pipelines/" not in html and "/leads/assignment/" not in html
