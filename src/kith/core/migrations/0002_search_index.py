"""The search index: an FTS5 table on SQLite, a tsvector table with GIN (+ pg_trgm on words) on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS kith_search USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')",
]
SQLITE_REVERSE = ["DROP TABLE IF EXISTS kith_search"]

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS kith_search ("
    " id bigint PRIMARY KEY,"
    " kind smallint NOT NULL,"
    " object_id bigint NOT NULL,"
    " title text NOT NULL DEFAULT '',"
    " body text NOT NULL DEFAULT '',"
    " document tsvector GENERATED ALWAYS AS ("
    "   setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B')) STORED)",
    "CREATE INDEX IF NOT EXISTS kith_search_document_idx ON kith_search USING gin (document)",
    "CREATE INDEX IF NOT EXISTS kith_search_kind_object_idx ON kith_search (kind, object_id)",
    "CREATE INDEX IF NOT EXISTS core_searchterm_trgm_idx ON core_searchterm USING gin (term gin_trgm_ops)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS core_searchterm_trgm_idx",
    "DROP TABLE IF EXISTS kith_search",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
