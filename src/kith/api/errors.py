"""Every 4xx answer has one shape: {"detail": "<sentence>", "errors": [{"field": ..., "message": ...}]}.

The handlers below turn schema errors, unparseable bodies, service errors (ValidationError,
ConflictError, PermissionDenied) and missing records into that shape. Services are atomic, so nothing
has been written when any of these is raised.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kith.core.errors import ConflictError, NotFoundError, field_errors

from . import auth

SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
# Body parameters whose JSON is an array, not an object (e.g. PUT /deals/{id}/line-items).
LIST_BODIES = {"items"}

# Responses documented on each kind of operation (the schemas live in schemas.py).
READ = (401, 404)
LIST = (401, 422)
CREATE = (400, 401, 403, 422)
UPDATE = (400, 401, 403, 404, 409, 422)
DELETE = (401, 403, 404, 409, 422)
ACTION = (401, 403, 404, 422)


def _field_from_loc(loc: Any, body_params: set[str]) -> str:
    parts = list(loc or ())
    if parts and parts[0] in SOURCES:
        source = parts.pop(0)
        # A body schema parameter ("payload") is not part of the client's JSON.
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    # A list index stays when a field of that element follows ("items.0.quantity"); a trailing one, an
    # element of a list of plain values, is dropped ("tags").
    kept = [p for i, p in enumerate(parts) if not isinstance(p, int) or any(isinstance(q, str) for q in parts[i + 1:])]
    return ".".join(str(p) for p in kept)


def schema_errors(exc: NinjaValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors:
        loc = err.get("loc", ())
        field = _field_from_loc(loc, {"payload"})
        message = str(err.get("msg", "Invalid value."))
        if err.get("type") == "extra_forbidden":
            message = "Unknown field."
        elif err.get("type") == "missing":
            message = "This field is required."
        out.append({"field": field, "message": message})
    return out


def error_body(detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or [], **extra}


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, detail: str, errors=None, **extra: Any) -> HttpResponse:
        return api.create_response(request, error_body(detail, errors, **extra), status=status)

    def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        detail = "Some values are not valid; see errors."
        for err in exc.errors:
            loc = tuple(err.get("loc", ()))
            if len(loc) == 2 and loc[0] == "body":  # the body as a whole, not one of its fields
                missing = err.get("type") == "missing"
                kind = "array" if err.get("type") == "list_type" or loc[1] in LIST_BODIES else "object"
                detail = f"This request needs a JSON {kind} body." if missing else f"The request body must be a JSON {kind}."
        return respond(request, 422, detail, schema_errors(exc))

    def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return respond(request, 422, "Some values are not valid; see errors.", field_errors(exc))

    def on_conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
        return respond(request, 409, exc.message, [{"field": "version", "message": exc.message}],
                       current_version=exc.current_version)

    def on_permission_denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return respond(request, 403, str(exc) or "You do not have permission to do this.")

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, "Not found: there is no such record, or you cannot see it.")

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message and exc.message != "Unauthorized" else auth.MISSING
        response = respond(request, 401, message)
        response["WWW-Authenticate"] = 'Bearer realm="kith"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = str(exc)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            message = "The request body is not valid JSON."
        elif exc.status_code == 403 and message == "CSRF check Failed":
            message = "CSRF check failed: with session sign-in, send the X-CSRFToken header."
        if message and not message.endswith("."):
            message += "."
        return respond(request, exc.status_code, message)

    api.add_exception_handler(NinjaValidationError, on_schema_error)
    api.add_exception_handler(DjangoValidationError, on_django_validation_error)
    api.add_exception_handler(ConflictError, on_conflict)
    api.add_exception_handler(DjangoPermissionDenied, on_permission_denied)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(ObjectDoesNotExist, on_not_found)
    api.add_exception_handler(NotFoundError, on_not_found)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(HttpError, on_http_error)
