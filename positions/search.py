"""
Full-text search over statements: the one place where the database vendor matters.

On PostgreSQL a statement's summary and quote are matched with `to_tsvector` under an
explicit text-search configuration, backed by the expression GIN index that migration
0003 creates with exactly the expression below (so the planner can use it). SQLite has no
such search: there a case-insensitive substring match over the same fields does the job.
Actor names and aliases are matched by substring on both, without case or accents (the
stored folded copies, `positions.folding`), so "Cisco" finds Cisco's statements even when
the summary calls it "the company".
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

from .folding import fold
from .models import ActorIdentifier, Signatory, Statement

SEARCH_CONFIG = "english"
SEARCH_INDEX_NAME = "statement_search_idx"
# Longer input is refused by the search form: nobody types 200 characters into a search box.
MAX_SEARCH_LENGTH = 200


def statement_search_vector():
    """The indexed expression; migration 0003 builds its GIN index from this function."""
    return SearchVector("summary", "quote", config=SEARCH_CONFIG)


def uses_full_text_search():
    return connection.vendor == "postgresql"


def search_statements(statements, text):
    """Narrow a Statement queryset to those matching `text` (summary, quote, actor names)."""
    text = " ".join(text.split())
    if not text:
        return statements
    folded = fold(text)
    by_actor = Signatory.objects.filter(
        Q(actor__folded_name__contains=folded) | Q(actor__folded_aliases__contains=folded)
    ).values("statement_id")
    if uses_full_text_search():
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # A subquery of its own, so the planner answers it from the GIN index.
        in_text = Statement.objects.annotate(search_document=statement_search_vector()).filter(
            search_document=query
        )
    else:
        in_text = Statement.objects.filter(Q(summary__icontains=text) | Q(quote__icontains=text))
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
