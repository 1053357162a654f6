"""The import's fast paths give exactly what the ordinary paths give: phone numbers, the plain-address email
check, the bulk-built search documents and history rows (written by the second phase)."""

from __future__ import annotations

import pytest
from django.db import connection
from tests.core.test_phones import phone_samples

from kith.contacts.models import Contact
from kith.contacts.services import normalise_email, normalise_phone
from kith.core import search
from kith.core.models import AuditEntry
from kith.imports import engine

from .engine_helpers import isolated_uploads, run, upload  # noqa: F401 (autouse fixture)


def test_phone_normalisation_matches_the_ordinary_path():
    for text, region in phone_samples():
        assert engine.clean_phone(text, region or None) == normalise_phone(text, region or None)[0], (text, region)
    with pytest.raises(ValueError, match="at most 40 characters"):
        engine.clean_phone("1" * 41, "US")


@pytest.mark.parametrize("text", [
    "Ada@Example.COM", " bob.smith+tag@sub.example.co.uk ", "o'reilly@example.ie", "x@example.museum",
    "a..b@example.com", ".a@example.com", "a.@example.com", "a@b", "a@-example.com", "a@example-.com",
    "a@example.test", "a@localhost", "user@[192.168.0.1]", "josé@example.com", "ü@münchen.de", "a b@example.com",
    "a@example..com", "@example.com", "a@", "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com",
    "\"quoted\"@example.com", "a@example.c", "a@123.com", "user@xn--mnchen-3ya.de",
    "a@ab--cd.com", "a@x.internal", "a@sub.home.arpa", "a@b.onion", "a@example.local", "a@EXAMPLE.invalid",
    "a@exa_mple.com", "a@example.com.", "a@1.2.3.4", "a@example.co1", "first.last@Sub-Domain.Example.ORG",
])
def test_email_fast_check_agrees_with_email_validator(text):
    try:
        expected = normalise_email(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as got:
            engine.clean_email(text)
        assert str(got.value) == str(exc)
    else:
        assert engine.clean_email(text) == expected


@pytest.mark.django_db
def test_imported_contacts_have_the_search_document_the_service_writes(admin):
    rows = [("Ana", "Núñez", "ana@ex.example", "030 1234567", "DE", "Lumen"),
            ("Bo", "Li", "bo@ex.example", "+44 20 7946 0958", "GB", ""),
            ("Cy", "Ode", "cy.123456@ex.example", "06 1234 5678", "IT", "Atlas 7"),
            ("Di", "", "", "555-0100", "US", "")]
    text = "First Name,Last Name,Email,Phone,Country,Company\n" + "".join(",".join(r) + "\n" for r in rows)
    imp = run(admin, upload(admin, text))
    assert (imp.created, imp.failed) == (4, 0)
    column = "id" if connection.vendor == "postgresql" else "rowid"
    for first, _last, _email, phone, _country, _company in rows:
        imported = Contact.objects.select_related("company").get(first_name=first)
        with connection.cursor() as cur:
            cur.execute(f"SELECT title, body FROM {search.TABLE} WHERE {column} = %s",
                        [search._doc_id("contact", imported.pk)])
            stored = tuple(cur.fetchone())
        # what search.index (the services' path) writes for this contact
        assert stored == search.document_text(imported), first
        if phone[0] in "0+":
            assert imported.pk in [i for _, i, _ in search.search(phone.replace(" ", ""), kinds=["contact"])]


@pytest.mark.django_db
def test_vocabulary_is_written_once_per_run_and_again_after_a_refused_batch(admin, monkeypatch):
    from kith.core.models import SearchTerm

    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    monkeypatch.setattr(engine.BaseWriter, "batch_size", 2)
    sent: list[set[str]] = []
    original = search._remember_terms
    monkeypatch.setattr(search, "_remember_terms", lambda terms: (sent.append(set(terms)), original(terms)))
    text = "First Name,Last Name,Email\n" + "".join(f"Zelda,Quorn,z{i}@ex.example\n" for i in range(6))
    imp = run(admin, upload(admin, text))
    assert (imp.created, imp.failed) == (6, 0)
    assert len(sent) == 3 and "quorn" in sent[0] and not any("quorn" in s for s in sent[1:])  # later batches skip known words
    assert SearchTerm.objects.filter(term__in=["zelda", "quorn"]).count() == 2
    words = engine.Words()
    assert words.new({"alpha", "beta"}) == {"alpha", "beta"}
    words.rolled_back()  # the batch that wrote them was refused: they are not in the database
    assert words.new({"alpha"}) == {"alpha"}
    words.committed()
    assert words.new({"alpha", "gamma"}) == {"gamma"}


@pytest.mark.django_db
def test_history_json_is_the_json_of_the_changes(admin):
    text = "First Name,Last Name,Email,Phone,Country,Company,Tags\nJosé,\"O\"\"Brien\",jo@ex.example,030 1234567,DE,Ünter \"AG\",b;a\n"
    imp = run(admin, upload(admin, text))
    contact = Contact.objects.select_related("company", "owner").get(email="jo@ex.example")
    writer = engine.ContactWriter(imp, admin, ["First Name"])
    writer.cf_labels = {"tier": "Tier ✓ \"quoted\""}
    stored = AuditEntry.objects.get(object_id=contact.pk, content_type__model="contact").changes
    assert stored == writer._created_changes(contact, ["b", "a"])
    assert writer._created_json(contact, ["b", "a"]) == engine._json(writer._created_changes(contact, ["b", "a"]))
    contact.custom_fields = {"tier": "gold", "zz": [1, {"x": None}], "n": 3.5}
    contact.additional_emails = ["x@ex.example"]
    for _ in range(2):  # the second time from the cached affixes
        assert writer._created_json(contact, []) == engine._json(writer._created_changes(contact, []))
    contact.first_name = contact.last_name = contact.email = contact.phone = contact.city = contact.country = ""
    contact.company_id = contact.owner_id = None
    contact.custom_fields, contact.additional_emails, contact.lifecycle_stage = {}, [], ""
    assert writer._created_json(contact, []) == "{}" == engine._json(writer._created_changes(contact, []))


@pytest.mark.django_db
def test_matching_reads_the_email_index_not_the_table(admin, query_plan):
    """The per-batch "which of these emails exist" query is answered from the partial unique index on both
    databases (written like its condition: SQLite uses a partial index only then)."""
    from django.test.utils import CaptureQueriesContext

    Contact.objects.create(first_name="Old", email="ix0@idx.example")  # (PostgreSQL looks up only after a clash)
    text = "First Name,Email\n" + "".join(f"Ix{i},ix{i}@idx.example\n" for i in range(3))
    with CaptureQueriesContext(connection) as queries:
        imp = run(admin, upload(admin, text), match_on="email", on_duplicate="skip")
    assert (imp.created, imp.skipped) == (2, 1)
    (sql,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT DISTINCT "email"')]
    plan = query_plan(sql)
    assert "contact_unique_live_email" in plan, plan


@pytest.mark.django_db
def test_matching_on_phone_reads_the_phone_indexes_not_the_table(admin, query_plan):
    """Matching on phone looks each number up in the phone and mobile columns' partial indexes (a million-row
    contact table is not scanned once per batch), and still finds the oldest contact with the number."""
    from django.test.utils import CaptureQueriesContext

    first = "First Name,Phone,Mobile\nPa,+4930901820,\nPb,,+4915123456789\n"
    assert run(admin, upload(admin, first), match_on="phone", on_duplicate="skip").created == 2
    again = "First Name,Phone\nPa2,+49 30 901820\nPb2,+49 151 23456789\nPc,+4940123456\n"
    with CaptureQueriesContext(connection) as queries:
        imp = run(admin, upload(admin, again), match_on="phone", on_duplicate="skip")
    assert (imp.created, imp.skipped) == (1, 2)
    for column, index in (("phone", "contact_phone_idx"), ("mobile", "contact_mobile_idx")):
        (sql,) = [q["sql"] for q in queries.captured_queries if f'"contacts_contact"."{column}" IN' in q["sql"]]
        plan = query_plan(sql)
        assert index in plan, plan


@pytest.mark.django_db
def test_an_import_puts_the_connections_sqlite_settings_back(admin):
    """The import maps no file into memory and checkpoints its log less often while it runs; afterwards the
    connection (a worker's, serving other jobs next) has its own settings again."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite connection settings")

    def settings_now():
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_autocheckpoint")
            checkpoint = cur.fetchone()[0]
            cur.execute("PRAGMA cache_size")
            cache = cur.fetchone()[0]
            cur.execute("PRAGMA mmap_size")
            row = cur.fetchone()
        return checkpoint, cache, row[0] if row else None

    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint=777")
        cur.execute("PRAGMA cache_size=-4321")
    before = settings_now()
    seen = []
    from kith.imports import services

    imp = upload(admin, "First Name,Email\nAa,aa@set.example\n")
    services.start_import(actor=admin, imp=imp, enqueue=False)
    imp = engine.run(imp.pk, on_progress=lambda _imp: seen.append(settings_now()))
    assert imp.created == 1
    assert seen and seen[0][:2] == (20_000, -4321)  # while it wrote the rows
    assert (20_000, -32768) in [s[:2] for s in seen]  # while it wrote their history and search index (a smaller page cache)
    assert settings_now() == before == (777, -4321, before[2])


@pytest.mark.django_db
def test_values_with_copy_control_characters_are_stored_as_written(admin):
    """On PostgreSQL new contacts reach the table as COPY text built in the reading thread: a backslash,
    tab, newline or carriage return inside a value (or inside a custom field's JSON) must come back
    unchanged, and so must quotes and other scripts. (SQLite takes the same rows as parameters.)"""
    from kith.core.custom_field_services import create_custom_field

    create_custom_field(actor=admin, data={"object_type": "contact", "label": "Note", "field_type": "text"})
    rows = [
        ("Ana\\Maria", "Tab\there", "C:\\path\\n", "Line one\nline two", "\\N", 'say "hi" \\ bye', "a@ex.example"),
        ("Zoë", "王\r\n小明", "\\.", "ends with a backslash \\", "\t", "{\"json\": \"\\u00e9\"}", "b@ex.example"),
    ]

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    header = "First Name,Last Name,Job Title,Street,City,Note,Email\n"
    text = header + "".join(",".join(cell(v) for v in r) + "\n" for r in rows)
    imp = run(admin, upload(admin, text), mapping={"First Name": "first_name", "Last Name": "last_name",
                                                    "Job Title": "job_title", "Street": "street",
                                                    "City": "city", "Note": "cf_note", "Email": "email"})
    assert (imp.created, imp.failed) == (2, 0), list(imp.problems.values_list("reason", flat=True))
    for first, last, title, street, city, note, email in rows:
        c = Contact.objects.get(email=email)
        # cells are stripped of surrounding white space, as everywhere in the import
        assert (c.first_name, c.last_name, c.job_title, c.street, c.city, c.custom_fields) == (
            first.strip(), last.strip(), title.strip(), street.strip(), city.strip(), {"note": note.strip()})
        assert c.full_name == f"{first.strip()} {last.strip()}"
        assert (c.lifecycle_stage, c.owner_id, c.version, c.deleted_at) == ("lead", admin.pk, 1, None)
        assert c.created_at == c.updated_at and c.created_at is not None


@pytest.mark.django_db
def test_copy_text_round_trips_every_kind_of_value():
    import datetime as dt
    from decimal import Decimal

    from kith.core import bulk

    if connection.vendor != "postgresql":
        pytest.skip("COPY text is PostgreSQL's")
    values = [("a\\b\tc\nd\re", 1, True, Decimal("1.50"), dt.date(2026, 1, 2),
               dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), '{"k": "\\\\ \\"q\\""}'),
              (None, None, False, None, None, None, None)]
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copy_probe (t text, i int, b bool, d numeric, day date, at timestamptz, j jsonb)")
        text = "".join("\t".join(bulk.copy_field(v) for v in row) + "\n" for row in values)
        bulk.copy_text("copy_probe", ["t", "i", "b", "d", "day", "at", "j"], text)
        cur.execute("SELECT t, i, b, d, day, at, j::text FROM copy_probe ORDER BY i NULLS LAST")
        got = cur.fetchall()
    assert got[0][:6] == values[0][:6]
    assert bulk.copy_field(type("Sub", (str,), {})("x\ty")) == "x\\ty"  # a str subclass is escaped too
    assert got[0][6] == '{"k": "\\\\ \\"q\\""}'
    assert got[1] == values[1]


@pytest.mark.django_db
def test_a_big_batch_looks_its_emails_and_phones_up_in_the_indexes_of_a_mid_sized_table(admin):
    """PostgreSQL, as the engine runs it (no planner setting from the test): with 30,000 contacts, its
    default costs prefer reading the whole table to 2,000 index look-ups (measured at 100,000 contacts:
    30-55 ms a batch instead of 3-4 ms, with parallel workers taking the cores). A batch's look-ups of
    emails and phone numbers use the indexes."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no cost-based choice here (test_matching_reads_the_email_index_not_the_table)")
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO contacts_contact (created_at, updated_at, version, custom_fields, external_id, street, city,
                region, postal_code, country, first_name, last_name, full_name, email, additional_emails, phone,
                mobile, job_title, lifecycle_stage, lead_source)
            SELECT now(), now(), 1, '{}', '', '', '', '', '', '', 'Seed', 'Row ' || g, 'Seed Row ' || g,
                   'seed' || g || '@big.example', '[]', '+4930' || (5000000 + g), '', '', 'lead', ''
            FROM generate_series(1, 30000) g""")
        cur.execute("ANALYZE contacts_contact")
    plans: dict[str, str] = {}

    def explain(execute, sql, params, many, context):
        for name, start in (("email", 'SELECT DISTINCT "email"'), ("phone", 'SELECT "contacts_contact"."id"')):
            if sql.startswith(start) and name not in plans and ('"phone" IN' in sql or name == "email"):
                context["cursor"].execute("EXPLAIN " + sql, params)
                plans[name] = " ".join(r[0] for r in context["cursor"].fetchall())
        return execute(sql, params, many, context)

    # (one address is a seeded contact's: on PostgreSQL a batch's emails are looked up only after a clash)
    emails = "First Name,Email\nSeed,seed1@big.example\n" + "".join(f"Big{i},big{i}@new.example\n"
                                                                     for i in range(1999))
    phones = "First Name,Phone\n" + "".join(f"Ph{i},+4940{7000000 + i}\n" for i in range(2000))
    with connection.execute_wrapper(explain):
        assert run(admin, upload(admin, emails), match_on="email", on_duplicate="skip").created == 1999
        assert run(admin, upload(admin, phones), match_on="phone", on_duplicate="skip").created == 2000
    assert "contact_unique_live_email" in plans["email"] and "Seq Scan" not in plans["email"], plans["email"]
    assert "contact_phone_idx" in plans["phone"] and "Seq Scan on contacts_contact" not in plans["phone"], \
        plans["phone"]


@pytest.mark.django_db
def test_a_rows_copy_text_has_the_values_the_sqlite_path_writes(admin, manager):
    """PostgreSQL's rows are COPY text made from the template's text (_copy_text); SQLite's are _fill's
    values: the two must agree column for column, whatever the row sets."""
    from decimal import Decimal

    from kith.core import bulk
    from kith.imports.models import Import

    if connection.vendor != "postgresql":
        pytest.skip("COPY text is PostgreSQL's")
    imp = Import.objects.create(object_type="contact", file_name="x.csv", file_path="/nonexistent", created_by=admin,
                                mapping={"Email": "email"})
    writer = engine.ContactWriter(imp, admin, ["Email"])
    rows = [
        {"email": "a@ex.example"},
        {"first_name": "Zoë", "last_name": "王\tx", "email": "b@ex.example", "owner": manager,
         "lifecycle_stage": "customer", "additional_emails": ["c@ex.example"], "tags": ["vip"],
         "custom_fields": {"n": Decimal("1.5"), "t": "a\\b"}, "_company": "Acme", "phone": "+49301234567"},
        {"first_name": "  ", "last_name": "Solo", "country": "DE", "external_id": "x-1", "city": None},
    ]
    for c in rows:
        t = writer._fill(c)
        assert writer._copy_text(c) == "\t".join(bulk.copy_field(t[i]) for i in writer._tail)


@pytest.mark.django_db
def test_new_rows_are_written_without_looking_their_emails_up(admin):
    """PostgreSQL, matching on email: rows are written as if their emails were new (the unique index checks
    it as they go in); no look-up of the batch's emails."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite looks the emails up first")
    text = "First Name,Email\n" + "".join(f"New{i},new{i}@hope.example\n" for i in range(3))
    with CaptureQueriesContext(connection) as queries:
        imp = run(admin, upload(admin, text), match_on="email", on_duplicate="skip")
    assert (imp.status, imp.created) == ("done", 3)
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT DISTINCT "email"')]


@pytest.mark.django_db
@pytest.mark.parametrize("policy", ["skip", "overwrite", "create"])
@pytest.mark.parametrize("forked", [False, True])
def test_a_batch_whose_email_exists_is_written_again_after_looking_up_and_makes_nothing_twice(admin, monkeypatch,
                                                                                             policy, forked):
    """The second batch has a live contact's email: on PostgreSQL its first, unlooked-up write is undone (with
    the companies it created) and the batch is planned again; every database gives the same result. A
    required custom field missing in that batch (row 4) is reported once. Forked (PostgreSQL): the rows come
    from the reading process slim, and the batches planned with look-ups (this one and the next) get their
    whole rows back (an update needs every value)."""
    from kith.contacts.models import Company
    from kith.core.models import CustomField

    if forked:
        if connection.vendor != "postgresql":
            pytest.skip("the import forks its reading process on PostgreSQL only")
        monkeypatch.setattr(engine, "FORK_MIN_ROWS", 0)
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    monkeypatch.setattr(engine.ContactWriter, "batch_size", 2)
    CustomField.objects.create(object_type="contact", key="tier", label="Tier", field_type="text", required=True)
    old = Contact.objects.create(first_name="Old", email="old@hope.example", custom_fields={"tier": "a"})
    text = ("First Name,Email,Company Name,Tier\n"
            "Ann,ann@hope.example,Alpha,a\n"
            "Ben,ben@hope.example,Beta,a\n"
            "Dan,dan@hope.example,Epsilon,\n"
            "Oldie,old@hope.example,Delta,b\n"
            "Cat,cat@hope.example,Gamma,a\n"
            "Eve,eve@hope.example,Alpha,a\n")
    imp = run(admin, upload(admin, text), match_on="email", on_duplicate=policy)
    old.refresh_from_db()
    names = sorted(Company.objects.values_list("name", flat=True))
    if policy == "create":  # a second contact with a live email is refused, not made
        assert (imp.created, imp.updated, imp.failed) == (4, 0, 2)
        assert names == ["Alpha", "Beta", "Gamma"]
    elif policy == "skip":
        assert (imp.created, imp.skipped, imp.failed) == (4, 1, 1)
        assert names == ["Alpha", "Beta", "Gamma"] and old.company_id is None
    else:
        assert (imp.created, imp.updated, imp.failed) == (4, 1, 1)
        assert names == ["Alpha", "Beta", "Delta", "Gamma"] and old.company.name == "Delta"
        assert (old.first_name, old.custom_fields) == ("Oldie", {"tier": "b"})
    assert imp.companies_created == len(names)
    reasons = [(p.row_number, p.reason) for p in imp.problems.order_by("row_number", "id")]
    assert (4, "Tier is required.") in reasons and len([r for r in reasons if r[0] == 4]) == 1
    assert Contact.objects.get(email="cat@hope.example").company.name == "Gamma"
    assert Contact.objects.get(email="eve@hope.example").company.name == "Alpha"
    assert Contact.objects.filter(email="old@hope.example").count() == 1


@pytest.mark.django_db
def test_a_company_an_import_creates_is_complete_owned_recorded_and_found(admin):
    """engine.ContactWriter.new_company builds companies from a template instance: each is a whole Company
    (the model's defaults, its own custom fields), owned by the importer, with its "create" history and its
    search document."""
    from kith.contacts.models import Company

    text = "First Name,Email,Company Name,Company Domain\nAnn,ann@tpl.example,Template Works,tplworks.example\n" \
           "Ben,ben@tpl.example,Other Co,\n"
    imp = run(admin, upload(admin, text), mapping={"First Name": "first_name", "Email": "email",
                                                    "Company Name": "company", "Company Domain": "company_domain"})
    assert (imp.status, imp.created, imp.companies_created) == ("done", 2, 2)
    works, other = Company.objects.get(name="Template Works"), Company.objects.get(name="Other Co")
    assert (works.domain, works.website, works.owner, works.version, works.custom_fields) == (
        "tplworks.example", "https://tplworks.example", admin, 1, {})
    assert (other.domain, other.website, other.owner) == ("", "", admin)
    writer = engine.ContactWriter(imp, admin, ["Email"])
    one, two = (writer.new_company(n, "", works.created_at) for n in ("One", "Two"))
    assert one.custom_fields == {} and one.custom_fields is not two.custom_fields  # (each its own dict)
    entry = AuditEntry.objects.get(object_id=works.pk, content_type__model="company", action="create")
    assert entry.actor == admin and {k: v["new"] for k, v in entry.changes.items()} == {
        "name": "Template Works", "domain": "tplworks.example", "website": "https://tplworks.example",
        "owner": {"id": admin.pk, "label": str(admin)}}
    assert ("company", works.pk) in [(k, i) for k, i, _ in search.search("template works")]
    assert Contact.objects.get(email="ann@tpl.example").company == works


@pytest.mark.django_db
def test_a_created_companys_history_json_is_the_generic_diffs(admin):
    """_company_json (built in one pass) gives what encoding the generic diff of the company's state gives."""
    from kith.imports.models import Import

    imp = Import.objects.create(created_by=admin, object_type="contact", file_name="x.csv", mapping={})
    writer = engine.ContactWriter(imp, admin, ["Email"])
    now = imp.created_at
    companies = [writer.new_company("Ünïcode \"Quoted\" \\ Co", "uni.example", now),
                 writer.new_company("Plain", "", now)]
    ownerless = writer.new_company("Nobody's", "nb.example", now)
    ownerless.owner = None
    for c in [*companies, ownerless]:
        for _ in range(2):  # the second time from the cached affixes and owner
            assert writer._company_json(c) == engine._json(
                writer._changes({}, writer._company_state(c), writer.company_labels))
