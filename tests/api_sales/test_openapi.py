"""The OpenAPI document lists every sales path with its 4xx answers, list filters and money as strings."""

from __future__ import annotations

import json

import pytest
from django.test import Client

ERROR_REF = "#/components/schemas/ErrorOut"
CONFLICT_REF = "#/components/schemas/ConflictOut"

SALES_PATHS = {
    "/api/v1/leads": {"get", "post"},
    "/api/v1/leads/{id}": {"get", "patch", "delete"},
    "/api/v1/leads/{id}/restore": {"post"},
    "/api/v1/leads/{id}/history": {"get"},
    "/api/v1/leads/{id}/convert": {"post"},
    "/api/v1/leads/{id}/conversion-suggestions": {"get"},
    "/api/v1/lead-forms": {"get", "post"},
    "/api/v1/lead-forms/{id}": {"get", "patch", "delete"},
    "/api/v1/pipelines": {"get", "post"},
    "/api/v1/pipelines/{id}": {"get", "patch", "delete"},
    "/api/v1/pipelines/{id}/stages": {"post"},
    "/api/v1/pipelines/{id}/stages/reorder": {"post"},
    "/api/v1/stages/{id}": {"patch", "delete"},
    "/api/v1/deals": {"get", "post"},
    "/api/v1/deals/{id}": {"get", "patch", "delete"},
    "/api/v1/deals/{id}/restore": {"post"},
    "/api/v1/deals/{id}/history": {"get"},
    "/api/v1/deals/{id}/move": {"post"},
    "/api/v1/deals/{id}/line-items": {"put"},
    "/api/v1/deals/{id}/stage-history": {"get"},
    "/api/v1/products": {"get", "post"},
    "/api/v1/products/{id}": {"get", "patch", "delete"},
    "/api/v1/quotes": {"get", "post"},
    "/api/v1/quotes/{id}": {"get"},
    "/api/v1/quotes/{id}/status": {"post"},
    "/api/v1/quotes/{id}/pdf": {"get"},
    "/api/v1/quotas": {"get", "put", "post"},
    "/api/v1/quotas/{id}": {"get", "delete"},
    "/api/v1/forecast": {"get"},
}


@pytest.fixture
def spec(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json()


def ref(op, code):
    return op["responses"][str(code)]["content"]["application/json"]["schema"]["$ref"]


def test_every_sales_path_is_documented(spec):
    for path, methods in SALES_PATHS.items():
        assert path in spec["paths"], path
        assert set(spec["paths"][path]) == methods, path


def test_every_sales_operation_documents_its_errors(spec):
    for path, methods in SALES_PATHS.items():
        for method in methods:
            op = spec["paths"][path][method]
            where = (path, method)
            assert op.get("security"), where
            assert ref(op, 401) == ERROR_REF, where
            if method in ("post", "put", "patch", "delete"):
                assert ref(op, 403) == ERROR_REF, where
            if method in ("post", "put", "patch"):
                assert ref(op, 422) == ERROR_REF, where
            if "requestBody" in op:
                assert ref(op, 400) == ERROR_REF, where
            if "{id}" in path:
                assert ref(op, 404) == ERROR_REF, where
            if method == "get" and "{id}" not in path:
                assert ref(op, 422) == ERROR_REF, where


def test_versioned_writes_document_409(spec):
    for path, method in [("/api/v1/leads/{id}", "patch"), ("/api/v1/leads/{id}", "delete"),
                         ("/api/v1/deals/{id}", "patch"), ("/api/v1/deals/{id}", "delete"),
                         ("/api/v1/deals/{id}/move", "post"), ("/api/v1/deals/{id}/line-items", "put"),
                         ("/api/v1/quotes/{id}/status", "post")]:
        assert ref(spec["paths"][path][method], 409) == CONFLICT_REF, (path, method)


def test_list_filters_are_documented(spec):
    def names(path):
        return {p["name"] for p in spec["paths"][path]["get"]["parameters"]}

    assert {"limit", "cursor", "q", "ordering", "trashed", "status", "source", "country", "form", "overdue",
            "utm_campaign", "owner", "tag", "cf_<key>"} <= names("/api/v1/leads")
    assert {"limit", "cursor", "q", "ordering", "trashed", "pipeline", "stage", "status", "company", "contact",
            "close_after", "close_before", "amount_min", "amount_max", "commit", "currency", "owner",
            "cf_<key>"} <= names("/api/v1/deals")
    assert {"limit", "cursor", "q", "active"} <= names("/api/v1/products")
    assert {"deal", "status", "cursor"} <= names("/api/v1/quotes")
    assert {"user", "period_kind", "cursor"} <= names("/api/v1/quotas")
    assert {"period", "group_by", "pipeline", "owner"} <= names("/api/v1/forecast")
    assert "move_to" in {p["name"] for p in spec["paths"]["/api/v1/stages/{id}"]["delete"]["parameters"]}
    status = next(p for p in spec["paths"]["/api/v1/leads"]["get"]["parameters"] if p["name"] == "status")
    assert "qualified" in status["schema"]["enum"]


def test_money_is_a_string_and_the_pdf_is_a_pdf(spec):
    schemas = spec["components"]["schemas"]
    for name, fields in [("DealOut", ["amount", "amount_default", "weighted_amount"]),
                         ("LineItemOut", ["unit_price", "total"]), ("ProductOut", ["unit_price"]),
                         ("QuoteOut", ["subtotal", "tax_total", "total"]), ("QuotaOut", ["amount"]),
                         ("ForecastRowOut", ["open_amount", "weighted_amount", "won_amount"])]:
        for field in fields:
            assert schemas[name]["properties"][field]["type"] == "string", (name, field)
    assert {"overdue", "response_seconds", "converted_deal_id"} <= set(schemas["LeadOut"]["properties"])
    body = spec["paths"]["/api/v1/deals/{id}/line-items"]["put"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["type"] == "array"
    pdf = spec["paths"]["/api/v1/quotes/{id}/pdf"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf


def test_the_document_has_no_duplicate_keys(db):
    """Swagger UI refuses a document with a key twice (e.g. 200 and "200" in one responses map)."""
    duplicates = []

    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            duplicates.append(keys)
        return dict(items)

    json.loads(Client().get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert duplicates == []
