"""
A trigram index on actor aliases, PostgreSQL only, like those of migration 0006: the admin
search matches signatories by name OR alias, and without an index on the aliases that OR
read every actor.
"""

from django.db import migrations

INDEX = "actor_aliases_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON positions_actor "
        "USING gin (UPPER(aliases::text) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("positions", "0010_statement_retracted_index")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
