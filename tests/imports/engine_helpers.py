"""Helpers for the import engine tests: sample files, running an import end to end through the services."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"


def upload(actor, content: bytes | str, name: str = "people.csv", object_type: str = "contact"):
    from kith.imports import services

    data = content.encode("utf-8") if isinstance(content, str) else content
    return services.create_import(actor=actor, object_type=object_type, file_name=name, fileobj=io.BytesIO(data))


def upload_file(actor, name: str, object_type: str = "contact"):
    return upload(actor, (FILES / name).read_bytes(), name, object_type)


def run(actor, imp, *, dry_run: bool = False, **mapping_options):
    """Set the policy (when given), start the import as the UI does and let a worker run the job."""
    from kith.core import jobs
    from kith.imports import services
    from kith.imports.models import Import

    if mapping_options:
        services.set_mapping(actor=actor, imp=imp, mapping=mapping_options.pop("mapping", imp.mapping),
                             **mapping_options)
    services.start_import(actor=actor, imp=imp, dry_run=dry_run)
    ran = jobs.run_one("test-worker")
    assert ran is not None and ran.name == "imports.run", ran
    return Import.objects.get(pk=imp.pk)


def problems(imp) -> list[tuple[int, str, str]]:
    return [(p.row_number, p.column, p.reason) for p in imp.problems.order_by("row_number", "id")]


@pytest.fixture(autouse=True)
def isolated_uploads(settings, tmp_path):
    """Uploaded files go to this test's own KITH_DATA_DIR/imports (removed with tmp_path)."""
    settings.KITH_DATA_DIR = tmp_path / "data"
    return settings.KITH_DATA_DIR / "imports"
