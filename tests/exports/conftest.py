"""Helpers for the export and bulk tests: signed-in clients, records made through the services, and readers
that parse the exported files back (csv, openpyxl, a small vCard reader)."""

from __future__ import annotations

import csv
import io

import pytest

from conftest import signed_in as signed_in_as
from kith.contacts import services

EVIL = '=HYPERLINK("http://evil","x")'


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.KITH_EXPORT_DIR = str(tmp_path / "exports")
    settings.KITH_RECORD_VISIBILITY = "all"


@pytest.fixture
def signed_in():
    return signed_in_as


@pytest.fixture
def people(admin, member, manager):
    """Contacts and companies with Unicode names, tags, custom fields, owners and a formula in a name."""
    from kith.core.custom_field_services import create_custom_field

    create_custom_field(actor=admin, data={"object_type": "contact", "key": "region", "label": "Region",
                                           "field_type": "select", "choices": ["EMEA", "APAC"]})
    acme = services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.com", "owner_id": member.pk})
    globex = services.create_company(actor=admin, data={"name": "Globex", "domain": "globex.io",
                                                        "owner_id": manager.pk, "size": 1200})
    mk = lambda **d: services.create_contact(actor=admin, data=d)  # noqa: E731
    return {
        "acme": acme, "globex": globex,
        "ada": mk(first_name="Ada", last_name="Lovelace", email="ada@acme.com", company_id=acme.pk,
                  phone="+1 415 555 0100", lifecycle_stage="customer", tags=["vip", "engineering"],
                  custom_fields={"region": "EMEA"}, owner_id=member.pk, external_id="crm-1"),
        "yamada": mk(first_name="太郎", last_name="山田", email="taro@globex.io", company_id=globex.pk,
                     lifecycle_stage="lead", owner_id=manager.pk, custom_fields={"region": "APAC"}),
        "zoe": mk(first_name="Zoë", last_name="Ångström-Øster", email="zoe@example.com", tags=["vip"],
                  owner_id=None, street="Straße 1", city="Köln", country="DE"),
        "evil": mk(first_name=EVIL, last_name="-2+3", email="evil@example.com", job_title="@SUM(A1)",
                   owner_id=manager.pk),
    }


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def csv_dicts(data: bytes | str) -> list[dict[str, str]]:
    rows = csv_rows(data)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows]  # read-only mode leaves out trailing empty cells


def vcards(data: bytes) -> list[dict[str, list[str]]]:
    """A small RFC 2426 reader: unfolds lines and returns each card as {property name: [raw values]}."""
    text = data.decode("utf-8")
    assert "\r\n" in text
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    cards: list[dict[str, list[str]]] = []
    card: dict[str, list[str]] | None = None
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        name, _, value = line.partition(":")
        prop = name.split(";")[0].upper()
        if prop == "BEGIN":
            card = {}
        elif prop == "END":
            cards.append(card)
            card = None
        else:
            card.setdefault(prop, []).append(value)
    return cards


def unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")
