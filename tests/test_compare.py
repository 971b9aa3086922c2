"""
Comparing actors: two to five side by side, question by question, from the same positions
as the boards (stances.positions_of_actors), at one stable address; every wrong address gets
the form back with what was wrong, never a 500.
"""

import datetime

import pytest

from positions import stances
from positions.models import Stance, StatementStatus
from tests.factories import (
    ActorFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def record():
    """
    Two topics, Alpha (q1, q2, q3) and Beta (q4); Alice and Bob have positions (hand-listed
    in the tests below), Carol and Dave none, Hidden is named only by a draft.
    """
    alpha = TopicFactory(title="Alpha", slug="alpha")
    beta = TopicFactory(title="Beta", slug="beta")
    q = {
        "q1": QuestionFactory(topic=alpha, title="First", slug="first", display_order=1),
        "q2": QuestionFactory(topic=alpha, title="Second", slug="second", display_order=2),
        "q3": QuestionFactory(topic=alpha, title="Nobody's", slug="nobody", display_order=3),
        "q4": QuestionFactory(topic=beta, title="Fourth", slug="fourth", display_order=1),
    }
    a = {
        slug: ActorFactory(name=slug.capitalize(), slug=slug)
        for slug in ("alice", "bob", "carol", "dave", "hidden")
    }
    letter = SourceFactory(title="The joint letter", url="https://letters.example.org/joint")
    s = {
        "alice_q1_early": StatementFactory(
            question=q["q1"], actors=[a["alice"]], stance=Stance.SUPPORTS, date=D(2024, 1, 10)
        ),
        "alice_q1": StatementFactory(
            question=q["q1"], actors=[a["alice"]], stance=Stance.OPPOSES, date=D(2024, 6, 1)
        ),
        "bob_q1": StatementFactory(
            question=q["q1"], actors=[a["bob"]], stance=Stance.OPPOSES, date=D(2024, 3, 1)
        ),
        "joint_q2": StatementFactory(
            question=q["q2"],
            actors=[a["alice"], a["carol"]],
            stance=Stance.SUPPORTS,
            date=D(2024, 5, 5),
            source=letter,
        ),
        "bob_q2": StatementFactory(
            question=q["q2"], actors=[a["bob"]], stance=Stance.UNDECIDED, date=D(2024, 1, 20)
        ),
        "alice_q4": StatementFactory(
            question=q["q4"], actors=[a["alice"]], stance=Stance.CONDITIONAL, date=D(2024, 7, 1)
        ),
        "bob_q4_retracted": StatementFactory(
            question=q["q4"],
            actors=[a["bob"]],
            stance=Stance.SUPPORTS,
            date=D(2024, 7, 2),
            status=StatementStatus.RETRACTED,
        ),
        "hidden_draft": StatementFactory(
            question=q["q3"], actors=[a["hidden"]], status=StatementStatus.DRAFT
        ),
    }
    return q, a, s


def table(response):
    """The comparison as plain data: {topic: [(question, [(stance, statement) or None])]}."""
    return {
        topic.title: [
            (
                row.question.title,
                [cell and (cell.position_stance, cell.statement_id) for cell in row.cells],
            )
            for row in rows
        ]
        for topic, rows in response.context["topics"]
    }


def test_it_puts_the_actors_side_by_side_question_by_question(client, record):
    q, a, s = record
    # Carol's position on q2 is the joint letter she signed with Alice.
    response = client.get("/compare/?actors=alice,bob")
    assert response.status_code == 200
    assert table(response) == {
        "Alpha": [
            ("First", [("opposes", s["alice_q1"].pk), ("opposes", s["bob_q1"].pk)]),
            ("Second", [("supports", s["joint_q2"].pk), ("undecided", s["bob_q2"].pk)]),
        ],
        # Bob's only statement on q4 is retracted: no known position.
        "Beta": [("Fourth", [("conditional", s["alice_q4"].pk), None])],
    }
    assert [actor.slug for actor in response.context["actors"]] == ["alice", "bob"]
    assert response.context["same_count"] == 1  # both oppose q1
    page = response.content.decode()
    assert "Nobody&#x27;s" not in page and "Nobody's" not in page  # no position: no row
    assert f'href="/statements/{s["joint_q2"].pk}/"' in page
    assert 'href="https://letters.example.org/joint"' in page  # the source itself
    assert "No known position" in page
    assert '<link rel="canonical" href="http://testserver/compare/?actors=alice,bob">' in page


@pytest.mark.parametrize("as_of", [None, D(2024, 2, 1), D(2024, 5, 5)])
def test_it_agrees_with_the_boards_rule(client, record, as_of):
    """Each cell is the actor's row of current_positions, the boards' one rule."""
    query = "/compare/?actors=alice,carol,bob" + (f"&as_of={as_of}" if as_of else "")
    response = client.get(query)
    assert response.status_code == 200
    assert table_rows(response)
    for _topic, rows in response.context["topics"]:
        for row in rows:
            on_board = {
                p.actor_id: p.statement_id for p in stances.current_positions(row.question, as_of)
            }
            for actor, cell in zip(response.context["actors"], row.cells, strict=True):
                assert (cell.statement_id if cell else None) == on_board.get(actor.pk)


def test_the_columns_follow_the_order_of_the_address(client, record):
    response = client.get("/compare/?actors=bob,alice")
    assert response.status_code == 200
    assert [actor.slug for actor in response.context["actors"]] == ["bob", "alice"]
    assert table(response)["Beta"] == [
        ("Fourth", [None, ("conditional", record[2]["alice_q4"].pk)])
    ]


def test_as_of_a_day_it_shows_the_positions_of_that_day(client, record):
    _, _, s = record
    response = client.get("/compare/?actors=alice,bob&as_of=2024-02-01")
    assert table(response) == {
        "Alpha": [
            ("First", [("supports", s["alice_q1_early"].pk), None]),
            ("Second", [None, ("undecided", s["bob_q2"].pk)]),
        ]
    }
    assert "As of 1 February 2024" in response.content.decode()


def test_with_no_position_among_them_it_says_so(client, record):
    response = client.get("/compare/?actors=dave,bob&as_of=2024-01-01")
    assert response.status_code == 200
    assert response.context["topics"] == []
    assert "None of these actors has a known position as of that date" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "asked, canonical",
    [
        ("actors=alice&actors=bob", "actors=alice,bob"),
        ("actors=alice,bob,alice", "actors=alice,bob"),
        ("actors=+alice+,+bob", "actors=alice,bob"),
        ("actors=alice%2Cbob", "actors=alice,bob"),
        ("actors=alice,,bob,", "actors=alice,bob"),
        ("actors=bob&actors=alice&utm_source=x", "actors=bob,alice"),
        ("as_of=2024-02-01&actors=alice,bob", "actors=alice,bob&as_of=2024-02-01"),
        ("actors=alice&actors=bob&q=car&do=compare", "actors=alice,bob"),
    ],
)
def test_one_address_per_comparison(client, record, asked, canonical):
    response = client.get(f"/compare/?{asked}")
    assert response.status_code == 302
    assert response["Location"] == f"/compare/?{canonical}"
    assert client.get(response["Location"]).status_code == 200


