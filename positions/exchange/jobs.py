"""
Big admin imports, in the background: the upload is stored as an `ImportJob`, the
background worker (django-tasks' database backend, `manage.py db_worker`) checks it, the
editor sees its progress and then the same preview as an ordinary import, confirms, and the
worker writes it, all or nothing.

    queued -> checking -> checked -> (the editor confirms) -> writing -> done
                      \\-> failed (errors: nothing written)   \\-> failed

- The file lives in the database (`ImportJob.data`): every process and every machine reads
  it, and it survives restarts.
- Each phase runs from the stored file. Checking writes nothing but the job's progress and
  preview. Writing checks the file again (the record may have changed since the preview),
  then writes every row and marks the job done in one transaction: a job is never half
  applied.
- A run reports progress at least every few seconds (`stalled_after`). A job whose run has
  stopped reporting lost its worker (killed, restarted): `resume_if_stalled` queues it
  again, and the new run starts its phase over from the file, taking the job over
  (`runner`), so an old run that was only slow stops at its next report. The job's page does
  this when it is viewed, and every run does it for the other jobs when it starts.

A web request only stores the file or reads the job: it never reads or checks the file.
"""

import datetime
import logging
import time
import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_tasks import task
from import_export.results import InvalidRow, Result, RowResult

from ..models import ImportJob, ImportJobState
from . import writing
from .columns import TYPES
from .importing import ImportReport, check_columns, plan, undecided
from .planners import PLANNERS
from .planning import ImportContext, RowError
from .preview import Preview, choices_from, missing_choices
from .reading import ImportFileError, read_table

logger = logging.getLogger(__name__)

State = ImportJobState
PREVIEW_ROWS = 1000  # rows of the preview (and errors) kept and shown; the totals count all
PROGRESS_EVERY_SECONDS = 1.0
WRITE_SECONDS_PER_ROW = 0.002  # how long a write may go without reporting, per row


class Superseded(Exception):
    """Another run has taken the job over (it was resumed): this one stops."""


# --- Starting, confirming, resuming (called from web requests) -------------------------------


def start(user, kind, file_name, file_format, data):
    """Store an upload as a queued job and queue its checking; return the job."""
    with transaction.atomic():  # the job and its task, or neither
        job = ImportJob.objects.create(
            user=user, kind=kind, file_name=file_name, file_format=file_format, data=data
        )
        run_job.enqueue(job.pk)
    return job


def confirm(job, choices=None):
    """
    The editor confirms a checked job, with their answers to what its preview asked
    (`preview.choices_from`): queue its writing. False if it is not checked.
    """
    allowance = _write_allowance(job.rows_total)
    queued = ImportJob.objects.filter(pk=job.pk, state=State.CHECKED).update(
        state=State.WRITING,
        choices=choices or {},
        step="Waiting for the worker",
        rows_done=0,
        stalled_after=timezone.now() + allowance,
        updated_at=timezone.now(),
    )
    if queued:
        run_job.enqueue(job.pk)
    return bool(queued)


def resume_if_stalled(job):
    """Queue a job again whose run stopped reporting (its worker died). True if it did."""
    now = timezone.now()
    if job.state not in (State.CHECKING, State.WRITING) or job.stalled_after is None:
        return False
    if job.stalled_after > now:
        return False
    try:
        with transaction.atomic():
            # A run still writing holds the job's row (PostgreSQL): it is alive, not stalled.
            locked = ImportJob.objects.select_for_update(nowait=True).filter(
                pk=job.pk, state=job.state, stalled_after__lte=now
            )
            resumed = locked.update(
                stalled_after=now + datetime.timedelta(seconds=settings.IMPORT_JOB_STALL_SECONDS),
                step="Resumed after the worker stopped: waiting for the worker",
                updated_at=now,
            )
    except DatabaseError:
        return False
    if resumed:
        logger.warning("Import job %s stalled in %s: queued again", job.pk, job.state)
        run_job.enqueue(job.pk)
    return bool(resumed)


def resume_stalled():
    for job in ImportJob.objects.defer("data", "preview").filter(
        state__in=(State.CHECKING, State.WRITING), stalled_after__lte=timezone.now()
    ):
        resume_if_stalled(job)


# --- The worker's side -----------------------------------------------------------------------


@task()
def run_job(job_id):
    """Run the job's next phase: check a queued (or interrupted) job, write a confirmed one."""
    resume_stalled()
    run = Run(job_id)
    try:
        run.claim()
    except Superseded:
        return
    try:
        if run.job.state == State.WRITING:
            run.write()
        else:
            run.check()
    except Superseded:
        logger.info("Import job %s was taken over by another run", job_id)
    except Exception as error:
        logger.exception("Import job %s failed", job_id)
        run.fail(f"The import stopped on an unexpected error ({type(error).__name__}).")


