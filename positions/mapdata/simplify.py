"""
Make `world.json` from the npm package @svg-maps/world (CC BY 4.0, see README.md here):

    cd /tmp && npm pack @svg-maps/world@2.0.0 && tar xzf svg-maps-world-2.0.0.tgz
    python positions/mapdata/simplify.py /tmp/package/index.js > positions/mapdata/world.json

The package's paths (1.2 MB) are simplified to what a page-wide map needs: coordinates on a
grid of a tenth of the original unit (written as integers, relative), each ring thinned by
Douglas-Peucker, rings smaller than the grid dropped (never a country's largest ring, so no
island state disappears). The package's sub-shapes of one ISO 3166-1 country (the US Minor
Outlying Islands, the French Southern Territories' islands) are merged under its code.
Development only: the app reads the JSON.
"""

import json
import math
import re
import sys

SCALE = 10  # Grid units per unit of the original viewBox.
TOLERANCE = 2.5  # Douglas-Peucker tolerance, in grid units (a quarter of the original unit).
MERGED = {"go": "tf", "ju": "tf"}  # Glorioso and Juan de Nova islands: French Southern Lands.
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[mMzZ]")


def rings(path):
    """The closed rings of a path written with relative `m` pairs and `z`, absolute points."""
    tokens = NUMBER.findall(path)
    result, ring, start, x, y, index = [], [], (0.0, 0.0), 0.0, 0.0, 0
    while index < len(tokens):
        token = tokens[index]
        if token in "zZ":  # noqa: S105 -- a path command, not a password
            if ring:
                result.append(ring)
            ring, (x, y) = [], start
            index += 1
            continue
        if token == "m":  # noqa: S105
            index += 1
            dx, dy = float(tokens[index]), float(tokens[index + 1])
            x, y = x + dx, y + dy
            start, ring = (x, y), [(x, y)]
            index += 2
            continue
        dx, dy = float(tokens[index]), float(tokens[index + 1])
        x, y = x + dx, y + dy
        ring.append((x, y))
        index += 2
    if ring:
        result.append(ring)
    return result


def thin(points, tolerance):
    """Douglas-Peucker on an open polyline."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = math.hypot(bx - ax, by - ay)
    far, far_index = -1.0, 0
    for index in range(1, len(points) - 1):
        px, py = points[index]
        if length:
            distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
        else:
            distance = math.hypot(px - ax, py - ay)
        if distance > far:
            far, far_index = distance, index
    if far <= tolerance:
        return [points[0], points[-1]]
    return thin(points[: far_index + 1], tolerance)[:-1] + thin(points[far_index:], tolerance)


def on_grid(ring):
    points = [(round(x * SCALE), round(y * SCALE)) for x, y in ring]
    # Split at the farthest point from the start so both halves are open polylines.
    far = max(
        range(len(points)),
        key=lambda i: abs(points[i][0] - points[0][0]) + abs(points[i][1] - points[0][1]),
    )
    kept = (
        thin(points[: far + 1], TOLERANCE)[:-1] + thin(points[far:] + [points[0]], TOLERANCE)[:-1]
    )
    deduped = [p for i, p in enumerate(kept) if i == 0 or p != kept[i - 1]]
    return deduped


def extent(ring):
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def path_of(all_rings):
    parts, x, y = [], 0, 0
    for ring in all_rings:
        (sx, sy), rest = ring[0], ring[1:]
        steps = [f"m{sx - x} {sy - y}"]
        px, py = sx, sy
        for qx, qy in rest:
            steps.append(f"{qx - px} {qy - py}")
            px, py = qx, qy
        parts.append(" ".join(steps) + "z")
        x, y = sx, sy  # After `z` the current point is the ring's start.
    return "".join(parts).replace(" -", "-")


def main(source):
    with open(source, encoding="utf-8") as file:
        text = file.read()
    data = json.loads(text[text.index("{") : text.rindex("}") + 1])
    shapes = {}
    for location in data["locations"]:
        code = location["id"].split("-")[0]
        code = MERGED.get(code, code)
        grid = [on_grid(ring) for ring in rings(location["path"])]
        shapes.setdefault(code, {"name": location["name"], "rings": []})["rings"].extend(
            ring for ring in grid if len(ring) >= 1
        )
    countries = {}
    for code, shape in sorted(shapes.items()):
        largest = max(shape["rings"], key=extent)
        kept = [
            r
            for r in shape["rings"]
            if r is largest or (len(r) >= 3 and extent(r) >= 2 * TOLERANCE)
        ]
        countries[code.upper()] = {"name": shape["name"], "d": path_of(kept)}
    minx, miny, width, height = (float(v) for v in data["viewBox"].split())
    view_box = f"{minx * SCALE:g} {miny * SCALE:g} {width * SCALE:g} {height * SCALE:g}"
    json.dump({"viewBox": view_box, "countries": countries}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
