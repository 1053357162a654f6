"""Personal API tokens: created (secret shown once), looked up by hash, revoked."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import ApiToken

LAST_USED_RESOLUTION = timedelta(seconds=60)


def create_token(*, user, name: str = "API token") -> tuple[ApiToken, str]:
    secret = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=(name or "API token")[:100], key_hash=ApiToken.hash(secret), hint=secret[:9]
    )
    return token, secret


def authenticate(secret: str):
    """The active user for a token secret, or None. Records last use (at most once a minute)."""
    if not secret or not secret.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
