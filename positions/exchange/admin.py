"""
The bridge to django-import-export, the only module that imports it.

The library gives the admin its import and export pages, forms, permissions, the
cache-backed storage of an upload between the preview and the confirm step, the formats
that write CSV, XLSX and JSON, and one resource per file type whose fields are the type's
columns (`columns.py`): its own export loop writes them through the columns' getters.

Ours, and why:
- reading an upload (`create_dataset`): the library's tablib reader guesses encodings,
  reads only the first sheet and has no size limit or clear messages (`reading.py`);
- `import_data`: the library's per-row path costs a lookup and a save per row (its bulk
  mode skips history), and cannot check the file as a whole (keys given twice, parent
  chains, identifiers claimed twice) before writing anything: the admin runs the same
  planner and writer as the commands, and shows their report in the library's `Result`;
- the formula guard on CSV and XLSX exports: the library's escaping only strips a leading
  `=`, which loses the value and misses `+ - @` (`reading.sanitize_cell`).
"""

import functools

import tablib
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import InvalidRow, Result, RowResult
from import_export.tmp_storages import CacheStorage

from . import jobs
from .columns import TYPE_OF_MODEL, TYPES
from .exporting import export_cell, export_queryset
from .importing import run_import
from .planning import ImportContext
from .preview import BLANK_CHOICES, DUPLICATE_CHOICES, Preview, choices_from
from .reading import ImportFileError, Table, read_table, sanitize_cell


class TrackerResource(resources.ModelResource):
    """A file type as the library sees it: its columns as fields, its import ours."""

    file_type = None

    def filter_export(self, queryset, **kwargs):
        # The admin passes its filtered changelist: keep the filter, replace its prefetches
        # and ordering with what the columns read, so the export runs a fixed number of queries.
        return export_queryset(self.file_type, queryset.prefetch_related(None))

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        # Our planner and writer, not the library's per-row import: see the module's notes.
        context = ImportContext(
            user=kwargs.get("user"),
            file_name=kwargs.get("file_name") or "",
            blanks=kwargs.get("blanks") or "",
            duplicates=kwargs.get("duplicates") or "",
            duplicate_choices=kwargs.get("duplicate_choices") or {},
        )
        headers = list(dataset.headers or [])
        table = Table(
            headers=headers,
            rows=[dict(zip(headers, row, strict=True)) for row in dataset],
            numbers=getattr(dataset, "row_numbers", None),
        )
        report = run_import(self.file_type, table, context=context, dry_run=dry_run)
        result = self.result_from_report(report)
        result.preview = Preview(report)
        result.batch = report.batch
        return result

    def result_from_report(self, report):
        """The import's report as the library's `Result`, for its preview templates."""
        names = self.file_type.names
        result = Result()
        result.diff_headers = list(names)
        result.total_rows = len(report.plans) + len({e.row for e in report.errors})
        by_row = {}
        for error in report.errors:
            by_row.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, [])
            by_row[error.row][error.column or NON_FIELD_ERRORS].append(error.message)
        for number, row_messages in sorted(by_row.items()):
            row = report.error_rows.get(number, {})
            # Problems with the file as a whole are shown on row 1, the header row.
            result.invalid_rows.append(
                InvalidRow(
                    number=number or 1,
                    validation_error=ValidationError(row_messages),
                    values=tuple(row.get(column, "") for column in names),
                )
            )
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        for plan in report.plans:
            row_result = RowResult()
            row_result.import_type = plan.action
            row_result.diff = [plan.values.get(column, "") for column in names]
            if report.written and plan.action != "skip":
                row_result.instance = plan.instance
                row_result.add_instance_info(plan.instance)
            result.increment_row_result_total(row_result)
            result.append_row_result(row_result)
        return result


def resource_for(file_type):
    """A `TrackerResource` for `file_type`: one library field per column, in order."""
    fields = {
        column.name: Field(
            column_name=column.name, dehydrate_method=functools.partial(export_cell, column)
        )
        for column in file_type.columns
    }
    meta = type(
        "Meta",
        (),
        {
            "model": file_type.model,
            "fields": file_type.names,
            "export_order": file_type.names,
            "import_order": file_type.names,
            "clean_model_instances": True,
        },
    )
    name = f"{file_type.model.__name__}Resource"
    attrs = {"__module__": __name__, "file_type": file_type, "Meta": meta, **fields}
    return type(name, (TrackerResource,), attrs)


RESOURCES = {kind: resource_for(file_type) for kind, file_type in TYPES.items()}


# --- Formats: our reader on the way in, the formula guard on the way out ----------------------


def dataset_from_table(table):
    dataset = tablib.Dataset(headers=table.headers)
    for row in table.rows:
        dataset.append([row.get(h, "") for h in table.headers])
    dataset.row_numbers = table.numbers  # the spreadsheet's own, blank lines counted
    return dataset


