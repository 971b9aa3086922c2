"""
The region and subregion of a country (`regiondata/regions.json`, from the world-countries
data set under the ODbL: see regiondata/README.md), for the status table's region filter.
Read once a process; no query.
"""

import functools
import json
from pathlib import Path

REGIONS_FILE = Path(__file__).resolve().parent / "regiondata" / "regions.json"


@functools.cache
def _regions():
    with REGIONS_FILE.open(encoding="utf-8") as file:
        return {code: tuple(pair) for code, pair in json.load(file).items()}


def region_of(code):
    """`(region, subregion)` of an ISO 3166-1 alpha-2 code, or None (no code, or unknown)."""
    return _regions().get((code or "").upper())


def in_region(code, name):
    """Whether the country `code` lies in the region or subregion called `name`."""
    found = region_of(code)
    return found is not None and name in found


@functools.cache
def region_choices():
    """Each region, then its subregions under it: `[(name, label)]` for a select."""
    subregions = {}
    for region, subregion in _regions().values():
        subregions.setdefault(region, set())
        if subregion:
            subregions[region].add(subregion)
    choices = []
    for region in sorted(subregions):
        choices.append((region, region))
        choices.extend((sub, f"{region}: {sub}") for sub in sorted(subregions[region]))
    return choices
