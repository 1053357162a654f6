"""Helpers shared by the routers: keyset pages, versions from If-Match / body, ETags."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from kith.core import pagination, records
from kith.core.pagination import Ordering


def _json_default(value: Any) -> Any:
    # The same text pydantic (ninja's serialiser) writes, so list and detail answers agree byte for byte.
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_page(items: list[dict[str, Any]], next_cursor: str | None) -> HttpResponse:
    """A list page as JSON, written directly: the dicts come from our own serialisers, which already
    match the documented schema, so re-validating every row through the response schema only costs time."""
    body = json.dumps({"items": items, "next_cursor": next_cursor}, default=_json_default, ensure_ascii=False)
    return HttpResponse(body.encode(), content_type="application/json; charset=utf-8")


BAD_CURSOR = "This cursor is not valid for this list and ordering."
LIMIT_DESCRIPTION = "Rows per page, 1 to 200."
CURSOR_DESCRIPTION = "The next_cursor of the previous page; leave out for the first page."


def page(qs, *, ordering: Ordering, descending: bool, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """One keyset page (no COUNT). A cursor from another list or ordering is a 422 naming "cursor"."""
    try:
        return pagination.paginate(qs, ordering=ordering, descending=descending, cursor=cursor or None, limit=limit)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "cursor" in exc.error_dict:
            raise
        raise ValidationError({"cursor": [BAD_CURSOR]}) from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError({"cursor": [BAD_CURSOR]}) from exc


def ordering_description(orderings: dict[str, Ordering], default: str) -> str:
    names = ", ".join(sorted(orderings))
    return f"One of: {names}; prefix “-” for descending. Default {default}."


def expected_version(request: HttpRequest, obj, body_version: int | None = None) -> int | None:
    """The version the client says it read, from If-Match and/or the body's "version".

    When both are sent, a stale one wins so the write answers 409 rather than silently going ahead.
    """
    versions: list[int] = []
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*":
        parsed = records.parse_version(header.split(",")[0])
        if parsed is not None:
            versions.append(parsed)
    if body_version is not None:
        versions.append(records.parse_version(body_version))
    for version in versions:
        if version != obj.version:
            return version
    return versions[0] if versions else None


def etag(obj) -> str:
    return f'"{obj.version}"'


def set_record_headers(response: HttpResponse, obj, location: str | None = None) -> None:
    response["ETag"] = etag(obj)
    if location:
        response["Location"] = location
