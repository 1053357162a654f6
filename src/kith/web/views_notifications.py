"""Notifications: the page behind the bell (newest first, keyset "Load more"), marking read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core import notifications
from kith.core.models import Notification
from kith.core.pagination import Ordering, paginate

from .ui import is_fragment_request, page_size, safe_next, url_with, vary_htmx

NEWEST = Ordering("newest", ())  # by id alone: newest first


def _mine(request, pk: int) -> Notification:
    note = Notification.objects.filter(user=request.user, pk=pk).first()
    if note is None:
        raise Http404("No such notification.")
    return note


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    qs = Notification.objects.filter(user=request.user).select_related("actor")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    cursor = (request.GET.get("cursor") or "").strip() or None
    error = ""
    try:
        rows, next_cursor = paginate(qs, ordering=NEWEST, descending=True, cursor=cursor, limit=page_size())
    except ValidationError:
        rows, next_cursor, error = [], None, "This page link is no longer valid."
    ctx = {
        "rows": rows,
        "next_url": url_with(request.path, request.GET, cursor=next_cursor) if next_cursor else "",
        "unread_only": unread_only,
        "unread": notifications.unread_count(request.user),
        "is_first_page": not cursor,
        "error": error,
        "nav_section": "notifications",
        "next": request.get_full_path(),
    }
    status = 400 if error else 200
    if is_fragment_request(request) and cursor:
        return vary_htmx(render(request, "web/_notification_items.html", ctx, status=status))
    return vary_htmx(render(request, "web/notifications.html", ctx, status=status))


@login_required
@require_POST
def notification_read(request, pk: int):
    note = _mine(request, pk)
    notifications.mark_read(user=request.user, ids=[note.pk])
    return redirect(safe_next(request, reverse("web:notifications")))


@login_required
@require_POST
def notifications_read_all(request):
    count = notifications.mark_read(user=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect(safe_next(request, reverse("web:notifications")))


@login_required
@require_GET
def notification_open(request, pk: int):
    """Follow a notification's link, marking it read on the way."""
    note = _mine(request, pk)
    notifications.mark_read(user=request.user, ids=[note.pk])
    url = note.url or ""
    if url.startswith("/") and not url.startswith("//"):
        return redirect(url)
    return redirect("web:notifications")
