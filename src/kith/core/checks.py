"""System checks run by `kith check` (and before `kith serve`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection


@register(Tags.database, deploy=False)
def database_answers(app_configs, **kwargs):
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception as exc:
        return [Error(f"The database does not answer: {exc}", hint="Check DATABASE_URL.", id="kith.E001")]
    errors = []
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            try:
                cur.execute("CREATE VIRTUAL TABLE temp.kith_fts_probe USING fts5(x)")
                cur.execute("DROP TABLE temp.kith_fts_probe")
            except Exception:
                errors.append(Error("This SQLite has no FTS5; search will not work.", id="kith.E002"))
    elif connection.vendor != "postgresql":
        errors.append(Error("Kith runs on SQLite or PostgreSQL only.", id="kith.E003"))
    return errors


@register(deploy=True)
def production_settings(app_configs, **kwargs):
    warnings = []
    if settings.DEBUG:
        warnings.append(Warning("KITH_DEBUG is on; turn it off in production.", id="kith.W001"))
    if not settings.SESSION_COOKIE_SECURE:
        warnings.append(
            Warning("Cookies are not marked Secure; set KITH_SECURE_COOKIES=1 behind HTTPS.", id="kith.W002")
        )
    return warnings
