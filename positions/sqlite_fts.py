"""
Statement search on SQLite with SQLite's own full-text search (FTS5), made to find what
PostgreSQL's search (`positions.search`) finds.

The index is a contentless FTS5 table of each statement's words (summary, then quote, as
PostgreSQL's indexed expression joins them), with the porter stemmer over unicode61 without
diacritics: "protect" finds "protected", "Velazquez" finds "Velázquez", as PostgreSQL's
english stemmer behind `unaccent` does. PostgreSQL leaves stop words ("the", "of", "on",
"us") out of its index; FTS5 would keep them, and its stemmer then takes "one" to "on" and
"used" to "us" (the demo's "US"): so the words are indexed without them, by the SQL function
`positions_search_words` (`indexed_words`), each stop word replaced by a mark that keeps its
place (so "rights and human" does not become the phrase "rights human"), which every
Django connection to SQLite
registers (`PositionsConfig.ready`). A write to a statement from outside Django (the
`sqlite3` shell) fails on the missing function rather than leave the index wrong.

**Kept current by SQLite triggers**, created with the table (migration 0023), rather than
by the write path: every write to a statement's text reaches the table, whoever makes it:
`writes.save`, the import's `bulk_create` and `bulk_update`, `loaddata` in a restore (which
saves raw, past every Python hook), the restore's and `flush`'s plain `DELETE FROM`, a
queryset `update()`. The write path would have to be told about each of these, and one
forgotten bulk write would leave the index silently wrong. The triggers do no domain work:
they index two columns, as PostgreSQL's expression index does by itself.

One trap: when a migration alters the statement table, Django's SQLite schema editor
rebuilds it (a new table, the rows copied, the old one dropped), and the triggers go with
the old table. `repair` puts them back after every `migrate` and rebuilds the index
(`PositionsConfig.ready` connects it to `post_migrate`). Changing `indexed_words` (its stop
words, its tokens) needs a migration that rebuilds the index: a row leaves a contentless
index by being given the words it was indexed with.

The reader's query is read as PostgreSQL's `websearch_to_tsquery` reads it (`parse`): words
all must match; "a quoted phrase" must match in order; `or` between words; `-word` excludes.
Stop words are dropped from it too. Every word reaches FTS5 inside double quotes, letters
and digits only, so FTS5's own syntax (`AND`, `NEAR(`, `*`, `:`, `^`) is never read from what
the reader typed. Known differences, none of them in the demo's statements:

- addresses, e-mail addresses, file paths and dotted names ("U.S.") are split into words on
  SQLite, where PostgreSQL keeps each whole;
- the two stemmers (porter on SQLite, Snowball's english on PostgreSQL) stem a few words
  differently: porter takes "news" to "new" and "use" to "us", so on SQLite "use" also finds
  "US";
- a quoted phrase with a stop word inside ("abuse of children") wants a stop word in its
  place on SQLite, where PostgreSQL accepts any word.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.expressions import RawSQL

from .folding import fold

TABLE = "positions_statement_fts"
CONTENT_TABLE = "positions_statement"
# A hyphen inside a word is part of it: the index holds "human-rights" beside "human" and
# "rights", as PostgreSQL does (`indexed_words`).
TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '-'"
WORDS_FUNCTION = "positions_search_words"

CREATE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    f"words, content='', tokenize=\"{TOKENIZER}\")"
)
# Every name in this module's SQL is a constant of its own; nothing comes from a reader.
_ADD = (
    f"INSERT INTO {TABLE} (rowid, words) "  # noqa: S608
    f"VALUES (new.id, {WORDS_FUNCTION}(new.summary, new.quote));"
)
# Contentless: a row leaves the index by a 'delete' command given the words it was indexed
# with, which the old row's text gives again.
_REMOVE = (
    f"INSERT INTO {TABLE} ({TABLE}, rowid, words) "  # noqa: S608
    f"VALUES ('delete', old.id, {WORDS_FUNCTION}(old.summary, old.quote));"
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
# configuration leaves out of documents and queries: left out of both here too, so "the
# treaty" finds what "treaty" finds, on both databases.
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
    """.split()  # noqa: SIM905 -- laid out as PostgreSQL's file lists them
)

