"""kith seed: bulk data for benchmarks and load tests."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import connection

from kith.core.management import seeding
from kith.core.management.util import usage_error


class Command(BaseCommand):
    help = (
        "Insert many contacts and companies fast, for benchmarks. It bypasses the services: rows are "
        "bulk-inserted in batches with tags, custom field values, a 'created' history row each and the search "
        "index, but no domain events, webhooks or jobs. Use `kith demo` for data that looks hand-made."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=10000, help="contacts to add (default 10000)")
        parser.add_argument("--companies", type=int, default=None,
                            help="companies to add (default: one per 50 contacts)")
        parser.add_argument("--batch", type=int, default=5000, help="rows per transaction (default 5000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--activities", type=int, default=0,
                            help="also add this many calls, emails, notes, meetings and tasks, spread over the "
                                 "contacts (linked to each contact and its company); default 0")

    def handle(self, *args, **options):
        contacts = options["contacts"]
        companies = options["companies"] if options["companies"] is not None else max(1, contacts // 50)
        if contacts < 0 or companies < 0 or options["activities"] < 0:
            raise usage_error("--contacts, --companies and --activities must be 0 or more.")
        self.stdout.write(f"Seeding {contacts:,} contacts and {companies:,} companies …")
        result = seeding.seed(
            contacts=contacts, companies=companies, batch=options["batch"], seed_value=options["seed"],
            progress=self.stdout.write if options["verbosity"] >= 1 else None,
        )
        if options["activities"]:
            from kith.activities.seeding import contact_targets, seed_activities

            targets = contact_targets()
            if not targets:
                raise usage_error("--activities needs contacts to attach them to (use --contacts too).")
            self.stdout.write(f"Seeding {options['activities']:,} activities over {len(targets):,} contacts …")
            acts = seed_activities(n=options["activities"], targets=targets, batch=options["batch"],
                                   seed_value=options["seed"], progress=self.stdout.write)
            self.stdout.write(f"Seeded {acts['activities']:,} activities ({acts['links']:,} timeline links) in "
                              f"{acts['seconds']:.1f} s: {acts['rows_per_second']:,.0f} rows/s.")
        started = time.monotonic()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # fresh planner statistics for the new rows (both databases)
        self.stdout.write(
            f"Seeded {result['contacts']:,} contacts and {result['companies']:,} companies in "
            f"{result['seconds']:.1f} s: {result['rows_per_second']:,.0f} rows/s "
            f"(statistics updated in {time.monotonic() - started:.1f} s)."
        )
