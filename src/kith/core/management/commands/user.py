"""kith user create | list | set-role | set-password: manage who can sign in."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kith.core.errors import PermissionDenied, ValidationError
from kith.core.management.util import usage_error, validation_text
from kith.core.models import Role, User
from kith.core.users import create_user, update_user

ROLES = ", ".join(Role.values)


class Command(BaseCommand):
    help = "Manage users: create, list, set-role, set-password."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{create,list,set-role,set-password}")
        sub.required = True

        create = sub.add_parser("create", help="Create a user who can sign in.")
        create.add_argument("email")
        create.add_argument("--password", help="at least 8 characters; without it the user cannot sign in yet")
        create.add_argument("--role", default=Role.MEMBER, help=f"one of {ROLES} (default member)")
        create.add_argument("--name", default="", help="full name")

        sub.add_parser("list", help="List users with their role and status.")

        set_role = sub.add_parser("set-role", help="Change a user's role.")
        set_role.add_argument("email")
        set_role.add_argument("role", help=ROLES)

        set_password = sub.add_parser("set-password", help="Set a user's password.")
        set_password.add_argument("email")
        set_password.add_argument("--password", required=True)

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "create":
                self.create(options)
            elif action == "list":
                self.list()
            elif action == "set-role":
                self.set_role(options)
            elif action == "set-password":
                self.set_password(options)
        except ValidationError as exc:
            raise usage_error(validation_text(exc)) from None
        except PermissionDenied as exc:
            raise usage_error(str(exc)) from None

    @staticmethod
    def _user(email: str) -> User:
        user = User.objects.filter(email__iexact=(email or "").strip()).first()
        if user is None:
            raise usage_error(f"No user with email {email}. See `kith user list`.")
        return user

    def create(self, options):
        role = options["role"]
        if role not in Role.values:
            raise usage_error(f"Unknown role “{role}”. Use one of: {ROLES}.")
        user = create_user(
            actor=None, email=options["email"], password=options["password"], role=role, full_name=options["name"]
        )
        note = "" if options["password"] else " (no password yet: set one with `kith user set-password`)"
        self.stdout.write(f"Created {user.role} {user.email}{note}.")

    def list(self):
        users = list(User.objects.order_by("email"))
        if not users:
            self.stdout.write("No users yet. Create one with `kith user create EMAIL --password … --role admin`.")
            return
        rows = [("EMAIL", "NAME", "ROLE", "STATUS", "LAST SIGN-IN")]
        for u in users:
            rows.append((
                u.email,
                u.full_name or "-",
                u.role,
                "active" if u.is_active else "deactivated",
                u.last_login.strftime("%Y-%m-%d %H:%M") if u.last_login else "never",
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())

    def set_role(self, options):
        role = options["role"]
        if role not in Role.values:
            raise usage_error(f"Unknown role “{role}”. Use one of: {ROLES}.")
        user = update_user(actor=None, user=self._user(options["email"]), data={"role": role})
        self.stdout.write(f"{user.email} is now {user.role}.")

    def set_password(self, options):
        user = update_user(actor=None, user=self._user(options["email"]), data={"password": options["password"]})
        self.stdout.write(f"Password of {user.email} changed.")
