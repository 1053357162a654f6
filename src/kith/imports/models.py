"""Imports: one row per uploaded file, its problems, what it changed (for undo), and saved column mappings.

Life of an import (``Import.status``)::

    uploaded ──start_import──▶ queued ──worker──▶ running ──▶ done | failed | cancelled
                                                              done ──undo_import──▶ undone
                                                  done | failed | cancelled ──undo_import──▶ undoing ──▶ undone

Undo runs in the request when the import wrote at most ``KITH_IMPORT_UNDO_INLINE_MAX`` (2,000) records;
a larger one runs as the "imports.undo" job while the import is ``undoing`` (``undo_done`` of ``undo_total``).
An undo job that stops midway puts the status back (``error`` says so): what it undid stays undone, and
undoing again continues with the rest.

A contact import runs in two phases while ``running``: first every row is checked and written (the
records exist, deduplicated, listed and filterable: ``written_at`` is set when the last row is written),
then the new records' history rows and search documents are written (``indexed_rows`` of
``to_index``); the import is ``done`` when both are.

``dry_run`` imports go through the same states but write no record (only ImportProblem rows and counts).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


class ObjectType(models.TextChoices):
    CONTACT = "contact", "Contacts"
    COMPANY = "company", "Companies"
    LEAD = "lead", "Leads"
    DEAL = "deal", "Deals"


class Import(models.Model):
    """One uploaded file and its run.

    Fields the UI shows: who (``created_by``), when (``created_at``/``started_at``/``finished_at``),
    ``file_name``, ``status``, counts (``created``/``updated``/``skipped``/``failed``), ``error`` (why a run
    failed as a whole). ``mapping`` is ``{column key: target key or None}`` where a column key is the header
    text (or ``"#<index>"`` for a column without a header, e.g. vCard properties use their names);
    ``match_on`` is ``email|phone|domain|external_id|name`` or ``""`` (no duplicate matching);
    ``on_duplicate`` is ``skip|fill|overwrite|create``.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        UNDONE = "undone", "Undone"
        UNDOING = "undoing", "Undoing"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (.xlsx)"
        VCF = "vcf", "vCard (.vcf)"

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", "Skip the row"
        FILL = "fill", "Update empty fields only"
        OVERWRITE = "overwrite", "Overwrite"
        CREATE = "create", "Create anyway"

    class MatchOn(models.TextChoices):
        NONE = "", "Do not match"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        DOMAIN = "domain", "Domain"
        EXTERNAL_ID = "external_id", "External ID"
        NAME = "name", "Exact name"

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.UNDOING)
    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED, Status.UNDONE)
    # set by the engine on the instance a run returns (not stored): where the time went, for kith bench
    stage_seconds: dict[str, float]
    reader_process: dict[str, float]  # a forked reading process's cpu_seconds and peak_rss_mb (engine._Forked)

    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, help_text="stored copy under KITH_DATA_DIR/imports/")
    file_size = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, choices=Format.choices)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    dry_run = models.BooleanField(default=False)
    mapping = models.JSONField(default=dict, blank=True)
    match_on = models.CharField(max_length=16, choices=MatchOn.choices, blank=True, default="")
    on_duplicate = models.CharField(max_length=16, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total_rows = models.PositiveIntegerField(null=True, blank=True, help_text="data rows in the file (null until counted)")
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    companies_created = models.PositiveIntegerField(default=0, help_text="companies created to link contacts")
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    written_at = models.DateTimeField(
        null=True, blank=True, help_text="when every row was written (history and search index follow)")
    to_index = models.PositiveIntegerField(default=0, help_text="new records whose history and search "
                                                                "document the second phase writes")
    indexed_rows = models.PositiveIntegerField(default=0, help_text="of to_index, written so far")
    undo_total = models.PositiveIntegerField(default=0, help_text="records the undo goes through")
    undo_done = models.PositiveIntegerField(default=0, help_text="of undo_total, gone through so far")
    undo_report = models.JSONField(
        default=dict, blank=True,
        help_text='{"deleted", "restored", "not_undone": [the first 1,000 {"type", "id", "label", "reason"}], '
                  '"not_undone_count"}: the finished undo\'s report, or so far while undoing or after it stopped')

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "-id"], name="import_user_idx")]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.file_name}"

    def get_absolute_url(self) -> str:
        try:
            return reverse("web:import_detail", args=[self.pk])
        except NoReverseMatch:  # the UI's URLs are not installed (e.g. a CLI-only deployment)
            return ""

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_undo(self) -> bool:
        return (not self.dry_run and self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)
                and (self.created or self.updated or self.companies_created) > 0)


class ImportProblem(models.Model):
    """Why one cell (or a whole row, column = "") could not be imported. row_number is as in the file:
    1 is the header line of a CSV/XLSX, so the first data row is 2; for vCard it is the card's ordinal."""

    imp = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="problems")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["imp", "row_number"], name="importproblem_row_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.column}: {self.reason}"


class ImportChange(models.Model):
    """What one batch of an import wrote, for undo.

    kind "created": ``record_ids`` lists the records created (version 1 each, undone by deleting them when
    still at version 1). kind "updated": one row per record with ``before`` (the field values it replaced,
    by attribute name) and ``version_after``; undone by restoring ``before`` when the record is still at
    ``version_after``; ``undone_version`` is then the version the restore left (so an undo that stopped
    midway and is run again skips it). ``model`` is "contact", "company", "lead" or "deal" (companies created to link contacts
    are recorded as "company").
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"

    imp = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=16)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    record_ids = models.JSONField(default=list, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(default=dict, blank=True)
    version_after = models.PositiveIntegerField(null=True, blank=True)
    undone_version = models.PositiveIntegerField(null=True, blank=True)
    indexed = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.model} (import {self.imp_id})"


class SavedMapping(models.Model):
    """A named column mapping, reusable for later files of the same shape (``{header: target}``)."""

    name = models.CharField(max_length=100)
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    mapping = models.JSONField(default=dict)
    match_on = models.CharField(max_length=16, blank=True, default="")
    on_duplicate = models.CharField(max_length=16, default="skip")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["object_type", "name"]
        constraints = [models.UniqueConstraint(fields=["object_type", "name"], name="savedmapping_unique_name")]

    def __str__(self) -> str:
        return self.name
