"""kith export contacts|companies|leads|deals --format csv|xlsx|vcf [--output FILE] [--filter key=value ...]"""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from kith.core.errors import ValidationError
from kith.core.models import User
from kith.exports import kinds, services


class Command(BaseCommand):
    help = (
        "Export contacts, companies, leads or deals to CSV, XLSX or vCard (contacts), filtered like the lists "
        "(--filter tag=vip --filter owner=3 --filter q=acme). Writes to stdout unless --output is given; XLSX "
        "goes to stdout only when it is redirected to a file or a pipe."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(kinds.KINDS))
        parser.add_argument("--format", dest="file_format", choices=list(kinds.FORMATS), default="csv")
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument("--filter", dest="filters", action="append", default=[], metavar="KEY=VALUE",
                            help="a list filter, as in the list's URL (repeatable), e.g. lifecycle_stage=customer, "
                            "cf_region=EMEA, q=acme, ordering=-created_at")
        parser.add_argument("--columns", choices=list(kinds.COLUMN_CHOICES), default=kinds.ALL,
                            help="all (default): every field, custom fields included; shown: the list's columns")
        parser.add_argument("--as", dest="as_user", metavar="EMAIL",
                            help="export only what this user may see (default: every live record)")
        parser.add_argument("--bom", action="store_true", help="start a CSV with a UTF-8 byte order mark (Excel)")

    def handle(self, *args, kind, file_format, output=None, filters=(), columns=kinds.ALL, as_user=None,
               bom=False, **options):
        params: dict[str, list[str]] = {}
        for item in filters:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--filter takes KEY=VALUE, not “{item}”.")
            params.setdefault(key.strip(), []).append(value)
        user = None
        if as_user:
            user = User.objects.filter(email__iexact=as_user.strip(), is_active=True).first()
            if user is None:
                raise CommandError(f"No active user with the email {as_user}.")
        try:
            plan = services.plan_export(user=user, kind=kind, file_format=file_format, columns=columns, params=params)
        except ValidationError as exc:
            lines = [f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms]
            raise CommandError("Cannot export: " + "; ".join(lines)) from None
        if output:
            tmp = output + ".part"
            try:
                with open(tmp, "wb") as out:
                    count = services.write(plan, out, bom=bom)
                os.replace(tmp, output)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            noun = plan.kind.noun if count == 1 else plan.kind.noun_plural
            self.stderr.write(f"{count} {noun} written to {output}")
            return
        try:
            self._to_stdout(plan, file_format, bom)
        except BrokenPipeError:  # `kith export … | head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again

    def _to_stdout(self, plan, file_format: str, bom: bool) -> None:
        stream = getattr(self.stdout, "_out", self.stdout)
        binary = getattr(stream, "buffer", None)
        if file_format == "xlsx":
            if binary is None or stream.isatty():
                raise CommandError("XLSX is a binary file: use --output FILE, or redirect stdout to a file.")
            services.write(plan, binary)
            binary.flush()
            return
        if binary is not None:
            stream.flush()
            for chunk in services.chunks(plan, bom=bom):
                binary.write(chunk)
            binary.flush()
        else:  # a text stream (tests, call_command(stdout=StringIO()))
            for chunk in services.chunks(plan, bom=bom):
                stream.write(chunk.decode("utf-8"))
