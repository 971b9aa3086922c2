"""
Geometry for the server-rendered SVG chart of stance counts over time. The numbers come
from `stances.stance_counts_over_time`; this module only turns them into coordinates.
"""

import datetime
from dataclasses import dataclass, field

from .models import Stance
from .stances import STANCE_ORDER

WIDTH, HEIGHT = 680, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 200, 16, 36
# Each stance has its own dash pattern and an end label, so lines differ without colour.
DASHES = {
    Stance.SUPPORTS: "",
    Stance.CONDITIONAL: "8 4",
    Stance.OPPOSES: "2 3",
    Stance.UNDECIDED: "12 4 2 4",
}


@dataclass
class Line:
    stance: str
    label: str
    points: str
    dash: str
    end_x: float
    end_y: float
    last: int


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    lines: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)  # (y, value)
    x_ticks: list = field(default_factory=list)  # (x, label)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    start: datetime.date | None = None  # the first and last day of the data drawn
    end: datetime.date | None = None


def stance_chart(series):
    """
    Step lines for `series` = `[(date, {stance: count})]` (oldest first), over the range of
    the data: from its first change to its last, not to the board's day (running to today
    squashed years of history to the left). Returns None when there is nothing to draw.
    """
    if not series:
        return None
    start = series[0][0]
    end = series[-1][0]
    # The lines run on a little past the last change, so that its step shows (a single day
    # of changes still draws its lines across the plot).
    span_days = max((end - start).days * 11 // 10, (end - start).days + 1)
    top_value = max(max(counts.values()) for _, counts in series) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day):
        # Whole units: years of daily changes then share a few hundred columns, and
        # `_simplify` drops the points in between (a board of ten thousand actors changes
        # on thousands of days).
        return round(LEFT + plot_w * (day - start).days / span_days)

    def y(value):
        return round(TOP + plot_h * (1 - value / top_value), 1)

    chart = Chart()
    drawn = _last_of_each_column(series, x)
    for stance in STANCE_ORDER:
        points, previous = [], None
        for day, counts in drawn:
            value = counts.get(stance, 0)
            if previous is not None:
                points.append((x(day), y(previous)))
            points.append((x(day), y(value)))
            previous = value
        points.append((x(start + datetime.timedelta(days=span_days)), y(previous)))
        chart.lines.append(
            Line(
                stance=stance,
                label=Stance(stance).label,
                points=" ".join(f"{px},{py}" for px, py in _simplify(points)),
                dash=DASHES[stance],
                end_x=LEFT + plot_w + 6,
                end_y=y(previous) + 4,
                last=previous,
            )
        )
    _spread_labels(chart.lines)
    step = max(1, -(-top_value // 4))
    chart.y_ticks = [(y(v), v) for v in range(0, top_value + 1, step)]
    chart.x_ticks = [(x(start), _short(start))]
    if end != start:
        chart.x_ticks.append((x(end), _short(end)))
    chart.start, chart.end = start, end
    return chart


def _last_of_each_column(series, x):
    """
    The points of `series` the lines can show: the first, and the last of each column `x`
    maps days to. Within a column the step lines only run up and down, and `_simplify`
    keeps the first and last height of such a run: the lines draw the same path as from
    every day, built from at most a few hundred points instead of one per day of changes.
    """
    drawn = []
    for point in series:
        if len(drawn) > 1 and x(drawn[-1][0]) == x(point[0]):
            drawn[-1] = point
        else:
            drawn.append(point)
    return drawn


def _simplify(points):
    """The same polyline without the points in the middle of a vertical or horizontal run."""
    kept = []
    for point in points:
        if kept and point == kept[-1]:
            continue
        if len(kept) >= 2 and (
            kept[-2][0] == kept[-1][0] == point[0] or kept[-2][1] == kept[-1][1] == point[1]
        ):
            kept[-1] = point
        else:
            kept.append(point)
    return kept


def _spread_labels(lines, gap=13):
    """End labels of lines ending at the same height would overlap: push them apart."""
    placed = []
    for line in sorted(lines, key=lambda line: line.end_y):
        if placed and line.end_y - placed[-1].end_y < gap:
            line.end_y = round(placed[-1].end_y + gap, 1)
        placed.append(line)


def _short(day: datetime.date):
    return day.strftime("%-d %b %Y")
