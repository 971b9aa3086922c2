"""
Exporting records with their columns (`columns.py`): the public downloads
(`positions/exports.py`) and the admin export (`admin.py`) write the same cells, so a file
downloaded from the tracker imports back unchanged.
"""

from .cells import join_list


def export_queryset(file_type, queryset=None):
    """The rows of an export, in a stable order, with what the column getters read loaded."""
    if queryset is None:
        queryset = file_type.model.objects.all()
    if file_type.export_select:
        queryset = queryset.select_related(*file_type.export_select)
    if file_type.export_prefetch:
        queryset = queryset.prefetch_related(*file_type.export_prefetch)
    return queryset.order_by(*file_type.export_order)


def export_values(file_type, record):
    """Column -> value: a list of strings for a list column, else a string (JSON keeps lists)."""
    return {column.name: column.export(record) for column in file_type.columns}


def export_cell(column, record):
    """One cell as a spreadsheet holds it: a list column joined with `|`."""
    value = column.export(record)
    return join_list(value) if column.is_list else value


def export_row(file_type, record):
    """Column -> the cell's text (CSV, XLSX)."""
    return {column.name: export_cell(column, record) for column in file_type.columns}
