"""Full-text search of statements: PostgreSQL's text search and its index, SQLite's FTS5 index
and its triggers, and the reader's query read the same way on both."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from positions import sqlite_fts, writes
from positions.models import Statement
from positions.search import SEARCH_INDEX_NAME, search_statements, uses_postgres_text_search
from positions.sqlite_fts import STOP_MARK, match_expressions
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


JUNK = ['"', "AND", "OR", "NOT", "*", "NEAR(", "NEAR(a b", '"unclosed', "a & | ! ( ) :*"]
JUNK += ["' OR 1=1 --", "%", "_", "-", "--", '""', "^", "a:b", "{summary}:x", "\\", "\x00"]


@pytest.mark.parametrize("text", JUNK)
def test_search_syntax_characters_are_harmless(client, statements, text):
    search_statements(Statement.objects.all(), text).count()
    assert client.get("/statements/", {"q": text}).status_code == 200


def test_it_matches_words_not_phrases(statements):
    assert found("protected rights") == {"The company says human rights are not protected."}
    assert found("rights protected") == {"The company says human rights are not protected."}
    assert found('"rights protected"') == set()


def test_it_ignores_accents_in_the_text_and_in_the_query():
    StatementFactory(summary="Nydia Velázquez asks for a vote.")
    StatementFactory(summary="Another statement.")
    assert found("Velazquez") == {"Nydia Velázquez asks for a vote."}
    assert found("VÉLAZQUEZ vote") == {"Nydia Velázquez asks for a vote."}
    StatementFactory(summary="Talks in Øresund and on the Straße.")
    assert found("oresund strasse") == {"Talks in Øresund and on the Straße."}


def test_it_finds_the_statements_of_an_actor_named_with_accents():
    StatementFactory(summary="Asks for a vote.", actors=[ActorFactory(name="Nydia Velázquez")])
    assert found("velazquez") == {"Asks for a vote."}


def test_stop_words_alone_find_no_text_but_still_find_actors(statements):
    assert found("the of") == set()
    assert found("systems") == {"Backs the vote."}  # "Cisco Systems"


def test_the_index_follows_every_kind_of_write(statements):
    """Saves, queryset updates, bulk writes and deletes, on both databases."""
    statement = Statement.objects.get(summary="Something else.")
    with writes.writing():
        statement.summary = "A new summary about ransomware."
        writes.save(statement)
    assert found("ransomware") == {"A new summary about ransomware."}
    with writes.writing():
        Statement.objects.filter(pk=statement.pk).update(quote="Extradition matters.")
        writes.records_changed()
    assert found("censorship") == set()
    assert found("extradition ransomware") == {"A new summary about ransomware."}
    with writes.writing():
        statement.summary = "Bulk updated."
        Statement.objects.bulk_update([statement], ["summary"])
        writes.records_changed()
    assert found("ransomware") == set()
    assert found("bulk") == {"Bulk updated."}
    with writes.writing():
        writes.delete(statement)
    assert found("bulk") == set()


@pytest.mark.parametrize(
    ("query", "finding", "excluding"),
    [
        ("child abuse", '(("child" AND "abuse"))', []),
        ('"abuse of children"', f'(("abuse {STOP_MARK} children"))', []),
        ("the treaty", '(("treaty"))', []),
        ("human-rights", '(("human-rights human rights"))', []),
        ("cisco or russia", '(("cisco")) OR (("russia"))', []),
        ("cisco orange", '(("cisco" AND "orange"))', []),
        ("treaty -cisco", '(("treaty") NOT ("cisco"))', []),
        ("-cisco", None, ['"cisco"']),
        ("--cisco", '(("cisco"))', []),
        ("a or -b c", '(("c") NOT ("b"))', []),  # "a" is a stop word
        ('NEAR( * AND "', '(("near"))', []),
        ('cisco"russia"', '(("cisco" AND "russia"))', []),
        ("col:umn", '(("col" AND "umn"))', []),
        ("the", None, []),
        ("", None, []),
    ],
)
def test_the_query_is_read_as_postgres_reads_web_search_syntax(query, finding, excluding):
    """As `websearch_to_tsquery` reads it, every word quoted for FTS5 (tests/test_search_demo.py
    compares what both databases find)."""
    assert match_expressions(query) == (finding, excluding)


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
        assert "gin" in definition.lower() and "'positions_english'::regconfig" in definition
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = search_statements(Statement.objects.all(), "surveillance").explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert SEARCH_INDEX_NAME in plan


@on_postgres
def test_postgres_ignores_accents_through_its_unaccent_configuration():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('positions_english', 'Velázquez protected')::text")
        assert cursor.fetchone()[0] == "'protect':2 'velazquez':1"


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


SEARCH_INDEX = SEARCH_INDEX_NAME
SEARCH_MIGRATION = "0025_statement_search_on_both_databases"


def search_objects():
    """What migration 0025 made, as (vendor-specific) names found in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT cfgname FROM pg_ts_config WHERE cfgname = 'positions_english'")
            names = {name for (name,) in cursor.fetchall()}
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX])
            names |= {"index under positions_english" for (d,) in cursor if "positions_e" in d}
            return names
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'positions_statement_fts%'")
        return {name for (name,) in cursor.fetchall()} & {sqlite_fts.TABLE, *sqlite_fts.TRIGGERS}


def test_the_search_migration_is_reversible_on_both_databases():
    StatementFactory(summary="Written before the migration.")
    migration = importlib.import_module(f"positions.migrations.{SEARCH_MIGRATION}")
    expected = (
        {"positions_english", "index under positions_english"}
        if connection.vendor == "postgresql"
        else {sqlite_fts.TABLE, *sqlite_fts.TRIGGERS}
    )
    assert search_objects() == expected
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The statement's deferred foreign key checks, now: PostgreSQL builds no index
            # on a table with checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        executor = MigrationExecutor(connection)
        executor.migrate(migration.Migration.dependencies)
        try:
            assert search_objects() == set()
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())
    else:
        # SQLite's schema editor refuses to open inside the test's transaction; the
        # migration's steps only need its connection.
        schema_editor = SimpleNamespace(connection=connection)
        migration.backwards(django_apps, schema_editor)
        assert search_objects() == set()
        migration.forwards(django_apps, schema_editor)
    assert search_objects() == expected
    # Statements already there are found: the index is filled when it is created.
    assert found("migration") == {"Written before the migration."}


@on_sqlite
def test_migrate_puts_back_triggers_that_a_rebuilt_statement_table_lost(statements):
    """Django's SQLite schema editor rebuilds a table it alters, dropping its triggers."""
    with connection.cursor() as cursor:
        for name in sqlite_fts.TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute("UPDATE positions_statement SET summary = 'Unseen.' WHERE quote != ''")
    assert found("unseen") == set()
    call_command("migrate", verbosity=0)  # nothing to apply; its post_migrate repairs
    assert found("unseen") == {"Unseen."}
    assert found("censorship") == {"Unseen."}  # the quote, still there
    assert sqlite_fts.repair(connection) is False  # all in place: nothing to do


@on_sqlite
def test_sqlite_searches_with_its_fts5_index(statements):
    assert not uses_postgres_text_search()
    assert found("surveil") == {"Senators warn of authoritarian surveillance."}
    assert found("senator warning") == {"Senators warn of authoritarian surveillance."}
    assert found("surv") == set()  # words, not parts of words
