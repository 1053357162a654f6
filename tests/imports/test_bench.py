"""The import benchmark (`kith bench --imports N`): runs end to end on both databases and reports its numbers."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from kith.contacts.models import Contact
from kith.core.management.commands.bench import render_imports
from kith.imports import bench
from kith.imports.models import Import

from .engine_helpers import isolated_uploads  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db


def test_import_benchmark_measures_kith_and_raw_copy(admin):
    said: list[str] = []
    result = bench.run(rows=300, say=said.append)
    assert result["import"]["status"] == "done"
    assert (result["import"]["created"], result["import"]["failed"]) == (300, 0)
    assert result["import"]["companies_created"] == 15
    assert Contact.objects.count() == 300  # the raw COPY was rolled back; only the import's rows remain
    assert result["import"]["rows_per_second"] > 0
    assert result["import"]["index_rows_per_second"] > 0
    assert result["import"]["total_seconds"] >= result["import"]["seconds"]
    if connection.vendor == "postgresql":
        assert result["raw_copy"]["rows"] == 300 and result["raw_copy"]["rows_per_second"] > 0
        assert result["raw_copy"]["vacuumed"] is False  # (not inside a transaction: see the test below)
        assert result["ratio"] > 0
        assert any("import / raw COPY" in line for line in said)
    else:
        assert "raw_copy" not in result
    table = "\n".join(render_imports({connection.vendor: {"imports": result}},
                                     {"sqlite": "SQLite", "postgresql": "PostgreSQL"}))
    assert "## Import" in table and "| Raw COPY rows/s | Write rows/s | Write / COPY | Index rows/s |" in table
    assert f"{result['import']['rows_per_second']:,.0f}" in table
    assert f"{result['import']['total_rows_per_second']:,.0f}" in table
    # the CPU each phase used: this process always; on PostgreSQL the server's too (it runs on this machine)
    write_cpu = result["import"]["cpu_write"]
    assert write_cpu["python"] > 0
    assert f"write phase Python {write_cpu['python']:.1f}" in table
    if connection.vendor == "postgresql" and not os.path.exists(f"/proc/{connection.connection.info.backend_pid}"):
        # a server on another machine: its CPU cannot be read, and the report leaves it out
        assert write_cpu["database"] is None and "ceiling_ratio" not in result
    elif connection.vendor == "postgresql":
        # read in clock ticks (10 ms): 300 rows may take less than one
        assert write_cpu["database"] >= 0 and result["raw_copy"]["cpu"]["database"] >= 0
        floor = result["import"]["cpu_floor_seconds"]
        assert floor >= write_cpu["database"]
        assert floor >= (write_cpu["python"] + write_cpu["database"]) / (os.cpu_count() or 1) - 0.01
        assert result["ceiling_ratio"] == pytest.approx(300 / floor / result["raw_copy"]["rows_per_second"])
        assert f"at most {result['ceiling_ratio']:.0%} of COPY here" in table
    else:
        line = next(x for x in table.splitlines() if x.startswith("- SQLite: write phase Python"))
        assert write_cpu["database"] is None and "PostgreSQL" not in line and "COPY" not in line


def test_the_benchmark_counts_the_import_helper_processes(admin, monkeypatch):
    """On PostgreSQL a big import reads its file and builds its history and search rows in forked processes
    (engine.FORK_MIN_ROWS; 0 here, so 300 rows do): their CPU time is in the phases' Python time, and the
    memory report adds them."""
    from kith.imports import engine

    if connection.vendor != "postgresql":
        pytest.skip("the helper processes are PostgreSQL's")
    monkeypatch.setattr(engine, "FORK_MIN_ROWS", 0)
    said: list[str] = []
    result = bench.run(rows=300, say=said.append)
    imp = result["import"]
    assert (imp["status"], imp["created"], imp["failed"]) == ("done", 300, 0)
    assert imp["helper_rss_peak_mb"] > 10  # (a forked copy of this process: tens of MB at least)
    assert imp["pss_peak_mb"] > 0
    assert any("the reading process's peak" in line for line in said)
    # the reading process's own CPU count moved from the second phase's reading to the first's
    assert imp["cpu_write"]["python"] > 0 and imp["cpu_index"]["python"] >= 0


@pytest.mark.django_db(transaction=True)
def test_the_raw_copys_rolled_back_rows_are_vacuumed_away_before_the_import(admin):
    """The contacts table is vacuumed after the raw COPY, before the import starts: the import writes into it
    as the raw COPY found it (inside a test's transaction, as in the test above, there is no vacuum)."""
    if connection.vendor != "postgresql":
        pytest.skip("the raw COPY is PostgreSQL's")
    said: list[str] = []
    result = bench.run(rows=300, say=said.append)
    assert result["raw_copy"]["vacuumed"] is True
    assert any("rolled back, then vacuumed away" in line for line in said)
    started = Import.objects.get().started_at
    with connection.cursor() as cur:  # (a manual vacuum of the table: its time)
        cur.execute("SELECT pg_stat_force_next_flush()")
        cur.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'contacts_contact'")
        vacuumed_at = cur.fetchone()[0]
    assert vacuumed_at is not None and vacuumed_at < started
    assert Contact.objects.count() == 300
