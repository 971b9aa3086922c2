"""
Statement search on SQLite with SQLite's own full-text search (FTS5), made to find what
PostgreSQL's search (`positions.search`) finds.

The index is an external-content FTS5 table over the statements' summary and quote, with the
porter stemmer over unicode61 without diacritics: "protect" finds "protected", "Velazquez"
finds "Velázquez", as PostgreSQL's english stemmer behind `unaccent` does.

**Kept current by SQLite triggers**, created with the table (migration 0023), rather than
by the write path: every write to a statement's text reaches the table, whoever makes it:
`writes.save`, the import's `bulk_create` and `bulk_update`, `loaddata` in a restore (which
saves raw, past every Python hook), the restore's and `flush`'s plain `DELETE FROM`, a
queryset `update()`. The write path would have to be told about each of these, and one
forgotten bulk write would leave the index silently wrong. The triggers do no domain work:
they copy two columns, as PostgreSQL's expression index does by itself.

One trap: when a migration alters the statement table, Django's SQLite schema editor
rebuilds it (a new table, the rows copied, the old one dropped), and the triggers go with
the old table. `repair` puts them back after every `migrate` and rebuilds the index
(`PositionsConfig.ready` connects it to `post_migrate`).

The reader's query is read as PostgreSQL's `websearch_to_tsquery` reads it (`parse`): words
all must match; "a quoted phrase" must match in order; `or` between words; `-word` excludes.
Stop words (PostgreSQL's english list) are dropped, as PostgreSQL drops them. Every word
reaches FTS5 inside double quotes, letters and digits only, so FTS5's own syntax (`AND`,
`NEAR(`, `*`, `:`, `^`) is never read from what the reader typed. Known differences: a
hyphenated word ("human-rights") also finds the words apart on SQLite, where PostgreSQL
wants the hyphen; a stop word inside a quoted phrase must be that word on SQLite ("abuse of
children"), where PostgreSQL accepts any word in its place.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.expressions import RawSQL

TABLE = "positions_statement_fts"
CONTENT_TABLE = "positions_statement"
TOKENIZER = "porter unicode61 remove_diacritics 2"

CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    f"summary, quote, content='{CONTENT_TABLE}', content_rowid='id', tokenize='{TOKENIZER}')"
)
# External content: the index holds no copy of the text, so a row leaves it by a 'delete'
# command given the values it was indexed with (the old row's).
_ADD = f"INSERT INTO {TABLE} (rowid, summary, quote) VALUES (new.id, new.summary, new.quote);"
_REMOVE = (
    f"INSERT INTO {TABLE} ({TABLE}, rowid, summary, quote) "
    "VALUES ('delete', old.id, old.summary, old.quote);"
)
TRIGGERS = {
    f"{TABLE}_insert": f"AFTER INSERT ON {CONTENT_TABLE} BEGIN {_ADD} END",
    f"{TABLE}_delete": f"AFTER DELETE ON {CONTENT_TABLE} BEGIN {_REMOVE} END",
    # Only when the text (or the id) changes: a status or date change leaves the index alone.
    f"{TABLE}_update": (
        f"AFTER UPDATE OF id, summary, quote ON {CONTENT_TABLE} BEGIN {_REMOVE} {_ADD} END"
    ),
}

# PostgreSQL's english stop words (share/tsearch_data/english.stop), which its `english`
# configuration leaves out of documents and queries. FTS5 indexes every word, so the query
# leaves them out here: "the treaty" finds what "treaty" finds, on both databases.
ENGLISH_STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against
    between into through during before after above below to from up down in out on off over
    under again further then once here there when where why how all any both each few more
    most other some such no nor not only own same so than too very s t can will just don
    should now
    """.split()
)


def install(connection):
    """Create the index, its triggers and its contents (SQLite only; idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
        for name, body in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        cursor.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")


def uninstall(connection):
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def repair(connection):
    """
    After `migrate`: if the statement table is there but the index or one of its triggers
    is not (a migration rebuilt the table), create them and rebuild the index. One query when
    all is in place. Returns whether anything was repaired.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        names = [CONTENT_TABLE, TABLE, *TRIGGERS]
        placeholders = ", ".join(["%s"] * len(names))
        cursor.execute(f"SELECT name FROM sqlite_master WHERE name IN ({placeholders})", names)
        present = {name for (name,) in cursor.fetchall()}
    if CONTENT_TABLE not in present or present >= {TABLE, *TRIGGERS}:
        return False  # migrated backwards past the statements, or nothing to do
    install(connection)
    return True


