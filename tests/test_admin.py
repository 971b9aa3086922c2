"""
The editors' admin: every page loads for an editor, in a number of queries that does not grow
with the data; search, filters and autocomplete answer.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from positions.models import (
    ActorIdentifier,
    ActorKind,
    Stance,
    StatementStatus,
)
from tests.admin_builders import admin_url, staff_in, use_test_settings
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    MembershipFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "actor",
    "actoridentifier",
    "membership",
    "topic",
    "question",
    "source",
    "condition",
    "statement",
]


@pytest.fixture(autouse=True)
def _admin_test_settings(settings):
    use_test_settings(settings)


@pytest.fixture
def editor():
    return staff_in("Editors")


def populate(scale):
    """
    The records every page of the admin shows, plus `scale` times a bundle of other records.

    The records shown have `scale` revisions each. The bundle has 10 actors (with
    identifiers, parents and countries), 3 topics of 2 questions, 5 sources, 3 conditions and
    10 statements of 2 signatories each: at scale 10, the statement list shows a full page of
    50 rows where scale 1 shows 11.
    """
    topic = TopicFactory(title="UN Convention against Cybercrime", slug="uncc")
    adoption = QuestionFactory(topic=topic, title="Adoption", slug="adoption")
    QuestionFactory(topic=topic, title="Ratification", slug="ratification")
    administration = ActorFactory(name="US administration", kind=ActorKind.GOVERNMENT)
    justice = ActorFactory(name="US Department of Justice", parent=administration, country="US")
    ActorIdentifier.objects.create(actor=justice, scheme="wikidata", identifier="Q1553390")
    membership = MembershipFactory(member=justice, organization=administration, role="part")
    condition = ConditionFactory(text="Human-rights safeguards")
    statement = StatementFactory(
        question=adoption,
        actors=[administration, justice],
        stance=Stance.CONDITIONAL,
        conditions=[condition],
        summary="Backs adoption, conditions ratification.",
        status=StatementStatus.DRAFT,
    )
    # Revisions, so that the history pages show `scale` + 1 versions with their diffs.
    for revision in range(scale):
        statement.summary = f"Backs adoption, conditions ratification (revision {revision})."
        statement.save()
        justice.description = f"A federal department (revision {revision})."
        justice.save()
    for n in range(scale):
        parent = ActorFactory(country="FR")
        actors = [parent] + [
            ActorFactory(parent=parent, kind=ActorKind.LEGISLATOR, country="US") for _ in range(9)
        ]
        for i, actor in enumerate(actors):
            ActorIdentifier.objects.create(
                actor=actor, scheme="bioguide", identifier=f"B{n:03}{i:03}"
            )
        questions = [QuestionFactory(topic=t) for t in [TopicFactory() for _ in range(3)] * 2]
        sources = [SourceFactory() for _ in range(5)]
        conditions = [ConditionFactory() for _ in range(3)]
        for i in range(10):
            StatementFactory(
                question=questions[i % len(questions)],
                actors=[actors[i], actors[(i + 1) % 10]],
                source=sources[i % 5],
                stance=Stance.CONDITIONAL if i % 2 else Stance.OPPOSES,
                conditions=conditions[: 1 + i % 3] if i % 2 else [],
                status=StatementStatus.DRAFT if i % 3 == 0 else StatementStatus.PUBLISHED,
                date=datetime.date(2024, 1 + i, 1),
            )
    return {
        "actor": justice,
        "actoridentifier": justice.identifiers.get(),
        "membership": membership,
        "topic": topic,
        "question": adoption,
        "source": statement.source,
        "condition": condition,
        "statement": statement,
    }


# Queries per page for an editor, the same at both scales. Every page starts with 4: the
# session, the user, and the user's own and group permissions. A list adds its count, its
# page and its filters' choices; a change page its object, its inlines and the selected
# values of its autocomplete widgets (one per widget with a value: the statement page has
# question, conditions, source, and one actor per signatory row); a history page its object,
# its count, its page of versions and the content type that links the users.
EXPECTED_QUERIES = {
    ("actor", "changelist"): 7,
    ("actor", "add"): 5,
    # + its memberships inline, the organisation of its one membership (autocomplete), and
    # the actors that may be the same (the import's duplicate check, one query).
    ("actor", "change"): 11,
    ("actor", "history"): 8,
    ("actoridentifier", "changelist"): 7,
    ("actoridentifier", "add"): 5,
    ("actoridentifier", "change"): 7,
    ("actoridentifier", "history"): 8,
    ("membership", "changelist"): 7,
    ("membership", "add"): 5,
    ("membership", "change"): 8,  # two autocomplete values: member and organisation
    ("membership", "history"): 8,
    ("topic", "changelist"): 7,
    ("topic", "add"): 5,
    ("topic", "change"): 8,
    ("topic", "history"): 8,
    ("question", "changelist"): 8,
    ("question", "add"): 5,
    ("question", "change"): 7,
    ("question", "history"): 8,
    ("source", "changelist"): 8,
    ("source", "add"): 5,
    ("source", "change"): 6,
    ("source", "history"): 8,
    ("condition", "changelist"): 7,
    ("condition", "add"): 5,
    # + its status history (the inline's rows)
    ("condition", "change"): 7,
    ("condition", "history"): 8,
    # + the prefetched signatories and the topic filter. No date hierarchy (its first and
    # last date, its years) and no question list until a topic is chosen: a million rows
    # and hundreds of questions made them slow.
    ("statement", "changelist"): 8,
    ("statement", "add"): 5,
    # + the stored status (the editorial rules), the signatories, and 5 autocomplete values.
    ("statement", "change"): 14,
    # + the signatory history and the conditions of every version on the page (one query).
    ("statement", "history"): 10,
}


@pytest.mark.parametrize("scale", [1, 10], ids=["small", "large"])
def test_it_loads_every_admin_page_for_an_editor_in_pinned_queries(
    client, editor, scale, django_assert_num_queries
):
    targets = populate(scale)
    client.force_login(editor)
    for model in MODELS:
        target = targets[model]
        for view, args in [
            ("changelist", ()),
            ("add", ()),
            ("change", (target.pk,)),
            ("history", (target.pk,)),
        ]:
            # Content types are cached per process: start cold, so counts don't depend on order.
            ContentType.objects.clear_cache()
            with django_assert_num_queries(EXPECTED_QUERIES[model, view]):
                response = client.get(admin_url(model, view, *args))
            assert response.status_code == 200, (model, view)


def test_it_shows_a_full_page_of_statements_at_the_large_scale(client, editor):
    populate(10)
    client.force_login(editor)
    response = client.get(admin_url("statement"))
    assert len(response.context["cl"].result_list) == 50


@pytest.mark.parametrize("scale", [1, 10], ids=["small", "large"])
def test_the_admin_index_loads_in_pinned_queries(client, editor, scale, django_assert_num_queries):
    populate(scale)
    client.force_login(editor)
    # Session, user, permissions (2), the drafts waiting for review, the editor's recent actions.
    with django_assert_num_queries(6):
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200


def result_pks(response):
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_it_finds_statements_by_summary_signatory_and_source(client, editor):
    cisco = ActorFactory(name="Cisco Systems")
    by_cisco = StatementFactory(actors=[cisco], summary="Says the treaty lacks safeguards.")
    cited = StatementFactory(source=SourceFactory(title="Senators warn of surveillance"))
    StatementFactory(summary="Unrelated.")
    client.force_login(editor)
    url = admin_url("statement")
    assert result_pks(client.get(url, {"q": "lacks safeguards"})) == {by_cisco.pk}
    assert result_pks(client.get(url, {"q": "Cisco"})) == {by_cisco.pk}
    assert result_pks(client.get(url, {"q": "surveillance"})) == {cited.pk}


def test_it_finds_actors_by_alias_and_identifier(client, editor):
    doj = ActorFactory(name="US Department of Justice", aliases="DoJ\nJustice Department")
    ActorIdentifier.objects.create(actor=doj, scheme="wikidata", identifier="Q1553390")
    ActorFactory(name="Cisco")
    client.force_login(editor)
    assert result_pks(client.get(admin_url("actor"), {"q": "Justice Department"})) == {doj.pk}
    assert result_pks(client.get(admin_url("actor"), {"q": "Q1553390"})) == {doj.pk}


def test_it_filters_statements_by_status_stance_source_and_actor_kind(client, editor):
    draft = StatementFactory(status=StatementStatus.DRAFT, source=None)
    opposed = StatementFactory(
        stance=Stance.OPPOSES, actors=[ActorFactory(kind=ActorKind.LEGISLATOR)]
    )
    client.force_login(editor)
    url = admin_url("statement")
    assert result_pks(client.get(url, {"status__exact": "draft"})) == {draft.pk}
    assert result_pks(client.get(url, {"stance__exact": "opposes"})) == {opposed.pk}
    assert result_pks(client.get(url, {"source__isempty": "1"})) == {draft.pk}
    assert result_pks(client.get(url, {"signatures__actor__kind__exact": "legislator"})) == {
        opposed.pk
    }


def test_the_links_from_a_record_to_its_statements_filter_the_list(client, editor):
    actor, source, condition = ActorFactory(), SourceFactory(), ConditionFactory()
    statement = StatementFactory(
        actors=[actor], source=source, stance=Stance.CONDITIONAL, conditions=[condition]
    )
    StatementFactory()
    client.force_login(editor)
    for model, record in [("actor", actor), ("source", source), ("condition", condition)]:
        page = client.get(admin_url(model, "change", record.pk))
        lookup = {
            "actor": "signatures__actor__id__exact",
            "source": "source__id__exact",
            "condition": "conditions__id__exact",
        }[model]
        assert f"?{lookup}={record.pk}" in page.content.decode()
        assert result_pks(client.get(admin_url("statement"), {lookup: record.pk})) == {statement.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"status__exact": "bogus"},
        {"date__year": "notayear"},
        {"no_such_field": "1"},
        {"o": "99"},
        {"p": "-3"},
        {"q": "\x00<script>"},
        {"source__isempty": "maybe"},
    ],
)
def test_junk_query_parameters_never_give_a_server_error(client, editor, params):
    StatementFactory()
    client.force_login(editor)
    response = client.get(admin_url("statement"), params)
    assert response.status_code in {200, 302}


@pytest.mark.parametrize(
    ("model_name", "field_name", "term", "expected"),
    [
        ("signatory", "actor", "Wyden", "Ron Wyden"),
        ("actor", "parent", "Wyden", "Ron Wyden"),
        ("statement", "question", "Ratif", "Ratification by the United States"),
        ("statement", "source", "warn", "Senators warn"),
        ("statement", "conditions", "safeguards", "Human-rights safeguards"),
        ("question", "topic", "Cybercrime", "UN Convention against Cybercrime"),
        ("actoridentifier", "actor", "Wyden", "Ron Wyden"),
    ],
)
def test_autocomplete_endpoints_answer_editors(
    client, editor, model_name, field_name, term, expected, django_assert_num_queries
):
    ActorFactory(name="Ron Wyden")
    ActorFactory(name="Cisco")
    QuestionFactory(
        title="Ratification by the United States",
        topic=TopicFactory(title="UN Convention against Cybercrime"),
    )
    SourceFactory(title="Senators warn")
    ConditionFactory(text="Human-rights safeguards")
    client.force_login(editor)
    params = {
        "app_label": "positions",
        "model_name": model_name,
        "field_name": field_name,
        "term": term,
    }
    # Session, user, permissions (2), the page of results and its count.
    with django_assert_num_queries(6):
        response = client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [expected]


def test_autocomplete_refuses_fields_without_autocomplete(client, editor):
    client.force_login(editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "positions", "model_name": "statement", "field_name": "created_by"},
    )
    assert response.status_code == 403


def test_the_admin_index_shows_how_many_drafts_wait_for_review(client, editor):
    StatementFactory.create_batch(2, status=StatementStatus.DRAFT)
    StatementFactory()
    client.force_login(editor)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong>2</strong> draft statements waiting for review" in content
    assert admin_url("statement") + "?status__exact=draft" in content


def test_view_on_site_is_offered_for_public_statements_only(client, editor):
    draft = StatementFactory(status=StatementStatus.DRAFT)
    published = StatementFactory()
    client.force_login(editor)
    assert not client.get(admin_url("statement", "change", draft.pk)).context["has_absolute_url"]
    page = client.get(admin_url("statement", "change", published.pk))
    assert page.context["has_absolute_url"]


@pytest.mark.parametrize("model", MODELS)
def test_junk_object_ids_never_give_a_server_error(client, model):
    """Ids in admin URLs are free text: a wrong one is a 404 or a redirect, not a 500."""
    target = populate(1)[model]
    client.raise_request_exception = False
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in ["abc/history/", "999999/history/", "abc/history/1/", "{pk}/history/abc/"]:
        response = client.get(admin_url(model) + path.format(pk=target.pk))
        assert response.status_code == 404, path
    assert client.get(admin_url(model) + "abc/change/").status_code == 302


def test_the_statement_list_filters_questions_of_the_chosen_topic_only(admin_client):
    chosen = QuestionFactory(title="Chosen question")
    sibling = QuestionFactory(title="Its sibling", topic=chosen.topic)
    other = QuestionFactory(title="Elsewhere")
    url = "/admin/positions/statement/"

    def question_choices(query):
        response = admin_client.get(url + query)
        assert response.status_code == 200
        # A filter with nothing to choose from is not shown at all.
        specs = response.context["cl"].filter_specs
        spec = next((s for s in specs if getattr(s, "field_path", None) == "question"), None)
        return [label for _pk, label in spec.lookup_choices] if spec else []

    assert question_choices("") == []
    topic = f"?question__topic__id__exact={chosen.topic_id}"
    assert sorted(question_choices(topic)) == sorted([str(chosen), str(sibling)])
    # A question chosen without its topic: the questions of its topic.
    assert sorted(question_choices(f"?question__id__exact={chosen.pk}")) == sorted(
        [str(chosen), str(sibling)]
    )
    assert other.topic_id != chosen.topic_id
    # Junk is the admin's usual "?e=1" (the list, unfiltered, with a notice), not an error.
    assert admin_client.get(url + "?question__topic__id__exact=junk").status_code == 302


def test_the_question_list_is_by_topic_title_then_display_order(client, editor):
    """The admin asks for title order itself: the model's default order is by topic id."""
    treaty = TopicFactory(title="UN Convention against Cybercrime")
    bill = TopicFactory(title="Cyber Security Bill")
    ratification = QuestionFactory(topic=treaty, display_order=2)
    adoption = QuestionFactory(topic=treaty, display_order=1)
    second_reading = QuestionFactory(topic=bill)
    client.force_login(editor)
    response = client.get(admin_url("question"))
    assert list(response.context["cl"].result_list) == [second_reading, adoption, ratification]