def test_without_two_actors_it_is_the_form_that_builds_a_comparison(client, record):
    response = client.get("/compare/")
    assert response.status_code == 200
    assert "Choose two to 5 actors" in response.content.decode()
    response = client.get("/compare/?actors=alice")
    assert response.status_code == 200
    assert not response.context["comparing"]
    assert 'name="actors" value="alice" id="chosen-alice" checked' in response.content.decode()


def test_a_search_offers_actors_to_tick_and_ticking_them_compares(client, record):
    response = client.get("/compare/?actors=alice&q=BO&do=search")
    assert [actor.slug for actor in response.context["candidates"]] == ["bob"]
    page = response.content.decode()
    assert 'name="actors" value="alice" id="chosen-alice" checked' in page
    assert 'name="actors" value="bob" id="found-bob">' in page
    # A search never offers those already chosen, nor actors only drafts name.
    response = client.get("/compare/?actors=bob&q=d")
    assert [actor.slug for actor in response.context["candidates"]] == ["dave"]
    response = client.get("/compare/?actors=alice&actors=bob&q=BO&do=compare")
    assert response["Location"] == "/compare/?actors=alice,bob"


@pytest.mark.parametrize(
    "asked, message",
    [
        ("actors=alice,bob,carol,dave,e1,e2", "No actor has the address “e1”."),
        ("actors=alice,nobody-here", "No actor has the address “nobody-here”."),
        # A draft-only actor is as unknown as one that does not exist.
        ("actors=alice,hidden", "No actor has the address “hidden”."),
        ("actors=alice,b%C3%B6b", "“böb” is not the address of an actor"),
        ("actors=alice,%3Cscript%3E", "“<script>” is not the address of an actor"),
        ("actors=" + ",".join(f"a{n}" for n in range(30)), "That address names 30 actors"),
        ("actors=alice&do=compare", "Tick at least 2 actors to compare them."),
    ],
)
def test_a_wrong_address_gets_the_form_and_a_clear_message(client, record, asked, message):
    response = client.get(f"/compare/?{asked}")
    assert response.status_code == 400
    assert message in " ".join(response.context["errors"])
    assert not response.context["comparing"]
    assert 'class="notice notice--error" role="alert"' in response.content.decode()


