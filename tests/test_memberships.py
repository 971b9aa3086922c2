"""
Memberships: an actor's dated membership of an organisation-actor (Popolo `membership`).
Who belongs where on a date; what editors may enter; the actor page; a membership never gives
a stance.
"""

import datetime
import warnings

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from positions import stances, writes
from positions.models import ActorKind, Membership, Stance
from tests.admin_builders import admin_url, staff_in
from tests.factories import ActorFactory, MembershipFactory, QuestionFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def senate():
    return ActorFactory(name="US Senate", slug="us-senate", kind=ActorKind.LEGISLATIVE_GROUP)


def members_on(organization, day):
    return sorted(m.member.slug for m in Membership.objects.of(organization).on(day))


def test_members_on_a_date_include_both_ends_and_an_unknown_start(senate):
    MembershipFactory(organization=senate, member__slug="undated")
    MembershipFactory(organization=senate, member__slug="from-jan", start_date=D(2024, 1, 3))
    MembershipFactory(
        organization=senate,
        member__slug="until-jan",
        start_date=D(2019, 1, 3),
        end_date=D(2024, 1, 3),
    )
    assert members_on(senate, D(2024, 1, 2)) == ["undated", "until-jan"]
    # The first day of one and the last day of the other: both count.
    assert members_on(senate, D(2024, 1, 3)) == ["from-jan", "undated", "until-jan"]
    assert members_on(senate, D(2024, 1, 4)) == ["from-jan", "undated"]


def test_an_end_before_the_start_is_refused_by_the_form_and_the_database(senate):
    membership = Membership(
        member=ActorFactory(),
        organization=senate,
        start_date=D(2024, 1, 3),
        end_date=D(2024, 1, 2),
    )
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        writes.save(membership)


def test_an_actor_cannot_be_a_member_of_itself(senate):
    with pytest.raises(ValidationError, match="member of itself"):
        Membership(member=senate, organization=senate).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        writes.save(Membership(member=senate, organization=senate))


def test_the_area_is_an_iso_3166_2_code_that_pycountry_knows(senate):
    membership = Membership(member=ActorFactory(), organization=senate, area="us-or")
    membership.full_clean()
    assert membership.area == "US-OR"
    assert membership.area_name == "Oregon"
    for wrong in ["US-XX", "Oregon", "OR"]:
        with pytest.raises(ValidationError, match="ISO 3166-2"):
            Membership(member=ActorFactory(), organization=senate, area=wrong).full_clean()


def test_the_same_role_from_the_same_day_is_entered_once(senate):
    first = MembershipFactory(organization=senate, start_date=D(2021, 1, 3))
    again = Membership(member=first.member, organization=senate, start_date=D(2021, 1, 3))
    with pytest.raises(ValidationError, match="already has this role"):
        again.full_clean()
    undated = MembershipFactory(organization=senate)
    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        writes.save(Membership(member=undated.member, organization=senate))


def test_a_membership_keeps_its_history(senate):
    membership = MembershipFactory(organization=senate)
    membership.role = "chair"
    with writes.writing():
        writes.save(membership)
    assert [h.role for h in membership.history.order_by("history_id")] == ["member", "chair"]


def test_a_membership_never_gives_an_actor_a_stance(senate):
    """The Senate's own statement is the Senate's; its members keep no position of it."""
    question = QuestionFactory()
    senator = MembershipFactory(organization=senate).member
    party = ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP)
    MembershipFactory(member=senator, organization=party)
    StatementFactory(question=question, actors=[senate], stance=Stance.SUPPORTS)
    StatementFactory(question=question, actors=[party], stance=Stance.OPPOSES)
    board = {p.actor.slug: p.position_stance for p in stances.current_positions(question)}
    assert board == {senate.slug: Stance.SUPPORTS, party.slug: Stance.OPPOSES}
    assert stances.tally(question) == {Stance.SUPPORTS: 1, Stance.OPPOSES: 1}
    assert not stances.positions_of(senator).exists()


# --- the admin ---------------------------------------------------------------------------


def test_editors_add_memberships_inline_through_the_write_path(client, senate):
    editor = staff_in("Editors")
    client.force_login(editor)
    senator = ActorFactory(kind=ActorKind.LEGISLATOR, slug="wyden", name="Ron Wyden")
    party = ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP, name="Democratic Party")
    data = {
        "name": senator.name,
        "slug": senator.slug,
        "kind": senator.kind,
        "identifiers-TOTAL_FORMS": "0",
        "identifiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-organization": senate.pk,
        "memberships-0-role": "member",
        "memberships-0-on_behalf_of": party.pk,
        "memberships-0-area": "US-OR",
        "memberships-0-start_date": "",
        "memberships-0-end_date": "",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", writes.UnrecordedWrite)
        response = client.post(admin_url("actor", "change", senator.pk), data)
    assert response.status_code == 302
    membership = Membership.objects.get(member=senator)
    assert (membership.organization, membership.on_behalf_of) == (senate, party)
    assert membership.history.get().history_user == editor


def test_the_inline_refuses_an_unknown_area_with_a_message(client, senate):
    client.force_login(staff_in("Editors"))
    senator = ActorFactory(kind=ActorKind.LEGISLATOR)
    data = {
        "name": senator.name,
        "slug": senator.slug,
        "kind": senator.kind,
        "identifiers-TOTAL_FORMS": "0",
        "identifiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-organization": senate.pk,
        "memberships-0-role": "member",
        "memberships-0-area": "US-ZZ",
    }
    response = client.post(admin_url("actor", "change", senator.pk), data)
    assert response.status_code == 200
    assert "is not an ISO 3166-2 subdivision code" in response.content.decode()
    assert not Membership.objects.exists()


# --- the actor page ----------------------------------------------------------------------


def test_the_actor_page_lists_memberships_and_the_organisation_its_members(client, senate):
    party = ActorFactory(name="Democratic Party", slug="democrats")
    senator = ActorFactory(name="Ron Wyden", slug="wyden", kind=ActorKind.LEGISLATOR)
    MembershipFactory(member=senator, organization=senate, on_behalf_of=party, area="US-OR")
    MembershipFactory(
        member=ActorFactory(name="Gone", slug="gone"),
        organization=senate,
        start_date=D(2000, 1, 1),
        end_date=D(2001, 1, 1),
    )
    page = client.get(senator.get_absolute_url())
    [membership] = page.context["memberships"]
    assert (membership.actor_slug, membership.party_slug, membership.area) == (
        "us-senate",
        "democrats",
        "US-OR",
    )
    assert "Member for" in page.content.decode()
    # Today's members only: a former senator is listed on its own page, not the Senate's.
    members = client.get(senate.get_absolute_url()).context["members"]
    assert [(m.actor_slug, m.relation) for m in members] == [("wyden", "member")]


def test_the_actor_page_of_a_large_chamber_runs_its_pinned_queries(
    client, senate, django_assert_num_queries
):
    for _ in range(150):
        MembershipFactory(organization=senate)
    MembershipFactory(member=senate, organization=ActorFactory())
    ActorFactory(parent=senate)
    # actor+parent (and whether it has relations, identifiers or acts: no identifiers or
    # acts here, so no query for them), the memberships/parts/members union, positions,
    # timeline outline, and the timeline's page (empty here: no page query)
    with django_assert_num_queries(4):
        page = client.get(senate.get_absolute_url())
    assert len(page.context["memberships"]) == 1
    assert len(page.context["members"]) == 99
    assert page.context["more_members"]