def repair_after_migrate(sender, using, **kwargs):
    from django.db import connections

    repair(connections[using])


# --- The reader's query ------------------------------------------------------------------------


@dataclass
class Term:
    """A word or a quoted phrase, as the words FTS5 will look for, in order."""

    words: list
    negated: bool = False

    def fts5(self):
        # Letters and digits only (see `words_of`): nothing here is FTS5 syntax.
        return '"' + " ".join(self.words) + '"'


@dataclass
class Clause:
    """Terms that must all match (or, negated, all not match)."""

    terms: list = field(default_factory=list)


# What PostgreSQL's websearch parser skips where it expects a word (tsquery operators).
_SKIPPED = set("!&|()<:")
# Token characters as unicode61 sees them: letters and digits (not the underscore).
_WORD = re.compile(r"[^\W_]+")


def words_of(text):
    """The words of `text` as unicode61 splits them, in lower case."""
    return [word.lower() for word in _WORD.findall(unicodedata.normalize("NFC", text))]


def _is_stop(word):
    return _fold(word) in ENGLISH_STOP_WORDS


def _fold(word):
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _trimmed(words):
    """A phrase without its leading and trailing stop words (PostgreSQL drops them)."""
    while words and _is_stop(words[0]):
        words = words[1:]
    while words and _is_stop(words[-1]):
        words = words[:-1]
    return words


def _is_or(text, at):
    """`or` as PostgreSQL's websearch reads it: the word alone, with something after it."""
    if text[at : at + 2].lower() != "or":
        return False
    rest = text[at + 2 :]
    if not rest or rest[0] in "-_" or rest[0].isalnum():
        return False
    return bool(rest[1:].strip())  # something to choose, after the character that ends it


def parse(text):
    """
    The reader's query as clauses to OR, each a list of terms to AND, following the rules of
    PostgreSQL's `websearch_to_tsquery` (its tokenizer `gettoken_query_websearch`): words
    and "quoted phrases" must all match; `or` between two of them gives either; `-` before a
    word or phrase excludes it; an unclosed quote is ignored; operator characters are
    skipped. Stop words and words without letters or digits are dropped, as PostgreSQL
    drops them.
    """
    clauses = [Clause()]
    at, length = 0, len(text)
    negated = False
    expect_operand = True
    while at < length:
        char = text[at]
        if char.isspace():
            at += 1
            continue
        if not expect_operand:
            if _is_or(text, at):
                clauses.append(Clause())
                at += 2
            expect_operand = True  # otherwise an implicit AND, and the same character again
            continue
        if char == "-":
            negated = not negated
            at += 1
            continue
        if char in _SKIPPED:
            at += 1
            continue
        if char == '"':
            closing = text.find('"', at + 1)
            if closing == -1:
                at += 1  # an unclosed quote is no phrase
                continue
            words = _trimmed(words_of(text[at + 1 : closing]))
            at = closing + 1
        else:
            end = at
            while end < length and not text[end].isspace() and text[end] not in _SKIPPED | {'"'}:
                end += 1
            words = _trimmed(words_of(text[at:end]))
            at = end
        if words:
            clauses[-1].terms.append(Term(words, negated))
        negated = False
        expect_operand = False
    return [clause for clause in clauses if clause.terms]


def match_expressions(text):
    """
    The query as FTS5 MATCH expressions: one for the clauses that name a word to find (or
    None), and one per clause that only excludes words (rows without them match).
    """
    finding, excluding = [], []
    for clause in parse(text):
        wanted = [term.fts5() for term in clause.terms if not term.negated]
        unwanted = [term.fts5() for term in clause.terms if term.negated]
        if wanted:
            expression = "(" + " AND ".join(wanted) + ")"
            if unwanted:
                expression += " NOT (" + " OR ".join(unwanted) + ")"
            finding.append("(" + expression + ")")
        else:
            excluding.append(" OR ".join(unwanted))
    return (" OR ".join(finding) or None), excluding


def _matching_ids(expression):
    return RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [expression])  # noqa: S611


def statements_matching(text):
    """A Q over statements whose summary or quote match the reader's query; None: nothing."""
    finding, excluding = match_expressions(text)
    conditions = [Q(pk__in=_matching_ids(finding))] if finding else []
    conditions += [~Q(pk__in=_matching_ids(expression)) for expression in excluding]
    if not conditions:
        return None
    either = conditions[0]
    for condition in conditions[1:]:
        either |= condition
    return either
