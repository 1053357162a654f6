"""Shared machinery: users and roles, API tokens, change history, custom field definitions, tags, jobs."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def can_write(self) -> bool:
        return self.is_active and self.role != Role.VIEWER

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def can_manage_settings(self) -> bool:
        """Custom fields and other workspace settings: admins and managers."""
        return self.is_active and self.role in (Role.ADMIN, Role.MANAGER)


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    PREFIX = "kith_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="first characters of the token, to recognise it")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(models.Model):
    """One row of change history: who did what to which record, with the changed fields' old and new values."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Moved to trash"
        RESTORE = "restore", "Restored"

    # no index of its own: audit_object_idx starts with it (every history row written paid for both)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=254, blank=True, help_text="who, kept when the user is gone")
    # {"field": {"old": ..., "new": ..., "label": "Human label"}}
    changes = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-id"], name="audit_object_idx")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"


class CustomField(models.Model):
    class ObjectType(models.TextChoices):
        CONTACT = "contact", "Contact"
        COMPANY = "company", "Company"
        LEAD = "lead", "Lead"
        DEAL = "deal", "Deal"

    class FieldType(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"
        SELECT = "select", "Single select"
        MULTISELECT = "multiselect", "Multi select"
        URL = "url", "URL"
        EMAIL = "email", "Email"
        CURRENCY = "currency", "Currency amount"

    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    key = models.SlugField(max_length=50, help_text="name used in the API and filters (cf_<key>)")
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=20, choices=FieldType.choices)
    choices = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code for currency fields")
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["object_type", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["object_type", "key"], name="customfield_unique_key")]

    def __str__(self) -> str:
        return self.label


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LoginFailure(models.Model):
    """Failed sign-ins, for throttling by account and by IP address."""

    key = models.CharField(max_length=300, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.key


class Job(models.Model):
    """A durable background job. Workers claim rows with a conditional UPDATE (SKIP LOCKED on PostgreSQL)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200, help_text="registered job name")
    args = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    run_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    unique_key = models.CharField(max_length=200, null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_at"], name="job_claim_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status__in=["queued", "running"]),
                name="job_unique_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class SearchTerm(models.Model):
    """Vocabulary of indexed words, for typo-tolerant search (bucket = first letter + length)."""

    term = models.CharField(max_length=60, unique=True)
    bucket = models.CharField(max_length=8, db_index=True)

    def __str__(self) -> str:
        return self.term


class Notification(models.Model):
    """An in-app notification (assigned a record, mentioned, reminded …)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_user_idx")]

    def __str__(self) -> str:
        return self.title


class OutboundEmail(models.Model):
    """An email Kith sends (reminders, agendas, notifications, one-to-one emails, invitations).

    Written in the caller's transaction and delivered by the "mail.send" job, retried with backoff; a
    failure stays visible here (and on the activity, for one-to-one emails) — never silently lost.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True, help_text="[{filename, content_type, content}] (text)")
    message_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=40, blank=True)
    activity_id = models.BigIntegerField(null=True, blank=True, help_text="the email activity this delivers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.subject
