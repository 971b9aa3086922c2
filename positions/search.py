"""
Full-text search over statements: the one place where the database vendor matters.

Words, not phrases, match, and the same way on both databases: the reader's query is read
as web search syntax (all words must match, "a quoted phrase", `or`, `-word`), words are
stemmed ("protect" finds "protected"), accents and case are ignored ("Velazquez" finds
"Velázquez") and stop words ("the", "of") are left out.

- On PostgreSQL, `websearch_to_tsquery` and `to_tsvector` under the `positions_english`
  configuration (english with `unaccent` before the stemmer, migration 0023), backed by the
  expression GIN index built from exactly the expression below (so the planner can use it).
- On SQLite, the FTS5 table of `positions.sqlite_fts`, with the porter stemmer over unicode61
  without diacritics, and the query read by the same rules (its docstring lists the few
  places where the two differ).

Results are not ranked on either database: the statement list keeps its own order (newest
first, or the reader's sort), so both databases list the same statements in the same order.

Actor names and aliases are matched by substring on both, without case or accents (the
stored folded copies, `positions.folding`), so "Cisco" finds Cisco's statements even when
the summary calls it "the company".
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

from . import sqlite_fts
from .folding import fold
from .models import ActorIdentifier, Signatory, Statement

# english with unaccent (migration 0023); the GIN index is built under this name.
SEARCH_CONFIG = "positions_english"
SEARCH_INDEX_NAME = "statement_search_idx"
# Longer input is refused by the search form: nobody types 200 characters into a search box.
MAX_SEARCH_LENGTH = 200


def statement_search_vector():
    """The indexed expression; migration 0023 builds its GIN index from a copy of it."""
    return SearchVector("summary", "quote", config=SEARCH_CONFIG)


def uses_postgres_text_search():
    """PostgreSQL's text search; otherwise SQLite's FTS5 (`positions.sqlite_fts`)."""
    return connection.vendor == "postgresql"


def search_statements(statements, text):
    """Narrow a Statement queryset to those matching `text` (summary, quote, actor names)."""
    # The search form refuses NUL characters; PostgreSQL cannot take them from other callers.
    text = " ".join(text.replace("\x00", " ").split())
    if not text:
        return statements
    folded = fold(text)
    by_actor = Signatory.objects.filter(
        Q(actor__folded_name__contains=folded) | Q(actor__folded_aliases__contains=folded)
    ).values("statement_id")
    if uses_postgres_text_search():
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # A subquery of its own, so the planner answers it from the GIN index.
        in_text = Statement.objects.annotate(search_document=statement_search_vector()).filter(
            search_document=query
        )
    else:
        matching = sqlite_fts.statements_matching(text)
        if matching is None:  # only stop words or punctuation: no text matches, as on PostgreSQL
            return statements.filter(pk__in=by_actor)
        in_text = Statement.objects.filter(matching)
    return statements.filter(Q(pk__in=in_text.values("pk")) | Q(pk__in=by_actor))


def actor_search(text):
    """
    A Q for actors whose name or an alias contains `text` without regard to case or accents
    ("velazquez" finds "Velázquez", from the stored folded copies), or that hold `text` as
    an identifier (`W000779`, `Q42`, or `bioguide:W000779`).
    """
    text = " ".join(text.split())
    folded = fold(text)
    scheme, colon, identifier = text.partition(":")
    identifiers = ActorIdentifier.objects.filter(identifier=text)
    if colon and identifier.strip():
        identifiers = (
            ActorIdentifier.objects.filter(
                scheme=scheme.strip().lower(), identifier=identifier.strip()
            )
            | identifiers
        )
    return (
        Q(folded_name__contains=folded)
        | Q(folded_aliases__contains=folded)
        | Q(pk__in=identifiers.values("actor_id"))
    )
