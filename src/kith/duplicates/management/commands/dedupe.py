"""kith dedupe: find duplicate contacts and companies (and list what was found)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from kith.core.management.util import usage_error
from kith.duplicates import detection
from kith.duplicates.models import DuplicatePair

TYPES = {"contacts": "contact", "companies": "company", "contact": "contact", "company": "company"}


class Command(BaseCommand):
    help = (
        "Find duplicate contacts and companies: `kith dedupe --scan` compares records written since the last "
        "scan (all of them the first time, or with --full) and adds the likely duplicates to the review queue "
        "(Duplicates in the web app). Without --scan it prints the open pairs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scan", action="store_true", help="run a scan now")
        parser.add_argument("--full", action="store_true", help="rescan every record, not only changed ones")
        parser.add_argument("--type", choices=["contacts", "companies"], help="only this kind (default both)")
        parser.add_argument("--min-confidence", type=int, default=None,
                            help="keep pairs at or above this confidence, 0–100 (default "
                                 f"{detection.min_confidence()}, setting KITH_DUPLICATES_MIN_CONFIDENCE)")
        parser.add_argument("--limit", type=int, default=20, help="pairs to list without --scan (default 20)")

    def handle(self, *args, **options):
        types = [TYPES[options["type"]]] if options["type"] else ["contact", "company"]
        threshold = options["min_confidence"]
        if threshold is not None and not 0 <= threshold <= 100:
            raise usage_error("--min-confidence must be between 0 and 100.")
        if not options["scan"]:
            if options["full"]:
                raise usage_error("--full goes with --scan.")
            return self._list(types, threshold, options["limit"])
        started = time.monotonic()
        for object_type in types:
            try:
                result = detection.scan(object_type, full=options["full"], min_conf=threshold,
                                        progress=self.stdout.write if options["verbosity"] >= 2 else None)
            except detection.ScanBusy as exc:
                raise CommandError(f"{exc} Run this again when it has ended.", returncode=1) from None
            plural = "contacts" if object_type == "contact" else "companies"
            self.stdout.write(
                f"{plural}: {result.mode} scan of {result.records:,} records, {result.candidates:,} pairs compared, "
                f"{result.found:,} likely duplicates ({result.created:,} new, {result.removed:,} no longer "
                f"matching) in {result.seconds:.1f} s"
            )
        open_pairs = DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN, object_type__in=types).count()
        self.stdout.write(f"{open_pairs:,} pairs waiting for review; done in {time.monotonic() - started:.1f} s.")

    def _list(self, types, threshold, limit):
        qs = DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN, object_type__in=types)
        if threshold is not None:
            qs = qs.filter(confidence__gte=threshold)
        rows = list(qs.order_by("-confidence", "-id")[:limit])
        if not rows:
            self.stdout.write("No open duplicate pairs. Run `kith dedupe --scan` to look for some.")
            return
        labels = {}
        for object_type in types:
            ids = [i for p in rows if p.object_type == object_type for i in (p.a_id, p.b_id)]
            labels.update({(object_type, k): v.label for k, v in detection.profiles_for(object_type, ids).items()})
        for p in rows:
            a = labels.get((p.object_type, p.a_id), f"#{p.a_id}")
            b = labels.get((p.object_type, p.b_id), f"#{p.b_id}")
            self.stdout.write(f"{p.confidence:3d}%  {p.object_type} #{p.a_id} {a}  ~  #{p.b_id} {b}: "
                              f"{'; '.join(p.reasons)}")
