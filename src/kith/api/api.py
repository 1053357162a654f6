"""The REST API under /api/v1/: contacts, companies, users, custom fields and search.

Authenticate with a personal API token (Authorization: Bearer kith_…) or, in the browser, a signed-in
session (CSRF-checked), so /api/v1/docs works as an explorer. Every 4xx answer is
{"detail": "<sentence>", "errors": [{"field": ..., "message": ...}]} (see errors.py).
"""

from __future__ import annotations

import copy
import functools
import inspect

from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.urls import URLPattern
from ninja import NinjaAPI, Router
from ninja.openapi.schema import OpenAPISchema

from . import (
    activities_api,
    companies,
    contacts,
    custom_fields,
    duplicates_api,
    errors,
    exports_api,
    imports_api,
    sales_deals,
    sales_forecast,
    sales_lead_forms,
    sales_leads,
    sales_pipelines,
    sales_products,
    sales_quotas,
    sales_quotes,
    search,
    users,
)
from .auth import default_auth

DESCRIPTION = """
The Kith CRM API.

**Authentication**: create a personal API token in your settings and send it as
`Authorization: Bearer <token>`. Signed in to the web app, this page also works with your session.

**Errors**: every 4xx answer is `{"detail": "<sentence>", "errors": [{"field": "email", "message": "…"}]}`;
a stale version (409) adds `current_version`. Nothing is written when a request fails.

**Lists** use keyset pagination: follow `next_cursor` until it is `null`.

**Versions**: records carry `version` (also the `ETag` of GET). Send it back as `If-Match` or `version`
on PATCH and DELETE to refuse the write if someone changed the record meanwhile (409).
"""


class KithOpenAPISchema(OpenAPISchema):
    """Builds the schema of each response type once per document: every operation documents the same error
    shapes, and rebuilding them for each one made the document slow to serve."""

    def __init__(self, api, path_prefix: str) -> None:
        self._responses: dict = {}
        super().__init__(api, path_prefix)

    def _create_schema_from_model(self, model, by_alias=True, remove_level=True, mode="validation"):
        if getattr(model, "__name__", "") != "NinjaResponseSchema":
            return super()._create_schema_from_model(model, by_alias, remove_level, mode)
        key = (model.__annotations__.get("response"), by_alias, remove_level, mode)
        try:
            if key not in self._responses:
                self._responses[key] = super()._create_schema_from_model(model, by_alias, remove_level, mode)
        except TypeError:  # an unhashable annotation
            return super()._create_schema_from_model(model, by_alias, remove_level, mode)
        return copy.deepcopy(self._responses[key])


class KithAPI(NinjaAPI):
    """NinjaAPI whose 405 answers have the same JSON error shape as every other 4xx, and whose OpenAPI
    document is built once per process (the routes do not change while it runs)."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_openapi_cache", {})
        if path_prefix not in cache:
            cache[path_prefix] = KithOpenAPISchema(self, path_prefix)
        return cache[path_prefix]

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern) and not inspect.iscoroutinefunction(pattern.callback):
                pattern.callback = self._json_not_allowed(pattern.callback)
        return urls

    def _json_not_allowed(self, view):
        @functools.wraps(view)  # keeps csrf_exempt: ninja does its own CSRF checks
        def wrapper(request: HttpRequest, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                body = errors.error_body(f"{request.method} is not allowed here; use {allowed}.")
                json_response = self.create_response(request, body, status=405)
                json_response["Allow"] = allowed
                return json_response
            return response

        return wrapper


api = KithAPI(
    title="Kith API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="api",
    auth=default_auth,
)
errors.install(api)

api.add_router("/contacts", contacts.router)
api.add_router("/companies", companies.router)
api.add_router("/users", users.router)
api.add_router("/custom-fields", custom_fields.router)
api.add_router("/search", search.router)
api.add_router("/leads", sales_leads.router)
api.add_router("/lead-forms", sales_lead_forms.router)
api.add_router("/pipelines", sales_pipelines.router)
api.add_router("/stages", sales_pipelines.stages_router)
api.add_router("/deals", sales_deals.router)
api.add_router("/products", sales_products.router)
api.add_router("/quotes", sales_quotes.router)
api.add_router("/quotas", sales_quotas.router)
api.add_router("/forecast", sales_forecast.router)
for _prefix, _router in [*activities_api.ROUTERS, *imports_api.ROUTERS, *exports_api.ROUTERS,
                         *duplicates_api.ROUTERS]:
    api.add_router(_prefix, _router)

# Last: unknown paths under /api/v1/ answer a JSON 404 like everything else.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False,
                        auth=None)
def not_found(request: HttpRequest, rest: str):
    raise Http404(rest)


api.add_router("", fallback)
