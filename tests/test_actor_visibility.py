"""
An actor named only by drafts is public nowhere until a public statement names it: like a
source or a condition only drafts use, its name alone could reveal the draft. An actor that no
statement names at all (a chamber, a government, whose members speak) is public at once.
"""

import json
import random

import pytest
from django.urls import reverse

from positions import editorial
from positions.models import Actor, ActorIdentifier, ActorKind, StatementStatus
from tests.builders import build_record
from tests.factories import ActorFactory, StatementFactory, UserFactory
from tests.test_views_seo import sitemap_text

pytestmark = pytest.mark.django_db

HIDDEN = "Quiet Coalition"


@pytest.fixture
def world():
    record = build_record()
    senate = ActorFactory(
        name="US Senate", slug="us-senate", kind=ActorKind.LEGISLATIVE_GROUP, country="US"
    )
    hidden = ActorFactory(
        name=HIDDEN,
        slug="quiet-coalition",
        aliases="Hush group",
        country="NZ",  # the only actor of its country
        parent=senate,
    )
    ActorIdentifier.objects.create(actor=hidden, scheme="wikidata", identifier="Q4242")
    member = ActorFactory(name="A member of it", slug="member-of-quiet", parent=hidden)
    draft = StatementFactory(
        question=record.ratification, actors=[hidden], status=StatementStatus.DRAFT
    )
    return record, senate, hidden, member, draft


def public_texts(client, record):
    """Everything a reader can fetch that lists actors, as text."""
    urls = [
        "/actors/",
        "/actors/?q=quiet",
        "/actors/?q=hush",
        "/actors/us-senate/",
        "/actors/member-of-quiet/",
        "/statements/",
        "/statements/?q=quiet",
        "/data/actors.csv",
        "/data/actors.json",
        "/data/all.json",
        "/data/popolo.json",
        record.ratification.get_absolute_url(),
    ]
    texts = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.getvalue() if response.streaming else response.content
        texts[url] = content.decode()
    texts["sitemap"] = sitemap_text(client)
    return texts


def test_public_actors_are_those_a_public_statement_names_or_no_statement_names(world):
    record, senate, hidden, member, draft = world
    retracted = StatementFactory(status=StatementStatus.RETRACTED).signatures.get().actor
    public = set(Actor.objects.public())
    assert hidden not in public
    assert {senate, member, retracted, record.actors["cisco"]} <= public
    assert public == set(Actor.objects.exclude(pk=hidden.pk))
    # An actor of a draft that also signed something public is public.
    StatementFactory(actors=[record.actors["doj"]], status=StatementStatus.DRAFT)
    assert record.actors["doj"] in set(Actor.objects.public())


def test_the_page_of_an_actor_only_drafts_name_is_404_for_readers_not_staff(client, world):
    _, _, hidden, _, _ = world
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(reverse("positions:feed_actor", args=[hidden.slug])).status_code == 404
    client.force_login(UserFactory(username="reader"))  # signed in, not staff
    assert client.get(hidden.get_absolute_url()).status_code == 404

    client.force_login(UserFactory(is_staff=True))
    response = client.get(hidden.get_absolute_url())
    assert response.status_code == 200
    assert HIDDEN in response.content.decode()
    listed = client.get("/actors/?q=quiet").context["page_obj"].object_list
    assert [actor.slug for actor in listed] == ["quiet-coalition"]
    senate = client.get("/actors/us-senate/").context["members"]
    assert hidden.slug in [member.actor_slug for member in senate]


def test_an_actor_only_drafts_name_is_on_no_public_page_download_or_choice(client, world):
    record, *_ = world
    for where, text in public_texts(client, record).items():
        # Not the country's name: the world map on boards names every country.
        for clue in (HIDDEN, "quiet-coalition", "Q4242", 'value="NZ"'):
            assert clue not in text, (where, clue)
    # The bodies no statement names stay public, the chamber with its public members.
    assert client.get("/actors/us-senate/").status_code == 200
    member = client.get("/actors/member-of-quiet/")
    assert member.status_code == 200
    assert "Part of" not in member.content.decode()  # a hidden body: not named
    popolo = json.loads(client.get("/data/popolo.json").content)
    assert "us-senate" in {o["id"] for o in popolo["organizations"]}


def test_publishing_a_statement_that_names_it_makes_the_actor_public(client, world):
    record, _, hidden, _, draft = world
    publisher = UserFactory(is_staff=True, is_superuser=True)
    assert editorial.change_status(draft, StatementStatus.PUBLISHED, publisher) is None
    assert client.get(hidden.get_absolute_url()).status_code == 200
    texts = public_texts(client, record)
    for where in (
        "/actors/",
        "/actors/?q=hush",
        "/actors/us-senate/",
        "/data/actors.csv",
        "/data/popolo.json",
        "sitemap",
    ):
        assert "quiet-coalition" in texts[where], where
    assert 'value="NZ"' in texts["/actors/"]
    assert HIDDEN in texts["/actors/member-of-quiet/"]


def test_public_is_the_rule_on_generated_signatures():
    """Actors signing any mix of drafts, published and retracted statements, or nothing."""
    rng = random.Random(12)
    actors = [ActorFactory() for _ in range(30)]
    statuses = list(StatementStatus)
    for _ in range(40):
        StatementFactory(actors=rng.sample(actors, rng.randint(1, 3)), status=rng.choice(statuses))
    signed = {}
    for actor in actors:
        signed[actor.pk] = {
            s.statement.status for s in actor.signatures.select_related("statement")
        }
    expected = {pk for pk, seen in signed.items() if not seen or seen != {StatementStatus.DRAFT}}
    assert set(expected) < {a.pk for a in actors}  # some hidden, some never named
    assert any(not seen for seen in signed.values())
    assert (
        set(Actor.objects.filter(pk__in=signed).public().values_list("pk", flat=True)) == expected
    )
