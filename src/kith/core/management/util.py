"""Helpers shared by Kith's management commands (not commands themselves)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections

from kith.core.errors import ValidationError


def usage_error(message: str) -> CommandError:
    """A one-line error for bad input; the command exits with code 2."""
    return CommandError(message, returncode=2)


def validation_text(exc: ValidationError) -> str:
    """A ValidationError as one line: "email: A user with this email already exists.; role: …"."""
    if hasattr(exc, "error_dict"):
        parts = []
        for field, messages in exc.message_dict.items():
            text = " ".join(messages)
            parts.append(text if field == "__all__" else f"{field}: {text}")
        return "; ".join(parts)
    return " ".join(exc.messages)


def database_label(alias: str = "default") -> str:
    """Where the database is, without any password: "SQLite at /path" or "PostgreSQL db on host:port"."""
    db = settings.DATABASES[alias]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite database {db['NAME']}"
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL database “{db.get('NAME')}” on {host}{port} as {db.get('USER') or 'the current user'}"


def database_problem(alias: str = "default", timeout: int = 5) -> str | None:
    """None when the database answers, otherwise the driver's own error message.

    PostgreSQL is probed with a direct connection (not the pool) so the real reason is reported at once
    (the pool would retry for its timeout and then only say that it got no connection).
    """
    conn = connections[alias]
    try:
        if conn.vendor == "postgresql":
            import psycopg

            params = {
                k: v for k, v in conn.get_connection_params().items() if k not in ("cursor_factory", "context")
            }
            params["connect_timeout"] = timeout
            with psycopg.connect(**params) as probe:
                probe.execute("SELECT 1")
        else:
            conn.ensure_connection()
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
    except Exception as exc:
        text = " ".join(str(exc).split())
        return text.replace("connection failed: ", "") or exc.__class__.__name__
    return None
