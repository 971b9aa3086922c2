"""
Merging a duplicate actor into the one to keep (positions/merging.py, the admin in
positions/admin_merge.py): everything moves, double signatures combine, positions follow,
the old address redirects, history says so, Publishers only, refusals change nothing.
"""

import datetime
import warnings

import pytest
from django.urls import reverse

from positions import merging, writes
from positions.models import (
    Actor,
    ActorIdentifier,
    ActorKind,
    ActorRedirect,
    FormalAct,
    Membership,
    Position,
    Question,
    Signatory,
    Stance,
)
from tests.admin_builders import admin_url, staff_in
from tests.factories import (
    ActorFactory,
    FormalActFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict():
    """A write outside the write path fails the test instead of being repaired."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", writes.UnrecordedWrite)
        yield


@pytest.fixture
def publisher():
    return staff_in("Publishers")


def add_identifier(actor, scheme, identifier):
    with writes.writing():
        row = ActorIdentifier(actor=actor, scheme=scheme, identifier=identifier)
        writes.save(row)
    return row


def record_dump():
    """Every row a merge may touch, as plain values: equal before and after a refused merge."""
    return {
        model.__name__: sorted(model.objects.values_list(), key=repr)
        for model in (Actor, ActorIdentifier, Signatory, Membership, FormalAct, Question)
    } | {"redirects": list(ActorRedirect.objects.values_list("old_slug", "actor_id"))}


def wyden_and_his_duplicate():
    """The demo's Ron Wyden and the one an import created beside him, with a record each."""
    senate = ActorFactory(name="US Senate", slug="us-senate", kind=ActorKind.LEGISLATIVE_GROUP)
    keep = ActorFactory(name="Ron Wyden", slug="ron-wyden", kind=ActorKind.LEGISLATOR)
    duplicate = ActorFactory(
        name="Ronald Lee Wyden",
        slug="wyden-ron",
        kind=ActorKind.LEGISLATOR,
        aliases="Sen. Wyden\nRon Wyden",
        description="Senior senator from Oregon.",
        country="US",
    )
    return senate, keep, duplicate


# --- Everything moves ------------------------------------------------------------------------


def test_it_moves_every_record_that_points_at_the_duplicate(publisher, strict):
    senate, keep, duplicate = wyden_and_his_duplicate()
    party = ActorFactory(name="Democratic Party", kind=ActorKind.LEGISLATIVE_GROUP)
    statements = [StatementFactory(actors=[duplicate]) for _ in range(2)]
    identifier = add_identifier(duplicate, "bioguide", "W000779")
    held = MembershipFactory(member=duplicate, organization=senate, on_behalf_of=party)
    staffer = ActorFactory(name="A staffer", kind=ActorKind.EXPERT)
    of_members = MembershipFactory(member=staffer, organization=duplicate, role="staff")
    sits_for = MembershipFactory(member=staffer, organization=senate, on_behalf_of=duplicate)
    child = ActorFactory(name="Wyden's office", parent=duplicate, kind=ActorKind.GOVERNMENT)
    act = FormalActFactory(actor=duplicate)
    decided = QuestionFactory(deciding_body=duplicate)
    earlier = ActorFactory(name="R. Wyden", slug="r-wyden")
    merging.merge_actors(duplicate, earlier, publisher)  # Its old address now points at it.

    plan = merging.merge_actors(keep, duplicate, publisher)

    assert not Actor.objects.filter(pk=duplicate.pk).exists()
    assert {s.statement_id for s in keep.signatures.all()} == {s.pk for s in statements}
    identifier.refresh_from_db()
    assert identifier.actor_id == keep.pk
    held.refresh_from_db()
    assert (held.member_id, held.organization_id, held.on_behalf_of_id) == (
        keep.pk,
        senate.pk,
        party.pk,
    )
    of_members.refresh_from_db()
    assert of_members.organization_id == keep.pk
    sits_for.refresh_from_db()
    assert sits_for.on_behalf_of_id == keep.pk
    child.refresh_from_db()
    assert child.parent_id == keep.pk
    act.refresh_from_db()
    assert act.actor_id == keep.pk
    decided.refresh_from_db()
    assert decided.deciding_body_id == keep.pk
    assert dict(ActorRedirect.objects.values_list("old_slug", "actor_id")) == {
        "r-wyden": keep.pk,
        "wyden-ron": keep.pk,
    }
    keep.refresh_from_db()
    # Its names become aliases (searchable, folded); blank fields take the duplicate's values.
    assert keep.alias_list == ["Ronald Lee Wyden", "Sen. Wyden", "R. Wyden"]
    assert "ronald lee wyden" in keep.folded_aliases
    assert (keep.description, keep.country.code) == ("Senior senator from Oregon.", "US")
    assert plan.moved_count == 2 + 1 + 3 + 1 + 1 + 1 + 1


def test_a_statement_both_signed_keeps_one_signature_the_lead_if_either_was(publisher, strict):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    other = ActorFactory(name="Jeff Merkley")
    joint = StatementFactory(actors=[duplicate, other, keep])  # The duplicate leads it.
    only_duplicate = StatementFactory(actors=[duplicate])

    plan = merging.merge_actors(keep, duplicate, publisher)

    signatures = list(joint.signatures.order_by("order").values_list("actor_id", "is_lead"))
    assert signatures == [(keep.pk, True), (other.pk, False)]
    assert only_duplicate.signatures.get().actor_id == keep.pk
    assert len(plan.signatures_combined) == 1


def test_identifiers_and_memberships_both_hold_are_kept_once(publisher, strict):
    senate, keep, duplicate = wyden_and_his_duplicate()
    start = datetime.date(1996, 2, 6)
    kept = MembershipFactory(member=keep, organization=senate, start_date=start)
    MembershipFactory(member=duplicate, organization=senate, start_date=start)
    MembershipFactory(member=duplicate, organization=keep, role="member")  # Of itself, after.
    add_identifier(keep, "wikidata", "Q529344")
    add_identifier(duplicate, "ocd-person", "ocd-person/1")
    add_identifier(duplicate, "ocd-person", "ocd-person/2")  # Any number in this register.

    merging.merge_actors(keep, duplicate, publisher)

    assert list(Membership.objects.values_list("pk", flat=True)) == [kept.pk]
    assert sorted(keep.identifiers.values_list("scheme", "identifier")) == [
        ("ocd-person", "ocd-person/1"),
        ("ocd-person", "ocd-person/2"),
        ("wikidata", "Q529344"),
    ]


# --- Positions ---------------------------------------------------------------------------------


def test_the_board_shows_the_kept_actor_with_the_duplicates_stance(client, publisher, strict):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    question = QuestionFactory()
    StatementFactory(actors=[keep], question=question, stance=Stance.SUPPORTS, date="2024-01-05")
    StatementFactory(actors=[duplicate], question=question, stance=Stance.OPPOSES)
    board = reverse("positions:question", args=[question.topic.slug, question.slug])
    assert client.get(board).status_code == 200  # Cached before the merge: it must go stale.

    merging.merge_actors(keep, duplicate, publisher)

    response = client.get(board)
    groups = {s.value: [p.actor.slug for p in ps] for s, ps, _n in response.context["groups"]}
    assert groups[Stance.OPPOSES] == ["ron-wyden"]
    assert groups[Stance.SUPPORTS] == []
    assert list(Position.objects.values_list("actor_id", "stance")) == [(keep.pk, Stance.OPPOSES)]


# --- The old address ---------------------------------------------------------------------------


def test_the_duplicates_addresses_redirect_permanently_to_the_kept_actor(client, publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    StatementFactory(actors=[duplicate])
    merging.merge_actors(keep, duplicate, publisher)

    page = client.get("/actors/wyden-ron/?page=2")
    assert page.status_code == 301
    assert page["Location"] == "/actors/ron-wyden/?page=2"
    feed = client.get(reverse("positions:feed_actor", args=["wyden-ron"]))
    assert (feed.status_code, feed["Location"]) == (301, "/feeds/actors/ron-wyden/")
    card = client.get(reverse("positions:card_actor", args=["wyden-ron"]))
    assert (card.status_code, card["Location"]) == (301, "/cards/actors/ron-wyden.png")
    assert client.get("/actors/ron-wyden/").status_code == 200
    assert client.get("/actors/nobody-at-all/").status_code == 404


def test_the_api_answers_the_duplicates_slug_with_the_kept_actors_address(client, publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    merging.merge_actors(keep, duplicate, publisher)

    response = client.get("/api/v1/actors/wyden-ron/?format=json")
    assert (response.status_code, response["Location"]) == (
        301,
        "/api/v1/actors/ron-wyden/?format=json",
    )
    assert client.get(response["Location"]).json()["slug"] == "ron-wyden"
    missing = client.get("/api/v1/actors/nobody-at-all/")
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_a_chain_of_merges_redirects_to_the_last_actor_kept(client, publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    merging.merge_actors(keep, duplicate, publisher)
    final = ActorFactory(name="Ron Wyden (Oregon)", slug="ron-wyden-oregon")
    merging.merge_actors(final, keep, publisher)

    for old in ("wyden-ron", "ron-wyden"):
        response = client.get(f"/actors/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/actors/ron-wyden-oregon/")


# --- History -------------------------------------------------------------------------------------


def test_history_records_the_merge_on_the_kept_actor_and_the_duplicates_end(publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    statement = StatementFactory(actors=[duplicate])
    merging.merge_actors(keep, duplicate, publisher)

    latest = keep.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Merged “Ronald Lee Wyden” (wyden-ron) into this actor"
    assert latest.history_user == publisher
    end = Actor.history.filter(id=duplicate.pk).order_by("-history_id").first()
    assert (end.history_type, end.history_change_reason) == (
        "-",
        "Merged into “Ron Wyden” (ron-wyden)",
    )
    moved = Signatory.history.filter(statement_id=statement.pk).order_by("-history_id").first()
    assert (moved.actor_id, moved.history_type, moved.history_user) == (keep.pk, "~", publisher)


# --- Refusals change nothing ----------------------------------------------------------------


def test_merging_an_actor_into_itself_is_refused(publisher):
    _senate, keep, _duplicate = wyden_and_his_duplicate()
    before = record_dump()
    with pytest.raises(merging.MergeRefused, match="cannot be merged into itself"):
        merging.merge_actors(keep, keep, publisher)
    assert record_dump() == before


def test_merging_an_actor_into_its_own_part_is_refused(publisher):
    senate, _keep, _duplicate = wyden_and_his_duplicate()
    committee = ActorFactory(name="Finance Committee", parent=senate)
    subcommittee = ActorFactory(name="Taxation subcommittee", parent=committee)
    StatementFactory(actors=[senate])
    before = record_dump()
    with pytest.raises(merging.MergeRefused, match="is part of “US Senate”"):
        merging.merge_actors(subcommittee, senate, publisher)
    assert record_dump() == before
    # The other way round is a merge like any: the parts of the duplicate move up.
    merging.merge_actors(senate, committee, publisher)
    subcommittee.refresh_from_db()
    assert subcommittee.parent_id == senate.pk


def test_different_ids_in_a_one_per_actor_register_are_refused_and_named(publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    add_identifier(keep, "bioguide", "W000779")
    add_identifier(duplicate, "bioguide", "K000384")
    StatementFactory(actors=[duplicate])
    before = record_dump()
    with pytest.raises(merging.MergeRefused) as refused:
        merging.merge_actors(keep, duplicate, publisher)
    assert "“Ron Wyden” has bioguide W000779 and “Ronald Lee Wyden” has bioguide K000384" in str(
        refused.value
    )
    assert record_dump() == before


# --- The admin ------------------------------------------------------------------------------------


def test_a_publisher_merges_from_the_action_through_the_confirmation_page(client, publisher):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    StatementFactory(actors=[duplicate], summary="Warns against the convention.")
    client.force_login(publisher)
    action = {"action": "merge_selected", "_selected_action": [keep.pk, duplicate.pk]}
    choose = client.post(admin_url("actor"), action)
    assert choose.status_code == 200
    urls = [c["url"] for c in choose.context["choices"]]
    confirm_url = f"{admin_url('actor', 'merge', duplicate.pk)}?keep={keep.pk}"
    assert confirm_url in urls

    preview = client.get(confirm_url)
    html = preview.content.decode()
    assert "Signatures that move: 1" in html
    assert "Warns against the convention." in html
    assert Actor.objects.filter(pk=duplicate.pk).exists()  # Showing changes nothing.

    done = client.post(admin_url("actor", "merge", duplicate.pk), {"keep": keep.pk})
    assert done.status_code == 302
    assert done["Location"] == admin_url("actor", "change", keep.pk)
    assert not Actor.objects.filter(pk=duplicate.pk).exists()
    assert keep.signatures.count() == 1


def test_the_action_needs_exactly_two_actors(client, publisher):
    actors = ActorFactory.create_batch(3)
    client.force_login(publisher)
    action = {"action": "merge_selected", "_selected_action": [a.pk for a in actors]}
    response = client.post(admin_url("actor"), action, follow=True)
    assert "Select exactly two actors" in response.content.decode()
    assert Actor.objects.count() == 3


def test_the_change_form_links_publishers_to_the_merge_page(client, publisher):
    actor = ActorFactory()
    link = admin_url("actor", "merge", actor.pk)
    client.force_login(publisher)
    assert link in client.get(admin_url("actor", "change", actor.pk)).content.decode()
    client.force_login(staff_in("Editors"))
    assert link not in client.get(admin_url("actor", "change", actor.pk)).content.decode()


def test_the_change_form_lists_likely_duplicates_with_a_merge_link(client, publisher):
    senate = ActorFactory(name="US Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    keep = ActorFactory(name="Ron Wyden", parent=senate, kind=ActorKind.LEGISLATOR)
    by_hand = ActorFactory(name="Ron  WYDEN", slug="wyden", kind=ActorKind.LEGISLATOR)
    typo = ActorFactory(name="Ron Wydn", parent=senate, kind=ActorKind.LEGISLATOR)
    ActorFactory(name="Ron Johnson", parent=senate, kind=ActorKind.LEGISLATOR)
    client.force_login(publisher)
    response = client.get(admin_url("actor", "change", keep.pk))
    found = [row["actor"] for row in response.context["likely_duplicates"]]
    assert found == [by_hand, typo]
    assert f"{admin_url('actor', 'merge', keep.pk)}?keep={by_hand.pk}" in response.content.decode()
    client.force_login(staff_in("Editors"))
    html = client.get(admin_url("actor", "change", keep.pk)).content.decode()
    assert "Possibly the same actor" in html and "ask a Publisher to merge them" in html
    assert "Merge this actor into it" not in html


def test_an_editor_who_is_not_a_publisher_cannot_merge(client):
    _senate, keep, duplicate = wyden_and_his_duplicate()
    StatementFactory(actors=[duplicate])
    before = record_dump()
    client.force_login(staff_in("Editors"))
    merge = admin_url("actor", "merge", duplicate.pk)
    assert client.get(merge).status_code == 403
    assert client.post(merge, {"keep": keep.pk}).status_code == 403
    changelist = client.get(admin_url("actor"))
    assert "merge_selected" not in changelist.content.decode()
    action = {"action": "merge_selected", "_selected_action": [keep.pk, duplicate.pk]}
    client.post(admin_url("actor"), action)
    assert record_dump() == before


def test_a_refused_merge_in_the_admin_says_why_and_changes_nothing(client, publisher):
    senate, _keep, _duplicate = wyden_and_his_duplicate()
    committee = ActorFactory(name="Finance Committee", parent=senate)
    client.force_login(publisher)
    before = record_dump()
    merge = admin_url("actor", "merge", senate.pk)
    preview = client.get(merge, {"keep": committee.pk})
    assert "is part of “US Senate”" in preview.content.decode()
    response = client.post(merge, {"keep": committee.pk}, follow=True)
    assert "is part of “US Senate”" in response.content.decode()
    assert record_dump() == before


@pytest.mark.parametrize("keep", ["abc", "", "999999", "1 OR 1=1", "\x00"])
def test_junk_in_the_merge_page_is_a_clear_message_not_a_500(client, publisher, keep):
    duplicate = ActorFactory()
    client.force_login(publisher)
    before = record_dump()
    merge = admin_url("actor", "merge", duplicate.pk)
    assert client.get(merge, {"keep": keep}).status_code == 200
    response = client.post(merge, {"keep": keep})
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert record_dump() == before
    assert client.get("/admin/positions/actor/abc/merge/").status_code == 404


# --- The write path and its cost ----------------------------------------------------------------


def test_the_admin_merge_goes_through_the_write_path(client, publisher, strict):
    """No write of the merge escapes the session (the guard would raise here)."""
    senate, keep, duplicate = wyden_and_his_duplicate()
    StatementFactory(actors=[duplicate, keep])
    StatementFactory(actors=[duplicate])
    add_identifier(duplicate, "bioguide", "W000779")
    MembershipFactory(member=duplicate, organization=senate)
    FormalActFactory(actor=duplicate)
    client.force_login(publisher)
    response = client.post(admin_url("actor", "merge", duplicate.pk), {"keep": keep.pk})
    assert response.status_code == 302
    kept = set(Position.objects.values_list("question_id", "actor_id", "statement_id", "stance"))
    with writes.writing():
        writes.rebuild_positions()
    rebuilt = set(Position.objects.values_list("question_id", "actor_id", "statement_id", "stance"))
    assert kept == rebuilt


def duplicate_with(count):
    """A kept actor and a duplicate with `count` of every kind of record a merge moves."""
    senate, keep, duplicate = wyden_and_his_duplicate()
    for n in range(count):
        StatementFactory(actors=[duplicate])
        StatementFactory(actors=[duplicate, keep])  # Combined.
        add_identifier(duplicate, "ocd-person", f"ocd-person/{n}")
        MembershipFactory(member=duplicate, organization=ActorFactory())
        MembershipFactory(member=ActorFactory(), organization=duplicate)
        ActorFactory(parent=duplicate)
        FormalActFactory(actor=duplicate)
    return keep, duplicate


@pytest.mark.parametrize("count", [1, 12])
def test_the_merge_costs_the_same_queries_for_1_or_12_of_everything(
    publisher, strict, django_assert_num_queries, count
):
    keep, duplicate = duplicate_with(count)
    # 1 savepoint; 2 lock both actors (the kept one has no parent chain to walk);
    # 3-9 read what points at the duplicate: signatures, identifiers, memberships, then the
    # other relations (child actors, redirects, questions decided, formal acts);
    # 10-11 the combined signatures: their history, one delete; 12-13 the kept ones take the
    # lead (update, history); 14-15 move the signatures (update, history); 16-17 identifiers;
    # 18-22 memberships (one update per side, one for "on behalf of itself", history);
    # 23-26 child actors and formal acts (update, history each);
    # 27-29 the kept actor (its stored name, save, history);
    # 30-41 delete the duplicate (Django's look at its 8 relations, its positions, its
    # children's parent, the row, its history); 42-43 its slug redirects (update, insert);
    # 44-45 the actors its statements decide; 46-51 their positions (savepoint, lock, delete,
    # rank, insert, release); 52 release. Since the alerts: their subscriptions and events
    # of the duplicate move too (2 updates), Django's delete looks at both (2), and the
    # outbox asks whether anyone listens (1): 57. Since `HiddenActor`: Django's delete of
    # the duplicate clears its row (2) and the actors concerned are looked at again (2): 61.
    # Since `HiddenSource`: the sources of the statements concerned are looked at (2). Since
    # `StatementCount`: the questions' numbers of statements are counted again (2).
    with django_assert_num_queries(MERGE_QUERIES):
        merging.merge_actors(keep, duplicate, publisher)
    assert keep.signatures.count() == 2 * count


MERGE_QUERIES = 68  # three of them the tallies by day (refresh_stance_counts)
