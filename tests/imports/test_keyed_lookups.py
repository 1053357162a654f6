"""Look-ups by email, domain or phone read those columns' partial indexes, not the table.

The indexes hold only non-empty values (contacts' unique live email, companies' unique live domain, phone
and mobile); SQLite uses a partial index only when the query repeats its condition, so a look-up written
as a plain ``filter(email=…)`` read every contact (about 25 ms a look-up at 100,000 contacts: a 1,000-item
bulk call took 13 s). Every such query that the paths below run is EXPLAINed.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.contacts import services
from kith.sales import services as sales

from .engine_helpers import run, upload

pytestmark = pytest.mark.django_db

KEYED = re.compile(r'"contacts_(contact|company)"\."(email|domain|phone|mobile)" (=|IN)')
INDEXES = {("contact", "email"): "contact_unique_live_email", ("company", "domain"): "company_unique_live_domain",
           ("contact", "phone"): "contact_phone_idx", ("contact", "mobile"): "contact_mobile_idx"}


def test_lookups_by_email_domain_and_phone_read_the_partial_indexes(admin, api, query_plan):
    acme = services.create_company(actor=admin, data={"name": "Acme", "domain": "acme.example"})
    services.create_contact(actor=admin, data={"first_name": "Ada", "email": "ada@acme.example",
                                               "phone": "+4930901820", "company_id": acme.pk})
    lead = sales.create_lead(actor=admin, data={"first_name": "Ada", "email": "ada@acme.example",
                                                "company_name": "Acme"})
    with CaptureQueriesContext(connection) as queries:
        r = api.post("contacts/bulk", {"mode": "upsert", "match_on": "email", "items": [
            {"email": "ada@acme.example", "job_title": "CTO"}, {"first_name": "New", "email": "new@acme.example"}]})
        assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == ["updated", "created"]
        r = api.post("companies/bulk", {"mode": "upsert", "match_on": "domain", "items": [
            {"domain": "acme.example", "industry": "Tools"}]})
        assert [x["status"] for x in r.json()["results"]] == ["updated"]
        suggested = sales.conversion_suggestions(lead, actor=admin)
        assert suggested["contact"].email == "ada@acme.example" and suggested["company"] == acme
        imp = run(admin, upload(admin, "Name,Domain\nAcme Tools,acme.example\n", "companies.csv", "company"),
                  match_on="domain", on_duplicate="overwrite")
        assert imp.updated == 1
        imp = run(admin, upload(admin, "Name,Phone\nSomeone,+49 30 901820\n", "leads.csv", "lead"))
        assert imp.created == 1
    checked = set()
    for q in queries.captured_queries:
        sql = q["sql"]
        if not sql.startswith("SELECT"):
            continue
        for table, column, _ in KEYED.findall(sql):
            index = INDEXES[(table, column)]
            plan = query_plan(sql)
            assert index in plan, (sql, plan)
            checked.add(index)
    assert checked >= {"contact_unique_live_email", "company_unique_live_domain"}
