"""Template helpers of the activity UI: the record timeline card, icons, relative times, safe rendering.

{% load activities_tags %}
{% record_timeline obj %}            the timeline card of a contact/company/lead/deal page
{% activity_icon "call" %}           a constant SVG icon per entry kind
{% ago value %}                      "3 hours ago", the exact time on hover
{{ note.body|md }}                   Markdown rendered safely (kith.activities.text.markdown)
{{ email.email_html|safe_email }}    an email body sanitised (no scripts, handlers or remote images)
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from kith.activities import text

register = template.Library()

# 24x24 line icons, stroke = currentColor. Constant markup, never user text.
_ICONS = {
    "call": '<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"/>',
    "phone": '<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"/>',
    "meeting": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M16 3v4M8 3v4M3 10h18"/>',
    "note": '<path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5"/><path d="M9 13h7M9 17h5"/>',
    "email": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "task": '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="m8.5 12 2.5 2.5 4.5-5"/>',
    "comment": '<path d="M4 5h16v11H9l-5 4z"/>',
    "change": '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="m13.5 6.5 4 4"/>',
    "stage": '<path d="M4 12h13"/><path d="m13 6 6 6-6 6"/>',
    "convert": '<path d="M4 7h12l-3-3M20 17H8l3 3"/>',
    "merge": '<circle cx="6" cy="5" r="2"/><circle cx="6" cy="19" r="2"/><circle cx="18" cy="12" r="2"/>'
    '<path d="M6 7v10M6 9a6 3 0 0 0 10 3"/>',
    "pin": '<path d="M9 4h6l-1 6 4 3v2H6v-2l4-3z"/><path d="M12 15v6"/>',
    "video": '<rect x="3" y="6" width="13" height="12" rx="2"/><path d="m16 10 5-3v10l-5-3"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "location": '<path d="M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11z"/><circle cx="12" cy="10" r="2.5"/>',
    "check": '<path d="m5 12 5 5 9-10"/>',
    "in": '<path d="M19 5 5 19"/><path d="M5 9v10h10"/>',
    "out": '<path d="M5 19 19 5"/><path d="M9 5h10v10"/>',
}


@register.simple_tag
def activity_icon(name: str, cls: str = "icon") -> str:
    body = _ICONS.get(str(name), _ICONS["note"])
    return mark_safe(  # noqa: S308 - constant markup from _ICONS and a class chosen in templates
        f'<svg class="{cls}" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" '
        f'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">'
        f"{body}</svg>"
    )


def relative(value: dt.datetime, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    delta = now - value
    seconds = int(delta.total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in a moment"
    minutes, hours = seconds // 60, seconds // 3600
    days = round(seconds / 86400) if hours >= 24 else 0
    if minutes < 60:
        amount = f"{minutes} min"
    elif hours < 24:
        amount = f"{hours} hour{'s' if hours != 1 else ''}"
    elif days <= 1:
        return "tomorrow" if future else "yesterday"
    elif days < 7:
        amount = f"{days} days"
    else:
        local = timezone.localtime(value)
        this_year = local.year == timezone.localtime(now).year
        return f"{local.strftime('%b')} {local.day}" + ("" if this_year else f", {local.year}")
    return f"in {amount}" if future else f"{amount} ago"


@register.simple_tag
def ago(value):
    """<time> with a relative text ("5 min ago", "yesterday", "Mar 4") and the exact time on hover."""
    if not value:
        return ""
    local = timezone.localtime(value)
    exact = f"{local.strftime('%a %b')} {local.day}, {local.year}, {local.strftime('%H:%M')}"
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(), exact, relative(value))


@register.simple_tag
def exact(value):
    """A date and time in full; the year only when it is not this year ("Tue Mar 4, 14:30")."""
    if not value:
        return ""
    local = timezone.localtime(value)
    year = "" if local.year == timezone.localtime().year else f", {local.year}"
    return format_html(
        '<time datetime="{}">{}</time>',
        local.isoformat(),
        f"{local.strftime('%a %b')} {local.day}{year}, {local.strftime('%H:%M')}",
    )


@register.filter
def age(value) -> str:
    """How long ago, in its largest unit only ("3 days", not "3 days, 21 hours")."""
    from django.utils.timesince import timesince

    return timesince(value, depth=1) if value else ""


@register.filter
def in_future(value) -> bool:
    """{% if a.occurred_at|in_future %}: a meeting still to come is "scheduled", not "logged"."""
    return bool(value) and value > timezone.now()


@register.filter
def md(value) -> str:
    return text.markdown(value or "")


@register.filter
def safe_email(value) -> str:
    return text.sanitize_html(value or "")


@register.filter
def duration(seconds) -> str:
    if seconds in (None, ""):
        return ""
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    parts = []
    if h:
        parts.append(f"{h} h")
    if m:
        parts.append(f"{m} min")
    if s and not h:
        parts.append(f"{s} s")
    return " ".join(parts) or "0 s"


@register.filter
def same_day(a, b) -> bool:
    if not a or not b:
        return False
    return timezone.localtime(a).date() == timezone.localtime(b).date()


@register.filter
def time_only(value) -> str:
    return timezone.localtime(value).strftime("%H:%M") if value else ""


@register.simple_tag(takes_context=True)
def record_timeline(context, record):
    """The timeline card of a record page: actions row, comment box, type chips and the first page."""
    from kith.activities.views_activities import timeline_context

    request = context.get("request")
    if request is None or record is None or not getattr(record, "pk", None):
        return ""
    ctx = timeline_context(request, record)
    from kith.activities.forms_activities import CommentForm

    ctx["comment_form"] = CommentForm()
    return mark_safe(render_to_string("activities/_timeline_card.html", ctx, request=request))  # noqa: S308


@register.filter
def call_outcome(value) -> str:
    from kith.activities.models import CallOutcome

    try:
        return str(CallOutcome(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def edited(comment) -> bool:
    """A comment changed after it was written (more than a few seconds later)."""
    created, updated = getattr(comment, "created_at", None), getattr(comment, "updated_at", None)
    return bool(created and updated and (updated - created).total_seconds() > 5)
