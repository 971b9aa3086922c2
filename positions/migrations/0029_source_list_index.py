"""
The source list's order (`views.source_list`: newest first, undated last, then title and id)
as an index, so its first page is read from it instead of sorting every source.

PostgreSQL only: SQLite does not take NULLS LAST in an index, and its lists are small. Not in
the model's Meta for the same reason (Django would create it on both databases).
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS source_list_idx ON positions_source "
    "(published_on DESC NULLS LAST, title, id)"
)
DROP = "DROP INDEX IF EXISTS source_list_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("positions", "0028_import_job_choices")]

    operations = [migrations.RunPython(create, drop)]
