"""The OpenAPI document and the docs page (served from local static files, no CDN); unknown URLs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from .conftest import assert_error_shape

ERROR_REF = "#/components/schemas/ErrorOut"
CONFLICT_REF = "#/components/schemas/ConflictOut"


@pytest.fixture
def spec(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method, op


def ref(op, code):
    return op["responses"][str(code)]["content"]["application/json"]["schema"]["$ref"]


def test_all_resources_are_listed(spec):
    paths = set(spec["paths"])
    for path in ["/api/v1/contacts", "/api/v1/contacts/{id}", "/api/v1/contacts/{id}/restore",
                 "/api/v1/contacts/{id}/history", "/api/v1/companies", "/api/v1/companies/{id}",
                 "/api/v1/companies/{id}/restore", "/api/v1/companies/{id}/history", "/api/v1/users",
                 "/api/v1/users/me", "/api/v1/users/{id}", "/api/v1/custom-fields", "/api/v1/custom-fields/{id}",
                 "/api/v1/search"]:
        assert path in paths


def test_every_operation_documents_its_errors(spec):
    ids = set()
    for path, method, op in operations(spec):
        ids.add(op["operationId"])
        assert ref(op, 401) == ERROR_REF, (path, method)
        assert op.get("security"), (path, method)
        if method in ("post", "patch", "delete"):
            assert "403" in op["responses"], (path, method)
        if method in ("post", "patch"):
            assert "422" in op["responses"], (path, method)
        if method in ("post", "patch") and "requestBody" in op:
            assert ref(op, 400) == ERROR_REF, (path, method)
        if "{id}" in path:
            assert ref(op, 404) == ERROR_REF, (path, method)
    assert len(ids) == sum(1 for _ in operations(spec)), "operation ids are unique"


def test_record_writes_document_conflicts(spec):
    for resource in ("contacts", "companies"):
        item = spec["paths"][f"/api/v1/{resource}/{{id}}"]
        assert ref(item["patch"], 409) == CONFLICT_REF
        assert "409" in item["delete"]["responses"]
        assert "201" in spec["paths"][f"/api/v1/{resource}"]["post"]["responses"]
        assert "204" in item["delete"]["responses"]
    conflict = spec["components"]["schemas"]["ConflictOut"]["properties"]
    assert {"detail", "errors", "current_version"} <= set(conflict)


def test_list_filters_are_documented(spec):
    params = {p["name"] for p in spec["paths"]["/api/v1/contacts"]["get"]["parameters"]}
    assert {"limit", "cursor", "q", "ordering", "trashed", "owner", "tag", "company", "lifecycle_stage",
            "country", "created_after", "updated_before", "cf_<key>"} <= params
    stage = next(p for p in spec["paths"]["/api/v1/contacts"]["get"]["parameters"] if p["name"] == "lifecycle_stage")
    assert "customer" in stage["schema"]["enum"]
    params = {p["name"] for p in spec["paths"]["/api/v1/companies"]["get"]["parameters"]}
    assert {"industry", "city", "domain", "owner", "tag", "cf_<key>"} <= params


def test_schemas_use_snake_case_and_hide_passwords(spec):
    schemas = spec["components"]["schemas"]
    contact = set(schemas["ContactOut"]["properties"])
    assert {"first_name", "company_name", "custom_fields", "deleted_at", "version"} <= contact
    assert "warnings" in schemas["ContactWriteOut"]["properties"]
    assert "password" not in schemas["UserOut"]["properties"]
    assert "contacts_count" in schemas["CompanyDetailOut"]["properties"]


def test_security_schemes(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"


def test_docs_page_uses_local_assets(db):
    c = Client()
    r = c.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    # (not "no 'cdn' in the page": a random CSRF token in it contained those letters now and then)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        fetched = c.get(asset)
        assert fetched.status_code == 200, asset
    # The page's own Content-Security-Policy allows exactly these same-origin assets.
    assert "script-src 'self'" in r["Content-Security-Policy"]


def test_unknown_api_path_is_json_404(api):
    assert_error_shape(api.get("/api/v1/nothing-here"), 404)
    assert_error_shape(api.get("/api/v1/contacts/not-a-number"), 404)
    assert_error_shape(Client().get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_json_405(api):
    r = api.client.put("/api/v1/contacts/1", data="{}", content_type="application/json", **api.headers)
    body = assert_error_shape(r, 405)
    assert "PATCH" in body["detail"]
    assert set(r["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}


@pytest.mark.browser
def test_docs_page_renders_in_a_browser_from_local_assets(page, live_server):
    requests, problems = [], []
    page.on("request", lambda req: requests.append(req.url))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/api/v1/docs")
    page.locator(".opblock-summary-path", has_text="/api/v1/contacts/{id}/history").first.wait_for()
    assert page.locator(".opblock").count() >= 25  # every operation
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert any(url.endswith("/api/v1/openapi.json") for url in requests)
    assert not problems, problems
