"""Personal API tokens (kith.core.tokens): stored hashed, authenticate, revoke, last use recorded."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.utils import timezone

from kith.core.models import ApiToken
from kith.core.tokens import authenticate, create_token, revoke_token


def test_secret_is_shown_once_and_only_its_hash_is_stored(member):
    token, secret = create_token(user=member, name="Zapier")
    assert secret.startswith("kith_")
    assert len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in [stored.key_hash, stored.name, stored.hint]
    assert secret.startswith(stored.hint)
    assert len(stored.hint) < 12
    assert stored.name == "Zapier"
    assert str(stored) == f"Zapier ({stored.hint}…)"


def test_each_token_is_different(member):
    secrets = {create_token(user=member)[1] for _ in range(5)}
    assert len(secrets) == 5


def test_authenticate_returns_the_tokens_user(member, viewer):
    _, secret = create_token(user=member)
    _, other = create_token(user=viewer)
    assert authenticate(secret) == member
    assert authenticate(other) == viewer


def test_wrong_or_malformed_secrets_do_not_authenticate(member):
    _, secret = create_token(user=member)
    for bad in ["", None, secret[:-1], secret + "x", secret.upper(), "Bearer " + secret, secret[5:],
                ApiToken.hash(secret)]:
        assert authenticate(bad) is None


def test_revoked_token_no_longer_authenticates(member):
    token, secret = create_token(user=member)
    _, other = create_token(user=member)
    revoke_token(token=token)
    assert authenticate(secret) is None
    assert authenticate(other) == member
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    assert revoked_at is not None
    revoke_token(token=token)  # revoking twice keeps the first time
    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert not ApiToken.objects.get(pk=token.pk).is_active


def test_deactivated_users_tokens_do_not_authenticate(member):
    _, secret = create_token(user=member)
    member.is_active = False
    member.save()
    assert authenticate(secret) is None


def test_last_use_is_recorded_at_most_once_a_minute(member):
    token, secret = create_token(user=member)
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None

    authenticate(secret)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    assert timezone.now() - first < timedelta(seconds=5)

    authenticate(secret)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    authenticate(secret)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > long_ago


def test_failed_authentication_records_nothing(member):
    token, secret = create_token(user=member)
    revoke_token(token=token)
    authenticate(secret)
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None


def test_token_names_default_and_are_limited(member):
    assert create_token(user=member, name="")[0].name == "API token"
    assert len(create_token(user=member, name="n" * 300)[0].name) == 100
