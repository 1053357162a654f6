"""kith export contacts|companies|leads|deals --format csv|xlsx|vcf [--output FILE] [--filter key=value …]."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kith.contacts import services

from .conftest import EVIL, csv_dicts, vcards, xlsx_rows

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class BinaryStdout(io.TextIOWrapper):
    """stdout redirected to a file: a text stream with a binary buffer underneath, not a terminal."""

    def __init__(self, tty: bool = False):
        self.raw_bytes = io.BytesIO()
        super().__init__(self.raw_bytes, encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_csv_to_stdout_with_all_columns_and_no_bom(people):
    out = run("contacts", "--filter", "ordering=email")
    assert not out.startswith("\ufeff")
    rows = csv_dicts(out)
    assert [r["email"] for r in rows] == ["ada@acme.com", "evil@example.com", "taro@globex.io", "zoe@example.com"]
    assert rows[0]["cf_region"] == "EMEA" and rows[0]["tags"] == "engineering, vip"
    assert rows[1]["first_name"] == "'" + EVIL
    assert rows[2]["first_name"] == "太郎"


def test_filters_and_shown_columns(people):
    rows = csv_dicts(run("contacts", "--filter", "tag=vip", "--filter", "ordering=name", "--columns", "shown"))
    assert [r["Name"] for r in rows] == ["Ada Lovelace", "Zoë Ångström-Øster"]
    rows = csv_dicts(run("companies", "--filter", "domain=globex"))
    assert [r["name"] for r in rows] == ["Globex"]


def test_as_a_user_exports_what_they_may_see(settings, people, member):
    settings.KITH_RECORD_VISIBILITY = "own"
    rows = csv_dicts(run("contacts", "--as", member.email, "--filter", "owner=me"))
    assert [r["email"] for r in rows] == ["ada@acme.com"]
    rows = csv_dicts(run("contacts", "--as", member.email))
    assert sorted(r["email"] for r in rows) == ["ada@acme.com", "zoe@example.com"]


def test_to_a_file_in_each_format(tmp_path, people):
    err = io.StringIO()
    target = tmp_path / "people.xlsx"
    call_command("export", "contacts", "--format", "xlsx", "--output", str(target), stdout=io.StringIO(), stderr=err)
    assert "4 contacts written to" in err.getvalue()
    rows = xlsx_rows(target.read_bytes())
    assert rows[0][:3] == ["id", "first_name", "last_name"]
    assert {r[rows[0].index("email")] for r in rows[1:]} == {
        "ada@acme.com", "evil@example.com", "taro@globex.io", "zoe@example.com"}
    target = tmp_path / "people.vcf"
    run("contacts", "--format", "vcf", "-o", str(target), "--filter", "q=山田")
    cards = vcards(target.read_bytes())
    assert [c["FN"] for c in cards] == [["太郎 山田"]]
    target = tmp_path / "companies.csv"
    run("companies", "--output", str(target), "--bom")
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (tmp_path / "companies.csv.part").exists()


def test_xlsx_goes_to_stdout_only_when_redirected(people):
    redirected = BinaryStdout()
    call_command("export", "companies", "--format", "xlsx", stdout=redirected, stderr=io.StringIO())
    rows = xlsx_rows(redirected.raw_bytes.getvalue())
    assert sorted(r[rows[0].index("name")] for r in rows[1:]) == ["Acme", "Globex"]
    with pytest.raises(CommandError, match="XLSX is a binary file"):
        call_command("export", "companies", "--format", "xlsx", stdout=BinaryStdout(tty=True))


def test_csv_to_a_redirected_stdout_is_utf8(people):
    redirected = BinaryStdout()
    call_command("export", "contacts", "--filter", "q=zoe", stdout=redirected, stderr=io.StringIO())
    rows = csv_dicts(redirected.raw_bytes.getvalue().decode("utf-8"))
    assert rows[0]["first_name"] == "Zoë"


def test_bad_arguments_are_explained(people):
    with pytest.raises(CommandError, match="vCard is for contacts only"):
        run("deals", "--format", "vcf")
    with pytest.raises(CommandError, match="lifecycle_stage: Unknown value"):
        run("contacts", "--filter", "lifecycle_stage=nope")
    with pytest.raises(CommandError, match="needs a user"):
        run("contacts", "--filter", "owner=me")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        run("contacts", "--filter", "nonsense")
    with pytest.raises(CommandError, match="No active user"):
        run("contacts", "--as", "nobody@example.com")


def _queries_of_every_export() -> dict[tuple[str, str, str], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kith.exports import kinds, services

    counts = {}
    for kind in kinds.KINDS.values():
        for file_format in kind.formats:
            for columns in kinds.COLUMN_CHOICES:
                with CaptureQueriesContext(connection) as ctx:
                    plan = services.plan_export(user=None, kind=kind.name, file_format=file_format,
                                                columns=columns)
                    services.write(plan, io.BytesIO())
                counts[(kind.name, file_format, columns)] = len(ctx.captured_queries)
    return counts


def test_an_export_reads_the_same_number_of_queries_however_many_records(admin, member, people):
    """Related records (company, owner, stage, pipeline) come with each page, and only the fields the
    columns read: a column reading a field left out would cost a query per record, and this would fail."""
    from kith.sales import services as sales

    def add(n: int) -> None:
        for i in range(n):
            company = services.create_company(actor=admin, data={"name": f"Co {n}-{i}", "domain": f"co{n}-{i}.example",
                                                                 "owner_id": member.pk})
            contact = services.create_contact(actor=admin, data={
                "first_name": f"P{i}", "email": f"p{n}-{i}@example.com", "company_id": company.pk,
                "owner_id": member.pk, "tags": ["t"]})
            sales.create_lead(actor=admin, data={"first_name": f"L{i}", "email": f"l{n}-{i}@example.com",
                                                 "owner_id": member.pk})
            sales.create_deal(actor=admin, data={"name": f"D{n}-{i}", "amount": "10", "company_id": company.pk,
                                                 "contact_ids": [contact.pk], "owner_id": member.pk})

    add(1)
    few = _queries_of_every_export()
    add(6)
    assert _queries_of_every_export() == few
