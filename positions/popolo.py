"""
Actors as Popolo JSON (https://www.popoloproject.com/specs/), for civic-tech tools.

- Legislators and individual experts are Popolo `persons`; every other kind of actor is an
  `organization` whose `classification` is the actor kind.
- An actor's parent body becomes a `membership` for a person (the senator in the Senate)
  and `parent_id` for an organization (the agency in its government).
- Ids are actor slugs, stable across exports; identifiers keep their scheme; aliases are
  `other_names`; the website is a link.

The output validates against the official Popolo schemas (tests/test_popolo.py).

Popolo has no type for a treaty's formal acts (signatures, ratifications, reservations...):
they travel beside it under `formal_acts`, an extension of ours in the shape of the acts
download (`acts.act_record`, documented in docs/import-format.md), whose `actor` is the id of
the person or organization.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from . import acts
from .exports import public_url
from .models import Actor, ActorKind


def is_person(actor):
    return ActorKind(actor.kind).is_person


def _common(actor):
    data = {
        "id": actor.slug,
        "name": actor.name,
        "identifiers": [
            {"scheme": i.scheme, "identifier": i.identifier} for i in actor.identifiers.all()
        ],
        "other_names": [{"name": alias} for alias in actor.alias_list],
        "links": [],
        "sources": [{"url": public_url(actor.get_absolute_url())}],
        "created_at": actor.created_at.isoformat(),
        "updated_at": actor.updated_at.isoformat(),
    }
    if actor.website:
        data["links"].append({"url": actor.website, "note": "website"})
    return data


def popolo_document(actors):
    """`{"persons", "organizations", "memberships"}` for an iterable of actors."""
    actors = list(actors)
    by_pk = {actor.pk: actor for actor in actors}
    persons, organizations, memberships = [], [], []
    for actor in actors:
        data = _common(actor)
        parent = by_pk.get(actor.parent_id)
        if is_person(actor):
            if actor.description:
                data["summary"] = actor.description
            if actor.country:
                data["national_identity"] = actor.country.code
            persons.append(data)
            if parent is not None and not is_person(parent):
                memberships.append(
                    {
                        "id": f"{actor.slug}--{parent.slug}",
                        "person_id": actor.slug,
                        "organization_id": parent.slug,
                    }
                )
        else:
            data["classification"] = actor.kind
            if actor.description:
                data["description"] = actor.description
            if actor.country:
                data["area_id"] = f"iso3166-1:{actor.country.code}"
            if parent is not None and not is_person(parent):
                data["parent_id"] = parent.slug
            organizations.append(data)
    return {"persons": persons, "organizations": organizations, "memberships": memberships}


@require_safe
def popolo_actors(request):
    actors = Actor.objects.prefetch_related("identifiers").order_by("slug")
    document = popolo_document(actors)
    document["formal_acts"] = [acts.act_record(act) for act in acts.public_acts()]
    response = JsonResponse(document, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'inline; filename="popolo.json"'
    return response
