"""`manage.py load_states`: one state actor per ISO 3166-1 country, idempotent."""

import io

import pytest
from django.core.management import call_command

from positions.models import Actor, ActorIdentifier, ActorKind
from positions.states import iso_countries, readable_name
from tests.factories import ActorFactory

pytestmark = pytest.mark.django_db


def run():
    out = io.StringIO()
    call_command("load_states", stdout=out)
    return out.getvalue()


def snapshot():
    actors = Actor.objects.order_by("pk").values_list("pk", "name", "slug", "kind", "country")
    identifiers = ActorIdentifier.objects.order_by("pk").values_list(
        "actor", "scheme", "identifier"
    )
    return list(actors), list(identifiers)


def test_it_creates_one_state_per_iso_country_with_its_code_and_identifier():
    output = run()
    states = Actor.objects.filter(kind=ActorKind.STATE)
    assert states.count() == len(iso_countries()) == 249
    france = states.get(country="FR")
    assert (france.name, france.slug) == ("France", "france")
    assert france.identifiers.get().identifier == "FR"
    assert states.get(country="BO").name == "Bolivia"
    assert "Bolivia, Plurinational State of" in states.get(country="BO").alias_list
    assert "249/249 countries" in output
    assert "States: 249 created, 0 completed" in output


def test_running_it_twice_changes_nothing():
    run()
    before = snapshot()
    output = run()
    assert snapshot() == before
    assert "0 created, 0 completed (country or identifier added), 249 unchanged" in output


def test_an_existing_state_actor_is_matched_by_country_code_and_kept_as_the_editor_left_it():
    # The demo's Russia: named and slugged by an editor, with no identifier.
    russia = ActorFactory(name="Russia", slug="russia", kind=ActorKind.STATE, country="RU")
    run()
    assert Actor.objects.filter(country="RU", kind=ActorKind.STATE).get() == russia
    russia.refresh_from_db()
    assert (russia.name, russia.slug) == ("Russia", "russia")
    assert russia.identifiers.get().identifier == "RU"
    assert Actor.objects.filter(kind=ActorKind.STATE).count() == 249


def test_a_taken_slug_gets_the_code_and_a_non_state_actor_is_not_matched():
    administration = ActorFactory(slug="france", kind=ActorKind.GOVERNMENT, country="FR")
    run()
    state = Actor.objects.get(kind=ActorKind.STATE, country="FR")
    assert state != administration
    assert state.slug == "france-fr"


def test_an_actor_with_the_identifier_is_matched_and_given_its_country():
    actor = ActorFactory(slug="the-french-republic", kind=ActorKind.STATE, country="")
    from positions import writes

    with writes.writing():
        writes.save(ActorIdentifier(actor=actor, scheme="iso3166", identifier="FR"))
    output = run()
    actor.refresh_from_db()
    assert actor.country.code == "FR"
    assert "248 created, 1 completed" in output


def test_names_read_in_the_order_people_write_them():
    import pycountry

    assert readable_name(pycountry.countries.get(alpha_2="CD")) == (
        "Democratic Republic of the Congo"
    )
    assert readable_name(pycountry.countries.get(alpha_2="KR")) == "South Korea"
    assert readable_name(pycountry.countries.get(alpha_2="PS")) == "State of Palestine"
