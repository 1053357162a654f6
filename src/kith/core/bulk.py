"""Writing many rows at once, below the ORM: COPY on PostgreSQL (psycopg 3), one executemany on SQLite.

Imports, seeding, the duplicate scan's key index and bulk history rows use it: several times faster than
bulk_create's compiler for hundreds of thousands of rows. Callers hand over column values already in the
database's form (JSON as text: ``to_json``; SQLite datetimes through ``connection.ops``).
"""

from __future__ import annotations

import datetime as dt
import json
import re

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


# --- COPY's text format, written in Python (PostgreSQL) ------------------------------------------------------
# Rows can be turned into COPY lines away from the connection (in a thread that has no database), then
# sent with copy_text. A line: the columns' texts joined by tabs; NULL is \N; a backslash, tab, newline or
# carriage return inside a value is escaped with a backslash.

COPY_NULL = "\\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value) -> str:
    """One column value as COPY text: str (JSON columns as their JSON text), int, bool, Decimal, date and
    datetime (ISO 8601, with its offset), or None."""
    if value is None:
        return COPY_NULL
    if isinstance(value, str):  # (and its subclasses: a choice, a safe string)
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else str(value)
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, dt.date):  # (and datetime)
        return value.isoformat()
    return str(value)


def copy_lines(rows) -> str:
    """Rows (tuples of column values) as COPY text."""
    field = copy_field
    return "".join(["\t".join([field(v) for v in row]) + "\n" for row in rows])


def copy_text(table: str, columns: list[str], text: str) -> None:
    """PostgreSQL: insert COPY text lines (each ending in a newline) into the table, in the current
    transaction; database errors are Django's."""
    if not text:
        return
    qn = connection.ops.quote_name
    connection.ensure_connection()
    with (connection.wrap_database_errors, connection.connection.cursor() as cur,
          cur.copy(f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN") as cp):
        cp.write(text)
