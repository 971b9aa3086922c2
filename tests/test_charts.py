"""The board's SVG chart: step lines that stay small however many days positions changed."""

import datetime

from positions.charts import _simplify, stance_chart
from positions.models import Stance


def on_path(point, polyline):
    """Whether `point` lies on one of the horizontal or vertical segments of `polyline`."""
    px, py = point
    for (ax, ay), (bx, by) in zip(polyline, polyline[1:], strict=False):
        if ax == bx == px and min(ay, by) <= py <= max(ay, by):
            return True
        if ay == by == py and min(ax, bx) <= px <= max(ax, bx):
            return True
    return polyline == [point]


def test_simplify_keeps_the_path_and_drops_the_points_inside_runs():
    points = [(0, 5), (1, 5), (2, 5), (2, 4), (2, 3), (3, 3), (3, 3), (4, 3), (4, 6)]
    kept = _simplify(points)
    assert kept == [(0, 5), (2, 5), (2, 3), (4, 3), (4, 6)]
    assert all(on_path(point, kept) for point in points)


def test_years_of_daily_changes_make_a_few_hundred_points_per_line():
    start = datetime.date(2018, 1, 1)
    series = [
        (start + datetime.timedelta(days=n), {Stance.SUPPORTS: n, Stance.OPPOSES: n % 7})
        for n in range(3000)
    ]
    chart = stance_chart(series)
    for line in chart.lines:
        points = [tuple(map(float, p.split(","))) for p in line.points.split()]
        assert len(points) <= 2 * (chart.plot_right - chart.plot_left + 1) + 2
        assert points[0][0] == chart.plot_left and points[-1][0] == chart.plot_right
    supports = next(line for line in chart.lines if line.stance == Stance.SUPPORTS)
    assert supports.last == 2999
