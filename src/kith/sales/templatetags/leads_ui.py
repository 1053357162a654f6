"""Presentation helpers of the lead pages: the first-response clock, durations, rule conditions."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..choices import LeadStatus

register = template.Library()


def duration_text(delta: dt.timedelta) -> str:
    """Compact: "under a minute", "12 min", "3 h 5 min", "2 d 4 h", "15 d"."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours and days < 7 else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


def first_response_minutes(context) -> int:
    """The workspace's first-response time, read once per request."""
    request = context.get("request")
    cached = getattr(request, "_kith_first_response_minutes", None)
    if cached is None:
        from ..models import SalesSettings

        cached = SalesSettings.get().first_response_minutes
        if request is not None:
            request._kith_first_response_minutes = cached
    return cached


def waiting_state(lead, minutes: int) -> dict:
    """{"kind": waiting|overdue|responded|none, "text", "since"} for a lead."""
    if lead.first_response_at is not None:
        return {"kind": "responded", "text": duration_text(lead.first_response_at - lead.created_at)}
    if lead.status != LeadStatus.NEW or lead.deleted_at is not None:
        return {"kind": "none", "text": ""}
    waited = timezone.now() - lead.created_at
    kind = "overdue" if waited > dt.timedelta(minutes=minutes) else "waiting"
    return {"kind": kind, "text": duration_text(waited), "since": lead.created_at}


@register.simple_tag(takes_context=True)
def lead_waiting(context, lead, style: str = "cell"):
    """The "Waiting" value: a running clock for new leads nobody answered yet, "Overdue" past the
    first-response time (said in words, not only colour), or how long the first response took."""
    minutes = first_response_minutes(context)
    state = waiting_state(lead, minutes)
    kind = state["kind"]
    if kind == "none":
        return mark_safe('<span class="muted">—</span>')
    if kind == "responded":
        if style == "long":
            return format_html('<span class="waiting waiting-responded">Responded in {}</span>', state["text"])
        return format_html('<span class="waiting waiting-responded"><span class="visually-hidden">Responded in </span>'
                           '<span class="waiting-check" aria-hidden="true">✓</span> {}</span>', state["text"])
    since = timezone.localtime(state["since"]).isoformat()
    if kind == "overdue":
        return format_html(
            '<span class="waiting waiting-overdue" data-clock-since="{}" data-clock-limit="{}">'
            '<span class="waiting-flag">Overdue</span> <span class="waiting-time" data-clock-text>{}</span>'
            "</span>",
            since, minutes, state["text"],
        )
    flag = "waiting-flag" if style == "subtitle" else "waiting-flag visually-hidden"
    return format_html(
        '<span class="waiting waiting-running" data-clock-since="{}" data-clock-limit="{}">'
        '<span class="{}">Waiting</span> <span class="waiting-time" data-clock-text>{}</span></span>',
        since, minutes, flag, state["text"],
    )


@register.filter
def duration(delta) -> str:
    return duration_text(delta) if isinstance(delta, dt.timedelta) else ""


@register.filter
def condition_text(cond: dict) -> str:
    from ..services.assignment import CONDITION_FIELDS, OPS

    field = CONDITION_FIELDS.get(cond.get("field"), cond.get("field", ""))
    op = OPS.get(cond.get("op"), cond.get("op", ""))
    if cond.get("op") == "is_empty":
        return f"{field} {op}"
    return f"{field} {op} “{cond.get('value', '')}”"
