"""The admin's statement search (positions/admin_search.py): Django's fields, from indexes."""

import pytest

from tests.admin_builders import admin_url, staff_in, use_test_settings
from tests.factories import (
    ActorFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(client, settings):
    use_test_settings(settings)
    client.force_login(staff_in("Editors"))

    def run(term):
        response = client.get(admin_url("statement"), {"q": term})
        assert response.status_code == 200
        pks = [obj.pk for obj in response.context["cl"].result_list]
        assert len(pks) == len(set(pks)), "a statement listed twice"
        return set(pks)

    return run


def test_each_field_is_searched_by_case_insensitive_substring(search):
    by_text = StatementFactory(summary="Warns of SURVEILLANCE creep.")
    quoted = StatementFactory(quote="We will not ratify it.")
    by_actor = StatementFactory(actors=[ActorFactory(name="Cisco Systems", aliases="CSCO")])
    on_question = StatementFactory(question=QuestionFactory(title="Senate consent to ratify"))
    cited = StatementFactory(source=SourceFactory(title="Letter from six senators"))
    imported = StatementFactory(import_ref="sheet-7-row-12")
    StatementFactory(summary="Unrelated.")
    assert search("surveillance") == {by_text.pk}
    assert search("not ratif") == {quoted.pk}
    assert search("cisco sys") == {by_actor.pk}
    assert search("csco") == {by_actor.pk}
    assert search("senate consent") == {on_question.pk}
    assert search("six senators") == {cited.pk}
    assert search("sheet-7-row-12") == {imported.pk}


def test_a_joint_statement_is_listed_once(search):
    joint = StatementFactory(
        actors=[ActorFactory(name="Senator Alpha"), ActorFactory(name="Senator Beta")]
    )
    assert search("senator") == {joint.pk}


def test_blank_and_overlong_terms_do_not_break_the_list(search):
    statement = StatementFactory(summary="x" * 10)
    assert search("   ") == {statement.pk}
    assert search("x" * 500) == set()


def test_many_matches_are_filtered_by_subquery_with_the_same_result(search, monkeypatch):
    from positions import admin_search

    matching = [StatementFactory(summary=f"Privacy note {n}.") for n in range(4)]
    StatementFactory(summary="Unrelated.")
    listed_once = search("privacy")
    monkeypatch.setattr(admin_search, "MAX_LISTED_IDS", 2)
    assert search("privacy") == listed_once == {s.pk for s in matching}
