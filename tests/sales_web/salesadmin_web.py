"""Helpers for the sales-setup web tests: signed-in clients and the visible text of a page."""

from __future__ import annotations

import html as html_lib
import re


def text(response) -> str:
    """The page's visible text, roughly: tags removed, whitespace collapsed."""
    page = response.content.decode()
    page = re.sub(r"<(script|style|title)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html_lib.unescape(page).split())


def htmx(**extra) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", **{f"HTTP_HX_{k.upper()}": v for k, v in extra.items()}}
