"""kith token create | list | revoke: personal API tokens (the secret is shown once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kith.core.management.util import usage_error
from kith.core.models import ApiToken, User
from kith.core.tokens import create_token, revoke_token


class Command(BaseCommand):
    help = "Manage API tokens: create (prints the secret on the last line), list, revoke."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{create,list,revoke}")
        sub.required = True
        create = sub.add_parser("create", help="Create a token for a user; its secret is printed last, once.")
        create.add_argument("email")
        create.add_argument("--name", default="API token", help="what the token is for")
        listing = sub.add_parser("list", help="List a user's tokens.")
        listing.add_argument("email")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or its secret.")
        revoke.add_argument("token", help="the id shown by `kith token list`, or the secret itself")

    def handle(self, *args, **options):
        getattr(self, options["action"])(options)

    @staticmethod
    def _user(email: str) -> User:
        user = User.objects.filter(email__iexact=(email or "").strip()).first()
        if user is None:
            raise usage_error(f"No user with email {email}. See `kith user list`.")
        return user

    def create(self, options):
        user = self._user(options["email"])
        if not user.is_active:
            raise usage_error(f"{user.email} is deactivated; a token for them would not work.")
        token, secret = create_token(user=user, name=options["name"])
        self.stdout.write(
            f"Created token #{token.pk} “{token.name}” for {user.email} ({user.role}). "
            "It is shown only now; send it as “Authorization: Bearer <token>”."
        )
        self.stdout.write(secret)

    def list(self, options):
        user = self._user(options["email"])
        tokens = list(user.api_tokens.order_by("id"))
        if not tokens:
            self.stdout.write(f"{user.email} has no tokens.")
            return
        rows = [("ID", "NAME", "STARTS WITH", "CREATED", "LAST USED", "STATUS")]
        for t in tokens:
            rows.append((
                str(t.pk),
                t.name,
                t.hint + "…",
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
                "active" if t.is_active else f"revoked {t.revoked_at:%Y-%m-%d}",
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())

    def revoke(self, options):
        value = options["token"].strip()
        if value.startswith(ApiToken.PREFIX):
            token = ApiToken.objects.filter(key_hash=ApiToken.hash(value)).select_related("user").first()
        elif value.isdigit():
            token = ApiToken.objects.filter(pk=int(value)).select_related("user").first()
        else:
            raise usage_error("Give a token id (see `kith token list EMAIL`) or the token secret (kith_…).")
        if token is None:
            raise usage_error(f"No token {value if value.isdigit() else value[:9] + '…'}.")
        if not token.is_active:
            self.stdout.write(f"Token #{token.pk} “{token.name}” of {token.user.email} was already revoked.")
            return
        revoke_token(token=token)
        self.stdout.write(f"Revoked token #{token.pk} “{token.name}” of {token.user.email}.")
