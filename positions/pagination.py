"""
A paginator for admin lists of a million rows.

Django's paginator asks the database for an exact `COUNT(*)` on every page view: on
PostgreSQL that reads the whole table (or the whole filtered set), seconds at a million
statements, to print "1,000,000 statements" and the number of the last page. Editors need
neither to the unit. This paginator counts exactly up to `EXACT_UP_TO` rows (a bounded read),
and beyond that uses PostgreSQL's own estimate: `pg_class.reltuples` for an unfiltered list,
the planner's row estimate for a filtered one. The last pages of a huge list may then be off
by a few; the first ones, which editors use, are exact.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Lists with up to this many rows are counted exactly.
EXACT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self):
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        # A bounded exact count first: COUNT(*) over at most EXACT_UP_TO + 1 rows, so a small
        # list costs the one query Django's paginator makes.
        bounded = queryset.order_by()[: EXACT_UP_TO + 1].count()
        if bounded <= EXACT_UP_TO:
            return bounded
        if not queryset.query.where:
            return max(bounded, self._table_estimate(queryset, connection))
        return max(bounded, self._plan_estimate(queryset, connection))

    @staticmethod
    def _table_estimate(queryset, connection):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 (never analysed) or no row: not an estimate.
        return int(row[0]) if row and row[0] and row[0] > 0 else 0

    @staticmethod
    def _plan_estimate(queryset, connection):
        sql, params = queryset.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])
