"""Change history: a snapshot of the tracked fields before and after a write, stored as a diff."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from . import bulk, context, customfields
from .models import AuditEntry


def _plain(value: Any) -> Any:
    """A JSON-safe, human-comparable form of a field value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return {"id": value.pk, "label": str(value)}
    return value


def snapshot(obj) -> dict[str, Any]:
    """The tracked state of a record, including tags and each custom field, as plain values."""
    state: dict[str, Any] = {}
    for name in obj.audit_fields:
        field = obj._meta.get_field(name)
        if field.is_relation:
            related = getattr(obj, name)
            state[name] = {"id": related.pk, "label": str(related)} if related is not None else None
        else:
            state[name] = _plain(getattr(obj, name))
    if not hasattr(obj, "tags"):
        pass  # records without tags (activities)
    elif obj.pk:
        state["tags"] = sorted(obj.tags.values_list("name", flat=True))
    else:
        state["tags"] = []
    for key, value in (getattr(obj, "custom_fields", None) or {}).items():
        state[f"custom_fields.{key}"] = value
    return state


def diff(before: dict[str, Any], after: dict[str, Any], obj) -> dict[str, dict[str, Any]]:
    labels = dict(obj.audit_fields)
    labels["tags"] = "Tags"
    cf_labels = {f.key: f.label for f in customfields.definitions(obj.object_type)}
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old in ("", [], None) and new in ("", [], None):
            continue
        if old != new:
            if key.startswith("custom_fields."):
                label = cf_labels.get(key.split(".", 1)[1], key.split(".", 1)[1])
            else:
                label = labels.get(key, key)
            changes[key] = {"old": old, "new": new, "label": label}
    return changes


def record(obj, *, action: str, actor, changes: dict[str, Any] | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "email", "") or "system",
        changes=changes or {},
        request_id=context.request_id.get(),
    )


HISTORY_COLUMNS = ["content_type_id", "object_id", "object_repr", "action", "actor_id", "actor_label", "changes",
                   "request_id", "created_at"]


def record_many(model, entries: Sequence[tuple[int, str, str, dict[str, Any] | str]], *, actor, at=None) -> None:
    """Many history rows of one model at once (bulk writers: imports, their undo, merges that move
    records): entries are (object id, the record's label, action, changes as a dict or already its JSON
    text); ``at``: their time (now). The same rows ``record`` writes one by one."""
    if not entries:
        return
    now = at or timezone.now()
    if connection.vendor != "postgresql":
        now = connection.ops.adapt_datetimefield_value(now)
    bulk.copy_rows(AuditEntry._meta.db_table, HISTORY_COLUMNS,
                   history_rows(ContentType.objects.get_for_model(model).pk, entries, actor=actor, at=now,
                                request_id=context.request_id.get()))


def history_rows(content_type_id: int, entries: Sequence[tuple[int, str, str, dict[str, Any] | str]], *, actor, at,
                 request_id: str) -> list[tuple]:
    """record_many's rows (columns: HISTORY_COLUMNS), with ``at`` already in the database's form; touches no
    database, so a thread can build them (the import's second phase)."""
    actor_id = getattr(actor, "pk", None)
    label = getattr(actor, "email", "") or "system"
    return [(content_type_id, oid, rep[:300], action, actor_id, label,
             changes if isinstance(changes, str) else bulk.to_json(changes), request_id, at)
            for oid, rep, action, changes in entries]


def history(obj):
    """Change entries of a record, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).select_related("actor").order_by("-id")
