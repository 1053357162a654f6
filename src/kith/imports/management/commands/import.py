"""kith import contacts|companies|leads|deals FILE: import a file in this process, with a live progress line.
kith import undo ID: undo an import in this process."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kith.core.errors import ConflictError, ValidationError
from kith.core.management.util import usage_error, validation_text

KINDS = {"contacts": "contact", "companies": "company", "leads": "lead", "deals": "deal"}


class Command(BaseCommand):
    help = (
        "Import contacts, companies, leads or deals from a CSV, .xlsx or (contacts) vCard file. Columns are "
        "mapped by their headers (HubSpot, Salesforce, Pipedrive, Zoho, Google Contacts and Outlook exports are "
        "recognised) or by a saved mapping. Runs in this process with a live progress line; exits 1 when rows "
        "failed or the import stopped."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[*sorted(KINDS), "undo"],
                            help="what the file holds; or undo, to undo the import numbered FILE")
        parser.add_argument("file", help="the file to import (.csv, .txt, .tsv, .xlsx, .vcf); with undo, the "
                                         "import's number (as kith import and the imports page show it)")
        parser.add_argument("--mapping", help="name of a saved mapping to use")
        parser.add_argument("--dry-run", action="store_true", help="validate every row, write nothing")
        parser.add_argument("--on-duplicate", choices=["skip", "fill", "overwrite", "create"], default=None,
                            help="when a row matches an existing record (default skip)")
        parser.add_argument("--match-on", choices=["email", "phone", "domain", "external_id", "name", "none"],
                            default=None, help="how rows are matched with existing records")
        parser.add_argument("--user", help="import as this user (email); default: the first active admin")
        parser.add_argument("--show-mapping", action="store_true", help="print the column mapping before running")

    def undo(self, number: str, actor) -> None:
        """Undo an import here and now, whatever its size (the page and the API hand a large one to a
        worker); prints what was removed and restored, and the records left as they were (exit 1 if any)."""
        from kith.imports import engine, services
        from kith.imports.models import Import

        imp = Import.objects.filter(pk=int(number)).first() if number.isdigit() else None
        if imp is None:
            raise usage_error(f"No import #{number} (see the imports page, or the number kith import printed).")
        try:
            report = services.undo_import(actor=actor, imp=imp, enqueue=False)
        except ConflictError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if report.get("undoing"):
            self.say(f"Undoing import #{imp.pk} ({imp.file_name}): {engine.undo_size(imp):,} records …")
            started = time.monotonic()
            report = engine.undo(imp=Import.objects.get(pk=imp.pk), actor=actor)
            self.say(f"  done in {time.monotonic() - started:.1f} s")
        self.say(f"Undone: removed {report['deleted']:,} records the import created, restored "
                 f"{report['restored']:,} it updated.")
        left = report.get("not_undone_count", len(report.get("not_undone") or []))
        if left:
            self.say(f"Left as they are ({left:,}, changed since the import):")
            for item in (report.get("not_undone") or [])[:50]:
                self.say(f"  {item.get('type', '')} #{item.get('id')} {item.get('label', '')}: "
                         f"{item.get('reason', '')}")
            raise CommandError(f"{left:,} record(s) could not be undone.", returncode=1)

    def say(self, text: str, *, end: str = "\n") -> None:
        self.stdout.write(text, ending=end)
        self.stdout.flush()

    def handle(self, *args, **options):
        from kith.core.models import Role, User
        from kith.imports import engine, services
        from kith.imports.models import Import, SavedMapping

        if options["user"]:
            actor = User.objects.filter(email__iexact=options["user"], is_active=True).first()
            if actor is None:
                raise usage_error(f"No active user with the email {options['user']}.")
        else:
            actor = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("pk").first()
            if actor is None:
                raise usage_error("There is no active admin; create one with `kith user create` or pass --user.")
        if options["kind"] == "undo":
            return self.undo(options["file"], actor)
        object_type = KINDS[options["kind"]]
        path = Path(options["file"])
        if not path.is_file():
            raise usage_error(f"No such file: {path}")
        try:
            with open(path, "rb") as f:
                imp = services.create_import(actor=actor, object_type=object_type, file_name=path.name, fileobj=f)
            if options["mapping"]:
                saved = SavedMapping.objects.filter(object_type=object_type, name=options["mapping"]).first()
                if saved is None:
                    names = ", ".join(services.saved_mappings(object_type).values_list("name", flat=True)) or "none"
                    raise usage_error(f"No saved {object_type} mapping named “{options['mapping']}” "
                                      f"(saved: {names}).")
                imp = services.apply_saved_mapping(actor=actor, imp=imp, saved_mapping=saved)
            match_on = options["match_on"]
            if match_on == "none":
                match_on = ""
            if match_on is not None or options["on_duplicate"]:
                imp = services.set_mapping(actor=actor, imp=imp, mapping=imp.mapping, match_on=match_on,
                                           on_duplicate=options["on_duplicate"])
            detail = f"{imp.get_format_display()}"
            if imp.format != "xlsx":
                detail += f", {imp.encoding}"
            if imp.delimiter:
                detail += f", delimiter {imp.delimiter!r}"
            self.say(f"Import #{imp.pk}: {path.name} ({detail}) as {options['kind']}"
                     f"{' — dry run' if options['dry_run'] else ''}")
            mapped = {c: t for c, t in imp.mapping.items() if t}
            if options["show_mapping"] or options["verbosity"] > 1:
                for column, target in imp.mapping.items():
                    self.say(f"  {column!r:40} → {target or '(ignored)'}")
            else:
                self.say(f"  {len(mapped)} of {len(imp.mapping)} columns mapped: "
                         + ", ".join(f"{c} → {t}" for c, t in list(mapped.items())[:8])
                         + (" …" if len(mapped) > 8 else ""))
            self.say(f"  duplicates: match on {imp.match_on or 'nothing'}, then {imp.on_duplicate}")
            imp = services.start_import(actor=actor, imp=imp, dry_run=options["dry_run"], enqueue=False)
        except ValidationError as exc:
            raise CommandError(validation_text(exc), returncode=2) from None
        except ConflictError as exc:
            raise CommandError(exc.message, returncode=2) from None

        tty = sys.stdout.isatty() if hasattr(sys.stdout, "isatty") else False
        last = [0.0]

        def show(current: Import) -> None:
            now = time.monotonic()
            if not current.is_finished and now - last[0] < (0.5 if tty else 5.0):
                return
            last[0] = now
            p = services.progress(current)
            eta = f", ETA {_duration(p['eta_seconds'])}" if p["eta_seconds"] is not None else ""
            if p["phase"] == "indexing":
                rate = f"{p['index_rows_per_second']:,.0f}/s" if p["index_rows_per_second"] else "…/s"
                line = (f"  history and search index: {p['indexed']:,}/{p['to_index']:,} new records, "
                        f"{rate}{eta}")
            else:
                rate = f"{p['rows_per_second']:,.0f} rows/s" if p["rows_per_second"] else "… rows/s"
                total = f"/{p['total_rows']:,}" if p["total_rows"] is not None else ""
                line = (f"  {p['rows_done']:,}{total} rows, {rate}, {p['failed']:,} errors{eta}")
            if tty:
                self.say("\r" + line.ljust(78), end="")
            else:
                self.say(line)

        imp = engine.run(imp.pk, on_progress=show)
        if tty:
            self.say("")
        p = services.progress(imp)
        end = imp.written_at or imp.finished_at
        seconds = (end - imp.started_at).total_seconds() if imp.started_at and end else 0
        verb = "would be " if imp.dry_run else ""
        self.say(f"{imp.get_status_display()}: {imp.rows_done:,} rows in {seconds:.1f} s"
                 + (f" ({p['rows_per_second']:,.0f} rows/s)" if p["rows_per_second"] else "") + ".")
        if imp.to_index and imp.written_at and imp.finished_at:
            index_seconds = (imp.finished_at - imp.written_at).total_seconds()
            noun = "record" if imp.indexed_rows == 1 else "records"
            self.say(f"  history and search index of {imp.indexed_rows:,} new {noun}: {index_seconds:.1f} s more"
                     + (f" ({p['index_rows_per_second']:,.0f}/s)" if p["index_rows_per_second"] else "") + ".")
        self.say(f"  {verb}created {imp.created:,}, {verb}updated {imp.updated:,}, skipped {imp.skipped:,}, "
                 f"failed {imp.failed:,}"
                 + (f"; companies {verb}created to link contacts: {imp.companies_created:,}"
                    if imp.companies_created else ""))
        for scan in services.duplicate_scans(imp):
            if scan["status"] in ("queued", "running"):
                self.say(f"  duplicates: a scan of the {scan['noun']} against the others is {scan['status']}; a "
                         "worker (kith worker) runs it, or run kith dedupe --scan now; then review them at "
                         f"{scan['review_url']}")
        problems = list(imp.problems.all()[:50])
        if problems:
            self.say("Failed rows (row number as in the file):")
            for pr in problems:
                where = f" {pr.column}" if pr.column else ""
                value = f" “{pr.value[:60]}”" if pr.value else ""
                self.say(f"  row {pr.row_number}{where}{value}: {pr.reason}")
            more = imp.problems.count() - len(problems)
            if more > 0:
                self.say(f"  … and {more:,} more (download the failed rows from the import's page).")
        if imp.error:
            self.say(f"Error: {imp.error}")
        if imp.status != Import.Status.DONE:
            raise CommandError(f"The import {imp.get_status_display().lower()}.", returncode=1)
        if imp.failed:
            raise CommandError(f"{imp.failed:,} row(s) failed.", returncode=1)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
