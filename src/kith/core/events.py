"""Domain events, delivered to subscribers only after the surrounding transaction commits.

    emit("contact.created", {"id": 7, ...})

Subscribers are plain functions registered with @subscribe("contact.created") or @subscribe("*").
They run in-process right after commit; anything slow or fallible should enqueue a job.
A rolled-back transaction delivers nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event_name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if fn not in _subscribers[event_name]:
            _subscribers[event_name].append(fn)
        return fn

    return register


def unsubscribe(event_name: str, fn: Handler) -> None:
    if fn in _subscribers.get(event_name, []):
        _subscribers[event_name].remove(fn)


def deliver(event_name: str, payload: dict[str, Any]) -> None:
    for fn in [*_subscribers.get(event_name, []), *_subscribers.get("*", [])]:
        try:
            fn(event_name, payload)
        except Exception:
            # A broken subscriber must never undo or hide a committed write.
            log.exception("event subscriber %s failed for %s", getattr(fn, "__name__", fn), event_name)


def emit(event_name: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: deliver(event_name, payload))
