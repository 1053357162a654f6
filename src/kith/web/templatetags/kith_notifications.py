"""{% unread_notifications as n %}: the signed-in user's unread notification count, for the bell."""

from __future__ import annotations

from django import template

from kith.core import notifications

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return notifications.unread_count(user)
