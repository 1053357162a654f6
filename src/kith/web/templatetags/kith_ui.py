"""Small presentation helpers for the web UI: icons, dates, initials, phone links."""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# Simple line icons (24x24, stroke = currentColor). Constant markup, never user text.
_ICONS = {
    "inbox": '<path d="M3 13h5l1.5 3h5L16 13h5"/><path d="M5 5h14l2 8v6H3v-6z"/>',
    "kanban": '<rect x="3" y="4" width="5" height="16" rx="1"/><rect x="10" y="4" width="5" height="10" rx="1"/>'
    '<rect x="17" y="4" width="4" height="13" rx="1"/>',
    "chart": '<path d="M4 20V10"/><path d="M10 20V4"/><path d="M16 20v-7"/><path d="M22 20H2"/>',
    "box": '<path d="M3 7.5 12 3l9 4.5v9L12 21l-9-4.5z"/><path d="M3 7.5 12 12l9-4.5"/><path d="M12 12v9"/>',
    "home": '<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9.5V21h14V9.5"/><path d="M10 21v-6h4v6"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 4-6 8-6s8 2 8 6"/>',
    "users": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c0-3.5 3-5.5 6.5-5.5s6.5 2 6.5 5.5"/>'
    '<path d="M16 4.5a3.5 3.5 0 0 1 0 7"/><path d="M18 14.8c2.2.6 3.5 2.4 3.5 5.2"/>',
    "building": '<rect x="4" y="3" width="12" height="18" rx="1"/><path d="M16 9h4v12h-4"/>'
    '<path d="M8 7h4M8 11h4M8 15h4"/>',
    "trash": '<path d="M4 7h16"/><path d="M10 11v6M14 11v6"/><path d="M6 7l1 13h10l1-13"/>'
    '<path d="M9 7V4h6v3"/>',
    "settings": '<circle cx="12" cy="12" r="3"/><path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 '
    "2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 "
    "0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 "
    "1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 "
    "1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 "
    '0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "edit": '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="m13.5 6.5 4 4"/>',
    "restore": '<path d="M3 12a9 9 0 1 0 3-6.7"/><path d="M3 4v5h5"/>',
    "filter": '<path d="M3 5h18l-7 8v6l-4 2v-8z"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "phone": '<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"/>',
    "warning": '<path d="M12 3 2 21h20z"/><path d="M12 10v5M12 18v.01"/>',
    "upload": '<path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 20h16"/>',
    "x": '<path d="M6 6l12 12M18 6 6 18"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "calendar": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>',
    "check-square": '<rect x="3" y="3" width="18" height="18" rx="2"/><path d="m8 12 3 3 5-6"/>',
    "copy": '<rect x="8" y="8" width="13" height="13" rx="2"/><path d="M16 8V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v9a2 2 0 0 0 2 2h3"/>',
    "download": '<path d="M12 4v12M7 11l5 5 5-5"/><path d="M4 20h16"/>',
    "globe": '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18"/>',
    "chevron-down": '<path d="m6 9 6 6 6-6"/>',
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
}


@register.simple_tag
def icon(name: str, cls: str = "icon") -> str:
    body = _ICONS.get(name, "")
    return mark_safe(  # noqa: S308 - constant markup from _ICONS and a class name chosen in templates
        f'<svg class="{cls}" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" '
        f'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">'
        f"{body}</svg>"
    )


@register.filter
def initials(value) -> str:
    text = str(value or "").strip()
    if not text:
        return "?"
    parts = [p for p in re.split(r"[\s@._-]+", text) if p]
    letters = "".join(p[0] for p in parts[:2]).upper()
    return letters or text[0].upper()


@register.filter
def avatar_hue(value) -> int:
    """A stable colour class number (0-7) for a record's avatar."""
    return sum(ord(c) for c in str(value or "")) % 8


@register.simple_tag
def when(value, style: str = "short"):
    """A readable timestamp in a <time> element.

    short: "14:05" today, "Mar 4" this year, else "Mar 4, 2024". long: "Mar 4, 2024, 14:05".
    """
    if not value:
        return ""
    local = timezone.localtime(value) if isinstance(value, dt.datetime) else value
    now = timezone.localtime()
    if style == "long" and isinstance(local, dt.datetime):
        short = f"{local.strftime('%b')} {local.day}, {local.year}, {local.strftime('%H:%M')}"
    elif isinstance(local, dt.datetime) and local.date() == now.date():
        short = local.strftime("%H:%M")
    elif local.year == now.year:
        short = f"{local.strftime('%b')} {local.day}"
    else:
        short = f"{local.strftime('%b')} {local.day}, {local.year}"
    full = local.strftime("%b %-d, %Y %H:%M") if isinstance(local, dt.datetime) else local.isoformat()
    iso = local.isoformat()
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, full, short)


E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")


@register.filter
def is_e164(value) -> bool:
    return bool(E164_RE.match(str(value or "")))


@register.filter
def tel_href(value) -> str:
    digits = re.sub(r"[^\d+]", "", str(value or ""))
    return f"tel:{digits}"


@register.filter
def pretty_phone(value) -> str:
    """E.164 numbers in international format for reading; anything else as stored."""
    text = str(value or "")
    if not E164_RE.match(text):
        return text
    try:
        from kith.core.phones import phonenumbers

        return phonenumbers.format_number(
            phonenumbers.parse(text), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except Exception:
        return text
