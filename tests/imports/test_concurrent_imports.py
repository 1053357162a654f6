"""PostgreSQL runs two background-job workers (kith serve), so two imports can run at once: a company that
neither of them finds must still be created once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from tests.threads import run_in_threads

from kith.contacts.models import Company, Contact
from kith.core.models import Role, User
from kith.imports import engine, services

from .engine_helpers import isolated_uploads, upload  # noqa: F401 (autouse fixture)


@pytest.mark.django_db(transaction=True)
def test_two_imports_at_once_create_each_new_company_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's writers take turns (one writer at a time)")
    actor = User.objects.create_user("imports@example.com", None, role=Role.ADMIN)
    names = [f"Concurrent {i} GmbH" for i in range(30)]
    imports = []
    for who in ("a", "b"):
        rows = "".join(f"{who}{i}@ex.example,{name}\n" for i, name in enumerate(names))
        imp = upload(actor, "Email,Company Name\n" + rows)
        services.start_import(actor=actor, imp=imp, enqueue=False)
        imports.append(imp)
    # Hold each import just before it writes the companies it did not find, until the other one gets there
    # too (or 2 s pass): without a lock, both have looked the names up, found nothing, and create them all.
    meet = threading.Barrier(2, timeout=2)
    real = engine.ContactWriter._insert_companies

    def insert_companies(self, objs):
        if objs:
            try:
                meet.wait()
            except threading.BrokenBarrierError:  # the other import waits for this one's commit
                pass
        return real(self, objs)

    monkeypatch.setattr(engine.ContactWriter, "_insert_companies", insert_companies)
    results = run_in_threads(lambda imp: engine.run(imp.pk), imports)
    assert [(r.status, r.created) for r in results] == [("done", 30), ("done", 30)]
    assert sorted(r.companies_created for r in results) == [0, 30]
    assert Company.objects.filter(name__startswith="Concurrent").count() == 30
    # each company has both imports' contacts
    assert {Contact.objects.filter(company__name=name).count() for name in names} == {2}
