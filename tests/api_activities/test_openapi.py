"""The OpenAPI document lists the activities API and documents its error answers."""

from __future__ import annotations

import pytest
from django.test import Client

ERROR_REF = "#/components/schemas/ErrorOut"
CONFLICT_REF = "#/components/schemas/ConflictOut"

PATHS = {
    "/api/v1/activities": {"get", "post"},
    "/api/v1/activities/{id}": {"get", "patch", "delete"},
    "/api/v1/activities/{id}/restore": {"post"},
    "/api/v1/activities/{id}/invitations": {"post"},
    "/api/v1/activities/{id}/ics": {"get"},
    "/api/v1/tasks": {"get", "post"},
    "/api/v1/tasks/{id}": {"get", "patch", "delete"},
    "/api/v1/tasks/{id}/complete": {"post"},
    "/api/v1/tasks/{id}/reopen": {"post"},
    "/api/v1/tasks/{id}/restore": {"post"},
    "/api/v1/comments": {"get", "post"},
    "/api/v1/comments/{id}": {"get", "patch", "delete"},
    "/api/v1/notifications": {"get"},
    "/api/v1/notifications/read": {"post"},
    "/api/v1/notifications/unread-count": {"get"},
    "/api/v1/notifications/settings": {"get", "patch"},
    "/api/v1/email-templates": {"get", "post"},
    "/api/v1/email-templates/{id}": {"get", "patch", "delete"},
    "/api/v1/email-templates/{id}/render": {"post"},
    "/api/v1/email-templates/merge-fields": {"get"},
    "/api/v1/emails/send": {"post"},
    "/api/v1/emails/{id}/retry": {"post"},
    "/api/v1/contacts/{id}/timeline": {"get"},
    "/api/v1/companies/{id}/timeline": {"get"},
    "/api/v1/leads/{id}/timeline": {"get"},
    "/api/v1/deals/{id}/timeline": {"get"},
}


@pytest.fixture
def spec(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json()


def ref(op, code):
    return op["responses"][str(code)]["content"]["application/json"]["schema"]["$ref"]


def test_the_new_paths_are_documented_with_their_errors(spec):
    for path, methods in PATHS.items():
        assert path in spec["paths"], path
        assert set(spec["paths"][path]) == methods, path
        for method in methods:
            op = spec["paths"][path][method]
            assert ref(op, 401) == ERROR_REF, (path, method)
            if method in ("post", "patch", "delete"):
                assert "403" in op["responses"], (path, method)
            if method in ("post", "patch"):
                assert ref(op, 422) == ERROR_REF, (path, method)
            if "requestBody" in op:
                assert ref(op, 400) == ERROR_REF, (path, method)
            if "{id}" in path:
                assert ref(op, 404) == ERROR_REF, (path, method)


def test_versions_smtp_and_calendar_answers(spec):
    paths = spec["paths"]
    for resource in ("activities", "tasks"):
        item = paths[f"/api/v1/{resource}/{{id}}"]
        assert ref(item["patch"], 409) == CONFLICT_REF
        assert "409" in item["delete"]["responses"]
        assert "201" in paths[f"/api/v1/{resource}"]["post"]["responses"]
    send = paths["/api/v1/emails/send"]["post"]
    assert "202" in send["responses"] and ref(send, 400) == ERROR_REF
    assert "KITH_SMTP_URL" in send["description"]
    assert "text/calendar" in paths["/api/v1/activities/{id}/ics"]["get"]["responses"]["200"]["content"]
    task_params = {p["name"] for p in paths["/api/v1/tasks"]["get"]["parameters"]}
    assert {"assignee_id", "status", "priority", "due_before", "due_after", "overdue", "record", "ordering"} <= task_params
    timeline_params = {p["name"] for p in paths["/api/v1/contacts/{id}/timeline"]["get"]["parameters"]}
    assert {"cursor", "types", "limit"} <= timeline_params
    schemas = spec["components"]["schemas"]
    assert {"pinned", "items", "next_cursor"} <= set(schemas["TimelinePage"]["properties"])
