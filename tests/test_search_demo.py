"""
The statement search finds the same statements, in the same order, on SQLite (FTS5) and
PostgreSQL (text search) on the demo data, and stays right after imports and restores.

The list is not ranked on either database: it keeps the statement list's order (newest first,
then the later recorded), so one expected list per query holds for both databases.
"""

import sqlite3

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import call_command
from django.db import connection

from positions import search, sqlite_fts, writes
from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import Statement

pytestmark = pytest.mark.django_db

# The demo's statements by import reference, as the statement list orders them: the letter
# is the oldest (29 October 2024); the other five share a date, so the later recorded first.
LETTER = "demo-senators-letter"
SUPPORTS = "demo-us-supports-adoption"
AMENDMENTS = "demo-us-supports-adoption-amendments"
RATIFICATION = "demo-us-conditions-ratification"
CISCO = "demo-cisco-warns"
GROUPS = "demo-rights-groups-warn"
NEWEST_FIRST = [GROUPS, CISCO, RATIFICATION, AMENDMENTS, SUPPORTS, LETTER]


def newest_first(*refs):
    return [ref for ref in NEWEST_FIRST if ref in refs]


# query -> the statements found, newest first; why, where it is not plain.
QUERIES = {
    # words, not a phrase: "child sexual abuse material"
    "child abuse": [SUPPORTS],
    "abuse child": [SUPPORTS],
    # stems: "abuse" and "abuses"; "protect", "protected" and "protections"
    "abuses": newest_first(SUPPORTS, LETTER),
    "protect": newest_first(SUPPORTS, CISCO),
    "protection": newest_first(SUPPORTS, CISCO),
    "warning": newest_first(LETTER, CISCO),
    "senator": [LETTER],
    "ratified": [RATIFICATION],
    # neither stemmer takes "ratification" to "ratify"
    "ratification": [],
    # case and accents do not matter
    "RANSOMWARE": [GROUPS],
    "Rânsomwäre": [GROUPS],
    "cónvention": newest_first(LETTER, SUPPORTS, AMENDMENTS, RATIFICATION, GROUPS),
    # every word must match, wherever it is (summary or quote)
    "human rights": newest_first(LETTER, SUPPORTS, RATIFICATION, CISCO, GROUPS),
    "human rights controls": newest_first(RATIFICATION, GROUPS),
    "human rights controls ratify": [RATIFICATION],
    "surveillance powers": [GROUPS],
    # "surveil" and "surveillance" share a stem
    "authoritarian surveillance": newest_first(LETTER, GROUPS),
    "improbable ratify": [RATIFICATION],
    # stop words are left out, as PostgreSQL's english configuration leaves them out
    "the treaty": newest_first(SUPPORTS, AMENDMENTS, CISCO, GROUPS),
    # a quoted phrase: its words in order
    '"human rights abuses"': [LETTER],
    '"rights human"': [],
    '"abuse of children"': [],
    # or, and a minus to exclude
    "ransomware or extradition": newest_first(SUPPORTS, GROUPS),
    "treaty -cisco": newest_first(SUPPORTS, AMENDMENTS, GROUPS),
    "-convention": [CISCO],
    "treaty -cisco or spying": newest_first(SUPPORTS, AMENDMENTS, GROUPS, LETTER),
    # an actor's name or alias finds its statements, whatever the text says
    "Wyden": [LETTER],
    "Cisco Systems": [CISCO],
    "biden administration": newest_first(SUPPORTS, AMENDMENTS, RATIFICATION),
    # nothing
    "children": [],
    "kangaroo": [],
    # FTS5's and PostgreSQL's own syntax is read as plain text, never as an operator
    '"': [],
    "*": [],
    "NEAR(": [],
    "NEAR(human rights)": [],  # "near" is a word to find
    "NEAR(human rights, 2)": [],
    "summary:ransomware": [],  # so is "summary"
    "ransomware:*": [GROUPS],
    "ransom*": [],
    "^human": newest_first(LETTER, SUPPORTS, RATIFICATION, CISCO, GROUPS),
    "human & | ! ( ) <-> rights": newest_first(LETTER, SUPPORTS, RATIFICATION, CISCO, GROUPS),
    # "and" is a stop word, but "Digital-rights and human-rights groups" is an actor's name
    "AND": [GROUPS],
    "' OR 1=1 --": [],
}


@pytest.fixture
def demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def found(text):
    statements = search.search_statements(Statement.objects.order_by("-date", "-pk"), text)
    return list(statements.values_list("import_ref", flat=True))


def test_it_finds_the_same_statements_on_both_databases(demo):
    # One demo for the whole table; the diff names each query that differs.
    assert {query: found(query) for query in QUERIES} == QUERIES


