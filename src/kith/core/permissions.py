"""Who sees and who may change what. The one place record-level access is decided.

Every list, search, record page and API call gets its queryset from visible(); write paths call
require_write(). KITH_RECORD_VISIBILITY chooses the record-level rule for members and viewers:
  "all"  every live record (default)
  "own"  records they own, plus unowned ones
Admins and managers always see every record.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from .errors import PermissionDenied
from .models import Role


def visibility_rule() -> str:
    return getattr(settings, "KITH_RECORD_VISIBILITY", "all")


def visible(model_or_qs, user):
    qs = model_or_qs if hasattr(model_or_qs, "model") else model_or_qs.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.role in (Role.ADMIN, Role.MANAGER) or visibility_rule() == "all":
        return qs
    return qs.filter(Q(owner=user) | Q(owner__isnull=True))


def can_see(user, obj) -> bool:
    return visible(type(obj).all_objects.filter(pk=obj.pk), user).exists()


def require_write(user, obj=None) -> None:
    """Viewers never write; others write what they can see."""
    if user is None or not user.is_authenticated or not user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")
    if obj is not None and obj.pk and not can_see(user, obj):
        raise PermissionDenied("You do not have access to this record.")


def require_settings(user) -> None:
    if user is None or not user.is_authenticated or not user.can_manage_settings:
        raise PermissionDenied("Only admins and managers can change workspace settings.")


def require_admin(user) -> None:
    if user is None or not user.is_authenticated or not user.is_admin:
        raise PermissionDenied("Only admins can manage users.")
