"""Writes for users: create, change role / name / active flag / password. Used by the CLI, API and UI."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.db import transaction
from email_validator import EmailNotValidError, validate_email

from .errors import PermissionDenied, ValidationError
from .models import Role, User

USER_FIELDS = {"email", "full_name", "role", "is_active", "password"}


def _clean_email(value: Any) -> str:
    try:
        return validate_email(str(value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError({"email": [f"Not a valid email address: {exc}"]}) from None


def _clean_role(value: Any) -> str:
    if value not in Role.values:
        raise ValidationError({"role": [f"Must be one of: {', '.join(Role.values)}."]})
    return value


def _check_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None


def _require_admin_or_system(actor) -> None:
    if actor is not None and not getattr(actor, "is_admin", False):
        raise PermissionDenied("Only admins can manage users.")


def create_user(*, actor, email: str, password: str | None = None, role: str = Role.MEMBER, full_name: str = "") -> User:
    """actor=None means the command line (trusted)."""
    _require_admin_or_system(actor)
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, fn, value in (("email", _clean_email, email), ("role", _clean_role, role)):
        try:
            clean[name] = fn(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    full_name = (full_name or "").strip()
    if len(full_name) > 200:
        errors["full_name"] = ["Must be at most 200 characters."]
    if "email" in clean and User.objects.filter(email__iexact=clean["email"]).exists():
        errors["email"] = ["A user with this email already exists."]
    if password:
        try:
            _check_password(password)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(
            clean["email"], password or None, role=clean["role"], full_name=full_name,
            is_staff=clean["role"] == Role.ADMIN,
        )
        if not password:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def _would_leave_no_admin(user: User, role: str, is_active: bool) -> bool:
    if user.role != Role.ADMIN or not user.is_active:
        return False
    if role == Role.ADMIN and is_active:
        return False
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


def update_user(*, actor, user: User, data: dict[str, Any]) -> User:
    """Admins change anything; a user may change their own full_name and password. actor=None is the CLI."""
    unknown = sorted(set(data) - USER_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    self_service = actor is not None and actor.pk == user.pk and set(data) <= {"full_name", "password"}
    if not self_service:
        _require_admin_or_system(actor)
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        role, is_active = user.role, user.is_active
        if "role" in data:
            try:
                role = _clean_role(data["role"])
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if "is_active" in data:
            if not isinstance(data["is_active"], bool):
                errors["is_active"] = ["Must be true or false."]
            else:
                is_active = data["is_active"]
                if actor is not None and actor.pk == user.pk and not is_active:
                    errors["is_active"] = ["You cannot deactivate yourself."]
        if "email" in data:
            try:
                email = _clean_email(data["email"])
                if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                    errors["email"] = ["A user with this email already exists."]
                else:
                    user.email = email
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if "full_name" in data:
            name = str(data["full_name"] or "").strip()
            if len(name) > 200:
                errors["full_name"] = ["Must be at most 200 characters."]
            user.full_name = name
        if "password" in data:
            try:
                _check_password(str(data["password"] or ""), user)
                user.set_password(str(data["password"]))
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if not errors and _would_leave_no_admin(user, role, is_active):
            errors["role" if "role" in data else "is_active"] = [
                "This is the last active admin; make someone else an admin first."
            ]
        if errors:
            raise ValidationError(errors)
        user.role, user.is_active = role, is_active
        user.is_staff = role == Role.ADMIN
        user.save()
    return user
