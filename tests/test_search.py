"""Full-text search of statements: PostgreSQL text search and its index, or the SQLite fallback."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from positions.models import Statement
from positions.search import SEARCH_INDEX_NAME, search_statements, uses_postgres_text_search
from tests.factories import ActorFactory, StatementFactory

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


def found(text):
    return set(search_statements(Statement.objects.all(), text).values_list("summary", flat=True))


@pytest.fixture
def statements():
    StatementFactory(summary="Senators warn of authoritarian surveillance.")
    StatementFactory(summary="The company says human rights are not protected.")
    StatementFactory(summary="Something else.", quote="We fear censorship of users.")
    StatementFactory(
        summary="Backs the vote.",
        actors=[ActorFactory(name="Cisco Systems", aliases="Cisco\nCSCO")],
    )


def test_it_matches_summary_and_quote(statements):
    assert found("authoritarian") == {"Senators warn of authoritarian surveillance."}
    assert found("censorship") == {"Something else."}


def test_it_matches_actor_names_and_aliases_once_per_statement(statements):
    assert found("csco") == {"Backs the vote."}
    assert search_statements(Statement.objects.all(), "Cisco").count() == 1


def test_blank_search_leaves_the_list_alone(statements):
    assert search_statements(Statement.objects.all(), "   ").count() == 4


def test_it_ignores_case(statements):
    assert found("HUMAN RIGHTS") == {"The company says human rights are not protected."}


def test_search_syntax_characters_are_harmless(statements):
    for text in ['"unclosed', "a & | ! ( ) :*", "' OR 1=1 --", "%", "_", "-"]:
        search_statements(Statement.objects.all(), text).count()


@on_postgres
def test_postgres_uses_stemming_through_full_text_search(statements):
    assert uses_postgres_text_search()
    # "protect" finds "protected", "senator" finds "Senators": text search, not substring.
    assert found("protect") == {"The company says human rights are not protected."}
    assert found("senator warning") == {"Senators warn of authoritarian surveillance."}


@on_postgres
def test_postgres_has_the_gin_index_and_the_planner_uses_it(statements):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX_NAME])
        (definition,) = cursor.fetchone()
        assert "gin" in definition.lower() and "'english'::regconfig" in definition
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = search_statements(Statement.objects.all(), "surveillance").explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert SEARCH_INDEX_NAME in plan


@on_postgres
def test_the_index_migration_is_reversible():
    migration = importlib.import_module("positions.migrations.0004_statement_search_index")
    executor = MigrationExecutor(connection)
    target = migration.Migration.dependencies
    executor.migrate(target)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [migration.INDEX_NAME])
            assert cursor.fetchone() is None
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [migration.INDEX_NAME])
        assert cursor.fetchone() is not None


@on_sqlite
def test_sqlite_falls_back_to_substring_search(statements):
    assert not uses_postgres_text_search()
    assert found("surveil") == {"Senators warn of authoritarian surveillance."}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = %s", [SEARCH_INDEX_NAME])
        assert cursor.fetchone() is None
