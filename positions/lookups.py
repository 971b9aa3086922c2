"""
`any_of`: `field IN (...)` for a list of values a query was given (the shown rows' ids, an
import's batch), written `field = ANY(%s)` on PostgreSQL: one array parameter. With an IN
list, psycopg splits the text of every such query at each placeholder (long queries are not
cached), and Django prepares each value on its own: on a board, loading the hundred shown
rows by their ids cost more in that than the rows cost to read.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import F
from django.db.models.lookups import In


class AnyOf(In):
    """`In`, with one array parameter on PostgreSQL (SQLite: the IN list, unchanged)."""

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet  # As `In` does: no query runs for an empty list.
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


def any_of(field, values):
    """A filter, `queryset.filter(any_of("actor_id", ids))`: `field` is one of `values`."""
    return AnyOf(F(field), list(values))
