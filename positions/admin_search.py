"""
The admin's statement search, fast at a million statements.

Django's admin search ORs `icontains` over every search field, across joins: PostgreSQL can
use no index for that and reads every statement with its signatories and source (seconds
at a million). Here each field is searched on its own, each from an index (trigram indexes
for the free text, migration 0006), and the matching ids are united. Same fields, same
case-insensitive substring match as Django's search; the import reference must match whole.
"""

from django.db.models import Q

from .models import Signatory, Statement

# Longer input is cut: nobody types 200 characters into a search box.
MAX_SEARCH_LENGTH = 200
# Up to this many matches, the search runs once and its ids serve the count and the page;
# beyond, the list filters by the search as a subquery (run for the count and the page).
MAX_LISTED_IDS = 5000


def matching_statement_ids(term):
    """A subquery of the ids of statements whose text, signatories, question or source match."""
    parts = [
        Statement.objects.filter(summary__icontains=term),
        Statement.objects.filter(quote__icontains=term),
        Statement.objects.filter(import_ref=term),
        Statement.objects.filter(question__title__icontains=term),
        Statement.objects.filter(source__title__icontains=term),
    ]
    ids = [part.order_by().values("pk") for part in parts]
    by_actor = Signatory.objects.filter(
        Q(actor__name__icontains=term) | Q(actor__aliases__icontains=term)
    )
    ids.append(by_actor.order_by().values("statement_id"))
    return ids[0].union(*ids[1:])


class StatementSearchMixin:
    """For `StatementAdmin`: its search box, answered from indexes."""

    def get_search_results(self, request, queryset, search_term):
        term = " ".join(search_term.split())[:MAX_SEARCH_LENGTH]
        if not term:
            return queryset, False
        matches = matching_statement_ids(term)
        ids = [row["pk"] for row in matches[: MAX_LISTED_IDS + 1]]
        if len(ids) <= MAX_LISTED_IDS:
            return queryset.filter(pk__in=ids), False
        return queryset.filter(pk__in=matches), False
