"""kith reindex: rebuild the search index of every record type (after an upgrade or a restore)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.sales.models import Deal, Lead

MODELS = {"contact": (Contact, ("company",)), "company": (Company, ()), "lead": (Lead, ()), "deal": (Deal, ("company",))}


class Command(BaseCommand):
    help = "Rebuild the search index (all record types, or those named with --type)."

    def add_arguments(self, parser):
        parser.add_argument("--type", choices=sorted(MODELS), action="append", dest="types",
                            help="only this record type (repeatable)")
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, types=None, batch=2000, **options):
        for kind in types or list(MODELS):
            model, related = MODELS[kind]
            started = time.monotonic()
            search.clear(kind)
            done = 0
            last = 0
            while True:
                rows = list(model.objects.filter(pk__gt=last).select_related(*related).order_by("pk")[:batch])
                if not rows:
                    break
                with transaction.atomic():
                    search.index_many(kind, rows)
                done += len(rows)
                last = rows[-1].pk
            self.stdout.write(f"{kind}: {done} records indexed in {time.monotonic() - started:.1f} s")
