"""Rows that point at a CRM record, moved from one record to another when two records are merged.

Each app registers how to move its own related rows, so the merge (kith.duplicates) needs no knowledge
of activities, deals, tickets or anything added later:

    @related_mover
    def move_activity_links(*, object_type: str, source_id: int, target_id: int) -> dict[str, int]:
        n = ActivityLink.objects.filter(record_type=object_type, record_id=source_id).update(record_id=target_id)
        return {"activities": n}

Movers run inside the merge's transaction and return counts per kind of row moved ({} when none).
A mover also returns what it needs to undo the move in an "undo" key (a JSON-able value); kith.duplicates
stores the results with the merge. To make a merge undoable, register the reverse step too:

    @related_mover.undo(move_activity_links)
    def unmove_activity_links(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
        ActivityLink.objects.filter(pk__in=undo["ids"]).update(record_id=source_id)

undo_related() runs them (in reverse order) with the stored "undo" value; a mover that moved rows but has no
undo step is reported by name, and the merge's undo says those rows stay on the survivor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Mover = Callable[..., dict[str, Any]]
_movers: list[Mover] = []


_undoers: dict[str, Callable[..., Any]] = {}


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def mover_name(fn: Callable[..., Any]) -> str:
    """The key of a mover's result in what move_related returns (and a merge stores)."""
    return _name(fn)


class _RelatedMover:
    """The decorator ``related_mover`` (registers a mover), with ``related_mover.undo(mover)`` (its reverse)."""

    def __call__(self, fn: Mover) -> Mover:
        if fn not in _movers:
            _movers.append(fn)
        return fn

    def undo(self, mover: Mover) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering the reverse of a mover: fn(*, object_type, source_id, target_id, undo)."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _undoers[_name(mover)] = fn
            return fn

        return register


related_mover = _RelatedMover()


def movers() -> list[Mover]:
    return list(_movers)


def move_related(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    """Move every registered kind of related row from source to target; returns {mover name: result}."""
    results: dict[str, Any] = {}
    for fn in _movers:
        results[_name(fn)] = fn(object_type=object_type, source_id=source_id, target_id=target_id)
    return results


def moved_anything(result: Any) -> bool:
    return isinstance(result, dict) and any(
        isinstance(v, int) and v > 0 for k, v in result.items() if k != "undo"
    )


def undo_related(*, object_type: str, source_id: int, target_id: int, results: dict[str, Any]) -> list[str]:
    """Move rows back (target to source) with what move_related returned. Returns the names of movers that
    had moved rows but could not be undone (no undo step registered, or it is no longer installed)."""
    not_undone: list[str] = []
    for name in reversed(list(results)):
        result = results[name]
        fn = _undoers.get(name)
        if fn is not None and isinstance(result, dict) and result.get("undo") is not None:
            fn(object_type=object_type, source_id=source_id, target_id=target_id, undo=result["undo"])
        elif moved_anything(result):
            not_undone.append(name)
    return not_undone