# Stands for a stop word in the index: a letter (unicode61 keeps it as a word) that neither
# the stemmer nor unicode61's diacritics removal change, and nobody types.
STOP_MARK = "ǂ"

# Words as unicode61 sees them (letters and digits, not the underscore), joined by hyphens.
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def words_of(text):
    """
    The words of `text` in lower case, a hyphenated word followed by its parts, as
    PostgreSQL's parser gives them: "Digital-rights groups" is "digital-rights", "digital",
    "rights", "groups". So "human-rights" finds the hyphenated word and "human rights" finds
    both, on both databases.
    """
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    words = []
    # Split, then lower: "İ" in lower case is "i" and a combining dot, no letter.
    for word in _WORD.findall(text):
        # Accents off as `unaccent` takes them off, letters such as "ß" and "ø" included.
        word = word.lower() if word.isascii() else fold(word)
        if "-" in word:
            words.append(word)
            words.extend(word.split("-"))
        else:
            words.append(word)
    return words


def _fold(word):
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def is_stop_word(word):
    """`word` (in lower case) is a stop word, accents aside, or holds the stop mark."""
    if word.isascii():  # nearly every word: no folding to do
        return word in ENGLISH_STOP_WORDS
    return _fold(word) in ENGLISH_STOP_WORDS or STOP_MARK in word


def indexed_words(*texts):
    """What the index holds of a statement (`positions_search_words` in SQL): the words of
    its texts, in order, each stop word replaced by `STOP_MARK`."""
    return " ".join(
        [STOP_MARK if is_stop_word(word) else word for text in texts for word in words_of(text)]
    )


def register_functions(sender, connection, **kwargs):
    """On each new SQLite connection (`connection_created`): the function the triggers call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(WORDS_FUNCTION, 2, indexed_words, deterministic=True)


def _rebuild(cursor):
    cursor.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")  # noqa: S608
    cursor.execute(
        f"INSERT INTO {TABLE} (rowid, words) "  # noqa: S608
        f"SELECT id, {WORDS_FUNCTION}(summary, quote) FROM {CONTENT_TABLE}"
    )


def install(connection):
    """Create the index, its triggers and its contents (SQLite only; idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
        for name, body in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        _rebuild(cursor)


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
        sql = f"SELECT name FROM sqlite_master WHERE name IN ({placeholders})"  # noqa: S608
        cursor.execute(sql, names)
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
        # Letters, digits, inner hyphens and the stop mark (`words_of`, `_phrase`): nothing
        # here is FTS5 syntax, and there is no double quote to end the string early.
        return '"' + " ".join(self.words) + '"'


@dataclass
class Clause:
    """Terms that must all match (or, negated, all not match)."""

    terms: list = field(default_factory=list)


# What PostgreSQL's websearch parser skips where it expects a word (tsquery operators), and
# what ends a word besides a space.
_SKIPPED = frozenset("!&|()<:")
_ENDS_WORD = _SKIPPED | {'"'}


def _phrase(words):
    """
    Words to find in order, as PostgreSQL reads them: stop words at either end dropped, each
    one inside standing for any stop word in its place ("abuse of children" finds "abuse of
    children" and "abuse the children").
    """
    while words and is_stop_word(words[0]):
        words = words[1:]
    while words and is_stop_word(words[-1]):
        words = words[:-1]
    return [STOP_MARK if is_stop_word(word) else word for word in words]


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
            words = _phrase(words_of(text[at + 1 : closing]))
            at = closing + 1
        else:
            end = at
            while end < length and not text[end].isspace() and text[end] not in _ENDS_WORD:
                end += 1
            words = _phrase(words_of(text[at:end]))
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
    # The expression is a parameter; FTS5 reads it, made of quoted words only (`Term.fts5`).
    sql = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s"  # noqa: S608
    return RawSQL(sql, [expression])  # noqa: S611


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
