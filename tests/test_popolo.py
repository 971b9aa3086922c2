"""Popolo JSON for actors validates against the official Popolo schemas (draft-03)."""

import datetime
import json
from pathlib import Path

import pytest
from django.urls import reverse
from jsonschema import Draft3Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3

from positions.models import ActorIdentifier, ActorKind
from tests.factories import ActorFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Tests run with DEBUG off, which redirects to HTTPS; the test client speaks HTTP."""
    settings.SECURE_SSL_REDIRECT = False


SCHEMAS = Path(__file__).parent / "popolo-schemas"
SCHEMA_URL = "http://www.popoloproject.com/schemas/{}.json#"


def validator(name):
    """A validator for one Popolo schema, resolving every $ref to the local copies."""
    registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        resource = Resource.from_contents(contents, default_specification=DRAFT3)
        registry = registry.with_resource(SCHEMA_URL.format(path.stem), resource)
        registry = registry.with_resource(SCHEMA_URL.format(path.stem).rstrip("#"), resource)
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return Draft3Validator(schema, registry=registry)


def assert_valid(name, document):
    errors = sorted(validator(name).iter_errors(document), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.fixture
def actors():
    senate = ActorFactory(slug="us-senate", name="US Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    senator = ActorFactory(
        slug="wyden",
        name="Ron Wyden",
        kind=ActorKind.LEGISLATOR,
        parent=senate,
        country="US",
        aliases="Senator Wyden",
        website="https://www.wyden.senate.gov",
    )
    ActorIdentifier.objects.create(actor=senator, scheme="bioguide", identifier="W000779")
    government = ActorFactory(slug="us-admin", kind=ActorKind.GOVERNMENT, country="US")
    ActorFactory(slug="doj", kind=ActorKind.GOVERNMENT, parent=government, description="Justice.")
    ActorFactory(slug="expert", kind=ActorKind.EXPERT)
    return senator


def test_persons_organizations_memberships_and_identifiers(client, actors):
    data = client.get(reverse("positions:popolo")).json()
    assert [p["id"] for p in data["persons"]] == ["expert", "wyden"]
    assert [o["id"] for o in data["organizations"]] == ["doj", "us-admin", "us-senate"]
    wyden = data["persons"][1]
    assert wyden["identifiers"] == [{"scheme": "bioguide", "identifier": "W000779"}]
    assert wyden["other_names"] == [{"name": "Senator Wyden"}]
    assert data["memberships"] == [
        {"id": "wyden--us-senate", "person_id": "wyden", "organization_id": "us-senate"}
    ]
    doj = data["organizations"][0]
    assert doj["parent_id"] == "us-admin"
    assert doj["classification"] == "government"


def test_each_actor_cites_its_page_on_the_public_address(client, actors, settings):
    settings.SITE_URL = "https://tracker.example.org"
    data = client.get(reverse("positions:popolo")).json()
    wyden = next(p for p in data["persons"] if p["id"] == "wyden")
    assert wyden["sources"] == [{"url": f"https://tracker.example.org{actors.get_absolute_url()}"}]


def test_every_object_validates_against_the_popolo_schemas(client, actors):
    data = client.get(reverse("positions:popolo")).json()
    for person in data["persons"]:
        assert_valid("person", person)
    for organization in data["organizations"]:
        assert_valid("organization", organization)
    for membership in data["memberships"]:
        assert_valid("membership", membership)


def test_memberships_with_their_dates_party_and_area_validate(client, actors):
    senate = actors.parent
    party = ActorFactory(slug="democrats", kind=ActorKind.LEGISLATIVE_GROUP)
    MembershipFactory(
        member=actors,
        organization=senate,
        on_behalf_of=party,
        area="US-OR",
        start_date=datetime.date(1996, 2, 6),
        end_date=datetime.date(2031, 1, 3),
    )
    MembershipFactory(member=party, organization=ActorFactory(slug="coalition"), role="party")
    data = client.get(reverse("positions:popolo")).json()
    wyden, party_membership = data["memberships"]
    # The recorded membership replaces the one the parent would give.
    assert {k: v for k, v in wyden.items() if not k.endswith("_at")} == {
        "id": wyden["id"],
        "role": "member",
        "person_id": "wyden",
        "organization_id": "us-senate",
        "on_behalf_of_id": "democrats",
        "area_id": "iso3166-2:US-OR",
        "start_date": "1996-02-06",
        "end_date": "2031-01-03",
    }
    assert party_membership["member"] == {"@type": "Organization", "id": "democrats"}
    for membership in data["memberships"]:
        assert_valid("membership", membership)


def test_the_validator_does_catch_invalid_popolo():
    with pytest.raises(AssertionError):
        assert_valid("person", {"id": 42, "identifiers": [{"scheme": "x"}]})
    with pytest.raises(AssertionError):
        assert_valid("membership", {"start_date": "last year"})


def test_popolo_queries_do_not_grow(client, actors, django_assert_num_queries):
    ActorFactory.create_batch(10)
    # actors, their identifiers, the memberships, the public formal acts
    with django_assert_num_queries(4):
        client.get(reverse("positions:popolo"))
