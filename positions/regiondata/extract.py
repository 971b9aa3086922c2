"""
Make `regions.json` from the npm package world-countries (ODbL 1.0, see README.md here):

    cd /tmp && npm pack world-countries@5.1.0 && tar xzf world-countries-5.1.0.tgz
    python positions/regiondata/extract.py /tmp/package/countries.json \
        > positions/regiondata/regions.json

Keeps, for each ISO 3166-1 alpha-2 code, the country's region and subregion, nothing else.
"""

import json
import sys


def main(path):
    with open(path, encoding="utf-8") as file:
        countries = json.load(file)
    regions = {
        c["cca2"]: [c["region"], c["subregion"]]
        for c in sorted(countries, key=lambda c: c["cca2"])
        if c.get("cca2") and c.get("region")
    }
    json.dump(regions, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
