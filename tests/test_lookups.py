"""`any_of`: the IN list of a query's given values, one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.lookups import any_of
from positions.models import Actor
from tests.factories import ActorFactory

pytestmark = pytest.mark.django_db


def test_it_finds_the_rows_an_in_list_finds_with_one_parameter_on_postgresql():
    actors = [ActorFactory() for _ in range(5)]
    wanted = {actors[0].pk, actors[3].pk, actors[4].pk, 10**9}
    with CaptureQueriesContext(connection) as queries:
        found = set(Actor.objects.filter(any_of("pk", wanted)).values_list("pk", flat=True))
    assert found == set(Actor.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == wanted - {10**9}
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries.captured_queries[0]["sql"]


def test_an_empty_list_runs_no_query_and_finds_nothing():
    ActorFactory()
    with CaptureQueriesContext(connection) as queries:
        assert list(Actor.objects.filter(any_of("pk", []))) == []
    assert len(queries) == 0
