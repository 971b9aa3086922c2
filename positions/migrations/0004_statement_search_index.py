"""
The GIN index behind full-text search of statements (positions/search.py), PostgreSQL only.

The expression must stay identical to `search.statement_search_vector()`, or PostgreSQL
cannot use the index (tests/test_search.py checks the plan uses it). SQLite has no GIN indexes:
there both directions do nothing. Not part of the model state on purpose, since the model
cannot declare a vendor-specific index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "statement_search_idx"


def search_index():
    # Frozen copy of positions.search.statement_search_vector() as of this migration.
    return GinIndex(SearchVector("summary", "quote", config="english"), name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("positions", "Statement"), search_index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("positions", "Statement"), search_index())


class Migration(migrations.Migration):
    # Only needs the statement table of 0001; chained after the other 0003 so the history
    # stays linear (one leaf).
    dependencies = [("positions", "0003_editor_groups")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
