"""Errors raised by services, turned into 4xx answers by the API and form errors by the UI."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["ConflictError", "NotFoundError", "PermissionDenied", "ValidationError", "field_errors"]


class ConflictError(Exception):
    """The record changed since the client read it (stale version)."""

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__(message)
        self.message = message
        self.current_version = current_version


class NotFoundError(Exception):
    pass


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Flatten a Django ValidationError into [{"field": ..., "message": ...}]."""
    out: list[dict[str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                out.append({"field": "" if field == "__all__" else field, "message": message})
    else:
        for message in exc.messages:
            out.append({"field": "", "message": message})
    return out
