"""The admin paginator: exact counts for small lists, bounded work for a million rows."""

import pytest
from django.db import connection

from positions import pagination
from positions.models import Stance, Statement
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="estimates come from PostgreSQL's statistics"
)


def test_small_lists_are_counted_exactly_in_one_query(django_assert_num_queries):
    StatementFactory.create_batch(3)
    with django_assert_num_queries(1):
        assert pagination.EstimatedCountPaginator(Statement.objects.all(), 2).count == 3
    filtered = Statement.objects.filter(stance=Stance.OPPOSES)
    assert pagination.EstimatedCountPaginator(filtered, 2).count == 0


@on_postgresql
def test_a_large_unfiltered_list_takes_the_table_estimate(monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
    StatementFactory.create_batch(12)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Statement._meta.db_table}")
    paginator = pagination.EstimatedCountPaginator(Statement.objects.all(), 5)
    assert paginator.count == 12  # reltuples after ANALYZE, not a COUNT(*).
    assert paginator.num_pages == 3


@on_postgresql
def test_a_large_filtered_list_counts_at_most_the_bound_then_estimates(
    monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 5)
    StatementFactory.create_batch(12, stance=Stance.OPPOSES)
    filtered = Statement.objects.filter(stance=Stance.OPPOSES)
    with django_assert_num_queries(2):  # The bounded count, then the planner's estimate.
        count = pagination.EstimatedCountPaginator(filtered, 5).count
    assert count >= 6  # Never less than what was counted.
