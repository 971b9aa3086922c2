"""
Every migration of the app is reversible, on real data: stepping back to zero and forward
again gives the same schema and loses no record the schema can hold, nor any group membership.
"""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from positions.models import Source
from tests.factories import UserFactory

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


# Rows that survive a step back and forth where the schema allows: the app's tables, and the
# editorial groups with their permissions and members.
KEPT_AUTH_TABLES = {"auth_group", "auth_group_permissions", "auth_user_groups"}
URL_MIGRATION = "0002_statement_date_precision_optional_source_url"
NO_URL = importlib.import_module(f"positions.migrations.{URL_MIGRATION}").NO_URL


def kept_rows():
    """`{table: (columns, rows)}` of the tables whose rows a migration must not lose."""
    with connection.cursor() as cursor:
        tables = [
            name
            for name in connection.introspection.table_names(cursor)
            if name.startswith(f"{APP}_") or name in KEPT_AUTH_TABLES
        ]
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            rows[table] = (columns, [dict(zip(columns, row, strict=True)) for row in cursor])
        return rows


def projected(rows, columns):
    return sorted((tuple(row[column] for column in columns) for row in rows), key=repr)


def assert_rows_kept(before, applied, survivors):
    """
    Every row of `before` is still there, in the columns that every step so far has kept
    (`survivors`, narrowed here to the columns that exist now). Below 0002 a source without a
    URL has 0002's stand-in for one, since 0001 wants a unique URL for each.
    """
    now = kept_rows()
    for table, (old_columns, old_rows) in before.items():
        columns, rows = now.get(table, ([], []))
        survivors[table] = survivors.get(table, set(old_columns)) & set(columns)
        if table == "positions_source" and (APP, URL_MIGRATION) not in applied:
            old_rows = [row | {"url": row["url"] or NO_URL.format(row["id"])} for row in old_rows]
        common = sorted(survivors[table])
        if table == "auth_group_permissions":
            # A migration that adds a model grants the groups rights on it, and takes them back
            # on the way down: the grants are compared once every step is applied again, as
            # grants (a grant given again is a new row).
            if set(MigrationLoader(None).graph.leaf_nodes(APP)) - set(applied):
                continue
            common = [column for column in common if column != "id"]
        if common:
            assert projected(rows, common) == projected(old_rows, common), table


def migrate_to(target):
    """One step of the walk; returns the migrations applied afterwards."""
    MigrationExecutor(connection).migrate([(APP, target)])
    return MigrationRecorder(connection).applied_migrations().keys()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_migration_reverses_and_reapplies_one_step_at_a_time_on_the_demo_data():
    """Back to zero one migration at a time and forward again, on the demo data with people
    in both editorial groups: the records survive every step down to 0001 and back (except
    columns a step removes), and group memberships survive even the way through zero."""
    call_command("load_demo", verbosity=0)
    assert Source.objects.filter(url="").count() >= 2  # what once stopped the way down
    editor, publisher, both = (UserFactory() for _ in range(3))
    editor.groups.add(Group.objects.get(name="Editors"))
    publisher.groups.add(Group.objects.get(name="Publishers"))
    both.groups.add(*Group.objects.filter(name__in=EDITORIAL_GROUPS))
    schema, before = positions_schema(), kept_rows()
    assert len(before["auth_user_groups"][1]) == 4

    loader = MigrationLoader(connection)
    (leaf,) = loader.graph.leaf_nodes(APP)
    names = [name for app, name in loader.graph.forwards_plan(leaf) if app == APP]
    assert names[0] == "0001_initial"

    survivors = {}
    for target in reversed(names[:-1]):  # down to 0001, one step at a time
        assert_rows_kept(before, migrate_to(target), survivors)
    assert survivors["positions_statement"]  # most columns date from 0001
    for target in names[1:]:  # and up again
        assert_rows_kept(before, migrate_to(target), survivors)
    # What `manage.py migrate` does last: fill the derived positions table
    # (recreated empty on the way up) from the statements.
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    positions = [c for c in before["positions_position"][0] if c != "id"]
    assert projected(kept_rows()["positions_position"][1], positions) == projected(
        before["positions_position"][1], positions
    )

    migrate_to(None)  # zero: the app's tables and records go, the groups and members stay
    assert positions_schema() == {}
    assert_rows_kept(before, set(), survivors)
    assert len(survivors["auth_user_groups"]) == 3  # id, user_id, group_id
    assert_rows_kept(before, migrate_to(names[-1]), survivors)
    assert positions_schema() == schema
    assert {user.groups.count() for user in (editor, publisher, both)} == {1, 2}

    assert set(MigrationLoader(connection).applied_migrations) >= {(APP, name) for name in names}
    # Apps whose migrations depend on this one's (alerts) went down with it: every app back
    # to its last migration, as `manage.py migrate` leaves the database for the tests after.
    MigrationExecutor(connection).migrate(MigrationLoader(connection).graph.leaf_nodes())
    assert "alerts_webhook" in connection.introspection.table_names()
