"""The actor directory (filters, name search) and the actor page (positions, timeline)."""

import datetime
from functools import cached_property

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import caching, stances, writes
from positions.models import ActorIdentifier, ActorKind, Stance
from positions.views import ACTORS_PER_PAGE, TimelineStatements
from tests.builders import build_record
from tests.factories import (
    ActorFactory,
    FormalActFactory,
    MembershipFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def listed(response):
    return [actor.slug for actor in response.context["page_obj"].object_list]


# --- directory ------------------------------------------------------------------------------


def test_it_lists_every_actor_by_name(client):
    build_record()
    slugs = listed(client.get("/actors/"))
    assert slugs[:2] == ["cisco", "digital-rights-groups"]
    assert len(slugs) == 6


def test_it_filters_by_kind_and_country(client):
    build_record()
    assert listed(client.get("/actors/", {"kind": ActorKind.LEGISLATOR})) == [
        "ron-wyden",
        "tim-kaine",
    ]
    assert "digital-rights-groups" not in listed(client.get("/actors/", {"country": "US"}))


def test_name_search_finds_aliases_too(client):
    build_record()
    assert listed(client.get("/actors/", {"q": "biden"})) == ["us-administration"]
    assert listed(client.get("/actors/", {"q": "  CISCO "})) == ["cisco"]


def test_it_filters_by_current_stance_on_a_question(client):
    record = build_record()
    params = {"question": record.ratification.pk, "stance": Stance.OPPOSES}
    assert listed(client.get("/actors/", params)) == [
        "cisco",
        "digital-rights-groups",
        "ron-wyden",
        "tim-kaine",
    ]


def test_the_stance_filter_means_the_current_stance_not_any_past_one(client):
    """Cisco was undecided in June and opposes since October: it is not 'undecided' now."""
    record = build_record()
    params = {"question": record.ratification.pk, "stance": Stance.UNDECIDED}
    assert listed(client.get("/actors/", params)) == []


def test_a_question_alone_lists_everyone_with_a_position_on_it(client):
    record = build_record()
    assert listed(client.get("/actors/", {"question": record.adoption.pk})) == ["us-administration"]


def test_a_stance_without_a_question_is_explained(client):
    build_record()
    response = client.get("/actors/", {"stance": Stance.OPPOSES})
    assert len(listed(response)) == 6
    assert "A stance filter needs a question" in response.content.decode()


def test_the_directory_is_paginated_keeping_the_filters(client):
    for i in range(ACTORS_PER_PAGE + 3):
        ActorFactory(name=f"NGO {i:03}", kind=ActorKind.NGO)
    ActorFactory(name="A company", kind=ActorKind.COMPANY)
    response = client.get("/actors/", {"kind": "ngo"})
    assert len(listed(response)) == ACTORS_PER_PAGE
    assert 'href="?kind=ngo&amp;page=2"' in response.content.decode()
    second = client.get("/actors/", {"kind": "ngo", "page": 2})
    assert len(listed(second)) == 3


# --- actor page -----------------------------------------------------------------------------


def test_it_shows_the_current_position_on_each_question(client):
    record = build_record()
    response = client.get("/actors/us-administration/")
    assert [
        (p.statement.question.slug, p.statement.stance) for p in response.context["positions"]
    ] == [
        (record.adoption.slug, Stance.SUPPORTS),
        (record.ratification.slug, Stance.CONDITIONAL),
    ]


def test_the_timeline_marks_a_change_of_position(client):
    build_record()
    html = client.get("/actors/cisco/").content.decode()
    assert "Changed from Undecided to Opposes on 30 October 2024." in html
    assert "First known position: Undecided." in html


def test_the_timeline_changes_agree_with_position_history(client):
    record = build_record()
    actor = record.actors["cisco"]
    StatementFactory(
        question=record.ratification, actors=[actor], date=D(2024, 11, 2), stance=Stance.SUPPORTS
    )
    StatementFactory(
        question=record.adoption, actors=[actor], date=D(2024, 11, 3), stance=Stance.OPPOSES
    )
    timeline = client.get("/actors/cisco/").context["timeline"]
    marked = sorted(
        (s.position_change.date, s.position_change.stance, s.position_change.previous)
        for s in timeline
        if s.position_change
    )
    expected = sorted(
        (c.date, c.stance, c.previous)
        for question in (record.adoption, record.ratification)
        for c in stances.position_history(actor, question)
    )
    assert marked == expected


def test_a_retracted_statement_stays_on_the_timeline_with_its_correction(client):
    record = build_record()
    html = client.get("/actors/us-department-of-justice/").content.decode()
    retracted = record.statements["retracted"]
    assert retracted.summary in html
    assert "Retracted on" in html and "5 Nov 2024" in html
    assert "does not say the DoJ opposes adoption" in html


def test_drafts_are_not_on_the_public_timeline_but_staff_preview_them(client):
    record = build_record()
    draft = record.statements["draft"]
    assert draft.summary not in client.get("/actors/us-department-of-justice/").content.decode()
    client.force_login(UserFactory(is_staff=True))
    html = client.get("/actors/us-department-of-justice/").content.decode()
    assert draft.summary in html and "Draft (staff preview)" in html


def test_it_shows_parent_members_and_linked_identifiers(client):
    record = build_record()
    html = client.get("/actors/us-department-of-justice/").content.decode()
    assert f'href="{record.actors["usgov"].get_absolute_url()}"' in html
    parent = client.get("/actors/us-administration/")
    assert [m.actor_slug for m in parent.context["members"]] == ["us-department-of-justice"]
    cisco = client.get("/actors/cisco/").content.decode()
    assert 'href="https://www.wikidata.org/wiki/Q173395"' in cisco


def test_an_identifier_without_a_public_page_is_shown_unlinked(client):
    actor = ActorFactory(slug="x")
    ActorIdentifier.objects.create(actor=actor, scheme="ocd-person", identifier="ocd-1")
    html = client.get("/actors/x/").content.decode()
    assert "ocd-1" in html and 'href="ocd-1"' not in html


def actor_page(client, actor):
    """The actor's page computed afresh, and its number of queries."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        html = client.get(actor.get_absolute_url()).content.decode()
    return html, len(queries)


@pytest.mark.parametrize("relation", ["membership", "part", "member"])
def test_an_actor_page_asks_for_relations_only_when_it_has_some(client, relation):
    actor = ActorFactory(name="Freedonia")
    html, bare = actor_page(client, actor)
    assert "Memberships</h2>" not in html and "Members</h2>" not in html
    if relation == "membership":
        MembershipFactory(member=actor, organization=ActorFactory(name="Bloc of Nations"))
    elif relation == "part":
        ActorFactory(parent=actor, name="Bloc of Nations")
    else:
        MembershipFactory(organization=actor, member=ActorFactory(name="Bloc of Nations"))
    html, queries = actor_page(client, actor)
    assert "Bloc of Nations" in html and queries == bare + 1  # one union for the three


def test_an_actor_page_asks_for_identifiers_and_acts_only_when_it_has_some(client):
    actor = ActorFactory(kind=ActorKind.STATE, name="Freedonia")
    html, bare = actor_page(client, actor)
    assert "and formal acts" not in html and "ocd-" not in html
    with writes.writing():
        writes.save(ActorIdentifier(actor=actor, scheme="ocd-person", identifier="ocd-1"))
    html, queries = actor_page(client, actor)
    assert "ocd-1" in html and queries == bare + 1
    act = FormalActFactory(actor=actor)
    html, queries = actor_page(client, actor)
    assert "and formal acts" in html and act.topic.title in html and queries == bare + 2


def test_an_actor_without_statements_has_no_known_position(client):
    ActorFactory(slug="quiet", name="Quiet")
    assert "No known position" in client.get("/actors/quiet/").content.decode()


def test_an_unknown_actor_is_404(client):
    assert client.get("/actors/nobody/").status_code == 404


def test_a_timeline_computed_again_loads_no_statement_whose_piece_is_stored(client, monkeypatch):
    record = build_record()
    loads = []
    load = TimelineStatements.records.func
    records = cached_property(lambda statements: loads.append(statements.pks) or load(statements))
    records.__set_name__(TimelineStatements, "records")
    monkeypatch.setattr(TimelineStatements, "records", records)
    first = client.get("/actors/cisco/").content
    assert len(loads) == 1
    # After an edit elsewhere the page is computed again, each entry from its stored piece.
    caching.bump_data_version()
    assert client.get("/actors/cisco/").content == first
    assert len(loads) == 1
    # An edit to one of its statements: that entry's piece is missing, the page's statements
    # are loaded (one query) and the entry shows the edit.
    statement = record.statements["cisco_early"]
    statement.summary = "A summary rewritten."
    with writes.writing():
        writes.save(statement)
    assert "A summary rewritten." in client.get("/actors/cisco/").content.decode()
    assert len(loads) == 2
