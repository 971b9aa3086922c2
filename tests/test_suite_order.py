"""The order the suite runs its transactional tests in (tests/conftest.py)."""

from tests.conftest import is_transactional, restores_serialized_database


def test_no_test_restores_the_serialized_database_after_a_flush_that_makes_content_types(request):
    """A transactional test without `serialized_rollback` ends with a flush that makes the
    content types again under new ids; a restore of the serialized database after it fails on
    their unique names. This looks at the order of every test collected in this run."""
    flushed_by = None
    for item in request.session.items:
        if restores_serialized_database(item):
            assert flushed_by is None, f"{item.nodeid} runs after {flushed_by}"
        elif is_transactional(item):
            flushed_by = item.nodeid
