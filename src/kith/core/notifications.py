"""In-app notifications: created by services (assignment, mentions, reminders), read in the bell menu."""

from __future__ import annotations

from django.utils import timezone

from .models import Notification


def notify(*, user, kind: str, title: str, url: str = "", actor=None) -> Notification | None:
    if user is None or not user.is_active:
        return None
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        return None  # nobody needs to be told about what they just did themselves
    return Notification.objects.create(user=user, kind=kind, title=title[:300], url=url[:500], actor=actor)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
