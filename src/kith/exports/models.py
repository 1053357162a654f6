from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Export(models.Model):
    """A large export, written to a file under KITH_DATA_DIR/exports/ by a background job.

    Only the user who asked for it can download it; the file and the row are purged after
    KITH_EXPORT_KEEP_HOURS."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)  # contacts, companies, leads, deals
    file_format = models.CharField(max_length=8)  # csv, xlsx, vcf
    columns = models.CharField(max_length=8, default="shown")  # shown, all
    params = models.JSONField(default=dict, blank=True, help_text="the list's query parameters")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    estimated_rows = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    file_path = models.CharField(max_length=300, blank=True, help_text="relative to the exports directory")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="export_user_idx"),
            models.Index(fields=["created_at"], name="export_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.file_format}) for {self.user_id}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def download_name(self) -> str:
        stamp = timezone.localtime(self.created_at).strftime("%Y-%m-%d-%H%M")
        return f"{self.kind}-{stamp}.{self.file_format}"
