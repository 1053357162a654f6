"""Duplicate candidates, the blocking keys that find them, scan runs and merges (with what undo needs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

OBJECT_TYPES = (("contact", "Contact"), ("company", "Company"))


class MatchKey(models.Model):
    """One blocking key of a live record ("e:jon@acme.com", "p:442071234567", "n:jon smith" …).

    Records sharing a key are compared; the table is the index behind both the scan and the warning
    shown while creating a record. Kept current by a post_save receiver and refreshed by each scan for
    records written in bulk without signals.
    """

    object_type = models.CharField(max_length=10, choices=OBJECT_TYPES)
    key = models.CharField(max_length=120)
    record_id = models.BigIntegerField()
    # The record's normalised name: orders a large block so only near neighbours are compared.
    sort_name = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "key", "sort_name"], name="dupkey_key_idx"),
            models.Index(fields=["object_type", "record_id"], name="dupkey_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.record_id}: {self.key}"


class DuplicatePair(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Not a duplicate"

    object_type = models.CharField(max_length=10, choices=OBJECT_TYPES)
    a_id = models.BigIntegerField(help_text="the smaller record id")
    b_id = models.BigIntegerField(help_text="the larger record id")
    confidence = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_type", "a_id", "b_id"], name="duppair_unique"),
            models.CheckConstraint(condition=models.Q(a_id__lt=models.F("b_id")), name="duppair_ordered"),
        ]
        indexes = [
            # The review queue: open pairs of a type, most confident first (keyset on confidence, id).
            models.Index(fields=["status", "object_type", "confidence", "id"], name="duppair_queue_idx"),
            models.Index(fields=["object_type", "b_id"], name="duppair_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.a_id}~{self.b_id} ({self.confidence}%)"


class ScanRun(models.Model):
    object_type = models.CharField(max_length=10, choices=OBJECT_TYPES)
    mode = models.CharField(max_length=12, default="full")  # full | incremental
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0, help_text="records whose keys were (re)computed")
    candidates = models.PositiveIntegerField(default=0, help_text="pairs compared")
    found = models.PositiveIntegerField(default=0, help_text="pairs at or above the minimum confidence")
    created = models.PositiveIntegerField(default=0, help_text="pairs new to the queue")
    seconds = models.FloatField(default=0)
    max_id = models.BigIntegerField(default=0, help_text="highest record id when the scan started")

    class Meta:
        indexes = [models.Index(fields=["object_type", "finished_at"], name="dupscan_last_idx")]

    def __str__(self) -> str:
        return f"{self.mode} {self.object_type} scan at {self.started_at:%Y-%m-%d %H:%M}"


class Merge(models.Model):
    """One merge of a loser into a survivor, with the snapshots and mover data its undo needs."""

    object_type = models.CharField(max_length=10, choices=OBJECT_TYPES)
    survivor_id = models.BigIntegerField()
    loser_id = models.BigIntegerField()
    loser_label = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    choices = models.JSONField(default=dict, help_text="{field: 'survivor'|'loser'}")
    survivor_before = models.JSONField(default=dict, help_text="field values of the survivor before the merge")
    survivor_after = models.JSONField(default=dict, help_text="audit snapshot of the survivor right after it")
    survivor_version = models.PositiveIntegerField(help_text="the survivor's version right after the merge")
    loser_version = models.PositiveIntegerField(help_text="the loser's version once in the trash")
    extra_phones = models.JSONField(default=list, help_text="numbers that fitted no phone field")
    moved = models.JSONField(default=dict, help_text="what each related mover moved, with its undo data")
    pair = models.ForeignKey(DuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    audit_entry_id = models.BigIntegerField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # set on the merge services.undo_merge returns: the movers whose rows stayed on the survivor
    not_undone: list[str]

    class Meta:
        indexes = [models.Index(fields=["object_type", "survivor_id", "-id"], name="merge_survivor_idx"),
                   models.Index(fields=["object_type", "loser_id"], name="merge_loser_idx")]

    def __str__(self) -> str:
        return f"{self.loser_label} (#{self.loser_id}) into {self.object_type} #{self.survivor_id}"
