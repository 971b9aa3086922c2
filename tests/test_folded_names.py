"""
Folded names: actor search ignores case and accents and finds identifiers, the same on
SQLite and PostgreSQL, because every path that writes an actor keeps its folded copies.
"""

import pytest
from django.core.management import call_command

from positions import writes
from positions.exchange import TYPES, ImportContext, import_bytes
from positions.folding import fold
from positions.models import Actor, ActorIdentifier, ActorKind
from tests.factories import ActorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nydia Velázquez", "nydia velazquez"),
        ("  ŁUKASZ  Øst ", "lukasz ost"),
        ("Straße", "strasse"),
    ],
)
def test_fold_drops_case_accents_and_extra_spaces(text, folded):
    assert fold(text) == folded


def folded(slug):
    return Actor.objects.values_list("folded_name", "folded_aliases").get(slug=slug)


def test_every_actor_write_path_keeps_the_folded_name(client):
    # writes.save, new and changed, also with update_fields
    actor = Actor(slug="a", name="Nydia Velázquez", kind=ActorKind.LEGISLATOR, aliases="Velázquez")
    writes.save(actor)
    assert folded("a") == ("nydia velazquez", "velazquez")
    actor.name = "Nydia M. Velázquez"
    writes.save(actor, update_fields=["name"])
    assert folded("a")[0] == "nydia m. velazquez"

    # the admin's add and change forms
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {"name": "Zoë Lofgren", "slug": "lofgren", "kind": "legislator", "aliases": "Zoé"}
    inline = {
        "identifiers-TOTAL_FORMS": "0",
        "identifiers-INITIAL_FORMS": "0",
        "identifiers-MIN_NUM_FORMS": "0",
        "identifiers-MAX_NUM_FORMS": "1000",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    assert client.post("/admin/positions/actor/add/", {**form, **inline}).status_code == 302
    assert folded("lofgren") == ("zoe lofgren", "zoe")
    pk = Actor.objects.get(slug="lofgren").pk
    form["name"] = "ZOË LOFGREN"
    client.post(f"/admin/positions/actor/{pk}/change/", {**form, **inline})
    assert folded("lofgren")[0] == "zoe lofgren"

    # the import, new and changed rows
    header = "slug,name,kind,aliases\r\n"
    context = ImportContext(can_publish=True, blanks="clear")
    import_bytes(
        TYPES["actors"],
        (header + "b,José Núñez,expert,Pepe\r\n").encode(),
        "a.csv",
        context=context,
    )
    assert folded("b") == ("jose nunez", "pepe")
    import_bytes(
        TYPES["actors"],
        (header + "b,José Núñez Ruiz,expert,\r\n").encode(),
        "a.csv",
        context=context,
    )
    assert folded("b") == ("jose nunez ruiz", "")

    # the demo data
    call_command("load_demo", stdout=None)
    assert not Actor.objects.filter(folded_name="").exists()
    assert all(a.folded_name == fold(a.name) for a in Actor.objects.all())


@pytest.fixture
def velazquez():
    actor = ActorFactory(slug="velazquez", name="Nydia Velázquez", aliases="Nydia Margarita")
    ActorIdentifier.objects.create(actor=actor, scheme="bioguide", identifier="V000081")
    ActorIdentifier.objects.create(actor=actor, scheme="wikidata", identifier="Q461370")
    ActorFactory(slug="other", name="Someone Else")
    return actor


@pytest.mark.parametrize(
    "query", ["Velazquez", "VELÁZQUEZ", "nydia velaz", "margarita", "V000081", "wikidata:Q461370"]
)
def test_the_public_actor_search_ignores_case_accents_and_finds_identifiers(
    client, velazquez, query
):
    response = client.get("/actors/", {"q": query})
    assert [a.slug for a in response.context["page_obj"].object_list] == ["velazquez"]


@pytest.mark.parametrize(
    "query", ["velazquez", "VELÁZQUEZ", "nydia velaz", "V000081", "bioguide:V000081", "Q461370"]
)
def test_the_admin_actor_search_ignores_case_accents_and_finds_identifiers(
    client, velazquez, query
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/positions/actor/", {"q": query})
    assert [a.slug for a in response.context["cl"].result_list] == ["velazquez"]
