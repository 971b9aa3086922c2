"""
Trigram indexes for the admin's substring search (positions/admin_search.py), PostgreSQL only.

Django's `icontains` is `UPPER(column) LIKE UPPER('%term%')` on PostgreSQL: a GIN trigram
index on `UPPER(column)` answers it without reading the table. SQLite has no such index:
there both directions do nothing. Not part of the model state, since the model cannot
declare a vendor-specific expression index.
"""

from django.db import migrations

INDEXES = {
    "statement_summary_trgm_idx": ("positions_statement", "summary"),
    "statement_quote_trgm_idx": ("positions_statement", "quote"),
    "source_title_trgm_idx": ("positions_source", "title"),
    "actor_name_trgm_idx": ("positions_actor", "name"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("positions", "0005_statement_covering_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
