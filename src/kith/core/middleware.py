from __future__ import annotations

import uuid

from django.conf import settings

from . import context


class RequestIdMiddleware:
    """Give each request an id (X-Request-ID in and out), stored with change history rows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        # Letters, digits and dashes (ASCII only: the id goes back out in a header and into the history).
        valid = incoming.isascii() and incoming.replace("-", "").isalnum()
        rid = incoming[:64] if valid else uuid.uuid4().hex
        request.request_id = rid
        token = context.request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy (own assets only) and Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs"):
            # The API explorer page loads its own bundled assets plus one inline bootstrap script.
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY.replace(
                "script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"))
        else:
            response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