def test_more_than_five_actors_are_refused_with_the_boxes_to_untick(client, record):
    extra = [ActorFactory(slug=f"extra-{n}") for n in range(2)]
    slugs = ["alice", "bob", "carol", "dave", *(actor.slug for actor in extra)]
    response = client.get("/compare/?actors=" + ",".join(slugs))
    assert response.status_code == 400
    assert "You chose 6 actors: a comparison has at most 5." in response.context["errors"][0]
    page = response.content.decode()
    assert all(f'value="{slug}" id="chosen-{slug}" checked' in page for slug in slugs)


def test_staff_may_compare_an_actor_only_drafts_name(client, record):
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/compare/?actors=alice,hidden")
    assert response.status_code == 200
    # The draft still gives no position.
    assert [row.question.slug for row in table_rows(response)] == ["first", "second", "fourth"]


def table_rows(response):
    return [row for _topic, rows in response.context["topics"] for row in rows]


@pytest.mark.parametrize(
    "value",
    [
        "\x00",
        "alice\x00,bob",
        "x" * 5000,
        ",,,,",
        "a," * 400,
        "%",
        "☃,alice",
        "alice;bob",
        "' OR 1=1 --",
        "../../etc/passwd",
    ],
)
def test_junk_never_gives_a_500(client, record, value):
    response = client.get("/compare/", {"actors": value})
    assert response.status_code in (200, 400)
    response = client.get("/compare/", {"actors": "alice,bob", "as_of": value, "q": value})
    assert response.status_code in (200, 400)


def test_a_refused_date_is_reported_and_today_shown(client, record):
    response = client.get("/compare/?actors=alice,bob&as_of=2999-01-01")
    assert response.status_code == 200
    assert "That date is in the future. Showing today instead." in " ".join(
        response.context["notices"]
    )
    assert len(table_rows(response)) == 3


@pytest.mark.parametrize("as_of", ["", "&as_of=2024-06-15"], ids=["today", "as of a day"])
def test_it_runs_two_queries_whatever_the_number_of_positions(
    client, record, django_assert_num_queries, as_of
):
    q, a, _ = record
    url = f"/compare/?actors=alice,bob,carol{as_of}"
    # the compared actors (readers may see), their positions with statements, sources,
    # questions and topics
    with django_assert_num_queries(2):
        small = client.get(url)
    for n in range(40):
        question = QuestionFactory(topic=q["q1"].topic, display_order=10 + n)
        StatementFactory(question=question, actors=[a["alice"], a["bob"]], date=D(2024, 2, 1))
    with django_assert_num_queries(2):
        large = client.get(url)
    assert len(table_rows(large)) == len(table_rows(small)) + 40


def test_the_search_for_one_more_runs_two_queries(client, record, django_assert_num_queries):
    # the chosen actor, the actors found
    with django_assert_num_queries(2):
        client.get("/compare/?actors=alice&q=o")


def test_actor_pages_and_boards_lead_to_it(client, record):
    q, a, _ = record
    page = client.get("/actors/alice/").content.decode()
    assert 'action="/compare/"' in page
    assert '<input type="hidden" name="actors" value="alice">' in page
    board = client.get(q["q1"].get_absolute_url()).content.decode()
    assert '<form method="get" action="/compare/"' in board
    for slug in ("alice", "bob"):
        assert f'name="actors" value="{slug}" id="compare-{slug}">' in board
        assert f'<label for="compare-{slug}">Compare' in board