class Run:
    """One run of one job's phase, by one worker."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.token = uuid.uuid4().hex
        self.job = None
        self._reported = 0.0

    def claim(self):
        """Take the job over (a resumed job's old run stops at its next report)."""
        now = timezone.now()
        claimed = ImportJob.objects.filter(
            pk=self.job_id, state__in=ImportJob.RUNNING_STATES
        ).update(
            runner=self.token,
            attempts=F("attempts") + 1,
            stalled_after=self._stall(now),
            updated_at=now,
        )
        if not claimed:
            raise Superseded
        self.job = ImportJob.objects.get(pk=self.job_id)

    def _stall(self, now):
        return now + datetime.timedelta(seconds=settings.IMPORT_JOB_STALL_SECONDS)

    def report(self, force=False, **fields):
        """Save progress (autocommitted, so every process sees it), and prove we own the job."""
        now = time.monotonic()
        if not force and now - self._reported < PROGRESS_EVERY_SECONDS:
            return
        self._reported = now
        stamp = timezone.now()
        fields = {"stalled_after": self._stall(stamp), "updated_at": stamp, **fields}
        if not ImportJob.objects.filter(pk=self.job_id, runner=self.token).update(**fields):
            raise Superseded

    def fail(self, message, preview=None):
        fields = {"state": State.FAILED, "message": message, "step": "", "stalled_after": None}
        if preview is not None:
            fields["preview"] = preview
        ImportJob.objects.filter(pk=self.job_id, runner=self.token).update(
            updated_at=timezone.now(), **fields
        )

    def context(self):
        """Who imports, and (once confirmed) the editor's choices on clearings and duplicates."""
        job, choices = self.job, self.job.choices or {}
        return ImportContext(
            user=job.user,
            file_name=job.file_name,
            blanks=choices.get("blanks", ""),
            duplicates=choices.get("duplicates", ""),
            # JSON keys are strings; the planner numbers rows with integers.
            duplicate_choices={
                int(number): value for number, value in choices.get("duplicate_choices", {}).items()
            },
        )

    def read_and_plan(self, state, verb, context):
        """Read the stored file and plan every row, reporting as it goes: (planner, report)."""
        job = self.job
        file_type = TYPES[job.kind]
        self.report(force=True, state=state, step="Reading the file", rows_done=0)
        report = ImportReport(kind=job.kind, file_name=job.file_name, dry_run=True)
        try:
            table = read_table(bytes(job.data), f"{job.kind}.{job.file_format}", kind=job.kind)
        except ImportFileError as error:
            report.errors = [RowError(0, "", str(error))]
            return None, report
        report.errors = check_columns(file_type, table.headers)
        if report.errors:
            return None, report
        self.report(force=True, step=f"{verb} the rows", rows_total=len(table.rows))
        planner = PLANNERS[job.kind](file_type, context)
        plan(planner, table, report, progress=Progress(self))
        self.report(force=True, rows_done=len(table.rows))
        return planner, report

    def check(self):
        planner, report = self.read_and_plan(State.CHECKING, "Checking", self.context())
        preview = preview_of(report, TYPES[self.job.kind].names)
        if report.errors:
            self.fail(
                "Nothing will be imported: fix the errors and upload the file again.", preview
            )
            return
        done = ImportJob.objects.filter(pk=self.job_id, runner=self.token).update(
            state=State.CHECKED,
            step="",
            preview=preview,
            stalled_after=None,
            updated_at=timezone.now(),
        )
        if not done:
            raise Superseded

    def write(self):
        context = self.context()
        planner, report = self.read_and_plan(State.WRITING, "Checking again", context)
        # What the preview asked must have been answered (the confirm form asks for it).
        report.errors = report.errors or undecided(report, context)
        if report.errors:
            self.fail(
                "Nothing was imported: the file no longer checks (the records may have changed "
                "since the preview). Upload it again.",
                preview_of(report, TYPES[self.job.kind].names),
            )
            return
        self.report(
            force=True,
            step="Writing",
            stalled_after=timezone.now() + _write_allowance(len(report.plans)),
        )
        try:
            with transaction.atomic():
                # Hold the job's row while writing: a second run waits, then finds it done.
                mine = ImportJob.objects.select_for_update().filter(
                    pk=self.job_id, runner=self.token, state=State.WRITING
                )
                if not mine.exists():
                    raise Superseded
                report.batch = writing.write(planner, report.plans)
                report.written = True
                mine.update(
                    state=State.DONE,
                    step="",
                    message=summary(report),
                    stalled_after=None,
                    updated_at=timezone.now(),
                )
        except IntegrityError as error:
            self.fail(
                f"The database refused the import ({error}); nothing was written. The records "
                "may have changed meanwhile: upload the file again."
            )


class Progress:
    """`importing.plan`'s progress, saved to the job about once a second."""

    def __init__(self, run):
        self.run, self.done = run, 0

    def advance(self, step=1):
        self.done += step
        self.run.report(rows_done=self.done)


def _write_allowance(rows):
    stall = settings.IMPORT_JOB_STALL_SECONDS
    return datetime.timedelta(seconds=stall + rows * WRITE_SECONDS_PER_ROW)


def summary(report):
    line = f"{report.created:,} created, {report.updated:,} updated, {report.skipped:,} skipped."
    if report.batch is not None:
        line += f" Recorded as import #{report.batch.pk}."
    return line


def preview_of(report, names):
    """What the job's page shows of a check: totals, then the first rows and errors."""
    return {
        "diff": Preview(report).data,  # what the page shows (preview.py)
        "totals": {
            "new": report.created,
            "update": report.updated,
            "skip": report.skipped,
            "error_rows": len({e.row for e in report.errors}),
            "errors": len(report.errors),
        },
        "rows": [
            [p.action, [p.values.get(c, "") for c in names]] for p in report.plans[:PREVIEW_ROWS]
        ],
        "errors": [[e.row, e.column, e.message] for e in report.errors[:PREVIEW_ROWS]],
        "error_values": {
            str(e.row): [report.error_rows.get(e.row, {}).get(c, "") for c in names]
            for e in report.errors[:PREVIEW_ROWS]
        },
    }


def result_of(job):
    """The stored preview as django-import-export's `Result`, for its preview template."""
    names = TYPES[job.kind].names
    stored = job.preview or {}
    result = Result()
    result.diff_headers = list(names)
    result.preview = Preview.from_data(stored.get("diff"))
    by_row = {}
    for row, column, message in stored.get("errors", []):
        by_row.setdefault(row, {}).setdefault(column or NON_FIELD_ERRORS, []).append(message)
    for number, row_messages in sorted(by_row.items()):
        result.invalid_rows.append(
            InvalidRow(
                number=number or 1,
                validation_error=ValidationError(row_messages),
                values=tuple(stored.get("error_values", {}).get(str(number), [])),
            )
        )
    for action, values in stored.get("rows", []):
        row_result = RowResult()
        row_result.import_type = action
        row_result.diff = values
        result.append_row_result(row_result)
    return result


# --- The admin: the job's page, and the import view's branch ---------------------------------


def wants_background(upload):
    return upload.size >= settings.IMPORT_BACKGROUND_BYTES


def start_from_admin(model_admin, request, import_form):
    """
    The import view's branch for a big upload: store it as a job and show the job's page.
    `import_form` is the library's bound, valid import form.
    """
    fmt = model_admin.get_import_formats()[int(import_form.cleaned_data["format"])]
    upload = import_form.cleaned_data["import_file"]
    data = b"".join(upload.chunks())
    kind = fmt.kind
    job = start(request.user, kind, upload.name, fmt.extension, data)
    return HttpResponseRedirect(reverse("admin:positions_importjob_change", args=[job.pk]))


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Each editor's background imports: a list, and a page per job (progress, preview)."""

    list_display = ["__str__", "state", "rows_total", "created_at", "updated_at"]
    list_filter = ["state", "kind"]

    def get_queryset(self, request):
        jobs = super().get_queryset(request).defer("data")
        return jobs if request.user.is_superuser else jobs.filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="positions_importjob_confirm",
            ),
            *super().get_urls(),
        ]

    def _job(self, request, object_id):
        if not str(object_id).isdigit():
            raise Http404
        job = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job(request, object_id)
        if resume_if_stalled(job):
            job.refresh_from_db()
        model = TYPES[job.kind].model
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import of {job.file_name}",
            "job": job,
            "opts": model._meta,
            "job_opts": self.model._meta,
            "running": job.state in ImportJob.RUNNING_STATES,
            "percent": job.rows_done * 100 // job.rows_total if job.rows_total else 0,
            "refresh_seconds": 2,
        }
        template = "progress.html"
        if job.state in (State.CHECKED, State.FAILED) and job.preview:
            template = "preview.html"
            context |= {
                "result": result_of(job),
                "totals": job.preview["totals"],
                "shown": len(job.preview["rows"]),
                "import_error_display": ("message",),
                "confirm_form": job.state == State.CHECKED,
            }
        return TemplateResponse(request, f"admin/positions/importjob/{template}", context)

    def confirm_view(self, request, object_id):
        job = self._job(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:positions_importjob_change", args=[job.pk]))
        if job.user_id != request.user.pk:
            raise PermissionDenied  # the editor who checked the file confirms it
        choices = choices_from(request.POST)
        missing = missing_choices(result_of(job).preview, choices)
        for message in missing:
            messages.error(request, f"Nothing was imported yet. {message}")
        if not missing and not confirm(job, choices):
            messages.error(request, "This import is not waiting for a confirmation.")
        return HttpResponseRedirect(reverse("admin:positions_importjob_change", args=[job.pk]))
