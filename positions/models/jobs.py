"""
Imports run by the background worker (positions/exchange/jobs.py).
"""

from django.conf import settings
from django.db import models

from .base import choices_constraint


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    CHECKING = "checking", "Checking"
    CHECKED = "checked", "Checked: waiting for confirmation"
    WRITING = "writing", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """
    An admin import run by the background worker (`positions.exchange.jobs`): the uploaded
    file, kept in the database so that any process (and a restarted worker) can read it,
    and where the job stands. Not part of the record: the write path does not watch it.
    """

    RUNNING_STATES = (ImportJobState.QUEUED, ImportJobState.CHECKING, ImportJobState.WRITING)

    kind = models.CharField(max_length=20)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)
    data = models.BinaryField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    state = models.CharField(
        max_length=10, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    step = models.CharField(max_length=100, blank=True, help_text="What the worker is doing.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # What checking found: totals, the first rows and errors (`jobs.preview`).
    preview = models.JSONField(default=dict, blank=True)
    # The editor's answers to what the preview asked (clearings, likely duplicates), given
    # on confirming and applied by the write: {"blanks", "duplicates", "duplicate_choices"}.
    choices = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    # The run that owns the job; a resumed run takes it over, and the old one stops.
    runner = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A run that has not reported by then is presumed dead, and the job is run again.
    stalled_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_constraint("state", ImportJobState, "importjob_state_valid"),
        ]

    def __str__(self):
        return f"{self.kind} import of {self.file_name} ({self.get_state_display()})"


class ImportBatch(models.Model):
    """
    One confirmed import (admin, background job or `import_data`): who imported which file
    when, what it counted, and, in its `changes`, exactly what it wrote, so that a Publisher
    can undo it (`positions.exchange.batches`). Bookkeeping, not the record: the write path
    does not watch it.
    """

    kind = models.CharField(max_length=20, help_text="The file type: actors, statements, ...")
    file_name = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_batches",
        help_text="Empty for the server's operator (the command line without --user).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    new_rows = models.PositiveIntegerField("new", default=0)
    changed_rows = models.PositiveIntegerField("changed", default=0)
    unchanged_rows = models.PositiveIntegerField("unchanged", default=0)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "import"
        verbose_name_plural = "imports"

    def __str__(self):
        return f"Import #{self.pk} of {self.file_name or 'a file'} ({self.kind})"

    @property
    def is_undone(self):
        return self.undone_at is not None


class BatchAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"


class ImportBatchChange(models.Model):
    """
    One row an import wrote: its model and primary key; for an update, the previous stored
    values of the fields it changed; for a deletion, the whole row; and, for a row it created
    or updated, a fingerprint of the row as the import left it (to tell a later edit).
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    model = models.CharField(max_length=100, help_text="app_label.model_name")
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=BatchAction.choices)
    before = models.JSONField(null=True, blank=True)
    fingerprint = models.CharField(max_length=32, blank=True)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            choices_constraint("action", BatchAction, "importbatchchange_action_valid"),
        ]
        indexes = [
            models.Index(fields=["batch", "model", "object_id"], name="importbatchchange_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.model} #{self.object_id}"
