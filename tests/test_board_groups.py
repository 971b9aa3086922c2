"""
The board split by group (positions/groups.py): stance counts per kind, country, bloc and party
on the as-of date, the board filtered to one group, junk refused with a message, one query per
split whatever the number of actors; and a joint statement shown once with its signatories.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import groups, stances
from positions.models import ActorIdentifier, ActorKind, Stance
from tests.factories import (
    ActorFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = D(2024, 10, 30)
S, C, OPP, U = Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED
EARLY_OCTOBER = D(2024, 10, 1)


def say(question, actors, stance, date=EARLY_OCTOBER):
    return StatementFactory(question=question, actors=actors, stance=stance, date=date)


@pytest.fixture
def world():
    """
    Seven actors with positions on a question, hand-counted below. Blocs on 30 October 2024:
    the EU has France and Germany (Hungary left on 1 October 2024); the G77 has Brazil and
    France (France is in both); the coalition (an NGO) has Access Now. Brazil's party
    membership is not a bloc. Hungary left before the day; Kenya joins after it.
    """
    question = QuestionFactory(title="Adoption")
    eu = ActorFactory(name="European Union", slug="eu", kind=ActorKind.INTERGOVERNMENTAL)
    g77 = ActorFactory(name="Group of 77", slug="g77", kind=ActorKind.INTERGOVERNMENTAL)
    coalition = ActorFactory(name="Rights coalition", slug="coalition", kind=ActorKind.NGO)
    party = ActorFactory(name="A party", slug="a-party", kind=ActorKind.LEGISLATIVE_GROUP)
    state = ActorKind.STATE
    a = {
        "fr": ActorFactory(name="France", slug="fr", kind=state, country="FR"),
        "de": ActorFactory(name="Germany", slug="de", kind=state, country="DE"),
        "hu": ActorFactory(name="Hungary", slug="hu", kind=state, country="HU"),
        "br": ActorFactory(name="Brazil", slug="br", kind=state, country="BR"),
        "ke": ActorFactory(name="Kenya", slug="ke", kind=state, country="KE"),
        "access": ActorFactory(name="Access Now", slug="access", kind=ActorKind.NGO),
        # No country of its own: the area of its membership (Oregon) says the United States.
        "wyden": ActorFactory(name="Ron Wyden", slug="wyden", kind=ActorKind.LEGISLATOR),
    }
    MembershipFactory(member=a["fr"], organization=eu)
    MembershipFactory(member=a["de"], organization=eu, start_date=D(1958, 1, 1))
    MembershipFactory(member=a["hu"], organization=eu, end_date=D(2024, 10, 1))
    MembershipFactory(member=a["fr"], organization=g77)
    MembershipFactory(member=a["br"], organization=g77)
    MembershipFactory(member=a["br"], organization=party)
    MembershipFactory(member=a["ke"], organization=g77, start_date=D(2024, 11, 1))
    MembershipFactory(member=a["access"], organization=coalition)
    senate = ActorFactory(name="Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    MembershipFactory(member=a["wyden"], organization=senate, area="US-OR")
    # France holds two roles in the EU that day: counted once.
    MembershipFactory(member=a["fr"], organization=eu, role="president")

    say(question, [a["fr"]], S)
    say(question, [a["de"]], OPP)
    say(question, [a["hu"]], OPP)
    say(question, [a["br"]], C)
    say(question, [a["ke"]], S)
    say(question, [a["access"]], OPP)
    say(question, [a["wyden"]], U)
    return question, a


def table(split):
    return {row.key: row.counts for row in split.rows}


def counts(supports=0, conditional=0, opposes=0, undecided=0):
    return {S: supports, C: conditional, OPP: opposes, U: undecided}


def split_of(question, by, group=None, as_of=DAY):
    positions = stances.current_positions(question, as_of)
    return groups.split_board(positions, question, by, group, as_of)


def test_the_split_by_kind_counts_each_kind_by_stance(world):
    question, _a = world
    split = split_of(question, "kind")
    assert table(split) == {
        "state": counts(supports=2, conditional=1, opposes=2),
        "ngo": counts(opposes=1),
        "legislator": counts(undecided=1),
    }
    assert [row.name for row in split.rows][0] == "State"


def test_the_split_by_bloc_counts_members_on_the_day_and_an_actor_in_two_blocs_twice(world):
    question, _a = world
    split = split_of(question, "bloc")
    assert table(split) == {
        "eu": counts(supports=1, opposes=1),  # France, Germany; Hungary had left
        "g77": counts(supports=1, conditional=1),  # France, Brazil; Kenya not yet
        "coalition": counts(opposes=1),
        groups.NONE: counts(supports=1, opposes=1, undecided=1),  # Kenya, Hungary, Wyden
    }
    assert split.rows[-1].name == "In no bloc"
    # A month later Kenya is in the G77, and Hungary is still out.
    later = split_of(question, "bloc", as_of=D(2024, 11, 30))
    assert table(later)["g77"] == counts(supports=2, conditional=1)


def test_the_split_by_country_uses_the_country_then_the_area_then_the_iso_identifier(world):
    question, a = world
    ActorIdentifier.objects.create(actor=a["access"], scheme="iso3166", identifier="DE")
    split = split_of(question, "country")
    found = table(split)
    assert found["US"] == counts(undecided=1)  # Wyden, by his membership's area US-OR
    assert found["DE"] == counts(opposes=2)  # Germany, and Access Now by its identifier
    assert groups.NONE not in found
    names = {row.key: row.name for row in split.rows}
    assert names["US"] == "United States" and names["DE"] == "Germany"


def test_an_actor_without_any_country_is_counted_apart(world):
    question, a = world
    say(question, [ActorFactory(name="Nowhere")], S)
    split = split_of(question, "country")
    assert split.rows[-1].key == groups.NONE
    assert split.rows[-1].name == "No country recorded"
    assert split.rows[-1].counts == counts(supports=1, opposes=1)  # and Access Now


def test_the_party_split_needs_a_deciding_body_and_counts_non_members_apart():
    senate = ActorFactory(name="Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    blue = ActorFactory(name="Blue", slug="blue", kind=ActorKind.LEGISLATIVE_GROUP)
    question = QuestionFactory(deciding_body=senate)
    one, two, three = (ActorFactory(kind=ActorKind.LEGISLATOR) for _ in range(3))
    # Sat for nobody until 2024, then for Blue: the membership with a party counts.
    MembershipFactory(member=one, organization=senate, end_date=D(2023, 12, 31))
    MembershipFactory(member=one, organization=senate, on_behalf_of=blue, role="chair")
    MembershipFactory(member=two, organization=senate)  # no party recorded
    say(question, [one, two], OPP)
    say(question, [three], S)  # not a member
    split = split_of(question, "party")
    assert table(split) == {
        "blue": counts(opposes=1),
        groups.NONE: counts(opposes=1),
        groups.OUTSIDE: counts(supports=1),
    }
    assert [row.name for row in split.rows] == [
        "Blue",
        "Member, no party recorded",
        "Not a member of Senate",
    ]
    assert ("party", "Party") in split.choices


def test_a_board_without_a_body_has_no_party_split_and_says_so(client, world):
    question, _a = world
    response = client.get(question.get_absolute_url(), {"split": "party"})
    assert response.context["split"].by == "kind"
    assert "names no deciding body" in response.content.decode()
    assert "party" not in dict(response.context["split"].choices)


def board(response):
    return sorted(p.actor.slug for _s, rows, _n in response.context["groups"] for p in rows)


def test_the_group_filter_narrows_the_rows_and_the_tally_and_keeps_every_group(client, world):
    question, _a = world
    url = question.get_absolute_url()
    response = client.get(url, {"split": "bloc", "group": "eu", "as_of": DAY.isoformat()})
    assert board(response) == ["de", "fr"]
    assert response.context["total"] == 2
    assert response.context["board_tally"] == counts(supports=1, opposes=1)
    split = response.context["split"]
    assert len(split.rows) == 4 and split.group.key == "eu"
    html = response.content.decode()
    assert "Bloc or coalition: European Union" in html  # the filters' summary
    assert 'aria-current="true">European Union</a>' in html
    assert "Show every group" in html


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"split": "bloc", "group": groups.NONE}, ["hu", "ke", "wyden"]),
        ({"split": "country", "group": "US"}, ["wyden"]),
        ({"split": "kind", "group": "ngo"}, ["access"]),
        ({"split": "bloc", "group": "g77", "stance": "conditional"}, ["br"]),
    ],
)
def test_each_split_filters_to_its_group(client, world, params, expected):
    question, _a = world
    response = client.get(question.get_absolute_url(), {**params, "as_of": DAY.isoformat()})
    assert board(response) == expected
    # The tally and what it is made of count the group only (of every stance).
    assert response.context["total"] == len(expected)
    if "stance" not in params:
        composition = response.context["board_composition"]
        assert sum(n for kinds in composition.values() for _kind, n in kinds) == len(expected)


def test_the_party_group_filter_on_a_body_board(client):
    senate = ActorFactory(name="Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    blue = ActorFactory(name="Blue", slug="blue", kind=ActorKind.LEGISLATIVE_GROUP)
    question = QuestionFactory(deciding_body=senate)
    member, outsider = ActorFactory(slug="member"), ActorFactory(slug="outsider")
    MembershipFactory(member=member, organization=senate, on_behalf_of=blue)
    say(question, [member, outsider], OPP)
    url = question.get_absolute_url()
    assert board(client.get(url, {"split": "party", "group": "blue"})) == ["member"]
    assert board(client.get(url, {"split": "party", "group": groups.OUTSIDE})) == ["outsider"]


@pytest.mark.parametrize(
    "params",
    [
        {"split": "bloc", "group": "no-such-bloc"},
        {"split": "kind", "group": "eu"},
        {"split": "junk", "group": "eu"},
        {"group": "x" * 500},
        {"split": "\x00"},
    ],
)
def test_a_junk_split_or_group_is_reported_and_the_whole_board_shown(client, world, params):
    question, _a = world
    response = client.get(question.get_absolute_url(), params)
    assert response.status_code == 200
    assert len(board(response)) == 7
    assert "This filter was ignored" in response.content.decode()
    assert response.context["split"].group is None


def test_each_row_of_the_table_links_to_its_group_and_the_form_needs_no_script(client, world):
    question, _a = world
    html = client.get(question.get_absolute_url(), {"split": "bloc", "kind": "state"}).content
    html = html.decode()
    section = html[html.index('class="split"') : html.index('aria-labelledby="board-heading"')]
    assert 'href="?kind=state&amp;split=bloc&amp;group=eu#split-heading"' in section
    assert 'method="get"' in section and '<select name="split"' in section
    assert '<input type="hidden" name="kind" value="state">' in section
    assert "<script" not in section
    # The main filter form keeps the split when other filters change.
    assert '<input type="hidden" name="split" value="bloc"' in html


@pytest.mark.parametrize("as_of", [None, DAY])
@pytest.mark.parametrize("by", list(groups.SPLITS))
def test_a_split_is_one_query_whatever_the_number_of_actors(by, as_of):
    senate = ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP)
    blocs = [ActorFactory(kind=ActorKind.INTERGOVERNMENTAL) for _ in range(3)]
    parties = [ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP) for _ in range(2)]
    question = QuestionFactory(deciding_body=senate)
    numbers = []
    for size in (5, 40):
        for n in range(size):
            actor = ActorFactory(kind=ActorKind.STATE, country=["FR", "BR", ""][n % 3])
            MembershipFactory(member=actor, organization=blocs[n % 3], area="US-OR")
            MembershipFactory(member=actor, organization=senate, on_behalf_of=parties[n % 2])
            say(question, [actor], [S, C, OPP, U][n % 4])
        positions = stances.current_positions(question, as_of)
        with CaptureQueriesContext(connection) as queries:
            split = groups.split_board(positions, question, by, None, as_of)
            groups.in_group(positions, split, question, as_of)  # lazy: no query of its own
        numbers.append(len(queries))
        assert sum(row.total for row in split.rows) >= size
    assert numbers == [1, 1]


def test_the_board_filtered_to_a_group_runs_its_pinned_queries(
    client, world, django_assert_num_queries
):
    question, _a = world
    # The board's ten split by bloc (tests/test_views_query_counts.py) but the formal acts' (no
    # act on the topic); the group filter adds none.
    with django_assert_num_queries(9):
        client.get(question.get_absolute_url(), {"split": "bloc", "group": "eu"})


# --- A joint statement on the board ---------------------------------------------------------


@pytest.fixture
def letter():
    question = QuestionFactory()
    senators = [
        ActorFactory(name=name, kind=ActorKind.LEGISLATOR, country="US")
        for name in ("Booker", "Kaine", "Markey", "Merkley")
    ]
    statement = StatementFactory(
        question=question,
        actors=senators,
        stance=OPP,
        summary="Senators warn the convention will legitimise surveillance.",
    )
    StatementFactory(question=question, actors=[ActorFactory(name="Cisco")], stance=OPP)
    return question, senators, statement


def test_a_joint_statement_is_shown_once_with_its_signatories_and_each_counts(client, letter):
    question, senators, statement = letter
    response = client.get(question.get_absolute_url())
    html = response.content.decode()
    assert html.count(statement.summary) == 1
    card = html[html.index("Joint statement") :]
    card = card[: card.index('class="position__statement"')]
    for senator in senators:
        assert f">{senator.name}</a>" in card
    assert "4 signatories on this board" in html
    assert response.context["board_tally"][OPP] == 5
    assert response.context["total"] == 5
    opposes = response.context["groups"][2]
    assert opposes[2] == 5 and len(opposes[1]) == 5  # every row is there, four folded
    assert sum(1 for row in opposes[1] if row.folded) == 3


def test_a_joint_statement_says_how_many_signatories_are_further_on(client, letter, monkeypatch):
    from positions import views_board

    monkeypatch.setattr(views_board, "BOARD_GROUP_SIZE", 2)
    question, senators, statement = letter
    html = client.get(question.get_absolute_url()).content.decode()
    # Booker and Cisco come first by name: Booker's card names the letter's three others.
    assert html.count(statement.summary) == 1
    assert "and 3 more" in html
    page = client.get(question.get_absolute_url(), {"stance": "opposes"})
    assert page.content.decode().count(statement.summary) == 1
    assert [row.folded for row in page.context["groups"][0][1]] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_a_signatory_with_a_later_statement_leaves_the_joint_card(client, letter):
    question, senators, statement = letter
    StatementFactory(
        question=question,
        actors=[senators[0]],
        stance=S,
        date=statement.date + datetime.timedelta(days=1),
    )
    html = client.get(question.get_absolute_url()).content.decode()
    assert "3 signatories on this board" in html
    assert html.count(statement.summary) == 1