@pytest.mark.parametrize("query", ["child abuse", '"', "AND", "*", "NEAR(", "-convention"])
def test_the_statement_list_page_shows_them_in_its_order(client, demo, query):
    response = client.get("/statements/", {"q": query})
    assert response.status_code == 200
    shown = [statement.import_ref for statement in response.context["page_obj"].object_list]
    assert shown == QUERIES[query]


def test_the_api_finds_what_the_page_finds(client, demo):
    response = client.get("/api/v1/statements/", {"q": "child abuse"})
    assert response.status_code == 200
    assert [item["summary"][:30] for item in response.json()["items"]] == [
        Statement.objects.get(import_ref=SUPPORTS).summary[:30]
    ]


STATEMENTS_HEADER = (
    "import_ref,question,date,date_precision,stance,signatories,conditions,summary,quote,"
    "quote_locator,attribution,source,status,correction_note"
)


def import_statement(summary):
    line = (
        "test-imported,un-convention-against-cybercrime/adoption-by-the-un-general-assembly,"
        f'2024-11-02,day,opposes,cisco,,"{summary}",,,own_words,'
        "https://merkley.senate.gov/wyden-merkley-kaine-markey-van-hollen-and-booker-warn-u-n-"
        "cyber-convention-could-justify-spying-and-censorship-by-china-russia-and-other-"
        "authoritarian-regimes,published,"
    )
    data = f"{STATEMENTS_HEADER}\r\n{line}\r\n".encode()
    context = ImportContext(can_publish=True, blanks="clear")
    report = import_bytes(TYPES["statements"], data, "statements.csv", context=context)
    assert report.ok, report.errors


def test_imported_statements_are_found_and_an_edit_by_import_moves_them(demo):
    import_statement("Delegates objected to the data-retention clauses.")
    assert found("objecting delegate") == ["test-imported"]
    import_statement("Delegates welcomed the extradition clauses.")
    assert found("objecting delegate") == []
    assert found("extradition welcome") == ["test-imported"]


def test_after_a_restore_the_search_finds_the_backup_and_nothing_else(demo, tmp_path):
    backup = tmp_path / "backup.jsonl"
    call_command("backup", str(backup), verbosity=0)
    import_statement("Delegates objected to the data-retention clauses.")
    writes.delete(Statement.objects.get(import_ref=CISCO))  # gone from the index too
    assert found("objecting delegate") == ["test-imported"]
    assert found("fundamental") == []

    call_command("restore", str(backup), "--force", verbosity=0)
    assert found("objecting delegate") == []
    assert found("fundamental") == [CISCO]
    for query, expected in QUERIES.items():
        assert found(query) == expected, query


def sqlite_search_over(rows):
    """
    SQLite's search (its table, triggers and query reading, from positions.sqlite_fts) over
    `rows` of (id, summary, quote), in an in-memory database of its own: a function from a
    query to the ids found.
    """
    lite = sqlite3.connect(":memory:")
    lite.create_function(sqlite_fts.WORDS_FUNCTION, 2, sqlite_fts.indexed_words)
    table = sqlite_fts.CONTENT_TABLE
    lite.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, summary, quote)")
    lite.execute(sqlite_fts.CREATE_TABLE)
    for name, body in sqlite_fts.TRIGGERS.items():
        lite.execute(f"CREATE TRIGGER {name} {body}")
    lite.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)  # noqa: S608
    every = {row[0] for row in rows}

    def matching(expression):
        sql = f"SELECT rowid FROM {sqlite_fts.TABLE} WHERE {sqlite_fts.TABLE} MATCH ?"  # noqa: S608
        return {pk for (pk,) in lite.execute(sql, [expression])}

    def search(query):
        finding, excluding = sqlite_fts.match_expressions(query)
        found = matching(finding) if finding else set()
        for expression in excluding:
            found |= every - matching(expression)
        return found

    return search


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares with PostgreSQL")
def test_sqlite_finds_what_postgres_finds_for_every_word_and_pair_of_words_of_the_demo(demo):
    """
    Every word of the demo's statements, alone and with the next, and the table's queries:
    PostgreSQL's text search and SQLite's (run here in memory) find the same statements.
    """
    rows = list(Statement.objects.values_list("pk", "summary", "quote"))
    sqlite_search = sqlite_search_over(rows)
    queries = set(QUERIES)
    for _pk, summary, quote in rows:
        for text in (summary, quote):
            words = text.split()
            queries.update(words)
            queries.update(" ".join(pair) for pair in zip(words, words[1:], strict=False))
    vector = search.statement_search_vector()
    differ = {}
    for query in sorted(queries):
        in_text = SearchQuery(query, config=search.SEARCH_CONFIG, search_type="websearch")
        found = Statement.objects.annotate(document=vector).filter(document=in_text)
        postgres = set(found.values_list("pk", flat=True))
        if postgres != sqlite_search(query):
            differ[query] = (postgres, sqlite_search(query))
    assert len(queries) > 400
    assert differ == {}