def sanitized(dataset):
    """A copy of `dataset` with every formula cell quote-prefixed (see `sanitize_cell`)."""
    clean = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        clean.append([sanitize_cell(value) for value in row])
    return clean


class TrackerFormatMixin:
    """
    Admin formats that read uploads with `reading.read_table` and write CSV/XLSX through
    the formula guard. The raw bytes are kept (binary) so the decoding happens in one place.
    """

    kind = ""
    sanitize = True

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if in_stream is None:
            raise ImportFileError(
                "The uploaded file is no longer available (it expired): upload it again."
            )
        if isinstance(in_stream, str):
            in_stream = in_stream.encode()
        table = read_table(in_stream, f"{self.kind}.{self.extension}", kind=self.kind)
        return dataset_from_table(table)

    def export_data(self, dataset, **kwargs):
        return super().export_data(sanitized(dataset) if self.sanitize else dataset, **kwargs)


class SafeCSV(TrackerFormatMixin, base_formats.CSV):
    extension = "csv"


class SafeXLSX(TrackerFormatMixin, base_formats.XLSX):
    extension = "xlsx"


class TrackerJSON(TrackerFormatMixin, base_formats.JSON):
    extension = "json"
    sanitize = False  # not opened by spreadsheets


ADMIN_FORMATS = (SafeCSV, SafeXLSX, TrackerJSON)


class TrackerImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {upload.size:,} bytes; the largest file accepted is {limit:,} "
                "bytes. Split it into several files, or ask the server's operator to import it "
                "with `manage.py import_data TYPE FILE --max-bytes N`, which accepts larger files."
            )
        return upload


class TrackerConfirmImportForm(ConfirmImportForm):
    """The confirm step, with the importer's choices the preview asks for."""

    blanks = forms.ChoiceField(
        label="Empty cells that would clear stored values",
        choices=BLANK_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    duplicates = forms.ChoiceField(
        label="Rows that look like existing actors (unless chosen row by row)",
        choices=DUPLICATE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )


class TrackerImportExportMixin(ImportExportMixin):
    """
    Import and export for a ModelAdmin of a file type's model:

    - formats CSV, XLSX and JSON (`ADMIN_FORMATS`); CSV and XLSX exports are sanitised;
    - the dry-run preview stores the upload in the cache (`CacheStorage`), which is Redis
      in production (`CACHE_URL`), so the confirm step works whichever process serves it;
    - permissions: settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE ("add") and
      IMPORT_EXPORT_EXPORT_PERMISSION_CODE ("view"); publishing by import needs
      positions.publish_statement (checked by the planner, through `positions.editorial`).
    """

    tmp_storage_class = CacheStorage
    import_form_class = TrackerImportForm
    confirm_form_class = TrackerConfirmImportForm

    def get_import_data_kwargs(self, **kwargs):
        form = kwargs.get("form")
        kwargs = super().get_import_data_kwargs(**kwargs)
        if isinstance(form, TrackerConfirmImportForm) and form.is_valid():
            kwargs.update(choices_from(form.data))
        return kwargs

    def get_resource_classes(self, request=None):
        return [RESOURCES[TYPE_OF_MODEL[self.model].kind]]

    def _formats(self):
        kind = TYPE_OF_MODEL[self.model].kind
        return [type(f"{kind}{fmt.__name__}", (fmt,), {"kind": kind}) for fmt in ADMIN_FORMATS]

    def get_import_formats(self):
        return self._formats()

    def get_export_formats(self):
        return self._formats()

    def import_action(self, request, **kwargs):
        # A big upload goes to the background worker (jobs.py): the request only stores it.
        if request.method == "POST" and self.has_import_permission(request):
            form = self.create_import_form(request)
            if form.is_valid() and jobs.wants_background(form.cleaned_data["import_file"]):
                return jobs.start_from_admin(self, request, form)
        return super().import_action(request, **kwargs)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except ImportFileError as error:
            messages.error(request, str(error))
            return self._back_to_import()

    def process_result(self, result, request):
        """
        The confirm step re-checks every row for whoever confirms (the file or the editorial
        rules may have changed since the preview): if it refused, nothing was written, and
        the editor is told why instead of "Import finished".
        """
        if not result.has_validation_errors():
            batch = getattr(result, "batch", None)
            if batch is not None:
                url = reverse("admin:positions_importbatch_change", args=[batch.pk])
                messages.info(
                    request,
                    format_html(
                        'Recorded as <a href="{}">import #{}</a>: a Publisher can undo it there.',
                        url,
                        batch.pk,
                    ),
                )
            return super().process_result(result, request)
        messages.error(request, "Nothing was imported:")
        for row in result.invalid_rows:
            for column, row_messages in row.error_dict.items():
                where = "" if column == NON_FIELD_ERRORS else f", column {column}"
                for message in row_messages:
                    messages.error(request, f"Row {row.number}{where}: {message}")
        return self._back_to_import()

    def _back_to_import(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import"))
