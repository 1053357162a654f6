"""In-app notifications: created by services (assignment, mentions, reminders), read in the bell menu."""

from __future__ import annotations

from django.utils import timezone

from .models import Notification

# Apps may register a function called with each new notification (kith.activities emails it when the
# user chose that kind in their notification settings).
_delivery_hooks: list = []


def on_notify(fn):
    if fn not in _delivery_hooks:
        _delivery_hooks.append(fn)
    return fn


def notify(*, user, kind: str, title: str, url: str = "", actor=None) -> Notification | None:
    if user is None or not user.is_active:
        return None
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        return None  # nobody needs to be told about what they just did themselves
    row = Notification.objects.create(user=user, kind=kind, title=title[:300], url=url[:500], actor=actor)
    for hook in _delivery_hooks:
        hook(row)
    return row


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
