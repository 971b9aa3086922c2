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
