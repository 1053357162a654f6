"""API authentication: a personal token (Authorization: Bearer kith_…) or a signed-in browser session.

Session authentication exists so the interactive docs at /api/v1/docs work in the browser; it is CSRF
protected for unsafe methods. A token that is sent but wrong answers 401 straight away rather than
falling back to the session, so a client never acts as someone else by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from kith.core import permissions
from kith.core.tokens import authenticate

Check = Callable[[Any], None]

MISSING = "Authentication required: send an API token as “Authorization: Bearer <token>” or sign in."
INVALID = "This API token is not valid: it is unknown, revoked, or its user is deactivated."


class TokenAuth(HttpBearer):
    """Authorization: Bearer <token>, checked with kith.core.tokens.authenticate.

    check (optional) vets the user before the request body is even read, e.g. viewers get 403 on
    every write whatever they send.
    """

    def __init__(self, check: Check | None = None) -> None:
        self.check = check
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        value = request.headers.get("Authorization", "")
        if not value.strip():
            return None
        scheme, _, secret = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(401, "Use “Authorization: Bearer <token>” with a personal API token.")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate(token)
        if user is None:
            raise AuthenticationError(401, INVALID)
        request.user = user
        if self.check:
            self.check(user)
        return user


class SessionAuth(APIKeyCookie):
    """The browser session of a signed-in user (CSRF-checked on unsafe methods)."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self, check: Check | None = None) -> None:
        self.check = check
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # Nothing to protect: skip the CSRF check so an anonymous POST answers 401, not 403.
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            if self.check:
                self.check(user)
            return user
        return None


def auth_for(check: Check | None = None) -> list:
    """Token or session authentication, plus an optional role check (PermissionDenied → 403)."""
    return [TokenAuth(check), SessionAuth(check)]


default_auth = auth_for()
write_auth = auth_for(lambda user: permissions.require_write(user))
settings_auth = auth_for(lambda user: permissions.require_settings(user))
admin_auth = auth_for(lambda user: permissions.require_admin(user))
