"""Exporting a list from the web UI: as filtered and sorted, columns as shown or all, CSV / XLSX / vCard,
visibility, CSV injection, and large exports as a background job with a download link and a notification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kith.core import jobs
from kith.core.models import Notification
from kith.exports.models import Export

from .conftest import EVIL, body_of, csv_dicts, csv_rows, unescape, vcards, xlsx_rows

pytestmark = pytest.mark.django_db


def export(client, kind: str, query: str = "", **form):
    return client.post(f"/exports/new/{kind}/", {"query": query, "format": "csv", "columns": "shown", **form})


def test_every_list_page_has_an_export_menu_posting_its_query(signed_in, admin, people):
    c = signed_in(admin)
    for url, kind in (("/contacts/", "contacts"), ("/companies/", "companies"), ("/leads/", "leads"),
                      ("/deals/list/", "deals")):
        html = c.get(url + "?q=ada").content.decode()
        assert f'action="/exports/new/{kind}/"' in html, url
        assert 'name="query" value="q=ada"' in html
        assert ('value="vcf"' in html) == (kind == "contacts")


def test_contacts_csv_columns_as_shown_in_the_list_order(signed_in, admin, people):
    r = export(signed_in(admin), "contacts", "ordering=name")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert re.match(r'attachment; filename="contacts-\d{4}-\d\d-\d\d-\d{4}\.csv"', r["Content-Disposition"])
    data = body_of(r)
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read the Unicode names right
    rows = csv_rows(data)
    assert rows[0] == ["Name", "Email", "Phone", "Company", "Job title", "Lifecycle stage", "Owner", "Updated"]
    names = [row[0] for row in rows[1:]]
    assert names == ["'" + EVIL + " -2+3", "Ada Lovelace", "Zoë Ångström-Øster", "太郎 山田"]
    ada = dict(zip(rows[0], rows[2], strict=True))
    assert ada["Phone"] == "+14155550100"  # a phone number keeps its + (not neutralised)
    assert ada["Company"] == "Acme" and ada["Lifecycle stage"] == "Customer" and ada["Owner"] == "Bob Member"


def test_filters_search_and_sorting_of_the_list_are_respected(signed_in, admin, people):
    c = signed_in(admin)
    rows = csv_dicts(body_of(export(c, "contacts", "tag=vip&ordering=-name")))
    assert [r["Email"] for r in rows] == ["zoe@example.com", "ada@acme.com"]
    rows = csv_dicts(body_of(export(c, "contacts", "cf_region=APAC")))
    assert [r["Email"] for r in rows] == ["taro@globex.io"]
    rows = csv_dicts(body_of(export(c, "contacts", f"company={people['acme'].pk}&lifecycle_stage=customer")))
    assert [r["Email"] for r in rows] == ["ada@acme.com"]
    rows = csv_dicts(body_of(export(c, "contacts", "q=lovelace")))
    assert [r["Email"] for r in rows] == ["ada@acme.com"]
    rows = csv_dicts(body_of(export(c, "companies", "ordering=-size&cursor=ignored")))
    assert [r["Name"] for r in rows] == ["Globex", "Acme"]
    assert rows[0]["Employees"] == "1200"


def test_all_columns_include_custom_fields_tags_owner_company_and_external_id(signed_in, admin, people):
    rows = csv_dicts(body_of(export(signed_in(admin), "contacts", "ordering=email", columns="all")))
    ada = next(r for r in rows if r["email"] == "ada@acme.com")
    assert ada["id"] == str(people["ada"].pk)
    assert ada["first_name"] == "Ada" and ada["last_name"] == "Lovelace"
    assert ada["company_name"] == "Acme" and ada["company_domain"] == "acme.com"
    assert ada["owner_email"] == "bob@example.com"
    assert ada["tags"] == "engineering, vip"
    assert ada["external_id"] == "crm-1"
    assert ada["cf_region"] == "EMEA"
    assert ada["lifecycle_stage"] == "customer"
    zoe = next(r for r in rows if r["email"] == "zoe@example.com")
    assert zoe["city"] == "Köln" and zoe["country"] == "DE" and zoe["owner_email"] == ""


def test_csv_injection_is_neutralised_but_numbers_and_phones_stay_usable(signed_in, admin, people):
    rows = csv_dicts(body_of(export(signed_in(admin), "contacts", "q=evil", columns="all")))
    assert len(rows) == 1
    evil = rows[0]
    assert evil["first_name"] == "'" + EVIL
    assert evil["last_name"] == "'-2+3"  # not a plausible number: it would compute
    assert evil["job_title"] == "'@SUM(A1)"


def test_xlsx_reads_back_with_openpyxl_typed_and_neutralised(signed_in, admin, people):
    r = export(signed_in(admin), "companies", "ordering=name", format="xlsx", columns="all")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r["Content-Disposition"].endswith('.xlsx"')
    rows = xlsx_rows(body_of(r))
    header = rows[0]
    globex = dict(zip(header, rows[2], strict=True))
    assert globex["name"] == "Globex" and globex["size"] == 1200  # a number stays a number
    assert globex["owner_email"] == "maria@example.com"
    rows = xlsx_rows(body_of(export(signed_in(admin), "contacts", "q=evil", format="xlsx", columns="all")))
    evil = dict(zip(rows[0], rows[1], strict=True))
    assert evil["first_name"] == "'" + EVIL  # text, not a formula
    assert evil["job_title"] == "'@SUM(A1)"


def test_xlsx_has_no_formula_cells(signed_in, admin, people):
    import io

    from openpyxl import load_workbook

    data = body_of(export(signed_in(admin), "contacts", format="xlsx", columns="all"))
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_vcard_export_of_contacts(signed_in, admin, people):
    r = export(signed_in(admin), "contacts", "ordering=name", format="vcf")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/vcard")
    cards = vcards(body_of(r))
    assert len(cards) == 4
    assert all(c["VERSION"] == ["3.0"] for c in cards)
    ada = next(c for c in cards if c["FN"] == ["Ada Lovelace"])
    assert ada["N"] == ["Lovelace;Ada;;;"]
    assert ada["EMAIL"] == ["ada@acme.com"]
    assert ada["TEL"] == ["+14155550100"]
    assert ada["ORG"] == ["Acme"]
    assert ada["CATEGORIES"] == ["engineering,vip"]
    yamada = next(c for c in cards if c["N"] == ["山田;太郎;;;"])
    assert yamada["FN"] == ["太郎 山田"]
    zoe = next(c for c in cards if c["EMAIL"] == ["zoe@example.com"])
    assert [unescape(v) for v in zoe["ADR"]] == [";;Straße 1;Köln;;;Germany"]
    evil = next(c for c in cards if c["EMAIL"] == ["evil@example.com"])
    assert unescape(evil["FN"][0]) == EVIL + " -2+3"


def test_vcard_is_for_contacts_only_and_bad_choices_are_explained(signed_in, admin, people):
    c = signed_in(admin)
    r = export(c, "companies", "tag=x", format="vcf")
    assert r.status_code == 302 and r["Location"] == "/companies/?tag=x"
    page = c.get(r["Location"]).content.decode()
    assert "vCard is for contacts only" in page
    r = export(c, "contacts", "", columns="some")
    assert r.status_code == 302
    assert "Use one of: shown, all" in c.get(r["Location"]).content.decode()
    r = export(c, "contacts", "lifecycle_stage=nope")
    assert "Unknown value “nope”" in c.get(r["Location"]).content.decode()
    assert export(c, "tickets").status_code == 404
    assert c.get("/exports/new/contacts/").status_code == 405


def test_leads_and_deals_export_as_shown_and_all(signed_in, admin, people, member):
    from kith.sales import services as sales

    sales.create_lead(actor=admin, data={"first_name": "Léa", "last_name": "Dubois", "email": "lea@example.fr",
                                         "company_name": "Café SA", "source": "web", "owner_id": member.pk,
                                         "external_id": "L-9"})
    sales.create_deal(actor=admin, data={"name": "Big one", "amount": "1250.50", "currency": "USD",
                                         "company_id": people["acme"].pk, "contact_ids": [people["ada"].pk],
                                         "external_id": "D-1"})
    c = signed_in(admin)
    leads = csv_dicts(body_of(export(c, "leads")))
    assert list(leads[0]) == ["Name", "Email", "Company", "Source", "Status", "Owner", "Created", "Waiting"]
    assert leads[0]["Name"] == "Léa Dubois" and leads[0]["Status"] == "New"
    assert leads[0]["Waiting"].startswith("Waiting")
    leads = csv_dicts(body_of(export(c, "leads", columns="all")))
    assert leads[0]["external_id"] == "L-9" and leads[0]["owner_email"] == "bob@example.com"
    deals = csv_dicts(body_of(export(c, "deals")))
    assert list(deals[0])[:4] == ["Name", "Company", "Amount", "Currency"]
    assert deals[0]["Amount"] == "1250.50" and deals[0]["Currency"] == "USD" and deals[0]["Company"] == "Acme"
    rows = xlsx_rows(body_of(export(c, "deals", format="xlsx", columns="all")))
    deal = dict(zip(rows[0], rows[1], strict=True))
    assert float(deal["amount"]) == 1250.5
    assert deal["contacts"] == "ada@acme.com" and deal["external_id"] == "D-1"


def test_exports_show_only_what_the_user_may_see(settings, signed_in, member, viewer, people):
    settings.KITH_RECORD_VISIBILITY = "own"
    rows = csv_dicts(body_of(export(signed_in(member), "contacts", "ordering=email")))
    assert [r["Email"] for r in rows] == ["ada@acme.com", "zoe@example.com"]  # own + unowned
    rows = csv_dicts(body_of(export(signed_in(viewer), "companies")))
    assert rows == []
    cards = vcards(body_of(export(signed_in(member), "contacts", format="vcf")))
    assert sorted(c["EMAIL"][0] for c in cards) == ["ada@acme.com", "zoe@example.com"]


def test_export_needs_sign_in(client, people):
    r = export(client, "contacts")
    assert r.status_code == 302 and "/login" in r["Location"]


# --- large exports ------------------------------------------------------------------------------------


def test_a_large_export_runs_as_a_job_with_a_download_link_and_a_notification(settings, signed_in, admin, member,
                                                                              people):
    settings.KITH_EXPORT_STREAM_LIMIT = 2
    c = signed_in(member)
    r = export(c, "contacts", "ordering=name", format="xlsx", columns="all")
    assert r.status_code == 302 and r["Location"] == "/exports/"
    page = c.get("/exports/").content.decode()
    assert "being prepared in the background" in page
    assert "Waiting to start" in page and 'hx-trigger="every 3s"' in page
    assert "/download/" not in page
    exp = Export.objects.get()
    assert exp.user == member and exp.params == {"ordering": ["name"]}

    ran = jobs.run_one()
    assert ran.name == "exports.run" and ran.status == "done", ran.last_error
    exp.refresh_from_db()
    assert exp.status == "done" and exp.row_count == 4
    path = Path(settings.KITH_EXPORT_DIR) / exp.file_path
    assert path.is_file()

    note = Notification.objects.get(user=member)
    assert note.title == "Your export of 4 contacts (XLSX) is ready to download"
    assert note.url == "/exports/"

    page = c.get("/exports/").content.decode()
    assert "Ready" in page and 'hx-trigger="every 3s"' not in page
    link = f"/exports/{exp.pk}/download/"
    assert f'href="{link}"' in page
    r = c.get(link)
    assert r.status_code == 200
    assert re.match(r'attachment; filename="contacts-.*\.xlsx"', r["Content-Disposition"])
    rows = xlsx_rows(body_of(r))
    assert [row[rows[0].index("email")] for row in rows[1:]] == [
        "evil@example.com", "ada@acme.com", "zoe@example.com", "taro@globex.io"]
    # Only the user who asked can download it; anyone else gets a 404, as for a missing file.
    assert signed_in(admin).get(link).status_code == 404
    assert "No exports yet" in signed_in(admin).get("/exports/").content.decode()


def test_the_job_applies_the_users_visibility_when_it_runs(settings, signed_in, member, people):
    settings.KITH_EXPORT_STREAM_LIMIT = 1
    settings.KITH_RECORD_VISIBILITY = "own"
    c = signed_in(member)
    assert export(c, "contacts", columns="all").status_code == 302
    assert jobs.run_one().status == "done"
    data = body_of(c.get(f"/exports/{Export.objects.get().pk}/download/"))
    assert sorted(r["email"] for r in csv_dicts(data)) == ["ada@acme.com", "zoe@example.com"]


def test_the_htmx_poll_returns_the_table_fragment(settings, signed_in, member, people):
    settings.KITH_EXPORT_STREAM_LIMIT = 1
    c = signed_in(member)
    export(c, "companies")
    r = c.get("/exports/", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "<html" not in html and "Waiting to start" in html


def test_old_exports_and_their_files_are_purged(settings, signed_in, member, people):
    import datetime as dt

    from django.utils import timezone

    from kith.exports.services import purge_exports

    settings.KITH_EXPORT_STREAM_LIMIT = 1
    c = signed_in(member)
    export(c, "contacts")
    export(c, "companies")
    while jobs.run_one() is not None:
        pass
    old, new = Export.objects.order_by("id")
    assert old.status == new.status == "done"
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=200))
    directory = Path(settings.KITH_EXPORT_DIR)
    assert purge_exports() == 1
    assert list(Export.objects.values_list("pk", flat=True)) == [new.pk]
    assert not (directory / old.file_path).exists() and (directory / new.file_path).exists()
    assert c.get(f"/exports/{old.pk}/download/").status_code == 404
    assert "exports.purge" in jobs.registry and jobs.registry["exports.purge"].every is not None


def test_a_job_whose_filter_no_longer_applies_fails_and_says_why(settings, signed_in, member, people):
    from kith.core.models import CustomField

    settings.KITH_EXPORT_STREAM_LIMIT = 0
    c = signed_in(member)
    assert export(c, "contacts", "cf_region=EMEA").status_code == 302
    CustomField.objects.filter(key="region").delete()
    assert jobs.run_one().status == "done"
    exp = Export.objects.get()
    assert exp.status == "failed" and "There is no custom field “region”" in exp.error
    note = Notification.objects.get(user=member)
    assert note.title.startswith("Your export of contacts failed")
    page = c.get("/exports/").content.decode()
    assert "Failed" in page and "/download/" not in page


def test_columns_as_shown_cover_every_column_of_each_list(db):
    from kith.exports import kinds

    for kind in kinds.KINDS.values():
        labels = [c.label for c in kind.list_spec().columns]
        exported = [c.label for c in kind.columns(kinds.SHOWN)]
        assert [x for x in exported if x != "Currency"] == labels, kind.name


def test_an_export_job_tells_the_queue_it_is_alive(settings, signed_in, member, people, monkeypatch):
    """With two workers, the idle one re-queues a job whose row has not moved for 15 minutes: a big export
    moves its row as it reads its pages."""
    settings.KITH_EXPORT_STREAM_LIMIT = 2
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.0)
    beats = []
    real = jobs.heartbeat

    def heartbeat():
        if jobs._running.get() is not None:
            beats.append(jobs._running.get()[0])
        real()

    monkeypatch.setattr(jobs, "heartbeat", heartbeat)
    export(signed_in(member), "contacts", "ordering=name", format="csv", columns="all")
    ran = jobs.run_one()
    assert ran.name == "exports.run" and ran.status == "done", ran.last_error
    assert beats and set(beats) == {ran.pk}
