"""
An organisation's members page (/actors/<slug>/members/): its members on a day, each with
its own position on the questions the organisation decides, page by page, filtered by name,
party and stance; the same number of queries for a chamber of 5 and one of 500.
"""

import datetime

import pytest

from positions import writes
from positions.folding import fold
from positions.models import (
    Actor,
    ActorKind,
    Membership,
    Signatory,
    Stance,
    Statement,
    StatementStatus,
    ThresholdKind,
)
from tests.factories import (
    ActorFactory,
    MembershipFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = D(2024, 10, 30)


def say(question, actor, stance, date):
    return StatementFactory(question=question, actors=[actor], stance=stance, date=date)


@pytest.fixture
def chamber():
    """
    A senate deciding one question, on 30 October 2024: Adams (Blue), Brown (Gold), Evans
    (Gold until June, Blue since July), Fox (Blue, no statement); Cole joined after the day,
    Diaz left before it. Another question the senate does not decide.
    """
    senate = ActorFactory(name="Senate", slug="senate", kind=ActorKind.LEGISLATIVE_GROUP)
    blue = ActorFactory(name="Blue", slug="blue", kind=ActorKind.LEGISLATIVE_GROUP)
    gold = ActorFactory(name="Gold", slug="gold", kind=ActorKind.LEGISLATIVE_GROUP)
    treaty = QuestionFactory(
        title="Consent to the treaty",
        slug="consent",
        deciding_body=senate,
        threshold_kind=ThresholdKind.MAJORITY,
        seats=10,
    )
    other = QuestionFactory(title="Another question", slug="another")

    def member(name, party, role="senator", **dates):
        actor = ActorFactory(name=name, slug=name.lower(), kind=ActorKind.LEGISLATOR)
        MembershipFactory(member=actor, organization=senate, on_behalf_of=party, role=role, **dates)
        return actor

    m = {
        "adams": member("Adams", blue, area="US-OR"),
        "brown": member("Brown", gold),
        "cole": member("Cole", blue, start_date=D(2024, 11, 1)),
        "diaz": member("Diaz", gold, start_date=D(2019, 1, 3), end_date=D(2024, 10, 29)),
        "evans": member("Evans", gold, start_date=D(2023, 1, 3), end_date=D(2024, 6, 30)),
        "fox": member("Fox", blue),
    }
    MembershipFactory(
        member=m["evans"], organization=senate, on_behalf_of=blue, start_date=D(2024, 7, 1)
    )
    s = {
        "adams": say(treaty, m["adams"], Stance.SUPPORTS, D(2024, 10, 1)),
        "brown": say(treaty, m["brown"], Stance.OPPOSES, D(2024, 10, 2)),
        "brown_later": say(treaty, m["brown"], Stance.SUPPORTS, D(2024, 11, 5)),
        "cole": say(treaty, m["cole"], Stance.SUPPORTS, D(2024, 10, 3)),
        "diaz": say(treaty, m["diaz"], Stance.OPPOSES, D(2024, 10, 4)),
        "evans": say(treaty, m["evans"], Stance.CONDITIONAL, D(2024, 9, 1)),
        "adams_other": say(other, m["adams"], Stance.UNDECIDED, D(2024, 9, 9)),
    }
    return senate, treaty, other, m, s


URL = "/actors/senate/members/"


def names(response):
    return [seat.member.name for seat in response.context["seats"]]


def cells(response):
    """{member: [(stance, statement id) or None per column]}"""
    return {
        seat.member.name: [
            cell and (cell.position_stance, cell.statement_id) for cell in seat.cells
        ]
        for seat in response.context["seats"]
    }


def test_the_members_are_those_of_the_day(client, chamber):
    response = client.get(URL, {"as_of": DAY.isoformat()})
    assert response.status_code == 200
    # Cole joined after the day, Diaz left the day before; Evans is there once.
    assert names(response) == ["Adams", "Brown", "Evans", "Fox"]
    today = client.get(URL)
    assert names(today) == ["Adams", "Brown", "Cole", "Evans", "Fox"]


def test_each_member_shows_its_own_position_on_the_questions_the_body_decides(client, chamber):
    _, treaty, _, _, s = chamber
    response = client.get(URL, {"as_of": DAY.isoformat()})
    assert [column.pk for column in response.context["columns"]] == [treaty.pk]
    assert cells(response) == {
        "Adams": [("supports", s["adams"].pk)],
        "Brown": [("opposes", s["brown"].pk)],  # its support came after the day
        "Evans": [("conditional", s["evans"].pk)],
        "Fox": [None],
    }
    # Today: current positions, Brown's latest statement included.
    assert cells(client.get(URL))["Brown"] == [("supports", s["brown_later"].pk)]
    page = response.content.decode()
    assert f'href="/statements/{s["adams"].pk}/"' in page
    assert "No known position" in page


def test_it_shows_each_members_seat_on_the_day(client, chamber):
    response = client.get(URL, {"as_of": DAY.isoformat()})
    seats = {seat.member.name: seat for seat in response.context["seats"]}
    assert seats["Evans"].on_behalf_of.slug == "blue"  # the seat that started last
    assert seats["Adams"].area == "US-OR"
    june = client.get(URL, {"as_of": "2024-06-15"})
    assert {s.member.name: s.on_behalf_of.slug for s in june.context["seats"]}["Evans"] == "gold"
    assert 'Senator for <a href="/actors/blue/">Blue</a> (US-OR)' in response.content.decode()


def test_a_chosen_question_becomes_a_column(client, chamber):
    _, treaty, other, _, s = chamber
    response = client.get(URL, {"question": other.pk, "as_of": DAY.isoformat()})
    assert [column.pk for column in response.context["columns"]] == [treaty.pk, other.pk]
    assert cells(response)["Adams"][1] == ("undecided", s["adams_other"].pk)
    assert cells(response)["Brown"][1] is None


def test_the_filters_by_party_stance_and_name(client, chamber):
    _, treaty, _, _, _ = chamber
    day = {"as_of": DAY.isoformat()}
    assert names(client.get(URL, {"party": "blue", **day})) == ["Adams", "Evans", "Fox"]
    assert names(client.get(URL, {"party": "gold", "as_of": "2024-06-15"})) == [
        "Brown",
        "Diaz",
        "Evans",
    ]
    by_stance = {"question": treaty.pk, **day}
    assert names(client.get(URL, {"stance": "opposes", **by_stance})) == ["Brown"]
    assert names(client.get(URL, {"stance": "unknown", **by_stance})) == ["Fox"]
    assert names(client.get(URL, {"stance": "supports", "question": treaty.pk})) == [
        "Adams",
        "Brown",
        "Cole",
    ]
    assert names(client.get(URL, {"q": "EVA", **day})) == ["Evans"]
    both = client.get(URL, {"party": "blue", "stance": "supports", **by_stance})
    assert names(both) == ["Adams"]
    assert "matching the filters" in both.content.decode()


@pytest.mark.parametrize(
    "params, notice",
    [
        ({"stance": "opposes"}, "A stance filter needs a question"),
        ({"party": "nobody"}, "no member sits for that party on that day"),
        ({"party": "<b>"}, "Sits for:"),
        ({"question": "abc"}, "Question:"),
        ({"question": "999999"}, "Question:"),
        ({"stance": "maybe", "question": "1"}, "Stance on that question:"),
        ({"as_of": "2999-01-01"}, "That date is in the future."),
        ({"as_of": "2024-13-45"}, "As of:"),
        ({"q": "x" * 500}, "Name:"),
    ],
)
def test_a_filter_that_cannot_apply_is_reported_and_ignored(client, chamber, params, notice):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert notice in " ".join(response.context["notices"])
    assert len(response.context["seats"]) == 5


@pytest.mark.parametrize("value", ["\x00", "-1", "9" * 40, "<script>", "%", "☃", "x" * 5000])
def test_junk_never_gives_a_500(client, chamber, value):
    for name in ("q", "party", "question", "stance", "as_of", "page"):
        assert client.get(URL, {name: value}).status_code == 200, name


def test_a_partys_page_lists_those_who_sit_for_it_and_what_their_body_decides(client, chamber):
    _, treaty, _, _, s = chamber
    response = client.get("/actors/blue/members/", {"as_of": DAY.isoformat()})
    assert names(response) == ["Adams", "Evans", "Fox"]
    assert [column.pk for column in response.context["columns"]] == [treaty.pk]
    assert cells(response)["Evans"] == [("conditional", s["evans"].pk)]


def test_an_organisation_without_members_says_so(client, chamber):
    ActorFactory(slug="lonely", kind=ActorKind.INTERGOVERNMENTAL)
    response = client.get("/actors/lonely/members/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "No member of" in page
    assert "choose a question in the filters" in page


def test_an_unknown_or_hidden_organisation_is_not_found(client, chamber):
    assert client.get("/actors/no-such-body/members/").status_code == 404
    hidden = ActorFactory(slug="hidden-body")
    StatementFactory(actors=[hidden], status=StatementStatus.DRAFT)
    assert client.get("/actors/hidden-body/members/").status_code == 404


def test_the_actor_page_and_the_whip_count_link_to_it(client, chamber):
    _, treaty, _, _, _ = chamber
    assert 'href="/actors/senate/members/"' in client.get("/actors/senate/").content.decode()
    board = client.get(treaty.get_absolute_url()).content.decode()
    assert f'href="/actors/senate/members/?question={treaty.pk}"' in board


# --- size: pages, and queries flat with it -------------------------------------------------------


def build_chamber(size):
    """A chamber of `size` members in three parties, half of them with a position (bulk)."""
    senate = ActorFactory(
        name=f"Chamber of {size}", slug=f"chamber-{size}", kind=ActorKind.LEGISLATIVE_GROUP
    )
    question = QuestionFactory(
        deciding_body=senate, threshold_kind=ThresholdKind.MAJORITY, seats=size
    )
    parties = [
        ActorFactory(slug=f"party-{size}-{n}", kind=ActorKind.LEGISLATIVE_GROUP) for n in range(3)
    ]
    source = SourceFactory()
    # No conditional stance: written in bulk, it would name no condition.
    cycle = [Stance.SUPPORTS, Stance.OPPOSES, Stance.UNDECIDED]
    with writes.writing():
        names = [f"Member {size}-{n:04}" for n in range(size)]
        actors = Actor.objects.bulk_create(
            Actor(name=name, slug=fold(name).replace(" ", "-"), kind=ActorKind.LEGISLATOR,
                  folded_name=fold(name))
            for name in names
        )  # fmt: skip
        Membership.objects.bulk_create(
            Membership(member=actor, organization=senate, on_behalf_of=parties[n % 3])
            for n, actor in enumerate(actors)
        )
        speakers = actors[::2]
        statements = Statement.objects.bulk_create(
            Statement(
                question=question,
                date=D(2024, 10, 1),
                stance=cycle[n % 3],
                summary=f"Statement {n}.",
                source=source,
                status=StatementStatus.PUBLISHED,
            )
            for n in range(len(speakers))
        )
        Signatory.objects.bulk_create(
            Signatory(statement=statement, actor=actor, is_lead=True)
            for statement, actor in zip(statements, speakers, strict=True)
        )
        writes.statements_changed([statement.pk for statement in statements])
        writes.records_changed()
    return senate, question, parties


def test_a_chamber_of_500_is_paged_fifty_at_a_time(client):
    senate, _, _ = build_chamber(120)
    url = f"/actors/{senate.slug}/members/"
    first = client.get(url)
    assert first.context["page_obj"].paginator.count == 120
    assert len(first.context["seats"]) == 50
    last = client.get(url, {"page": 3})
    assert len(last.context["seats"]) == 20
    assert last.context["seats"][-1].member.name == "Member 120-0119"
    assert 'rel="prev"' in last.content.decode()


# the organisation (readers may see), every question with whether it decides it (the
# menu and the columns), the parties its members sit for that day, the count of members,
# the page of members (the seat shown for each, with its member, organisation and party),
# the page's positions on the columns
PINNED = 6


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"as_of": "2024-10-15"},
        {"party": "{party}", "question": "{question}", "stance": "supports", "q": "member"},
        {"question": "{question}", "stance": "unknown", "as_of": "2024-10-15", "page": "2"},
    ],
    ids=["today", "as of a day", "filtered", "unknown stance as of a day, page 2"],
)
def test_the_page_runs_the_same_queries_for_5_members_and_for_500(
    client, django_assert_num_queries, params
):
    counts = {}
    for size in (5, 500):
        senate, question, parties = build_chamber(size)
        filled = {
            k: v.format(party=parties[0].slug, question=question.pk) for k, v in params.items()
        }
        with django_assert_num_queries(PINNED):
            response = client.get(f"/actors/{senate.slug}/members/", filled)
        assert response.status_code == 200
        counts[size] = response.context["page_obj"].paginator.count
    assert counts[500] > counts[5]


def test_a_member_only_drafts_name_is_listed_for_staff_only(client, chamber):
    senate, treaty, _, _, _ = chamber
    quiet = ActorFactory(name="Quiet", slug="quiet", kind=ActorKind.LEGISLATOR)
    MembershipFactory(member=quiet, organization=senate)
    StatementFactory(question=treaty, actors=[quiet], status=StatementStatus.DRAFT)
    assert "Quiet" not in names(client.get(URL))
    assert "quiet" not in client.get(URL).content.decode()
    client.force_login(UserFactory(is_staff=True))
    staff = client.get(URL)
    assert "Quiet" in names(staff)
    assert cells(staff)["Quiet"] == [None]  # a draft gives no position, even to staff
