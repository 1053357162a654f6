"""The shared write path of every CRM record: version check, tags, change history, search, events.

A domain service (kith.contacts.services, …) validates and assigns fields, then calls these helpers
inside its transaction. Nothing here commits on its own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from . import audit, events, permissions, search
from .errors import ConflictError, ValidationError
from .models import AuditEntry, Tag

MAX_TAG_LENGTH = 64

# Deleting many records at once (an import's undo): receivers of ``deleting_many`` (sender: the model,
# ids: the records' ids) do their per-record clean-up once for all of them, and a post_delete receiver
# that would repeat it record by record skips the records ``deleted_in_bulk`` names.
deleting_many = Signal()
_bulk_deleting: contextvars.ContextVar[tuple[type[Any], frozenset[int]] | None] = contextvars.ContextVar(
    "kith_bulk_deleting", default=None)


def delete_many(model, ids: list[int]) -> None:
    """Delete these records (in the trash or not) as the ORM does, cascades and signals included, with the
    per-record clean-up of post_delete receivers done once for the lot (see deleting_many)."""
    deleting_many.send(sender=model, ids=list(ids))
    token = _bulk_deleting.set((model, frozenset(ids)))
    try:
        model.all_objects.filter(pk__in=ids).delete()
    finally:
        _bulk_deleting.reset(token)


def deleted_in_bulk(instance) -> bool:
    """Whether this record is being deleted by delete_many (its receivers' clean-up is done already)."""
    current = _bulk_deleting.get()
    return current is not None and isinstance(instance, current[0]) and instance.pk in current[1]


def parse_version(value: Any) -> int | None:
    """A version from a body field or an If-Match header ("3", '"3"', 'W/"3"')."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise ValidationError({"version": ["Must be a whole number (the record's current version)."]})
    return int(text)


def check_version(obj, expected: int | None) -> None:
    if expected is not None and expected != obj.version:
        raise ConflictError(
            f"This record was changed by someone else (now at version {obj.version}, you sent {expected}). "
            "Reload it and apply your change again.",
            current_version=obj.version,
        )


def clean_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValidationError({"tags": ["Must be a list of strings."]})
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValidationError({"tags": ["Must be a list of strings."]})
        name = " ".join(item.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError({"tags": [f"A tag can be at most {MAX_TAG_LENGTH} characters."]})
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


_known_tags: contextvars.ContextVar[dict[str, Tag] | None] = contextvars.ContextVar("kith_known_tags", default=None)


@contextlib.contextmanager
def remembered_tags() -> Iterator[None]:
    """Inside the block a tag found by name is looked up once (a bulk call gives up to 1,000 records the
    same few tags; each looked them up, twice when the case differed). Only tags read from the database
    are remembered, never one created in the block: a failed item's savepoint takes its new tags away."""
    token = _known_tags.set({})
    try:
        yield
    finally:
        _known_tags.reset(token)


def set_tags(obj, names: Iterable[str], *, new: bool = False) -> None:
    """Give the record exactly these tags (created when missing; "VIP" and "vip" are one tag). new=True: a
    record created in this transaction, which has none yet (its current tags are not read)."""
    names = list(names)
    known = _known_tags.get()
    existing = {n.lower(): known[n.lower()] for n in names if n.lower() in known} if known is not None else {}
    wanted = [n for n in names if n.lower() not in existing]
    if wanted:
        existing.update({t.name.lower(): t for t in Tag.objects.filter(name__in=wanted)})
    tags = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            # Case-insensitive reuse: "VIP" and "vip" are one tag.
            tag = Tag.objects.filter(name__iexact=name).first()
            if tag is not None:
                existing[name.lower()] = tag
        if tag is not None and known is not None:
            known[name.lower()] = tag
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name)
            except IntegrityError:  # created by a concurrent write a moment ago
                tag = Tag.objects.get(name=name)
        tags.append(tag)
    if new:
        obj.tags.add(*tags)
    else:
        obj.tags.set(tags)


def finish_write(obj, *, action: str, actor, before: dict[str, Any]) -> dict[str, Any]:
    """Write the history row, sync the search index and queue the domain event. Returns the changes."""
    after = audit.snapshot(obj)
    changes = audit.diff(before, after, obj) if action in (AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE) else {}
    audit.record(obj, action=action, actor=actor, changes=changes)
    if obj.deleted_at is None:
        search.index(obj)
    else:
        search.remove(obj)
    verb = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}[action]
    events.emit(
        f"{obj.object_type}.{verb}",
        {
            "type": obj.object_type,
            "id": obj.pk,
            "version": obj.version,
            "actor_id": getattr(actor, "pk", None),
            "changes": {k: {"old": v["old"], "new": v["new"]} for k, v in changes.items()},
        },
    )
    return changes


def bump(obj) -> None:
    obj.version += 1
    obj.updated_at = timezone.now()


def trash_days() -> int:
    return int(getattr(settings, "KITH_TRASH_DAYS", 30))


def attach_tags(objs) -> None:
    """Load the tag names of many records of one model in one query (cheaper than prefetch_related)."""
    objs = [o for o in objs if o.pk]
    if not objs:
        return
    model = type(objs[0])
    through = model.tags.through
    column = f"{model._meta.model_name}_id"
    names: dict[int, list[str]] = {o.pk: [] for o in objs}
    for pk, name in through.objects.filter(**{f"{column}__in": list(names)}).values_list(column, "tag__name"):
        names[pk].append(name)
    for o in objs:
        o._tag_names = sorted(names[o.pk])


def trash_record(obj, *, actor, expected_version: int | None = None):
    """Move any KithModel record to the trash (restorable); idempotent."""
    from .permissions import require_write

    require_write(actor, obj)
    with transaction.atomic():
        obj = type(obj).all_objects.select_for_update().get(pk=obj.pk)
        check_version(obj, expected_version)
        if obj.deleted_at is not None:
            return obj
        obj.deleted_at = timezone.now()
        obj.deleted_by = actor
        bump(obj)
        obj.save()
        finish_write(obj, action=AuditEntry.Action.DELETE, actor=actor, before={})
    return obj


def restore_record(obj, *, actor):
    """Bring a record back from the trash, unless a live record now holds one of its unique values."""
    from .permissions import require_write

    require_write(actor, obj)
    with transaction.atomic():
        obj = type(obj).all_objects.select_for_update().get(pk=obj.pk)
        if obj.deleted_at is None:
            return obj
        conflicts = obj.restore_conflicts()
        if conflicts:
            raise ValidationError(conflicts)
        obj.deleted_at = None
        obj.deleted_by = None
        bump(obj)
        obj.save()
        finish_write(obj, action=AuditEntry.Action.RESTORE, actor=actor, before={})
    return obj


def record_model(object_type: str):
    """The KithModel class of a record type ("contact", "deal" …), or None when no app provides it."""
    from django.apps import apps

    from .features import KithModel

    for model in apps.get_models():
        if issubclass(model, KithModel) and model.object_type == object_type:
            return model
    return None


def visible_records(keys: list[tuple[str, int]], user) -> dict[tuple[str, int], Any]:
    """The records behind (record type, id) keys that the user can see (in the trash too), by key: one query
    per record type."""
    by_kind: dict[str, set[int]] = {}
    for kind, pk in keys:
        by_kind.setdefault(kind, set()).add(pk)
    found: dict[tuple[str, int], Any] = {}
    for kind, ids in by_kind.items():
        model = record_model(kind)
        if model is None:
            continue
        for obj in permissions.visible(model.all_objects.filter(pk__in=ids), user):
            found[(kind, obj.pk)] = obj
    return found
