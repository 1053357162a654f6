"""ISO 3166-1 alpha-2 countries (from pycountry)."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def countries() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries), key=lambda x: x[1])


@cache
def _names() -> dict[str, str]:
    return dict(countries())


def country_name(code: str) -> str:
    return _names().get(code, code) if code else ""


def normalise_country(value: str) -> str:
    """Accept an ISO code or an English name; return the alpha-2 code or raise ValueError."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) == 2 and value.upper() in _names():
        return value.upper()
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        raise ValueError(f"“{value}” is not a country; use an ISO code such as DE or US.") from None
