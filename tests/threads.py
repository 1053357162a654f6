"""Tests that need two writers at once: run a function in several threads and gather what they returned."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections


def run_in_threads(fn: Callable[[Any], Any], args: Iterable[Any], timeout: float = 60) -> list[Any]:
    """fn(arg) for each arg, each in a thread of its own, all started together; their results in the order of
    args. Each thread's database connections are closed when it ends; an exception in any is reported here
    (the assertion lists them) once all have ended or ``timeout`` seconds passed."""
    args = list(args)
    results: list[Any] = [None] * len(args)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = fn(args[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(args))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
    return results
