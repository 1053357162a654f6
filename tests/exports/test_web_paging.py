"""The Exports page a page at a time: newest first, "Load more" (htmx appends rows; a plain link without
JavaScript), back to the newest, bad page links, and a waiting export's row refreshing itself."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone

from kith.exports.models import Export

pytestmark = pytest.mark.django_db


def text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="export-(\d+)"', page)]


def load_more(page: str) -> str:
    m = re.search(r'<tr id="load-more".*?href="([^"]+)"', page, re.S)
    return html.unescape(m.group(1)) if m else ""


def make_exports(user, n: int, **data) -> list[Export]:
    now = timezone.now()
    done = {"status": "done", "row_count": 10, "file_path": "x.csv", "file_size": 10, "finished_at": now}
    Export.objects.bulk_create(
        [Export(user=user, kind="contacts", file_format="csv", **{**done, **data}) for _ in range(n)])
    return list(Export.objects.filter(user=user).order_by("-id"))


def test_a_long_list_of_exports_pages_newest_first(settings, signed_in, member, admin):
    settings.KITH_UI_PAGE_SIZE = 3
    exports = make_exports(member, 7)
    make_exports(admin, 2)  # someone else's: never listed
    newest = [e.pk for e in exports]
    c = signed_in(member)

    page = c.get("/exports/").content.decode()
    assert row_ids(page) == newest[:3]
    assert "Load more" in text(page) and "Newest exports" not in text(page)
    nxt = load_more(page)
    assert nxt.startswith("/exports/?cursor=")

    # htmx: only the next rows (and the next "Load more"), to append under the table
    r = c.get(nxt, HTTP_HX_REQUEST="true")
    frag = r.content.decode()
    assert r.status_code == 200 and "<html" not in frag and "<table" not in frag
    assert row_ids(frag) == newest[3:6] and "Load more" in text(frag)

    # without JavaScript the link is a page of its own, with a way back to the newest
    page = c.get(nxt).content.decode()
    assert "<html" in page and row_ids(page) == newest[3:6]
    assert "← Newest exports" in text(page) and 'href="/exports/"' in page
    last = c.get(load_more(page)).content.decode()
    assert row_ids(last) == newest[6:] and load_more(last) == "" and "Load more" not in text(last)


def test_hundreds_of_exports_can_all_be_reached(signed_in, member):
    newest = [e.pk for e in make_exports(member, 130)]
    c = signed_in(member)
    seen, url, pages = [], "/exports/", 0
    while url:
        page = c.get(url, HTTP_HX_REQUEST="true").content.decode() if pages else c.get(url).content.decode()
        seen += row_ids(page)
        url, pages = load_more(page), pages + 1
    assert seen == newest and pages == 3  # 50 a page, like the other lists


def test_a_bad_page_link_starts_again_from_the_newest(signed_in, member):
    make_exports(member, 2)
    r = signed_in(member).get("/exports/?cursor=not-a-cursor")
    assert r.status_code == 302 and r["Location"] == "/exports/"


def test_few_exports_have_no_paging(signed_in, member):
    newest = [e.pk for e in make_exports(member, 2)]
    page = signed_in(member).get("/exports/").content.decode()
    assert row_ids(page) == newest and "Load more" not in text(page) and "Newest exports" not in text(page)
    assert row_ids(signed_in(member).get("/exports/?cursor=").content.decode()) == newest


def test_a_waiting_export_refreshes_its_own_row_until_ready(settings, signed_in, member, admin):
    settings.KITH_UI_PAGE_SIZE = 2
    make_exports(member, 3)
    waiting = Export.objects.create(user=member, kind="deals", file_format="xlsx", estimated_rows=5001)
    c = signed_in(member)
    page = c.get("/exports/").content.decode()
    row_url = f"/exports/{waiting.pk}/row/"
    assert f'hx-get="{row_url}" hx-trigger="every 3s"' in page
    assert page.count('hx-trigger="every 3s"') == 1  # only the waiting row polls, not the whole table
    r = c.get(row_url, HTTP_HX_REQUEST="true")
    row = r.content.decode()
    assert r.status_code == 200 and row.lstrip().startswith(f'<tr id="export-{waiting.pk}"')
    assert "Deals" in text(row) and "Waiting to start" in text(row) and "more than 5,000" in text(row)

    Export.objects.filter(pk=waiting.pk).update(status="done", row_count=5100, file_path="y.xlsx", file_size=99)
    row = c.get(row_url, HTTP_HX_REQUEST="true").content.decode()
    assert "Ready" in text(row) and "5,100" in text(row) and "every 3s" not in row
    assert f'href="/exports/{waiting.pk}/download/"' in row
    # another user's export, or one gone: 404
    assert signed_in(admin).get(row_url).status_code == 404
    assert c.get("/exports/999999/row/").status_code == 404
