"""kith demo: load realistic demo data (companies, contacts, personas, custom fields, history)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from kith.core.errors import ValidationError
from kith.core.management import demodata
from kith.core.management.util import validation_text


class Command(BaseCommand):
    help = (
        "Load demo data: ~40 companies in many countries, ~300 contacts with change history, custom fields, "
        "tags, and demo users (admin demo@example.com plus manager, member and viewer personas). The password "
        "is generated once and saved in KITH_DATA_DIR/demo-login.txt. Deterministic: the same records every time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="load even though the database has records (records with the same email or domain are kept)",
        )
        parser.add_argument("--contacts", type=int, default=300, help="how many contacts (default 300)")

    def handle(self, *args, **options):
        contacts, companies = demodata.existing_counts()
        if (contacts or companies) and not options["force"]:
            raise CommandError(
                f"This database already has {contacts} contacts and {companies} companies, so the demo data was "
                "not loaded (it is meant for an empty Kith). Run `kith demo --force` to add it anyway; existing "
                "records are left alone.",
                returncode=1,
            )
        started = time.monotonic()
        self.stdout.write("Loading the demo data …")
        try:
            result = demodata.load(stdout=self.stdout, contacts=max(0, options["contacts"]))
        except ValidationError as exc:
            raise CommandError(f"The demo data could not be loaded: {validation_text(exc)}", returncode=1) from None
        self.stdout.write(
            f"Loaded {result['companies']} companies, {result['contacts']} contacts and {result['updates']} "
            f"later changes ({result['trashed']} contacts in the trash) in {time.monotonic() - started:.1f} s."
            + (f" Skipped {result['skipped']} that already existed." if result["skipped"] else "")
            + (f" Sales: {result['sales'].get('deals', 0)} deals, {result['sales'].get('leads', 0)} leads, "
               f"{result['sales'].get('quotes', 0)} quotes." if result.get("sales") else "")
            + (f" Activities: {result['activities'].get('activities', 0)} (incl. {result['activities'].get('tasks', 0)} "
               f"tasks and {result['activities'].get('meetings', 0)} meetings)."
               if result.get("activities", {}).get("activities") else "")
        )
        login = result["login"]
        if login:
            self.stdout.write(f"Sign in as {login[0]} with password {login[1]} (saved in {demodata.login_file()}).")
            others = ", ".join(f"{email} ({role})" for email, _, role in demodata.DEMO_USERS[1:])
            self.stdout.write(f"The same password works for the personas: {others}.")
