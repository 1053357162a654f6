"""Request id, security headers and the health check, through Django's real middleware stack."""

from __future__ import annotations

import re

import pytest
from django.http import JsonResponse
from django.test import RequestFactory

from kith.contacts import services
from kith.core import audit, context
from kith.core.middleware import RequestIdMiddleware, SecurityHeadersMiddleware


def test_healthz_answers_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_every_response_gets_a_fresh_request_id(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_well_formed_incoming_request_id_is_kept(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-42")
    assert response["X-Request-ID"] == "lb-7f3a-42"


@pytest.mark.parametrize("incoming", ["has space", "<script>", "a;b", "x\u00e9y", "é", "x" * 65 + "!", "²³"])
def test_a_malformed_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_an_overlong_request_id_is_cut_to_64_characters(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="a" * 100)
    assert response["X-Request-ID"] == "a" * 64


def test_content_security_policy_and_other_headers(client, db, settings):
    response = client.get("/healthz")
    csp = response["Content-Security-Policy"]
    assert csp == settings.CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_not_found_pages_get_the_headers_too(client, db):
    response = client.get("/no-such-page-anywhere/")
    assert response.status_code == 404
    assert "Content-Security-Policy" in response
    assert "X-Request-ID" in response


def test_a_view_that_sets_its_own_policy_keeps_it():
    def view(request):
        response = JsonResponse({})
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    response = SecurityHeadersMiddleware(view)(RequestFactory().get("/x"))
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_history_rows_written_during_a_request_carry_its_id(admin):
    made = {}

    def view(request):
        made["contact"] = services.create_contact(actor=admin, data={"first_name": "Ada"})
        services.update_contact(actor=admin, contact=made["contact"], data={"last_name": "Lovelace"})
        return JsonResponse({})

    response = RequestIdMiddleware(view)(RequestFactory().get("/x", HTTP_X_REQUEST_ID="req-abc-123"))
    assert response["X-Request-ID"] == "req-abc-123"
    assert [e.request_id for e in audit.history(made["contact"])] == ["req-abc-123", "req-abc-123"]

    generated = {}

    def other_view(request):
        generated["id"] = request.request_id
        made["other"] = services.create_contact(actor=admin, data={"first_name": "Grace"})
        return JsonResponse({})

    response = RequestIdMiddleware(other_view)(RequestFactory().get("/x"))
    assert audit.history(made["other"]).first().request_id == generated["id"] == response["X-Request-ID"]


def test_request_id_does_not_leak_past_the_request(admin):
    def view(request):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        RequestIdMiddleware(view)(RequestFactory().get("/x", HTTP_X_REQUEST_ID="leaky"))
    assert context.request_id.get() == ""
    contact = services.create_contact(actor=admin, data={"first_name": "Later"})
    assert audit.history(contact).first().request_id == ""
