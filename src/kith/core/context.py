"""Per-request context (request id) visible to services without passing it through every call."""

from __future__ import annotations

import contextvars

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("kith_request_id", default="")
