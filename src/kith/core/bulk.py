"""Writing many rows at once, below the ORM: COPY on PostgreSQL (psycopg 3), one executemany on SQLite.

Imports, seeding, the duplicate scan's key index and bulk history rows use it: several times faster than
bulk_create's compiler for hundreds of thousands of rows. Callers hand over column values already in the
database's form (JSON as text: ``to_json``; SQLite datetimes through ``connection.ops``).
"""

from __future__ import annotations

import json

from django.db import connection

# = json.dumps(value, ensure_ascii=False, default=str): the text of a JSON column
to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def copy_rows(table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert the rows into the table, in the current transaction; database errors are Django's."""
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        # the raw psycopg cursor (Django's wrapper has no COPY); its errors become Django's DatabaseError
        with (connection.wrap_database_errors, connection.connection.cursor() as cur,
              cur.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as cp):
            for row in rows:
                cp.write_row(row)
        return
    with connection.cursor() as cur:
        cur.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
                        rows)
