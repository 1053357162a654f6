"""The phone number library Kith uses: ``rphonenumbers`` (the same API and results as ``phonenumbers``, on a
Rust port of libphonenumber, about 8× faster per number: measured on 46,600 numbers in national,
international and garbled forms, 142 → 17 µs for parse, validate and format) where it is installed, else
``phonenumbers`` itself. tests/test_phones.py checks that both give the same answers.

    from kith.core.phones import phonenumbers
"""

from __future__ import annotations

try:
    import rphonenumbers as phonenumbers
except ImportError:  # pragma: no cover - a platform without its wheel
    import phonenumbers  # type: ignore[no-redef]

__all__ = ["phonenumbers"]
