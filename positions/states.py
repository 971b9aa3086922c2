"""
States as a first-class kind of actor: one actor of kind "state" per ISO 3166-1 country, from
pycountry's copy of the ISO list (`manage.py load_states`).

Idempotent: an existing state actor is found by its country code first, then by its
`iso3166` identifier, and never duplicated; what an editor changed on it (its name, slug,
aliases) is kept, and only what is missing (the country, the identifier) is filled in.

ISO 3166-1 lists 249 countries, dependent territories included, and says nothing of UN
membership; no well-kept Python library provides UN membership either (pycountry and
django-countries have none), so it is not recorded here: a membership of the United Nations
(the memberships issue) is where it belongs.
"""

import re
from dataclasses import dataclass

import pycountry
from django.utils.text import slugify

from . import writes
from .models import Actor, ActorIdentifier, ActorKind

SCHEME = "iso3166"
CHANGE_REASON = "Loaded from the ISO 3166-1 list (load_states)"
INVERTED = re.compile(r"^(?P<name>.+), (?P<prefix>(?:the )?.+ of(?: the)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str  # the name readers know
    aliases: tuple  # ISO's other names for it


def readable_name(country):
    """
    ISO's short name in the order people write it: "Bolivia" for "Bolivia, Plurinational State
    of", "Democratic Republic of the Congo" for "Congo, The Democratic Republic of the".
    """
    name = getattr(country, "common_name", None) or country.name
    if ", " in name:
        official = getattr(country, "official_name", None)
        if official and ", " not in official:
            name = official
        elif match := INVERTED.match(name):
            name = f"{match['prefix']} {match['name']}"
    if name.lower().startswith("the "):
        name = name[4:]
    return name[0].upper() + name[1:]


def iso_countries():
    """Every ISO 3166-1 country, by code."""
    countries = []
    for country in pycountry.countries:
        name = readable_name(country)
        others = [country.name, getattr(country, "official_name", None)]
        aliases = tuple(dict.fromkeys(o for o in others if o and o != name))
        countries.append(Country(country.alpha_2, name, aliases))
    return sorted(countries, key=lambda c: c.code)


def _free_slug(country, taken):
    for slug in (slugify(country.name), f"{slugify(country.name)}-{country.code.lower()}"):
        if slug and slug not in taken:
            return slug
    return f"state-{country.code.lower()}"


def load_states(countries=None, progress=None):
    """
    Create or complete one state actor per country; returns counts by outcome ("created",
    "completed", "unchanged"). One write session; `progress(done, total)` after each batch.
    """
    countries = list(countries if countries is not None else iso_countries())
    codes = [c.code for c in countries]
    states = {}
    for actor in Actor.objects.filter(kind=ActorKind.STATE, country__in=codes).order_by("pk"):
        states.setdefault(actor.country.code, actor)  # the oldest, if editors made two
    identified = {
        i.identifier: i
        for i in ActorIdentifier.objects.filter(scheme=SCHEME).select_related("actor")
    }
    taken = set(Actor.objects.values_list("slug", flat=True))
    counts = {"created": 0, "completed": 0, "unchanged": 0}
    with writes.writing():
        for done, country in enumerate(countries, start=1):
            identifier = identified.get(country.code)
            actor = states.get(country.code) or (identifier.actor if identifier else None)
            outcome = "unchanged"
            if actor is None:
                actor = Actor(
                    name=country.name,
                    slug=_free_slug(country, taken),
                    kind=ActorKind.STATE,
                    country=country.code,
                    aliases="\n".join(country.aliases),
                )
                actor.full_clean()
                actor._change_reason = CHANGE_REASON
                writes.save(actor)
                taken.add(actor.slug)
                outcome = "created"
            elif not actor.country:
                actor.country = country.code
                actor._change_reason = CHANGE_REASON
                writes.save(actor)
                outcome = "completed"
            if identifier is None:
                identifier = ActorIdentifier(actor=actor, scheme=SCHEME, identifier=country.code)
                identifier._change_reason = CHANGE_REASON
                writes.save(identifier)
                outcome = "created" if outcome == "created" else "completed"
            counts[outcome] += 1
            if progress and (done % 50 == 0 or done == len(countries)):
                progress(done, len(countries))
    return counts
