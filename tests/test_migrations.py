"""Every migration of the app is reversible: migrate to zero and back gives the same schema."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.factories import StatementFactory

APP = "positions"
# Created by a data migration (0003_editor_groups).
EDITORIAL_GROUPS = {"Editors", "Publishers"}


def positions_schema():
    """Tables of the app with their columns and named constraints and indexes."""
    with connection.cursor() as cursor:
        tables = [
            name
            for name in connection.introspection.table_names(cursor)
            if name.startswith(f"{APP}_")
        ]
        return {
            table: (
                sorted(
                    column.name
                    for column in connection.introspection.get_table_description(cursor, table)
                ),
                sorted(connection.introspection.get_constraints(cursor, table)),
            )
            for table in tables
        }


def test_every_operation_of_every_migration_can_be_reversed():
    """Checked on the migration files, so vendor-specific steps count on either database."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migrations = [m for (app, _), m in loader.disk_migrations.items() if app == APP]
    assert migrations, "no migrations found"
    irreversible = [
        f"{migration.name}: {operation.describe()}"
        for migration in migrations
        for operation in migration.operations
        if not operation.reversible
    ]
    assert irreversible == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_positions_migrates_to_zero_and_back_with_data_in_it():
    StatementFactory()
    before = positions_schema()
    assert "positions_statement" in before

    call_command("migrate", APP, "zero", verbosity=0)
    assert positions_schema() == {}
    # Data migrations are undone too: the editorial groups are gone.
    assert not Group.objects.filter(name__in=EDITORIAL_GROUPS).exists()

    call_command("migrate", verbosity=0)
    assert positions_schema() == before
    assert set(Group.objects.values_list("name", flat=True)) >= EDITORIAL_GROUPS

    loader = MigrationLoader(connection)
    leaf = loader.graph.leaf_nodes(APP)
    assert set(leaf) <= loader.applied_migrations.keys()
