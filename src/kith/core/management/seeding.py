"""Fast bulk data for benchmarks (`kith seed`, `kith bench`).

This bypasses the services on purpose: rows are written with plain executemany INSERTs in batches,
one transaction per batch (ids reserved up front: the sequence on PostgreSQL, max(id) under the write
lock on SQLite), and the search index and its vocabulary are filled with kith.core.search.index_many. Each
record gets one "created" history row; no domain events are emitted and no jobs are queued.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import random
import time
from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from kith.core import bulk, search
from kith.core.models import AuditEntry, CustomField, Tag, User

from . import demodata

TAGS = [*demodata.CONTACT_TAGS, *demodata.COMPANY_TAGS, "Q1 campaign", "Q2 campaign", "Imported", "Webinar 2025",
        "Trial", "Enterprise pilot", "Renewal due"]
INDUSTRIES = sorted({c[2] for c in demodata.COMPANIES})
WORDS = ["North", "Blue", "River", "Summit", "Cedar", "Atlas", "Nova", "Harbor", "Iron", "Golden", "Silver",
         "Pine", "Bright", "Stone", "Maple", "Falcon", "Coral", "Orchid", "Granite", "Willow", "Lumen", "Vertex",
         "Aurora", "Beacon", "Delta", "Ember", "Fjord", "Grove", "Helix", "Indigo", "Juniper", "Kestrel"]
SUFFIXES = ["Labs", "Systems", "Logistics", "Foods", "Health", "Partners", "Energy", "Studio", "Group", "Works",
            "Analytics", "Capital", "Robotics", "Textiles", "Media", "Consulting"]


_SEQUENCES: dict[str, str] = {}  # PostgreSQL: table → its id sequence's name


def reserve_ids(model, n: int) -> list[int]:
    """n primary keys for explicit inserts (inside the caller's transaction)."""
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            sequence = _SEQUENCES.get(table)
            if sequence is None:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [connection.ops.quote_name(table)])
                sequence = _SEQUENCES[table] = cur.fetchone()[0]
            # the sequence named once: pg_get_serial_sequence inside the select ran for every row (a
            # catalogue look-up each; 10 times the cost of nextval itself)
            cur.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, n])
            return [r[0] for r in cur.fetchall()]
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max(id) cannot move meanwhile.
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        start = cur.fetchone()[0] + 1
        return list(range(start, start + n))


def _adapter(field) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.BooleanField
                  | models.ForeignKey):
        return lambda v: v
    return functools.partial(lambda f, v: f.get_db_prep_save(v, connection), field)


def insert_rows(model, objs: list, *, with_id: bool = True) -> None:
    """INSERT the objects' concrete columns with executemany: much cheaper than bulk_create's compiler."""
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    adapters = [_adapter(f) for f in fields]
    attnames = [f.attname for f in fields]
    rows = [tuple(adapt(getattr(o, name)) for adapt, name in zip(adapters, attnames, strict=True)) for o in objs]
    bulk.copy_rows(model._meta.db_table, [f.column for f in fields], rows)


def _names() -> list[tuple[str, str, str, str, str]]:
    """(first, last, ascii first, ascii last, country) from every culture of the demo data."""
    out = []
    for country, culture in demodata.CULTURES.items():
        for first in culture.first:
            for last in culture.last:
                out.append((first, last, demodata.ascii_slug(first), demodata.ascii_slug(last), country))
        for first, last, a_first, a_last in culture.pairs:
            out.append((first, last, a_first, a_last, country))
    return out


def ensure_custom_fields() -> dict[str, list[CustomField]]:
    from kith.core.custom_field_services import create_custom_field

    for object_type, defs in (("contact", demodata.CONTACT_FIELDS), ("company", demodata.COMPANY_FIELDS)):
        for spec in defs:
            if not CustomField.objects.filter(object_type=object_type, key=spec["key"]).exists():
                create_custom_field(actor=None, data={"object_type": object_type, **spec})
    return {
        t: list(CustomField.objects.filter(object_type=t, key__in=[s["key"] for s in defs]))
        for t, defs in (("contact", demodata.CONTACT_FIELDS), ("company", demodata.COMPANY_FIELDS))
    }


