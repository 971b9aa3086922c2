"""
Statement search that matches words the same way on both databases (positions/search.py).

- PostgreSQL: a text-search configuration `positions_english`, the english one with
  `unaccent` before the stemmer (so "Velazquez" finds "Velázquez", as on SQLite), and the GIN
  index of 0004 rebuilt under it. `unaccent` is a trusted extension: the database's owner
  may create it (PostgreSQL 13 and later).
- SQLite: the FTS5 table of statements and the triggers that keep it current
  (positions/sqlite_fts.py says why triggers), filled from the statements already there.

Both directions run on each database; each part does nothing on the other vendor.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "statement_search_idx"
CONFIG = "positions_english"


def search_index(config):
    # Frozen copy of positions.search.statement_search_vector() as of this migration.
    return GinIndex(SearchVector("summary", "quote", config=config), name=INDEX_NAME)


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        from positions import sqlite_fts

        sqlite_fts.install(connection)
    elif connection.vendor == "postgresql":
        Statement = apps.get_model("positions", "Statement")
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")
        schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)")
        # The word types that can hold accented letters; the rest map as in english.
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
        )
        schema_editor.remove_index(Statement, search_index("english"))
        schema_editor.add_index(Statement, search_index(CONFIG))


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        from positions import sqlite_fts

        sqlite_fts.uninstall(connection)
    elif connection.vendor == "postgresql":
        Statement = apps.get_model("positions", "Statement")
        schema_editor.remove_index(Statement, search_index(CONFIG))
        schema_editor.add_index(Statement, search_index("english"))
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


class Migration(migrations.Migration):
    dependencies = [("positions", "0024_import_batch")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
