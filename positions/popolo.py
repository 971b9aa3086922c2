"""
Actors as Popolo JSON (https://www.popoloproject.com/specs/), for civic-tech tools.

- Legislators and individual experts are Popolo `persons`; every other kind of actor is an
  `organization` whose `classification` is the actor kind.
- Memberships are Popolo `memberships` with their role, dates, party (`on_behalf_of_id`) and
  area (`iso3166-2:US-OR`); a person's member is `person_id`, an organization's `member`.
- An actor's parent body becomes a `membership` for a person (the senator in the Senate),
  unless a recorded membership says so already, and `parent_id` for an organization (the
  agency in its government).
- Ids are actor slugs, stable across exports; identifiers keep their scheme; aliases are
  `other_names`; the website is a link.

The output validates against the official Popolo schemas (tests/test_popolo.py).

Popolo has no type for a treaty's formal acts (signatures, ratifications, reservations...):
they travel beside it under `formal_acts`, an extension of ours in the shape of the acts
download (`acts.act_record`, documented in docs/import-format.md), whose `actor` is the id of
the person or organization.
"""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from . import acts, bulkdata, exports
from .caching import cached_page
from .exports import public_url
from .models import Actor, ActorKind, Membership


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


def _membership(membership, by_pk):
    member, organization = by_pk[membership.member_id], by_pk[membership.organization_id]
    data = {"id": f"membership-{membership.pk}", "role": membership.role}
    if is_person(member):
        data["person_id"] = member.slug
    else:
        data["member"] = {"@type": "Organization", "id": member.slug}
    data["organization_id"] = organization.slug
    if membership.on_behalf_of_id in by_pk:
        data["on_behalf_of_id"] = by_pk[membership.on_behalf_of_id].slug
    if membership.area:
        data["area_id"] = f"iso3166-2:{membership.area}"
    if membership.start_date:
        data["start_date"] = membership.start_date.isoformat()
    if membership.end_date:
        data["end_date"] = membership.end_date.isoformat()
    data["created_at"] = membership.created_at.isoformat()
    data["updated_at"] = membership.updated_at.isoformat()
    return data


def popolo_document(actors, recorded_memberships=()):
    """
    `{"persons", "organizations", "memberships"}` for an iterable of actors and the
    `Membership` rows between them.
    """
    actors = list(actors)
    by_pk = {actor.pk: actor for actor in actors}
    persons, organizations = [], []
    memberships = [
        _membership(m, by_pk)
        for m in recorded_memberships
        if m.member_id in by_pk and m.organization_id in by_pk
    ]
    recorded = {(m["person_id"], m["organization_id"]) for m in memberships if "person_id" in m}
    for actor in actors:
        data = _common(actor)
        parent = by_pk.get(actor.parent_id)
        if is_person(actor):
            if actor.description:
                data["summary"] = actor.description
            if actor.country:
                data["national_identity"] = actor.country.code
            persons.append(data)
            if (
                parent is not None
                and not is_person(parent)
                and (actor.slug, parent.slug) not in recorded
            ):
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


def public_document():
    """The public actors and memberships as Popolo, with the formal acts beside them."""
    actors = Actor.objects.public().prefetch_related("identifiers").order_by("slug")
    public = Actor.objects.public()
    memberships = Membership.objects.filter(member__in=public, organization__in=public).order_by(
        "pk"
    )
    document = popolo_document(actors, memberships)
    document["formal_acts"] = [acts.act_record(act) for act in acts.public_acts()]
    return document


def popolo_content():
    """The document as the file `data/popolo.json` holds it, in chunks."""
    return json.JSONEncoder(indent=1, ensure_ascii=False).iterencode(public_document())


@require_safe
def popolo_actors(request):
    response = JsonResponse(public_document(), json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'inline; filename="popolo.json"'
    return response


live_popolo = cached_page(popolo_actors)


@require_safe
def popolo_download(request, packed=False):
    """The file written by the background job (bulkdata.py), or the document computed now."""
    served = bulkdata.serve(request, "popolo.json", packed=packed)
    if served is not None:
        return served
    if packed:
        return exports.bulk_or_live(request, "popolo.json", popolo_content, "popolo.json.gz", True)
    return live_popolo(request)
