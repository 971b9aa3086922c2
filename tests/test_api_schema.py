"""
A schema-driven fuzz run of the API: schemathesis generates requests from the generated
OpenAPI schema and sends them through the WSGI application (no network, no server), on a
small record with drafts. Every answer must be no 5xx, a documented status with the
documented content type, and valid against the response schema. Bounded for CI: a few
examples per operation (FUZZ_EXAMPLES, raised by HYPOTHESIS_PROFILE=thorough).
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from positions import writes
from positions.models import ActKind, ActorKind
from tests.builders import build_record
from tests.conftest import FUZZ_EXAMPLES
from tests.factories import ActorFactory, FormalActFactory, MembershipFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_schema(db, settings):
    settings.API_RATE_LIMIT = 0  # the run sends hundreds of requests from one address
    settings.ALLOWED_HOSTS = ["localhost"]  # schemathesis' WSGI client sends this host
    record = build_record()
    institutions_and_acts(record)
    # Each WSGI request would end by closing the database connection, and with it the test's
    # transaction (PostgreSQL); Django's own test client holds it open the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def institutions_and_acts(record):
    """A deciding body with a member, and formal acts, so those shapes are fuzzed full."""
    question = record.ratification
    senate = ActorFactory(slug="senate", kind=ActorKind.LEGISLATIVE_GROUP)
    party = ActorFactory(slug="party", kind=ActorKind.LEGISLATIVE_GROUP)
    with writes.writing():
        question.deciding_body, question.seats = senate, 100
        writes.save(question)
    MembershipFactory(member=ActorFactory(slug="senator"), organization=senate, on_behalf_of=party)
    state = ActorFactory(slug="state", kind=ActorKind.STATE, country="FR")
    signature = FormalActFactory(actor=state, topic=question.topic, kind=ActKind.SIGNATURE)
    FormalActFactory(
        actor=state, topic=question.topic, kind=ActKind.RESERVATION, text="Article 5 aside."
    )
    FormalActFactory(
        actor=state, topic=question.topic, kind=ActKind.OBJECTION, text="No.", regarding=signature
    )


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_valid_against_the_schema(api_schema, mode):
    # schemathesis' own pytest plugin (`schema.parametrize()`) does not run under pytest 9
    # yet: each operation gets a Hypothesis test of its own here instead.
    found = operations(api_schema)
    assert len(found) == 15
    statuses = []
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            statuses.append(case.call_and_validate(checks=CHECKS).status_code)

        run()
    # Each operation was really called, several times; the negative run was refused.
    assert len(statuses) >= 3 * len(found)
    if mode == GenerationMode.NEGATIVE:
        assert 400 in statuses
    else:
        assert 200 in statuses
