"""
Inserting many new records with a history record each, for the import writer
(`writing.py`): simple-history's `bulk_create_with_history` on every database and, on
PostgreSQL, the same rows through `COPY`.

Why: the import of 20,000 actors with 40,000 identifiers spent most of its writing time in
Django building INSERT statements (the values of every field turned into arrays of query
parameters, the history instances built as models first); `COPY` streams the same values
several times faster. The rows are the same either way:

- each field's value as `bulk_create` writes it (`pre_save` with `add`, so timestamps are
  stamped, then `get_db_prep_save`), with ids taken from the table's own sequence first,
  so the instances get their primary keys as `bulk_create` gives them;
- one history record per record as simple-history's `bulk_history_create` writes it: the
  tracked fields, `history_type` "+", the user, the change reason and the date.

No signal is sent, as with `bulk_create`: the writer reports what it wrote to
`positions.writes` itself. Database errors (a slug taken meanwhile) are Django's own
(`IntegrityError`), so the import refuses the file as it would after an INSERT.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model

BATCH_SIZE = 500


def create_with_history(objs, model, *, user=None, reason=""):
    """Insert `objs` (new, unsaved `model` instances) and a history record for each; the
    instances get their primary keys. Returns `objs`."""
    if not objs:
        return objs
    # The connection itself, not the proxy: each attribute read through the proxy costs a
    # lookup, and this reads one for every value.
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return bulk_create_with_history(
            objs,
            model,
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=reason,
        )
    rows = copy_records(connection, objs, model)
    write_history(connection, model, model._meta.concrete_fields, rows, user=user, reason=reason)
    return objs


def create(objs, model):
    """Insert `objs` as `bulk_create` does (no history: the import's own bookkeeping, such
    as a batch's changes), through COPY on PostgreSQL. Returns `objs`."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
    copy_records(connection, objs, model)
    return objs


def copy_records(connection, objs, model):
    """COPY `objs` into `model`'s table with ids from its sequence; return the rows as
    written (each field's value, in the model's field order)."""
    fields = model._meta.concrete_fields
    for obj, pk in zip(objs, reserve_ids(connection, model, len(objs)), strict=True):
        obj.pk = pk
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    copy_rows(connection, model._meta.db_table, [f.column for f in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return rows


def write_history(connection, model, fields, rows, *, user, reason):
    """The "+" history record of each new record, from the values just written."""
    history_model = get_history_manager_for_model(model).model
    column_of = {f.attname: index for index, f in enumerate(fields)}
    tracked = [f.attname for f in history_model.tracked_fields]
    now = timezone.now()
    extra = {
        "history_date": now,
        "history_change_reason": reason or None,
        "history_type": "+",
        "history_user_id": user.pk if user is not None else None,
    }
    history_fields = [
        f for f in history_model._meta.concrete_fields if f.attname in extra or f.attname in tracked
    ]
    history_rows = [
        [
            (
                extra[f.attname]
                if f.attname in extra
                else row[column_of[f.attname]]
                if f.attname in column_of
                else None
            )
            for f in history_fields
        ]
        for row in rows
    ]
    copy_rows(
        connection, history_model._meta.db_table, [f.column for f in history_fields], history_rows
    )


def reserve_ids(connection, model, count):
    """`count` new ids from the table's sequence, in order, in one query."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(connection, table, columns, rows):
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)
