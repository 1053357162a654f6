"""Export from the deal board: the same Export menu as the deal list, exporting the deals the board shows
(its pipeline, every stage, with the board's search and filters), streamed at once or queued as a job."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re

import pytest

from conftest import signed_in
from kith.core import jobs
from kith.exports.models import Export
from kith.sales import services

pytestmark = pytest.mark.django_db


def text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def csv_dicts(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.KITH_EXPORT_DIR = str(tmp_path / "exports")
    settings.KITH_RECORD_VISIBILITY = "all"


@pytest.fixture
def board(admin, member):
    """Deals in several stages of the default pipeline, one in the trash, and one in another pipeline."""
    pipeline = services.ensure_default_pipeline()
    stages = {s.name: s for s in pipeline.stages.all()}

    def deal(name, stage, **data):
        return services.create_deal(actor=admin, data={"name": name, "amount": "100", "stage_id": stages[stage].pk,
                                                       **data})

    deal("Acme rollout", "Qualified", owner_id=member.pk)
    deal("Beta pilot", "Proposal")
    deal("Gamma won", "Won", owner_id=member.pk)
    services.delete_deal(actor=admin, deal=deal("Trashed one", "Qualified"))
    other = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    services.create_deal(actor=admin, data={"name": "Renewal deal", "amount": "5", "pipeline_id": other.pk,
                                            "owner_id": member.pk})
    return pipeline, other


def export(client, pipeline, query: str = "", **form):
    data = {"query": query, "format": "csv", "columns": "shown", "board": pipeline.pk, **form}
    return client.post("/exports/new/deals/", data)


def test_the_board_has_the_export_menu_of_the_deal_list(admin, board):
    pipeline, _ = board
    c = signed_in(admin)
    r = c.get(f"/deals/board/{pipeline.pk}/?q=acme")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'action="/exports/new/deals/"' in page and 'name="query" value="q=acme"' in page
    assert f'name="board" value="{pipeline.pk}"' in page
    assert "Export deals" in text(r)
    assert f"The deals of the {pipeline.name} board, in every stage, with your search and filters." in text(r)
    assert 'value="vcf"' not in page  # deals: CSV or Excel
    # the deal list keeps its own menu, not tied to a board
    page = c.get("/deals/list/").content.decode()
    assert 'action="/exports/new/deals/"' in page and 'name="board"' not in page


def test_exporting_the_board_gives_the_deals_of_its_pipeline_in_every_stage(admin, board):
    pipeline, other = board
    r = export(signed_in(admin), pipeline)
    assert r.status_code == 200 and r["Content-Disposition"].startswith('attachment; filename="deals-')
    rows = csv_dicts(body_of(r))
    assert sorted(row["Name"] for row in rows) == ["Acme rollout", "Beta pilot", "Gamma won"]
    assert {row["Stage"] for row in rows} == {"Qualified", "Proposal", "Won"}
    assert [row["Name"] for row in csv_dicts(body_of(export(signed_in(admin), other)))] == ["Renewal deal"]


def test_the_board_filters_and_search_apply_but_not_the_list_only_ones(admin, member, board):
    pipeline, _ = board
    c = signed_in(admin)
    rows = csv_dicts(body_of(export(c, pipeline, f"owner={member.pk}")))
    assert sorted(row["Name"] for row in rows) == ["Acme rollout", "Gamma won"]
    rows = csv_dicts(body_of(export(c, pipeline, "q=beta")))
    assert [row["Name"] for row in rows] == ["Beta pilot"]
    # The board ignores status, stage, another pipeline and paging in its address; so does its export.
    rows = csv_dicts(body_of(export(c, pipeline, f"status=won&pipeline={board[1].pk}&column=1&cursor=x")))
    assert sorted(row["Name"] for row in rows) == ["Acme rollout", "Beta pilot", "Gamma won"]


def test_a_bad_filter_goes_back_to_the_board_with_the_reason(admin, board):
    pipeline, _ = board
    c = signed_in(admin)
    r = export(c, pipeline, "amount_min=lots&status=won")
    assert r.status_code == 302 and r["Location"] == f"/deals/board/{pipeline.pk}/?amount_min=lots"
    assert "The export could not start" in text(c.get(r["Location"]))
    assert export(c, type(pipeline)(pk=999999)).status_code == 404
    assert signed_in(admin).post("/exports/new/contacts/", {"board": pipeline.pk}).status_code == 404


def test_a_large_board_export_runs_as_a_job_limited_to_the_pipeline(settings, member, board):
    pipeline, _ = board
    settings.KITH_EXPORT_STREAM_LIMIT = 1
    c = signed_in(member)
    r = export(c, pipeline, "tag=&ordering=name", columns="all")
    assert r.status_code == 302 and r["Location"] == "/exports/"
    exp = Export.objects.get()
    assert exp.params == {"pipeline": [str(pipeline.pk)]}
    assert "(filtered)" in text(c.get("/exports/"))
    assert jobs.run_one().status == "done"
    data = body_of(c.get(f"/exports/{exp.pk}/download/"))
    assert sorted(row["name"] for row in csv_dicts(data)) == ["Acme rollout", "Beta pilot", "Gamma won"]


def test_board_export_needs_sign_in(client, board):
    r = export(client, board[0])
    assert r.status_code == 302 and "/login" in r["Location"]