def seed(
    *,
    contacts: int,
    companies: int,
    batch: int = 5000,
    seed_value: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Insert the rows; returns counts and timings."""
    from kith.contacts.models import Company, Contact

    from .demodata import phone_number

    rng = random.Random(seed_value)
    say = progress or (lambda text: None)
    started = time.monotonic()
    batch = max(100, batch)
    now = timezone.now()

    ensure_custom_fields()
    Tag.objects.bulk_create([Tag(name=n) for n in TAGS], ignore_conflicts=True)
    tags = list(Tag.objects.filter(name__in=TAGS))
    owners = list(User.objects.filter(is_active=True).exclude(role="viewer")[:20]) or [None]
    names = _names()
    countries = sorted(demodata.CULTURES)
    phones = {c: [phone_number(rng, c, mobile=rng.random() < 0.7) for _ in range(25)] for c in countries}
    contact_ct = ContentType.objects.get_for_model(Contact)
    company_ct = ContentType.objects.get_for_model(Company)
    stages = [s for s, _ in demodata.STAGES]
    stage_cum = list(itertools.accumulate(w for _, w in demodata.STAGES))
    titles = [t for group in demodata.JOB_TITLES.values() for t in group]
    languages = demodata.CONTACT_FIELDS[0]["choices"]
    tiers = demodata.COMPANY_FIELDS[0]["choices"]
    segments = demodata.COMPANY_FIELDS[3]["choices"]
    # A run-specific prefix keeps domains and emails unique when seeding into a database twice.
    run = (Company.all_objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    def when() -> dt.datetime:
        return now - dt.timedelta(seconds=rng.randint(60, 730 * 86400))

    adapt_dt = connection.ops.adapt_datetimefield_value
    audit_columns = ["content_type_id", "object_id", "object_repr", "action", "actor_label", "changes",
                     "request_id", "created_at"]

    def write_audit(objs, ct) -> None:
        rows = [(ct.pk, o.pk, str(o)[:300], "create", "kith seed", "{}", "", adapt_dt(o.created_at)) for o in objs]
        bulk.copy_rows(AuditEntry._meta.db_table, audit_columns, rows)

    def write_tag_links(objs, model) -> None:
        through = model.tags.through
        fk = f"{model._meta.model_name}_id"
        rows = []
        for o in objs:
            k = rng.choices((0, 1, 2, 3), cum_weights=(45, 80, 95, 100))[0]
            for tag in rng.sample(tags, k):
                rows.append((o.pk, tag.pk))
        if rows:
            bulk.copy_rows(through._meta.db_table, [fk, "tag_id"], rows)

    # --- companies ---------------------------------------------------------------------------------
    company_rows: list[Company] = []
    for start in range(0, companies, batch):
        objs = []
        for i in range(start, min(start + batch, companies)):
            word, suffix = rng.choice(WORDS), rng.choice(SUFFIXES)
            country = rng.choice(countries)
            created = when()
            size = int(rng.lognormvariate(4, 1.5)) + 1
            custom: dict[str, Any] = {"tier": rng.choice(tiers), "segments": rng.sample(segments, rng.randint(1, 2))}
            if rng.random() < 0.6:
                custom["contract_value"] = f"{rng.randint(10, 5000) * 100}.00"
                custom["renewal_date"] = (now.date() + dt.timedelta(days=rng.randint(-30, 365))).isoformat()
            domain = f"{word}{suffix}-{run}-{i}".lower() + ".example"
            objs.append(Company(
                name=f"{word} {suffix} {i}", domain=domain, website=f"https://{domain}",
                industry=rng.choice(INDUSTRIES), size=size, country=country,
                city=rng.choice(["Berlin", "Austin", "Lyon", "Kraków", "Osaka", "Lagos", "Recife", "Pune"]),
                phone=rng.choice(phones[country]), owner=rng.choice(owners), custom_fields=custom,
                created_at=created, updated_at=created + dt.timedelta(seconds=rng.randint(0, 86400)),
            ))
        with transaction.atomic(), search.cached_phone_tokens(20_000):
            for obj, pk in zip(objs, reserve_ids(Company, len(objs)), strict=True):
                obj.pk = pk
            insert_rows(Company, objs)
            write_tag_links(objs, Company)
            write_audit(objs, company_ct)
            search.index_many("company", objs)
        company_rows.extend(objs)
    say(f"  {len(company_rows):,} companies")

    # --- contacts ----------------------------------------------------------------------------------
    done = 0
    emails: set[str] = set()
    for start in range(0, contacts, batch):
        objs = []
        for i in range(start, min(start + batch, contacts)):
            first, last, a_first, a_last, country = rng.choice(names)
            company = rng.choice(company_rows) if company_rows and rng.random() < 0.9 else None
            domain = company.domain if company else f"mail{run}-{i // 500}.example"
            local = f"{a_first}.{a_last}".replace(" ", "")
            # Unique without a per-row token (which would bloat the search vocabulary with junk words).
            email = f"{local}@{domain}"
            n = 2
            while email in emails:
                email = f"{local}{n}@{domain}"
                n += 1
            emails.add(email)
            created = when()
            updated = min(now, created + dt.timedelta(seconds=int(rng.expovariate(1 / (30 * 86400)))))
            custom = {}
            if rng.random() < 0.8:
                custom["preferred_language"] = rng.choice(languages)
            if rng.random() < 0.7:
                custom["newsletter"] = rng.random() < 0.5
            if rng.random() < 0.3:
                custom["birthday"] = dt.date(rng.randint(1955, 2002), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            full_name = f"{first} {last}"
            objs.append(Contact(
                first_name=first, last_name=last, full_name=full_name,
                email=email,
                phone=rng.choice(phones[country]) if rng.random() < 0.4 else "",
                mobile=rng.choice(phones[country]) if rng.random() < 0.6 else "",
                job_title=rng.choice(titles),
                company=company, lifecycle_stage=rng.choices(stages, cum_weights=stage_cum)[0],
                lead_source=rng.choice(demodata.LEAD_SOURCES), country=country,
                owner=rng.choice(owners), custom_fields=custom, created_at=created, updated_at=updated,
            ))
        with transaction.atomic(), search.cached_phone_tokens(20_000):
            for obj, pk in zip(objs, reserve_ids(Contact, len(objs)), strict=True):
                obj.pk = pk
            insert_rows(Contact, objs)
            write_tag_links(objs, Contact)
            write_audit(objs, contact_ct)
            search.index_many("contact", objs)
        done += len(objs)
        elapsed = time.monotonic() - started
        say(f"  {done:,} contacts ({done / elapsed:,.0f} contacts/s)")
    elapsed = time.monotonic() - started
    total = len(company_rows) + done
    return {"contacts": done, "companies": len(company_rows), "seconds": elapsed,
            "rows_per_second": total / elapsed if elapsed else 0.0}
